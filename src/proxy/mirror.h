/*
 * mirror: sends a copy of a request to a shadow upstream (`mirror:` on a
 * route) and throws the answer away.
 *
 * A mirror job is detached from the exchange that started it: it has its
 * own connection (never pooled), its own deadline, and nothing it does can
 * slow, fail or change the real request — a shadow that is down, slow or
 * broken only ends the job. Only requests without a body are mirrored: a
 * body streams from the client once, and keeping a copy for a shadow would
 * mean buffering it (documented).
 */
#ifndef PORTICO_PROXY_MIRROR_H
#define PORTICO_PROXY_MIRROR_H

#include "proxy/exchange.h"

/* Starts a mirror job for x when its route mirrors this request (its share
 * of `percent`, no body). Never fails the exchange. */
void mirror_maybe_start(struct exchange *x);

/* Ends every mirror job of the worker (at shutdown). */
void mirror_close_all(struct proxy_worker *w);

#endif
