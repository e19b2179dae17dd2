/*
 * fuzz_downstream: a live client connection through a whole worker — the
 * HTTP/1 server state machine, the exchange, the relay and the upstream
 * side — in the spirit of H2O's fuzz/driver.cc.
 *
 * Set-up, once: a fixed configuration (two listeners with different limits,
 * the first also speaking HTTP/2 with prior knowledge,
 * a `respond:` route, routes to an upstream served by a tiny responder in
 * this process, and one to an upstream where nothing listens, for 502), and
 * the listening sockets: abstract unix sockets for the listeners (the worker
 * only accept()s on the fds it is given, whatever their family) and a unix
 * socket file for the upstream responder.
 *
 * Per input: a fresh worker (proxy_worker_init with a dup of the listening
 * fds, which it owns and closes), one client connection, the client bytes
 * written in pieces, loop turns until nothing moves, then a stop (immediate
 * or graceful) and proxy_worker_deinit, so leaks show per input.
 *
 * Input: byte 0 = flags, byte 1 = piece size (0 = all at once), then the
 * client bytes, optionally followed by UPSTREAM_MARK and the bytes the
 * upstream answers every request with (default: a valid 200).
 *   flags bit 0: listener 1 (small limits) instead of listener 0
 *   flags bit 1: half-close the client's write side after its bytes
 *   flags bit 2: the upstream closes its connection after answering
 *   flags bit 3: graceful stop (drain) instead of an immediate one
 *   flags bit 4: the upstream answers in two pieces, one turn apart
 *   flags bit 5: reload the worker (proxy_worker_reload) to a second
 *                snapshot halfway through the client's bytes (no Server
 *                header; fields with "_" refused, where the first drops them)
 *
 * Determinism: every turn is made non-blocking by queuing a no-op deferred
 * callback before it (loop_run_once then waits 0 ms), and turns stop after
 * IDLE_TURNS turns in which no byte moved, or MAX_TURNS in all. Timers do
 * not fire (the configured timeouts are seconds long); they are left to the
 * unit and end-to-end tests.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "config/config.h"
#include "log/log.h"
#include "proxy/proxy.h"

#define UPSTREAM_MARK "\x00UPSTREAM\x00"
#define UPSTREAM_MARK_LEN (sizeof(UPSTREAM_MARK) - 1)
#define MAX_TURNS 2000
#define IDLE_TURNS 4
#define MAX_UP_CONNS 32
#define MAX_UP_ANSWERS 4

static const char default_response[] =
	"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nServer: backend\r\nX-Powered-By: fuzz\r\n\r\nok";

static struct proxy_config *config;
static struct proxy_config *config_b; /* the reload target */
static int listen_fds[2] = { -1, -1 };
static int up_listen = -1;
static char up_path[108];
static bool verbose; /* FUZZ_DOWNSTREAM_VERBOSE=1: print what the client receives */

struct up_conn {
	int fd;
	unsigned answers;
	size_t pending;  /* bytes of the answer still to send (second piece) */
};

/* One input's state. */
struct run {
	struct proxy_worker worker;
	int client;
	bool client_eof;
	struct up_conn up[MAX_UP_CONNS];
	size_t num_up;
	const uint8_t *answer;
	size_t answer_len;
	bool up_close;
	bool up_split;
};

static void noop(struct loop_defer *d)
{
	(void)d;
}

static int abstract_listener(const char *name)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	size_t len = strlen(name);

	memcpy(sun.sun_path + 1, name, len); /* sun_path[0] == 0: abstract */
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun,
			   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len)) != 0 ||
	    listen(fd, 64) != 0) {
		perror("fuzz_downstream: listener");
		abort();
	}
	return fd;
}

static void cleanup(void)
{
	if (up_path[0])
		unlink(up_path);
}

