/*
 * config: YAML (or quick-mode flags) -> an immutable struct proxy_config.
 *
 * Loading is all-or-nothing: a snapshot is returned only when the whole file
 * is valid; otherwise every problem found is reported, each as
 * "FILE:LINE:COLUMN: message", in file order (by line, then column). Values
 * are checked as they are read (types, ranges, address syntax, name
 * resolution of upstream servers), and references between sections (route ->
 * upstream) once both are read. docs/config.md lists every key.
 *
 * Only config/ knows the YAML; runtime modules see their *_config structs.
 * Called from the main thread (startup, -t, SIGHUP reload); resolving host
 * names may block for as long as the system resolver takes.
 */
#ifndef PORTICO_CONFIG_CONFIG_H
#define PORTICO_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "proxy/proxy_config.h"

struct config_errors {
	char **messages; /* owned array of owned "FILE:LINE:COLUMN: message" strings */
	size_t count;
};

/* Frees the messages and empties errs (it may be reused). */
void config_errors_deinit(struct config_errors *errs);

/*
 * Reads, parses and validates the file at path. Returns an owned snapshot
 * (free with config_free), or NULL with every error appended to errs.
 * cfg->path is the file's absolute path; relative paths inside the file are
 * resolved against the file's directory. Messages name the file as given.
 */
struct proxy_config *config_load_file(const char *path, struct config_errors *errs);

/*
 * Same, from text[0..len). name is used in messages; relative paths are
 * resolved against base_dir (NULL: left relative, i.e. to the working
 * directory). cfg->path is NULL.
 */
struct proxy_config *config_load_buffer(const char *name, const char *text, size_t len,
					const char *base_dir, struct config_errors *errs);

/*
 * A new snapshot of the same text cfg was loaded from: `dns:` upstreams are
 * resolved again, everything else is as before. NULL with errors (e.g. a
 * name that no longer resolves). For the periodic DNS refresh.
 */
struct proxy_config *config_reload_source(const struct proxy_config *cfg,
					  struct config_errors *errs);

/* Frees a snapshot and everything it owns. NULL is a no-op. */
void config_free(struct proxy_config *cfg);

/*
 * Quick mode (PRODUCT.md §1): each flag becomes the config key it stands for.
 * NULL / false members are left out (the key's default applies), except
 * access_log where NULL writes `access_log: null` (off). Flags that map to
 * keys this version does not support yet produce those keys, so loading the
 * text reports the same "not supported yet" error a file would.
 */
struct quick_options {
	const char *listen;      /* --listen ADDR (required by the command line) */
	const char *upstreams;   /* --upstream "A,B" */
	const char *balance;     /* --balance ALGO */
	const char *workers;     /* --workers N|auto */
	const char *access_log;  /* --access-log FILE|-; NULL = off */
	const char *cache;       /* --cache SIZE */
	bool compress;           /* --compress */
	const char *tls_cert;    /* --tls-cert FILE */
	const char *tls_key;     /* --tls-key FILE */
	bool http2;              /* --http2 */
	const char *health_check; /* --health-check PATH */
	const char *rate_limit;  /* --rate-limit RATE */
	const char *admin;       /* --admin ADDR */
};

/*
 * Returns an owned, NUL-terminated YAML text that config_load_buffer
 * accepts (free() it), or NULL on allocation failure. Every value is written
 * as a double-quoted YAML string, so no flag can inject structure.
 */
char *config_quick_yaml(const struct quick_options *q);

/* The version of the YAML library, for --version. */
const char *config_yaml_version(void);

#endif
