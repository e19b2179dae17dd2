#ifndef PORTICO_LOG_ACCESS_LOG_CONFIG_H
#define PORTICO_LOG_ACCESS_LOG_CONFIG_H

enum access_log_format { ACCESS_LOG_JSON, ACCESS_LOG_COMBINED };

struct access_log_config {
	char *path;   /* owned; "-" = stdout; NULL = off */
	enum access_log_format format;
};

#endif
