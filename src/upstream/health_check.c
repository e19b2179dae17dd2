#include "upstream/health_check.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bug.h"
#include "core/rand.h"
#include "log/log.h"
#include "net/loop.h"
#include "net/sock.h"
#include "net/tls.h"

#define PROBE_BUF 1024

struct probe;
typedef void (*probe_step)(struct probe *p);

/* One server's checks. A check connects, shakes hands when the upstream
 * talks TLS, sends the request and reads up to the status line; `step` is
 * the one of these waiting for the socket. */
struct probe {
	struct conn conn;     /* fd -1 between checks */
	probe_step step;
	struct timer timer;
	struct health_checker *checker;
	const struct upstream_config *upstream;
	const struct server_config *server;
	struct server_health *health;
	char request[512];
	size_t request_len;
	size_t sent;
	char reply[PROBE_BUF];
	size_t received;
	bool in_flight;
	unsigned successes;   /* consecutive */
	unsigned failures;    /* consecutive */
	struct ssl_session_st *tls_session; /* owned: the server's last session */
};

struct health_checker {
	struct loop loop;
	pthread_t thread;
	struct rand_state rand;
	struct probe *probes;
	size_t num_probes;
};

static uint64_t jittered(struct health_checker *hc, uint64_t interval_ms)
{
	uint64_t spread = interval_ms / 10;
	if (spread == 0)
		return interval_ms;
	return interval_ms - spread + rand_next(&hc->rand) % (2 * spread + 1);
}

static void probe_schedule(struct probe *p, uint64_t in_ms);

/* Records a result and moves the server across the thresholds. */
static void probe_done(struct probe *p, bool ok, const char *why)
{
	const struct health_check_config *cfg = p->upstream->health_check;

	if (p->conn.io.fd >= 0) {
		loop_del(&p->checker->loop, &p->conn.io);
		p->conn.ops->close(&p->conn);
	}
	p->in_flight = false;
	if (ok) {
		p->failures = 0;
		if (++p->successes == cfg->healthy_threshold && atomic_load(&p->health->down)) {
			health_set_down(p->health, false, p->checker->loop.now_ms);
			log_info("upstream \"%s\" server %s is up (health check)", p->upstream->name,
				 p->server->address);
		}
	} else {
		p->successes = 0;
		if (++p->failures == cfg->unhealthy_threshold && !atomic_load(&p->health->down)) {
			health_set_down(p->health, true, p->checker->loop.now_ms);
			log_warn("upstream \"%s\" server %s is down (health check: %s)",
				 p->upstream->name, p->server->address, why);
		}
	}
	probe_schedule(p, jittered(p->checker, cfg->interval_ms));
}

/* "HTTP/1.x NNN": the status, or -1 while not enough has arrived, 0 if junk. */
static int reply_status(const struct probe *p)
{
	if (p->received < 12)
		return -1;
	if (memcmp(p->reply, "HTTP/1.", 7) != 0 || p->reply[8] != ' ')
		return 0;
	int status = 0;
	for (int i = 9; i < 12; i++) {
		if (p->reply[i] < '0' || p->reply[i] > '9')
			return 0;
		status = status * 10 + (p->reply[i] - '0');
	}
	return status;
}

/* Sends the request, then reads until the status line decides. */
static void probe_exchange(struct probe *p)
{
	const struct health_check_config *cfg = p->upstream->health_check;

	while (p->sent < p->request_len) {
		struct iovec iov = { p->request + p->sent, p->request_len - p->sent };
		ssize_t n = conn_writev(&p->conn, &iov, 1);
		if (n == -EAGAIN)
			return;
		if (n <= 0) {
			probe_done(p, false, "write failed");
			return;
		}
		p->sent += (size_t)n;
	}
	for (;;) {
		ssize_t n = conn_read(&p->conn, p->reply + p->received, sizeof(p->reply) - p->received);
		if (n == -EAGAIN)
			return;
		if (n > 0)
			p->received += (size_t)n;
		int status = reply_status(p);
		if (status > 0) {
			bool ok = status >= cfg->expect_min && status <= cfg->expect_max;
			probe_done(p, ok, "unexpected status");
			return;
		}
		if (status == 0 || n <= 0) {
			probe_done(p, false, n < 0 ? "read failed" : "not an HTTP response");
			return;
		}
	}
}

/* A failed handshake (the certificate does not verify) is a failed check. */
static void probe_handshake(struct probe *p)
{
	int rc = tls_handshake(&p->conn);

	if (rc == -EAGAIN)
		return;
	if (rc != 0) {
		probe_done(p, false, "TLS handshake failed");
		return;
	}
	p->step = probe_exchange;
	probe_exchange(p);
}

