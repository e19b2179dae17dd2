/*
 * mirror: sends a copy of a request to a shadow upstream (`mirror:` on a
 * route) and throws the answer away.
 *
 * A mirror job is detached from the exchange that started it: it has its
 * own connection (never pooled), its own deadline, and nothing it does can
 * slow, fail or change the real request — a shadow that is down, slow or
 * broken only ends the job. A request body is copied to the job as the
 * real upstream takes it (a relay tee); a job that falls more than
 * MIRROR_MAX_PENDING bytes behind is dropped rather than buffer without bound.
 */
#ifndef PORTICO_PROXY_MIRROR_H
#define PORTICO_PROXY_MIRROR_H

#include "proxy/exchange.h"

/* Starts a mirror job for x when its route mirrors this request (its share
 * of `percent`). Never fails the exchange. */
void mirror_maybe_start(struct exchange *x);

/* The relay tee: appends body bytes to the job arg. */
void mirror_tee(void *arg, const char *bytes, size_t len);

/* The exchange is over: the job goes on alone if it has the whole request,
 * else it ends (a shadow must not get a truncated body). */
void mirror_release(struct exchange *x);

/* Ends every mirror job of the worker (at shutdown). */
void mirror_close_all(struct proxy_worker *w);

#endif
