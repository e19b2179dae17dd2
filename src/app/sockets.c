#include "app/sockets.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log/log.h"
#include "net/sock.h"

#define LISTEN_BACKLOG 4096

static struct bound_address *find(struct socket_table *t, const struct addr *a)
{
	for (size_t i = 0; i < t->count; i++)
		if (t->entries[i].addr.len == a->len &&
		    memcmp(&t->entries[i].addr.ss, &a->ss, a->len) == 0)
			return &t->entries[i];
	return NULL;
}

static bool find_in(const struct bound_address *list, size_t n, const struct addr *a)
{
	for (size_t i = 0; i < n; i++)
		if (list[i].addr.len == a->len && memcmp(&list[i].addr.ss, &a->ss, a->len) == 0)
			return true;
	return false;
}

static void close_entry(struct bound_address *e, unsigned num_workers)
{
	for (unsigned w = 0; e->fds && w < num_workers; w++)
		if (e->fds[w] >= 0)
			close(e->fds[w]);
	free(e->fds);
	free(e->counter);
}

static int bind_entry(struct bound_address *e, const struct listener_config *l, unsigned n)
{
	e->addr = l->addr;
	e->fds = malloc(n * sizeof(int));
	e->counter = calloc(1, sizeof(*e->counter));
	for (unsigned w = 0; e->fds && w < n; w++)
		e->fds[w] = -1; /* before any failure: close_entry reads them */
	if (!e->fds || !e->counter)
		return -1;
	for (unsigned w = 0; w < n; w++) {
		int fd = sock_listen(&l->addr, LISTEN_BACKLOG, true);
		if (fd < 0) {
			log_error("cannot listen on %s (listener \"%s\"): %s", l->address, l->name,
				  strerror(-fd));
			return -1;
		}
		e->fds[w] = fd;
	}
	return 0;
}

static void retire(struct socket_table *t, struct bound_address *e)
{
	atomic_ulong **r = realloc(t->retired_counters, (t->num_retired + 1) * sizeof(*r));
	if (r) {
		t->retired_counters = r;
		r[t->num_retired++] = e->counter;
	}
	free(e->fds);
}

int socket_table_update(struct socket_table *t, const struct proxy_config *cfg, int **fds,
			atomic_ulong **counters)
{
	size_t n = cfg->num_listeners;
	struct bound_address *next = calloc(n ? n : 1, sizeof(*next));
	bool *fresh = calloc(n ? n : 1, sizeof(*fresh));
	size_t i = 0;

	if (!next || !fresh)
		goto fail;
	for (i = 0; i < n; i++) {
		struct bound_address *old = find(t, &cfg->listeners[i].addr);
		if (old) {
			next[i] = *old;
			continue;
		}
		fresh[i] = true;
		if (bind_entry(&next[i], &cfg->listeners[i], t->num_workers) != 0) {
			i++;
			goto fail;
		}
	}
	for (size_t e = 0; e < t->count; e++)
		if (!find_in(next, n, &t->entries[e].addr))
			retire(t, &t->entries[e]);
	free(t->entries);
	t->entries = next;
	t->count = n;
	for (i = 0; i < n; i++) {
		counters[i] = next[i].counter;
		/* The analyzer loses that kept entries are never retired and that
		 * every fds array has num_workers items. */
		for (unsigned w = 0; w < t->num_workers; w++)
			fds[w][i] = next[i].fds[w]; /* NOLINT(clang-analyzer-*) */
	}
	free(fresh);
	return 0;
fail:
	for (size_t k = 0; next && k < i; k++)
		if (fresh[k])
			close_entry(&next[k], t->num_workers);
	free(next);
	free(fresh);
	return -1;
}

void socket_table_close_all(struct socket_table *t)
{
	for (size_t i = 0; i < t->count; i++)
		for (unsigned w = 0; w < t->num_workers; w++)
			if (t->entries[i].fds[w] >= 0)
				close(t->entries[i].fds[w]);
	for (size_t i = 0; i < t->count; i++)
		for (unsigned w = 0; w < t->num_workers; w++)
			t->entries[i].fds[w] = -1;
}

void socket_table_deinit(struct socket_table *t)
{
	for (size_t i = 0; i < t->count; i++) {
		free(t->entries[i].fds);
		free(t->entries[i].counter);
	}
	for (size_t i = 0; i < t->num_retired; i++)
		free(t->retired_counters[i]);
	free(t->retired_counters);
	free(t->entries);
	memset(t, 0, sizeof(*t));
}