static void probe_connected(struct probe *p)
{
	if (!p->conn.writable)
		return;
	if (sock_connect_result(p->conn.io.fd) != 0) {
		probe_done(p, false, "connect failed");
		return;
	}
	p->step = p->conn.ssl ? probe_handshake : probe_exchange;
	p->step(p);
}

static void probe_io(struct loop_io *io, uint32_t events)
{
	struct probe *p = container_of(io, struct probe, conn.io);

	conn_note_events(&p->conn, events);
	p->step(p);
}

/* Starts a check: a connect, TLS pending on it when the upstream has TLS. */
static void probe_start(struct probe *p)
{
	struct tls_client *tls = p->upstream->tls_client;
	int fd = sock_connect(&p->server->addr);

	p->in_flight = true;
	if (fd < 0) {
		probe_done(p, false, "connect failed");
		return;
	}
	p->conn = (struct conn){ .io = { .fd = fd, .cb = probe_io }, .ops = &transport_tcp };
	p->step = probe_connected;
	p->sent = p->received = 0;
	if (tls && tls_connect(&p->conn, tls, &p->tls_session) != 0) {
		probe_done(p, false, "cannot start TLS");
		return;
	}
	if (loop_add(&p->checker->loop, &p->conn.io) != 0) {
		probe_done(p, false, "cannot watch the socket");
		return;
	}
	probe_schedule(p, p->upstream->health_check->timeout_ms);
}

static void probe_timer(struct timer *t)
{
	struct probe *p = container_of(t, struct probe, timer);

	if (p->in_flight)
		probe_done(p, false, "timeout");
	else
		probe_start(p);
}

static void probe_schedule(struct probe *p, uint64_t in_ms)
{
	struct loop *loop = &p->checker->loop;
	timer_link(&loop->timers, &p->timer, loop->now_ms + in_ms);
}

static void on_wake(struct loop *loop)
{
	loop->stop = true;
}

static void *checker_main(void *arg)
{
	struct health_checker *hc = arg;
	loop_run(&hc->loop);
	return NULL;
}

static size_t count_probes(const struct upstream_config *ups, size_t n)
{
	size_t count = 0;
	for (size_t u = 0; u < n; u++)
		if (ups[u].health_check)
			count += ups[u].num_servers;
	return count;
}

static void probe_init(struct health_checker *hc, struct probe *p,
		       const struct upstream_config *up, size_t s, struct server_health *h)
{
	p->checker = hc;
	p->upstream = up;
	p->server = &up->servers[s];
	p->health = h;
	p->conn.io.fd = -1;
	timer_init(&p->timer, probe_timer);
	int n = snprintf(p->request, sizeof(p->request),
			 "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: portico-health-check\r\n"
			 "Connection: close\r\n\r\n",
			 up->health_check->path, p->server->address);
	p->request_len = n > 0 && (size_t)n < sizeof(p->request) ? (size_t)n : 0;
	/* The first check soon, spread over one interval. */
	probe_schedule(p, rand_next(&hc->rand) % (up->health_check->interval_ms + 1));
}

struct health_checker *health_checker_start(const struct upstream_config *ups, size_t n,
					    struct health_table *health)
{
	size_t count = count_probes(ups, n);
	if (count == 0)
		return NULL;
	struct health_checker *hc = calloc(1, sizeof(*hc));
	if (!hc || loop_init(&hc->loop) != 0) {
		free(hc);
		log_error("health checks: cannot start");
		return NULL;
	}
	hc->loop.on_wake = on_wake;
	rand_seed(&hc->rand);
	hc->probes = calloc(count, sizeof(*hc->probes));
	size_t i = 0;
	for (size_t u = 0; hc->probes && u < n; u++)
		for (size_t s = 0; ups[u].health_check && s < ups[u].num_servers; s++)
			probe_init(hc, &hc->probes[i++], &ups[u], s, &health->upstreams[u][s]);
	hc->num_probes = i;
	if (!hc->probes || pthread_create(&hc->thread, NULL, checker_main, hc) != 0) {
		log_error("health checks: cannot start");
		free(hc->probes);
		loop_deinit(&hc->loop);
		free(hc);
		return NULL;
	}
	return hc;
}

void health_checker_stop(struct health_checker *hc)
{
	if (!hc)
		return;
	loop_wake(&hc->loop);
	pthread_join(hc->thread, NULL);
	for (size_t i = 0; i < hc->num_probes; i++) {
		if (hc->probes[i].conn.io.fd >= 0)
			hc->probes[i].conn.ops->close(&hc->probes[i].conn);
		tls_session_free(&hc->probes[i].tls_session);
	}
	free(hc->probes);
	loop_deinit(&hc->loop);
	free(hc);
}
