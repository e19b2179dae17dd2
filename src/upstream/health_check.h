/*
 * health_check: active checks — one thread per process sends an HTTP GET
 * (over TLS, verified like requests, when the upstream has `tls:`) to
 * every server of every upstream that has `health_check:`, at `interval`
 * with ±10% jitter (so checks of many servers do not beat in step), and
 * moves the server down after `unhealthy_threshold` consecutive failures
 * (connect error, failed TLS handshake, timeout, status outside
 * expect_status) and up again after `healthy_threshold` successes. Results
 * go to the snapshot's shared health table, which every worker reads;
 * transitions are logged.
 *
 * One checker per snapshot: a reload stops the old one and starts a new one
 * (the health table carries the known states over).
 */
#ifndef PORTICO_UPSTREAM_HEALTH_CHECK_H
#define PORTICO_UPSTREAM_HEALTH_CHECK_H

#include "upstream/health.h"
#include "upstream/upstream_config.h"

struct health_checker;

/* Starts checking; NULL when no upstream has health_check (nothing to do)
 * or on failure (logged). health must outlive the checker. */
struct health_checker *health_checker_start(const struct upstream_config *ups, size_t n,
					    struct health_table *health);

/* Stops the thread and frees; NULL is a no-op. Call from the thread that
 * started it. */
void health_checker_stop(struct health_checker *hc);

#endif
