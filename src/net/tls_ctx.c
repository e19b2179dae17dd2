/*
 * tls_ctx: compiled TLS settings (tls_server, tls_client) and the start of
 * TLS on a connection.
 *
 * A listener gets one SSL_CTX per certificate, configured alike, as nginx
 * does: the SNI callback moves the handshake to the context whose
 * certificate names the server (exact names first, then wildcards), and
 * the first certificate answers names nobody claims. Names come from each
 * certificate's subjectAltName DNS entries, or its common name without one.
 */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net/tls.h"
#include "net/tls_tickets.h"

#define SESSION_TIMEOUT_S 3600
#define SESSION_CACHE_SIZE 20480

/* ECDHE only, AEAD only: what current browsers and servers agree on.
 * TLS 1.3 suites are OpenSSL's defaults, already all AEAD. */
#define TLS12_CIPHERS                                                                  \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                   \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                   \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

struct tls_identity {
	SSL_CTX *ctx;  /* owned */
	char **names;  /* owned, lower case; "*.example.com" for wildcards */
	size_t num_names;
};

struct tls_server {
	struct tls_identity *ids; /* owned; [0] is the default */
	size_t num_ids;
	bool http2;
};

struct tls_client {
	SSL_CTX *ctx; /* owned */
	char *sni;    /* owned, may be NULL */
	bool verify;
};

static const unsigned char alpn_h2[] = "\x02h2\x08http/1.1";
static const unsigned char alpn_h1[] = "\x08http/1.1";

static void last_error(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	const char *reason = e ? ERR_reason_error_string(e) : NULL;

	snprintf(err, errlen, "%s%s%s", what, reason ? " (OpenSSL: " : "", reason ? reason : "");
	if (reason)
		strncat(err, ")", errlen - strlen(err) - 1);
	ERR_clear_error();
}

/* Fails early with errno's words for a file that cannot be opened, which
 * OpenSSL would report less plainly. */
static bool readable(const char *path, char *err, size_t errlen, const char *what)
{
	FILE *f = fopen(path, "rb");

	if (f) {
		fclose(f);
		return true;
	}
	snprintf(err, errlen, "cannot read %s %s: %s", what, path, strerror(errno));
	return false;
}

static SSL_CTX *ctx_new(const SSL_METHOD *method, int min_version)
{
	SSL_CTX *ctx = SSL_CTX_new(method);

	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, min_version == 13 ? TLS1_3_VERSION : TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
					 SSL_OP_IGNORE_UNEXPECTED_EOF);
	/* a write may finish part of its bytes, and a retry may come from
	 * another address (the relay rebuilds its iovec) */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				      SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* ---- names a certificate answers for ---- */

static void add_name(struct tls_identity *id, const char *name, size_t len)
{
	char *copy = malloc(len + 1);
	char **grown = realloc(id->names, (id->num_names + 1) * sizeof(*id->names));

	if (!copy || !grown) {
		free(copy);
		if (grown)
			id->names = grown;
		return;
	}
	for (size_t i = 0; i < len; i++)
		copy[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i]);
	copy[len] = '\0';
	id->names = grown;
	id->names[id->num_names++] = copy;
}

static void read_names(struct tls_identity *id)
{
	X509 *cert = SSL_CTX_get0_certificate(id->ctx);
	GENERAL_NAMES *alt = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);

	for (int i = 0; alt && i < sk_GENERAL_NAME_num(alt); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(alt, i);
		if (gn->type == GEN_DNS)
			add_name(id, (const char *)ASN1_STRING_get0_data(gn->d.dNSName),
				 (size_t)ASN1_STRING_length(gn->d.dNSName));
	}
	GENERAL_NAMES_free(alt);
	if (id->num_names == 0) {
		char cn[256];
		int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn,
						  sizeof(cn));
		if (n > 0)
			add_name(id, cn, (size_t)n);
	}
}

/* 2 exact, 1 wildcard ("*.example.com" covers one more label), 0 none. */
static int name_match(const char *pattern, const char *host)
{
	if (strcasecmp(pattern, host) == 0)
		return 2;
	if (pattern[0] != '*' || pattern[1] != '.')
		return 0;
	const char *dot = strchr(host, '.');
	return dot && dot != host && strcasecmp(pattern + 1, dot) == 0 ? 1 : 0;
}

