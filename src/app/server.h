/*
 * server: the process — binds every listener (one SO_REUSEPORT socket per
 * worker), starts the worker threads, and turns signals into commands for
 * them: SIGTERM/SIGINT drain gracefully, SIGQUIT stops at once.
 */
#ifndef PORTICO_APP_SERVER_H
#define PORTICO_APP_SERVER_H

#include "proxy/proxy_config.h"

#define EXIT_OK 0
#define EXIT_BAD_CONFIG 1
#define EXIT_BAD_USAGE 2
#define EXIT_CANNOT_START 3

/* Runs until stopped by a signal; returns the process exit code. Takes
 * ownership of cfg (and of the snapshots later reloads load). */
int server_run(struct proxy_config *cfg);

#endif
