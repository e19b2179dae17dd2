/*
 * exchange: one request and its response, from the parsed request head to
 * the last byte written back.
 *
 *   ROUTE -> respond/error ------------------------------> LOCAL -> DONE
 *     \--> CONNECT -> SEND (head + body) -> WAIT_HEAD -> RELAY -> DONE
 *                \_______ connect error, retry elsewhere _/
 *                             WAIT_HEAD -- 101 to a WebSocket handshake --> TUNNEL -> DONE
 *
 * Each step installs its successor as the handler for the next event of
 * either connection (on_downstream / on_upstream), so the order of steps is
 * readable in the code rather than hidden in flags. The exchange is
 * protocol-neutral in what it keeps (method, host, path, status, timings);
 * the HTTP/1 specifics are in the heads it writes (forward.c) and in the
 * downstream that feeds it.
 */
#ifndef PORTICO_PROXY_EXCHANGE_H
#define PORTICO_PROXY_EXCHANGE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/list.h"
#include "http/h1_parser.h"
#include "proxy/downstream.h"
#include "proxy/relay.h"
#include "proxy/upstream_conn.h"
#include "proxy/vars.h"

#define EXCHANGE_STEPS(X)                                                     \
	X(ROUTE)                                                              \
	X(CONNECT)                                                            \
	X(SEND)                                                               \
	X(WAIT_HEAD)                                                          \
	X(RELAY)                                                              \
	X(TUNNEL)                                                             \
	X(LOCAL)                                                              \
	X(DONE)

enum exchange_step {
#define X_ENUM(name) EXCHANGE_##name,
	EXCHANGE_STEPS(X_ENUM)
#undef X_ENUM
};

struct exchange;
struct mirror;
typedef void (*exchange_handler)(struct exchange *x);

/* Copies of request fields kept for the access log, bounded in size. */
struct exchange_log_fields {
	char method[24];
	char host[256];
	char path[1024];
	char user_agent[256];
	char referer[256];
};

struct exchange {
	struct list free_link;        /* in worker->free_exchanges when recycled */
	struct proxy_worker *worker;
	struct proxy_generation *gen; /* borrowed: the client connection's generation */
	struct downstream *ds;        /* borrowed: the client connection */
	struct upstream_conn *uc;     /* borrowed while attached */
	enum exchange_step step;
	exchange_handler on_downstream;
	exchange_handler on_upstream;

	/* request */
	const struct route_config *route;
	struct upstream_rt *upstream;
	struct server_rt *server;
	struct mirror *mirror;        /* borrowed: a mirror job fed this request's body */
	struct buf *req_head;         /* owned: head written toward the upstream */
	uint64_t queue_deadline_ms;   /* while waiting for a server below max_connections */
	uint64_t lb_hash;             /* ip_hash / hash balancers: the key's hash */
	size_t sticky_cookie_len;
	size_t request_id_len;
	struct h1_request_framing framing;
	struct relay req;             /* head + body toward the upstream */
	int client_minor;
	int failed_server;            /* excluded on retry, -1 = none */
	int sticky_server;            /* server named by a valid sticky cookie, -1 = none */
	int fail_status;              /* status to answer if no server is left */
	unsigned attempts;
	bool head_request;
	bool idempotent;
	bool wants_json;
	bool holds_server;            /* a slot on server is taken (upstream_pick) */
	bool queued;                  /* waiting for a server below max_connections */
	bool lb_has_hash;
	bool request_sent;
	bool continue_sent;           /* "100 Continue" written to the client */
	char request_id[129];
	char client_ip[48];
	char sticky_cookie[256];      /* "Set-Cookie: ..." to send, when sticky_cookie_len */

	/* response */
	struct buf *resp_head;        /* owned: head (or whole local response) to the client */
	struct relay resp;
	size_t resp_head_len;         /* bytes of resp that are head, not body */
	int status;
	bool response_started;        /* bytes have gone to the client */
	bool keep_alive;              /* the client connection may serve another request */
	bool upstream_reusable;
	uint64_t tunnel_active_ms;    /* TUNNEL: when a byte last moved either way */

	/* timings (monotonic µs) and log */
	uint64_t start_us;
	uint64_t upstream_start_us;
	uint64_t upstream_end_us;
	uint64_t request_sent_us;     /* last request byte written (balancer latency) */
	uint64_t bytes_received;
	struct exchange_log_fields log;
	struct vars vars;             /* over log's copies and the fields above */
};

/* Starts an exchange for the parsed request req, whose head is the first
 * head_len bytes of ds->in (req's slices point there). Fields the
 * underscores policy drops are taken out of req->headers. */
void exchange_start(struct downstream *ds, struct h1_request *req, size_t head_len);

/* Answers a request that could not be parsed (400, 414, 431, 501) and
 * closes the connection afterwards. */
void exchange_reject(struct downstream *ds, int status);

/* Forwarded events; the current step's handler runs. */
void exchange_on_downstream_event(struct exchange *x);
void exchange_on_upstream_event(struct exchange *x);

/* Tears the exchange down without answering (immediate stop). */
void exchange_abort(struct exchange *x);

/* The name of a step, for logs. */
const char *exchange_step_name(enum exchange_step step);

#endif
