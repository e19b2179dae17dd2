#include "net/resolver.h"

#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct lookup {
	bool done;
	int status;
	struct addr *out;
	size_t max;
	size_t count;
	uint16_t port;
};

static void on_answer(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	struct lookup *l = arg;

	l->done = true;
	l->status = status;
	for (struct ares_addrinfo_node *n = res ? res->nodes : NULL; n && l->count < l->max;
	     n = n->ai_next) {
		struct addr *a = &l->out[l->count];
		memset(a, 0, sizeof(*a));
		if (n->ai_family == AF_INET) {
			struct sockaddr_in *in = (struct sockaddr_in *)&a->ss;
			memcpy(in, n->ai_addr, sizeof(*in));
			in->sin_port = htons(l->port);
			a->len = sizeof(*in);
		} else if (n->ai_family == AF_INET6) {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->ss;
			memcpy(in6, n->ai_addr, sizeof(*in6));
			in6->sin6_port = htons(l->port);
			a->len = sizeof(*in6);
		} else {
			continue;
		}
		l->count++;
	}
	if (res)
		ares_freeaddrinfo(res);
}

static int addr_cmp(const void *a, const void *b)
{
	const struct addr *x = a, *y = b;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(&x->ss, &y->ss, x->len);
}

/* Runs the channel until the lookup is answered or the time is up. */
static void wait_answer(ares_channel ch, struct lookup *l, uint64_t timeout_ms)
{
	uint64_t waited = 0;
	while (!l->done && waited < timeout_ms) {
		ares_socket_t socks[ARES_GETSOCK_MAXNUM];
		struct pollfd pfd[ARES_GETSOCK_MAXNUM];
		/* ARES_GETSOCK_WRITABLE shifts an int by up to 31: test bits unsigned. */
		unsigned bits = (unsigned)ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM);
		int n = 0;
		for (unsigned i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			bool rd = bits & (1u << i), wr = bits & (1u << (i + ARES_GETSOCK_MAXNUM));
			if (!rd && !wr)
				continue;
			pfd[n].fd = socks[i];
			pfd[n].events = (short)((rd ? POLLIN : 0) | (wr ? POLLOUT : 0));
			pfd[n++].revents = 0;
		}
		poll(pfd, (nfds_t)n, 20);
		waited += 20;
		for (int i = 0; i < n; i++)
			ares_process_fd(ch, (pfd[i].revents & POLLIN) ? pfd[i].fd : ARES_SOCKET_BAD,
					(pfd[i].revents & POLLOUT) ? pfd[i].fd : ARES_SOCKET_BAD);
		if (n == 0)
			ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	}
}

static bool disabled;

void resolver_disable(void)
{
	disabled = true;
}

bool resolver_enabled(void)
{
	return !disabled;
}

int resolver_lookup(const char *host, uint16_t port, const char *server, uint64_t timeout_ms,
		    struct addr *out, size_t max, const char **why)
{
	static bool initialised;
	struct ares_options opts = { .timeout = (int)(timeout_ms / 2 ? timeout_ms / 2 : 1), .tries = 2 };
	struct ares_addrinfo_hints hints = { .ai_family = AF_UNSPEC };
	struct lookup l = { .out = out, .max = max, .port = port };
	ares_channel ch;

	if (disabled) {
		*why = "name resolution is disabled";
		return -1;
	}
	if (!initialised && ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
		*why = "cannot initialise the resolver library";
		return -1;
	}
	initialised = true;
	if (ares_init_options(&ch, &opts, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES) != ARES_SUCCESS) {
		*why = "cannot set up a resolver";
		return -1;
	}
	if (server && ares_set_servers_ports_csv(ch, server) != ARES_SUCCESS) {
		ares_destroy(ch);
		*why = "invalid resolver address";
		return -1;
	}
	ares_getaddrinfo(ch, host, NULL, &hints, on_answer, &l);
	wait_answer(ch, &l, timeout_ms);
	ares_destroy(ch); /* calls on_answer with ARES_EDESTRUCTION if still pending */
	if (l.status != ARES_SUCCESS || l.count == 0) {
		*why = l.status == ARES_ENOTFOUND || l.status == ARES_ENODATA ? "no such name"
		       : l.status == ARES_ETIMEOUT || l.status == ARES_EDESTRUCTION ? "the resolver did not answer"
									      : "lookup failed";
		return -1;
	}
	qsort(out, l.count, sizeof(*out), addr_cmp);
	return (int)l.count;
}

const char *resolver_version(void)
{
	return ares_version(NULL);
}
