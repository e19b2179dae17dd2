/*
 * sock: socket set-up — listening sockets (SO_REUSEPORT, one per worker)
 * and non-blocking outgoing connections.
 */
#ifndef PORTICO_NET_SOCK_H
#define PORTICO_NET_SOCK_H

#include <stdbool.h>

#include "net/addr.h"

/* A non-blocking listening socket; reuseport lets each worker have its own.
 * Returns the fd or -errno. */
int sock_listen(const struct addr *a, int backlog, bool reuseport);

/* Starts a non-blocking connect. Returns the fd (connected or in progress)
 * or -errno. */
int sock_connect(const struct addr *a);

/* After a connect in progress became writable: 0 or -errno (SO_ERROR). */
int sock_connect_result(int fd);

/* True when nothing (no byte, no EOF) waits on a connected socket; a peek,
 * nothing is consumed. */
bool sock_quiet(int fd);

#endif