static const char config_fmt[] =
	"workers: 1\n"
	"access_log: null\n"
	"trusted_proxies: [\"::/128\", 10.0.0.0/8]\n"
	"limits: { max_body_size: 64k }\n"
	"listeners:\n"
	"  - { name: main, address: \"127.0.0.1:1\", http2: true }\n"
	"  - name: small\n"
	"    address: \"127.0.0.1:2\"\n"
	"    limits: { max_header_size: 1k, max_headers: 8, max_body_size: 16 }\n"
	"upstreams:\n"
	"  app:\n"
	"    servers: [\"unix:%s\"]\n"
	"    keepalive: 4\n"
	"    retries: 1\n"
	"  dead:\n"
	"    servers: [\"unix:%s.none\", { address: \"unix:%s.none2\", weight: 2 }]\n"
	"    retries: 2\n"
	"routes:\n"
	"  - name: health\n"
	"    match: { path_exact: /healthz }\n"
	"    respond: { status: 200, body: \"ok\", content_type: text/plain }\n"
	"  - name: teapot\n"
	"    match: { path_prefix: /tea, methods: [GET, head] }\n"
	"    respond: { status: 418, body: \"short and stout\" }\n"
	"  - name: api\n"
	"    match: { host: \"*.example.com\", path_prefix: /v1/, headers: { X-Canary: \"1\" } }\n"
	"    upstream: app\n"
	"    strip_prefix: /v1\n"
	"    set_request_headers: { X-Env: fuzz, Cookie: \"\" }\n"
	"    set_response_headers: { Cache-Control: no-store, X-Powered-By: \"\" }\n"
	"  - name: dead\n"
	"    match: { path_prefix: /dead }\n"
	"    upstream: dead\n"
	"  - name: app\n"
	"    match: { path_prefix: /a }\n"
	"    upstream: app\n"
	"  - name: exact-host\n"
	"    match: { host: example.org }\n"
	"    upstream: app\n"
	"security:\n"
	"  hide_backend_headers: [Server, X-Powered-By]\n"
	"  server_header: %s\n"
	"  underscores_in_headers: %s\n";

static struct proxy_config *load_config(char *text, size_t size, const char *server,
					 const char *underscores)
{
	struct config_errors errs = { 0 };
	int n = snprintf(text, size, config_fmt, up_path, up_path, up_path, server, underscores);
	struct proxy_config *cfg = config_load_buffer("fuzz_downstream", text, (size_t)n, NULL, &errs);

	if (!cfg) {
		for (size_t i = 0; i < errs.count; i++)
			fprintf(stderr, "%s\n", errs.messages[i]);
		abort();
	}
	return cfg;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char text[sizeof(config_fmt) + 4 * sizeof(up_path)];
	char name[64];

	signal(SIGPIPE, SIG_IGN);
	verbose = getenv("FUZZ_DOWNSTREAM_VERBOSE") != NULL;
	log_set_level(LOG_ERROR);
	snprintf(up_path, sizeof(up_path), "/tmp/portico-fuzz-%d.sock", (int)getpid());
	unlink(up_path);
	atexit(cleanup);

	config = load_config(text, sizeof(text), "portico", "drop");
	config_b = load_config(text, sizeof(text), "\"\"", "reject");

	for (int i = 0; i < 2; i++) {
		snprintf(name, sizeof(name), "portico-fuzz-%d-%d", (int)getpid(), i);
		listen_fds[i] = abstract_listener(name);
	}
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	memcpy(sun.sun_path, up_path, strlen(up_path) + 1);
	up_listen = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (up_listen < 0 || bind(up_listen, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    listen(up_listen, 64) != 0) {
		perror("fuzz_downstream: upstream listener");
		abort();
	}
	return 0;
}

static int connect_client(int listener)
{
	struct sockaddr_un sun;
	socklen_t len = sizeof(sun);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0 || getsockname(listen_fds[listener], (struct sockaddr *)&sun, &len) != 0 ||
	    connect(fd, (struct sockaddr *)&sun, len) != 0) {
		perror("fuzz_downstream: connect");
		abort();
	}
	return fd;
}

static bool write_all(int fd, const void *p, size_t len)
{
	const char *c = p;
	while (len) {
		ssize_t n = write(fd, c, len);
		if (n <= 0)
			return false; /* closed, or the buffer is full: best effort */
		c += n;
		len -= (size_t)n;
	}
	return true;
}

/* Drains what portico sent to the client; returns bytes read. */
static size_t client_read(struct run *r)
{
	char buf[16384];
	size_t total = 0;

	while (!r->client_eof) {
		ssize_t n = read(r->client, buf, sizeof(buf));
		if (n > 0) {
			if (verbose)
				fwrite(buf, 1, (size_t)n, stderr);
			total += (size_t)n;
			continue;
		}
		if (n == 0 || errno != EAGAIN)
			r->client_eof = true;
		break;
	}
	return total;
}

static void up_answer(struct run *r, struct up_conn *u)
{
	size_t len = r->answer_len;

	if (r->up_split && !u->pending) {
		u->pending = len - len / 2;
		len /= 2;
	}
	if (!write_all(u->fd, r->answer, len))
		u->pending = 0;
	if (!u->pending && r->up_close) {
		close(u->fd);
		u->fd = -1;
	}
}

/* Accepts, reads and answers on the upstream side; returns true if
 * anything happened. */
