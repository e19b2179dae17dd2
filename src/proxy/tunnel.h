/*
 * tunnel: the TUNNEL step of an exchange — after an upstream answered a
 * WebSocket handshake with 101, the bytes of both connections are copied
 * across, whatever they say, until the conversation ends. Internal to
 * proxy/ (exchange_upstream.c starts it, proxy.c ends it when draining).
 */
#ifndef PORTICO_PROXY_TUNNEL_H
#define PORTICO_PROXY_TUNNEL_H

struct exchange;

/*
 * Turns exchange x into a tunnel. x->resp_head holds the 101 head for the
 * client; x->uc->in and x->ds->in may hold bytes that followed the heads,
 * and are the first to cross. Installs the TUNNEL handlers and runs them
 * once; the exchange may be finished (and recycled) when this returns.
 */
void tunnel_start(struct exchange *x);

/* Ends a tunnel now: logs it and closes both connections (x is recycled). */
void tunnel_end(struct exchange *x);

#endif
