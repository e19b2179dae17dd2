/*
 * tls: TLS on a connection, through OpenSSL (the files net/tls*.c are the
 * only ones that include its headers).
 *
 * A listener's or an upstream's settings are compiled once per
 * configuration snapshot into a tls_server / tls_client (tls_ctx.c), which
 * connections borrow: the snapshot outlives every connection that uses it.
 * A connection becomes TLS by swapping its transport ops for transport_tls
 * (tls.c); the handshake runs non-blocking in the owner's loop through
 * tls_handshake, and afterwards the HTTP code reads and writes plain bytes
 * exactly as on TCP.
 *
 * Session tickets are encrypted with process-wide keys (tls_tickets.c), so a
 * ticket issued by one worker resumes on another and survives a reload.
 */
#ifndef PORTICO_NET_TLS_H
#define PORTICO_NET_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/transport.h"

struct tls_server;
struct tls_client;

struct tls_cert_files {
	const char *cert; /* PEM chain, leaf first */
	const char *key;  /* PEM private key */
};

struct tls_server_options {
	const struct tls_cert_files *certs; /* chosen by SNI; the first is the default */
	size_t num_certs;
	int min_version;       /* 12 or 13 (TLS 1.2, TLS 1.3) */
	const char *client_ca; /* NULL = no client certificates asked */
	bool http2;            /* offer h2 in ALPN before http/1.1 */
};

struct tls_client_options {
	const char *ca;  /* PEM bundle; NULL = the system's store */
	const char *sni; /* server name sent and verified; NULL = none sent */
	bool verify;     /* check the server's certificate chain and name */
};

/* Where building settings failed: the certificate at index, or the CA. */
enum tls_fault { TLS_FAULT_NONE, TLS_FAULT_CERT, TLS_FAULT_KEY, TLS_FAULT_CA };

/*
 * Compiles a listener's settings. On failure returns NULL, writes a
 * message to err and says which file was at fault (*fault, and *index for
 * certificate files).
 */
struct tls_server *tls_server_new(const struct tls_server_options *o, char *err, size_t errlen,
				  enum tls_fault *fault, size_t *index);
void tls_server_free(struct tls_server *s);

/* As tls_server_new, for connections to upstream servers. */
struct tls_client *tls_client_new(const struct tls_client_options *o, char *err, size_t errlen);
void tls_client_free(struct tls_client *cl);

/* Turns an accepted (resp. connected) socket's conn into a TLS one whose
 * handshake is pending. Returns 0 or -ENOMEM. */
int tls_accept(struct conn *c, struct tls_server *s);

/* As tls_accept, toward a server. session, when not NULL, is where the
 * last session this server gave is kept (one slot per server and worker):
 * the handshake offers it for resumption, and a new one replaces it. The
 * slot must outlive the connection; tls_session_free empties it. */
int tls_connect(struct conn *c, struct tls_client *cl, struct ssl_session_st **session);
void tls_session_free(struct ssl_session_st **session);

/*
 * Advances the handshake as far as the socket allows: 0 once complete,
 * -EAGAIN when it waits for an edge (the readiness flag concerned is
 * cleared), -EPROTO when it failed (the reason is logged at debug level).
 */
int tls_handshake(struct conn *c);

/* After the handshake: true if ALPN chose h2. */
bool tls_alpn_h2(const struct conn *c);

/* After the handshake: the verified client certificate's subject in
 * RFC 2253 form, or "" when none was presented. Returns its length
 * (truncated to size - 1). */
size_t tls_peer_subject(const struct conn *c, char *out, size_t size);

/* The version negotiated, e.g. "TLSv1.3", for logs. */
const char *tls_version_name(const struct conn *c);

/* The linked OpenSSL's version, for --version. */
const char *tls_library_version(void);

extern const struct transport_ops transport_tls;

#endif
