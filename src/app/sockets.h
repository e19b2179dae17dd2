/*
 * sockets: the listening sockets of the process, one per worker per
 * listener address, owned here across reloads so an address that stays in
 * the configuration keeps its sockets (no connection refused during a
 * reload) and only new addresses are bound.
 */
#ifndef PORTICO_APP_SOCKETS_H
#define PORTICO_APP_SOCKETS_H

#include <stdatomic.h>
#include <stddef.h>

#include "proxy/proxy_config.h"

struct bound_address {
	struct addr addr;
	int *fds;             /* one per worker; a worker closes its own when dropped */
	atomic_ulong *counter; /* open connections, shared by the workers */
};

struct socket_table {
	unsigned num_workers;
	struct bound_address *entries;
	size_t count;
	atomic_ulong **retired_counters; /* kept until exit: old connections use them */
	size_t num_retired;
};

/*
 * The sockets for cfg's listeners: existing entries for addresses already
 * bound, new sockets otherwise. On success fills fds[w][i] (worker w,
 * listener i) and counters[i], replaces the table's entries by cfg's, and
 * returns 0; entries no longer used are forgotten (their workers close
 * their sockets when they switch). On failure (logged) nothing changes.
 */
int socket_table_update(struct socket_table *t, const struct proxy_config *cfg, int **fds,
			atomic_ulong **counters);

/* Closes every socket still in the table (workers that never started). */
void socket_table_close_all(struct socket_table *t);

void socket_table_deinit(struct socket_table *t);

#endif
