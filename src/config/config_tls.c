/*
 * config_tls: the `tls:` keys of listeners and of upstreams, checked and
 * then compiled (net/tls.h) while the file is read, so a missing
 * certificate, a key that does not match or an unreadable CA bundle is
 * reported at its line like any other mistake, and `portico -t` catches it
 * before a reload would.
 */
#include <stdlib.h>
#include <string.h>

#include "config/config_schema.h"
#include "config/values.h"
#include "core/bug.h"

struct listener_tls_parse {
	struct listener_tls_config *tls;
	const struct ynode *certs_node;
};

static const struct cfg_key cert_keys[] = {
	{ .name = "cert", .handler = cfg_h_path, .offset = offsetof(struct tls_cert_files, cert),
	  .required = true },
	{ .name = "key", .handler = cfg_h_path, .offset = offsetof(struct tls_cert_files, key),
	  .required = true },
};

static void cfg_h_certificates(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
			       const struct ynode *value, void *obj)
{
	struct listener_tls_parse *p = obj;
	char what[64];

	p->certs_node = value;
	if (!cfg_is_list(c, value, "a list of {cert: FILE, key: FILE}"))
		return;
	if (value->num_items == 0) {
		cfg_error(c, value, "at least one certificate is required, like [{cert: site.pem, key: site.key}]");
		return;
	}
	p->tls->certs = cfg_calloc(value->num_items, sizeof(*p->tls->certs));
	p->tls->num_certs = value->num_items;
	for (size_t i = 0; i < value->num_items; i++) {
		snprintf(what, sizeof(what), "certificate %zu", i + 1);
		cfg_walk(c, value->items[i], cert_keys, ARRAY_SIZE(cert_keys), &p->tls->certs[i], what);
	}
}

static void cfg_h_min_version(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
			      const struct ynode *value, void *obj)
{
	struct listener_tls_parse *p = obj;
	const char *s = cfg_scalar(c, value, "\"1.2\" or \"1.3\"");
	char q[128];

	if (!s)
		return;
	if (strcmp(s, "1.2") == 0)
		p->tls->min_version = 12;
	else if (strcmp(s, "1.3") == 0)
		p->tls->min_version = 13;
	else if (strcmp(s, "1.0") == 0 || strcmp(s, "1.1") == 0)
		cfg_error(c, value, "TLS %s is not offered: it is insecure (RFC 8996); use \"1.2\" or \"1.3\"", s);
	else
		cfg_error(c, value, "expected \"1.2\" or \"1.3\", got %s", value_quote(s, q, sizeof(q)));
}

static void cfg_h_client_ca(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
			    const struct ynode *value, void *obj)
{
	struct listener_tls_parse *p = obj;
	const char *s = ynode_is_null(value) ? NULL : cfg_scalar(c, value, "a CA file or null");

	if (s)
		p->tls->client_ca = cfg_resolve_path(c, s);
}

static const struct cfg_key tls_keys[] = {
	{ .name = "certificates", .handler = cfg_h_certificates, .required = true },
	CFG_KEY("min_version", cfg_h_min_version),
	CFG_KEY("client_ca", cfg_h_client_ca),
};

/* The node a compile failure points at. */
static const struct ynode *fault_node(const struct listener_tls_parse *p, const struct ynode *map,
				      enum tls_fault fault, size_t index)
{
	const struct ynode *item = p->certs_node->items[index];
	const struct ynode *at = NULL;

	if (fault == TLS_FAULT_CA)
		at = ynode_get(map, "client_ca");
	else if (fault == TLS_FAULT_CERT)
		at = ynode_get(item, "cert");
	else if (fault == TLS_FAULT_KEY)
		at = ynode_get(item, "key");
	return at ? at : item;
}

static void compile(struct cfg_ctx *c, struct listener_config *l, const struct listener_tls_parse *p,
		    const struct ynode *map)
{
	const struct tls_server_options o = {
		.certs = l->tls->certs,
		.num_certs = l->tls->num_certs,
		.min_version = l->tls->min_version,
		.client_ca = l->tls->client_ca,
		.http2 = l->http2,
	};
	char err[512];
	enum tls_fault fault;
	size_t index;

	l->tls_server = tls_server_new(&o, err, sizeof(err), &fault, &index);
	if (!l->tls_server)
		cfg_error(c, fault_node(p, map, fault, index), "%s", err);
}

