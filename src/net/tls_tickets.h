/*
 * tls_tickets: the keys that encrypt TLS session tickets, one set for the
 * whole process so that any worker, and any snapshot after a reload,
 * resumes a session another issued.
 *
 * A new key is made every TLS_TICKET_ROTATE_S; tickets are issued with the
 * newest and still accepted with the one before (and then renewed), so a
 * ticket lives at most two rotation periods. Keys are random and exist only
 * in memory: a restart invalidates every ticket, which costs one full
 * handshake per client. Private to net/tls*.c.
 */
#ifndef PORTICO_NET_TLS_TICKETS_H
#define PORTICO_NET_TLS_TICKETS_H

#include <openssl/ssl.h>
#include <stdint.h>

#define TLS_TICKET_ROTATE_S (12 * 3600LL)

/* OpenSSL's ticket key callback (SSL_CTX_set_tlsext_ticket_key_evp_cb). */
int tls_tickets_cb(SSL *ssl, unsigned char name[16], unsigned char iv[EVP_MAX_IV_LENGTH],
		   EVP_CIPHER_CTX *cipher, EVP_MAC_CTX *mac, int encrypt);

/* Makes a new current key if the current one is older than the rotation
 * period at now_s (monotonic seconds); called by tls_tickets_cb, exposed
 * for tests. Returns 1 if it rotated, 0 if not, -1 on failure. */
int tls_tickets_rotate_if_due(uint64_t now_s);

#endif
