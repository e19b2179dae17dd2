/*
 * exchange_steps: the steps of an exchange shared between its files
 * (exchange.c: start, routing, local answers, finish; exchange_upstream.c:
 * connect, send, response; exchange_log.c: the access log line).
 * Internal to proxy/.
 */
#ifndef PORTICO_PROXY_EXCHANGE_STEPS_H
#define PORTICO_PROXY_EXCHANGE_STEPS_H

#include "proxy/exchange.h"

/* Answers with portico's own response and finishes: an error page, or the
 * `respond:` / `redirect:` of answer (NULL for an error page); closes the
 * client connection when the response already started. */
void exchange_local(struct exchange *x, int status, const struct route_config *answer);

/* Ends the exchange: logs it, releases the upstream connection, hands the
 * client connection back. */
void exchange_finish(struct exchange *x);

/* Starts talking to the upstream chosen by the route. */
void exchange_connect(struct exchange *x);

/* Takes the exchange off the wait list for a free server slot, if on it. */
void exchange_leave_queue(struct exchange *x);

/* Drops the upstream connection (closed unless reusable). */
void exchange_detach_upstream(struct exchange *x, bool reusable);

/* Writes the access log line, when logging is on. */
void exchange_log(struct exchange *x);

/* Event handler that does nothing: the other side drives this step. */
void exchange_ignore(struct exchange *x);

#endif