void cfg_h_listener_tls(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
			const struct ynode *value, void *obj)
{
	struct listener_config *l = obj;
	size_t errors_before = c->num_errors;

	if (ynode_is_null(value))
		return;
	struct listener_tls_parse p = { .tls = cfg_calloc(1, sizeof(*l->tls)) };
	p.tls->min_version = 12;
	l->tls = p.tls;
	cfg_walk(c, value, tls_keys, ARRAY_SIZE(tls_keys), &p, "tls");
	if (c->num_errors == errors_before)
		compile(c, l, &p, value);
}

void cfg_free_listener_tls(struct listener_config *l)
{
	struct listener_tls_config *tls = l->tls;

	tls_server_free(l->tls_server);
	if (!tls)
		return;
	for (size_t i = 0; i < tls->num_certs; i++) {
		free((char *)tls->certs[i].cert);
		free((char *)tls->certs[i].key);
	}
	free(tls->certs);
	free(tls->client_ca);
	free(tls);
}

/* ---- upstreams ---- */

/* A DNS host name, as SNI carries it (RFC 6066): no port, no spaces. */
static bool host_name_ok(const char *s)
{
	static const char name_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					 "0123456789-._";
	size_t len = strlen(s);

	return len > 0 && len <= 253 && strspn(s, name_chars) == len;
}

static void cfg_h_sni(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
		      const struct ynode *value, void *obj)
{
	struct upstream_tls_config *tls = obj;
	const char *s = ynode_is_null(value) ? NULL : cfg_scalar(c, value, "a server name or null");
	char q[128];

	if (!s)
		return;
	if (!host_name_ok(s)) {
		cfg_error(c, value, "sni must be a DNS name like app.internal, got %s",
			  value_quote(s, q, sizeof(q)));
		return;
	}
	tls->sni = cfg_strdup(s);
}

static const struct cfg_key upstream_tls_keys[] = {
	CFG_KEY("sni", cfg_h_sni),
	CFG_FIELD("verify", cfg_h_bool, struct upstream_tls_config, verify),
	CFG_FIELD("ca", cfg_h_path, struct upstream_tls_config, ca),
};

/* Without `sni:`, a `dns:` upstream is reached by its name, which is the
 * one its servers' certificates should carry; servers listed by address
 * have no name to send. */
static char *default_sni(const struct upstream_config *up)
{
	if (!up->dns)
		return NULL;
	char *host = cfg_strdup(up->dns);
	*strrchr(host, ':') = '\0'; /* "host:port", checked when parsed */
	return host;
}

static void compile_upstream(struct cfg_ctx *c, struct upstream_config *up, const struct ynode *map)
{
	const struct upstream_tls_config *tls = up->tls;
	const struct tls_client_options o = { .ca = tls->ca, .sni = tls->sni, .verify = tls->verify };
	const struct ynode *ca = ynode_get(map, "ca");
	char err[512];

	up->tls_client = tls_client_new(&o, err, sizeof(err));
	if (!up->tls_client)
		cfg_error(c, ca && tls->ca ? ca : map, "upstream \"%s\": %s", up->name, err);
}

/* upstreams.NAME.tls; the key table lists `dns` before `tls`, so up->dns
 * is known here. */
void cfg_h_upstream_tls(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
			const struct ynode *value, void *obj)
{
	struct upstream_config *up = obj;
	size_t errors_before = c->num_errors;

	if (ynode_is_null(value))
		return;
	up->tls = cfg_calloc(1, sizeof(*up->tls));
	up->tls->verify = true;
	cfg_walk(c, value, upstream_tls_keys, ARRAY_SIZE(upstream_tls_keys), up->tls, "tls");
	if (!up->tls->sni)
		up->tls->sni = default_sni(up);
	if (c->num_errors == errors_before)
		compile_upstream(c, up, value);
}

void cfg_free_upstream_tls(struct upstream_config *up)
{
	tls_client_free(up->tls_client);
	if (up->tls) {
		free(up->tls->sni);
		free(up->tls->ca);
	}
	free(up->tls);
}