static bool up_service(struct run *r)
{
	bool moved = false;
	char buf[16384];

	while (r->num_up < MAX_UP_CONNS) {
		int fd = accept4(up_listen, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			break;
		r->up[r->num_up++] = (struct up_conn){ .fd = fd };
		moved = true;
	}
	for (size_t i = 0; i < r->num_up; i++) {
		struct up_conn *u = &r->up[i];
		if (u->fd < 0)
			continue;
		if (u->pending) { /* second piece, one turn after the first */
			size_t off = r->answer_len - u->pending;
			u->pending = 0;
			if (!write_all(u->fd, r->answer + off, r->answer_len - off))
				u->pending = 0;
			if (r->up_close) {
				close(u->fd);
				u->fd = -1;
				continue;
			}
			moved = true;
		}
		size_t got = 0;
		bool eof = false;
		for (;;) {
			ssize_t n = read(u->fd, buf, sizeof(buf));
			if (n > 0) {
				got += (size_t)n;
				continue;
			}
			eof = n == 0 || errno != EAGAIN;
			break;
		}
		if (got) {
			moved = true;
			if (u->answers < MAX_UP_ANSWERS) {
				u->answers++;
				up_answer(r, u);
			}
		}
		if (eof && u->fd >= 0) {
			close(u->fd);
			u->fd = -1;
			moved = true;
		}
	}
	return moved;
}

/* Runs turns until nothing moved for IDLE_TURNS turns; returns turns run. */
static unsigned pump(struct run *r, unsigned budget)
{
	struct loop_defer tick;
	unsigned idle = 0, turns = 0;

	loop_defer_init(&tick, noop);
	while (idle < IDLE_TURNS && turns < budget) {
		loop_defer(&r->worker.loop, &tick); /* makes the turn non-blocking */
		loop_run_once(&r->worker.loop);
		turns++;
		bool moved = client_read(r) > 0;
		moved |= up_service(r);
		idle = moved ? 0 : idle + 1;
	}
	loop_defer_cancel(&tick);
	return turns;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run r;
	atomic_ulong counters[2] = { 0, 0 };
	atomic_ulong *counter_ptrs[2] = { &counters[0], &counters[1] };
	int fds[2];

	if (size < 2)
		return 0;
	uint8_t flags = data[0];
	size_t piece = data[1];
	data += 2;
	size -= 2;

	memset(&r, 0, sizeof(r));
	r.answer = (const uint8_t *)default_response;
	r.answer_len = sizeof(default_response) - 1;
	const uint8_t *mark = memmem(data, size, UPSTREAM_MARK, UPSTREAM_MARK_LEN);
	if (mark) {
		r.answer = mark + UPSTREAM_MARK_LEN;
		r.answer_len = size - (size_t)(r.answer - data);
		size = (size_t)(mark - data);
	}
	r.up_close = flags & 4;
	r.up_split = (flags & 16) && r.answer_len > 1;

	for (int i = 0; i < 2; i++)
		if ((fds[i] = dup(listen_fds[i])) < 0)
			abort();
	if (proxy_worker_init(&r.worker, 0, config, fds, counter_ptrs, NULL) != 0)
		abort();
	r.client = connect_client(flags & 1);

	bool reloaded = false;
	unsigned turns = pump(&r, MAX_TURNS);
	for (size_t at = 0; at < size && turns < MAX_TURNS;) {
		size_t len = piece ? piece : size;
		if (len > size - at)
			len = size - at;
		write_all(r.client, data + at, len);
		at += len;
		turns += pump(&r, MAX_TURNS - turns);
		if ((flags & 32) && !reloaded && at >= size / 2) {
			/* the worker keeps the same sockets across the reload */
			if (proxy_worker_reload(&r.worker, config_b, fds, counter_ptrs) != 0)
				abort();
			reloaded = true;
			turns += pump(&r, MAX_TURNS - turns);
		}
	}
	if (flags & 2) {
		shutdown(r.client, SHUT_WR);
		turns += pump(&r, MAX_TURNS - turns);
	}

	if (flags & 8) {
		proxy_worker_stop(&r.worker, true);
		pump(&r, 64);
	}
	proxy_worker_stop(&r.worker, false);
	proxy_worker_deinit(&r.worker);
	close(r.client);
	for (size_t i = 0; i < r.num_up; i++)
		if (r.up[i].fd >= 0)
			close(r.up[i].fd);
	/* connections the worker never accepted stay queued on the shared
	 * listening socket: take them off so the next input starts clean */
	for (int i = 0; i < 2; i++) {
		int fd;
		while ((fd = accept4(listen_fds[i], NULL, NULL, SOCK_CLOEXEC)) >= 0)
			close(fd);
	}
	while (true) {
		int fd = accept4(up_listen, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			break;
		close(fd);
	}
	return 0;
}