static int on_server_name(SSL *ssl, int *alert, void *arg)
{
	const struct tls_server *s = arg;
	const char *host = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	const struct tls_identity *best = NULL;
	int best_rank = 0;

	if (!host)
		return SSL_TLSEXT_ERR_OK;
	for (size_t i = 0; i < s->num_ids && best_rank < 2; i++) {
		for (size_t j = 0; j < s->ids[i].num_names; j++) {
			int rank = name_match(s->ids[i].names[j], host);
			if (rank > best_rank) {
				best_rank = rank;
				best = &s->ids[i];
			}
		}
	}
	if (best && best->ctx != SSL_get_SSL_CTX(ssl))
		SSL_set_SSL_CTX(ssl, best->ctx);
	return SSL_TLSEXT_ERR_OK;
}

static int on_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		   const unsigned char *client, unsigned int client_len, void *arg)
{
	const struct tls_server *s = arg;
	const unsigned char *ours = s->http2 ? alpn_h2 : alpn_h1;
	unsigned int ours_len = s->http2 ? sizeof(alpn_h2) - 1 : sizeof(alpn_h1) - 1;
	unsigned char *chosen;

	/* the server's order wins: h2 when both sides have it */
	if (SSL_select_next_proto(&chosen, outlen, ours, ours_len, client, client_len) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = chosen;
	return SSL_TLSEXT_ERR_OK;
}

/* ---- listeners ---- */

/* Mutual TLS: clients must present a certificate signed by the CA in ca. */
static int require_client_cert(SSL_CTX *ctx, const char *ca, char *err, size_t errlen)
{
	struct stack_st_X509_NAME *names; /* STACK_OF(X509_NAME) */

	if (!readable(ca, err, errlen, "client CA"))
		return -1;
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1 ||
	    !(names = SSL_load_client_CA_file(ca))) {
		last_error(err, errlen, "not a PEM CA bundle");
		return -1;
	}
	SSL_CTX_set_client_CA_list(ctx, names);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	return 0;
}

static int server_identity(struct tls_server *s, struct tls_identity *id,
			   const struct tls_server_options *o, size_t i, char *err, size_t errlen,
			   enum tls_fault *fault)
{
	static const unsigned char sid_ctx[] = "portico";
	const struct tls_cert_files *f = &o->certs[i];

	*fault = TLS_FAULT_CERT;
	if (!readable(f->cert, err, errlen, "certificate"))
		return -1;
	if (!(id->ctx = ctx_new(TLS_server_method(), o->min_version))) {
		last_error(err, errlen, "cannot set up TLS");
		return -1;
	}
	SSL_CTX_set_options(id->ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_use_certificate_chain_file(id->ctx, f->cert) != 1) {
		last_error(err, errlen, "not a PEM certificate chain");
		return -1;
	}
	*fault = TLS_FAULT_KEY;
	if (!readable(f->key, err, errlen, "key"))
		return -1;
	if (SSL_CTX_use_PrivateKey_file(id->ctx, f->key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(id->ctx) != 1) {
		bool mismatch = ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
		last_error(err, errlen, mismatch ? "the key does not match the certificate"
						 : "not a PEM private key");
		return -1;
	}
	*fault = TLS_FAULT_CA;
	if (o->client_ca && require_client_cert(id->ctx, o->client_ca, err, errlen) != 0)
		return -1;
	SSL_CTX_set_session_id_context(id->ctx, sid_ctx, sizeof(sid_ctx) - 1);
	SSL_CTX_set_session_cache_mode(id->ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_sess_set_cache_size(id->ctx, SESSION_CACHE_SIZE);
	SSL_CTX_set_timeout(id->ctx, SESSION_TIMEOUT_S);
	SSL_CTX_set_tlsext_ticket_key_evp_cb(id->ctx, tls_tickets_cb);
	SSL_CTX_set_tlsext_servername_callback(id->ctx, on_server_name);
	SSL_CTX_set_tlsext_servername_arg(id->ctx, s);
	SSL_CTX_set_alpn_select_cb(id->ctx, on_alpn, s);
	read_names(id);
	*fault = TLS_FAULT_NONE;
	return 0;
}

struct tls_server *tls_server_new(const struct tls_server_options *o, char *err, size_t errlen,
				  enum tls_fault *fault, size_t *index)
{
	struct tls_server *s = calloc(1, sizeof(*s));

	*fault = TLS_FAULT_NONE;
	*index = 0;
	err[0] = '\0';
	if (!s || !(s->ids = calloc(o->num_certs, sizeof(*s->ids)))) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->http2 = o->http2;
	for (size_t i = 0; i < o->num_certs; i++) {
		s->num_ids = i + 1;
		*index = i;
		if (server_identity(s, &s->ids[i], o, i, err, errlen, fault) != 0) {
			tls_server_free(s);
			return NULL;
		}
	}
	return s;
}

void tls_server_free(struct tls_server *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->num_ids; i++) {
		SSL_CTX_free(s->ids[i].ctx);
		for (size_t j = 0; j < s->ids[i].num_names; j++)
			free(s->ids[i].names[j]);
		free(s->ids[i].names);
	}
	free(s->ids);
	free(s);
}

/* ---- upstreams ---- */

/* A server gave a session (a TLS 1.3 ticket may come with any response):
 * it replaces the one the connection's slot held. */
static int keep_session(SSL *ssl, SSL_SESSION *session)
{
	SSL_SESSION **slot = SSL_get_app_data(ssl);

	if (!slot)
		return 0;
	SSL_SESSION_free(*slot);
	*slot = session;
	return 1; /* the reference is the slot's now */
}

struct tls_client *tls_client_new(const struct tls_client_options *o, char *err, size_t errlen)
{
	struct tls_client *cl = calloc(1, sizeof(*cl));

