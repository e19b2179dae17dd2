#ifndef PORTICO_HTTP_STATUS_H
#define PORTICO_HTTP_STATUS_H

/* The standard reason phrase of a status code, or "Unknown". */
const char *http_status_reason(int status);

#endif