	err[0] = '\0';
	if (!cl || (o->sni && !(cl->sni = strdup(o->sni))) ||
	    !(cl->ctx = ctx_new(TLS_client_method(), 12))) {
		tls_client_free(cl);
		snprintf(err, errlen, "cannot set up TLS");
		return NULL;
	}
	cl->verify = o->verify;
	if (o->verify) {
		int ok = o->ca ? readable(o->ca, err, errlen, "CA") &&
					 SSL_CTX_load_verify_locations(cl->ctx, o->ca, NULL) == 1
			       : SSL_CTX_set_default_verify_paths(cl->ctx) == 1;
		if (!ok) {
			if (!*err)
				last_error(err, errlen, "not a PEM CA bundle");
			tls_client_free(cl);
			return NULL;
		}
		SSL_CTX_set_verify(cl->ctx, SSL_VERIFY_PEER, NULL);
	}
	SSL_CTX_set_alpn_protos(cl->ctx, alpn_h1, sizeof(alpn_h1) - 1);
	/* sessions are kept by the caller, one per server (tls_connect) */
	SSL_CTX_set_session_cache_mode(cl->ctx, SSL_SESS_CACHE_CLIENT |
						SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(cl->ctx, keep_session);
	return cl;
}

void tls_client_free(struct tls_client *cl)
{
	if (!cl)
		return;
	SSL_CTX_free(cl->ctx);
	free(cl->sni);
	free(cl);
}

/* ---- connections ---- */

/* Watches the socket reads OpenSSL makes: one that got fewer bytes than
 * it asked for (or none) found the socket drained (see tls_read). The
 * signature is OpenSSL's BIO_callback_fn_ex. */
static long note_socket_read(BIO *b, int oper, const char *argp, size_t len, int argi, long argl,
			     /* cppcheck-suppress constParameter */
			     int ret, size_t *processed) /* NOLINT(readability-non-const-parameter) */
{
	if (oper == (BIO_CB_READ | BIO_CB_RETURN)) {
		struct conn *c = (struct conn *)BIO_get_callback_arg(b);
		c->tls_drained = ret <= 0 || !processed || *processed < len;
	}
	return ret;
}

static int tls_attach(struct conn *c, SSL_CTX *ctx)
{
	SSL *ssl = SSL_new(ctx);

	if (!ssl || SSL_set_fd(ssl, c->io.fd) != 1) {
		SSL_free(ssl);
		return -ENOMEM;
	}
	/* Read all the socket has, not a record header and then its body:
	 * one read system call per burst of records instead of two each. */
	SSL_set_read_ahead(ssl, 1);
	BIO_set_callback_ex(SSL_get_rbio(ssl), note_socket_read);
	BIO_set_callback_arg(SSL_get_rbio(ssl), (char *)c);
	c->ssl = ssl;
	c->ops = &transport_tls;
	return 0;
}

int tls_accept(struct conn *c, struct tls_server *s)
{
	if (tls_attach(c, s->ids[0].ctx) != 0)
		return -ENOMEM;
	SSL_set_accept_state(c->ssl);
	return 0;
}

int tls_connect(struct conn *c, struct tls_client *cl, SSL_SESSION **session)
{
	if (tls_attach(c, cl->ctx) != 0)
		return -ENOMEM;
	SSL_set_app_data(c->ssl, session);
	if (session && *session)
		SSL_set_session(c->ssl, *session);
	if (cl->sni) {
		SSL_set_tlsext_host_name(c->ssl, cl->sni);
		if (cl->verify && SSL_set1_host(c->ssl, cl->sni) != 1)
			return -ENOMEM;
	}
	SSL_set_connect_state(c->ssl);
	return 0;
}

void tls_session_free(SSL_SESSION **session)
{
	SSL_SESSION_free(*session);
	*session = NULL;
}
