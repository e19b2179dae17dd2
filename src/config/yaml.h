/*
 * yaml: the libyaml adapter — a YAML buffer becomes a small owned tree.
 *
 * This is the only file that includes <yaml.h> (STYLE.md: one adapter per
 * library). The tree keeps what the configuration loader needs and nothing
 * else: three node kinds, a 1-based line and column on every node, and for
 * scalars whether they were written plain, so that `null`, `~` and an empty
 * value can be told from the string "null".
 *
 * The names use the prefix `ynode` rather than `yaml_` to stay out of
 * libyaml's namespace.
 *
 * Deliberately refused, with a clear message: anchors (&a), aliases (*a) and
 * therefore merge keys (<<: *a) — they make "where was this set?" hard to
 * answer in an error message and a configuration rarely needs them; more than
 * one document in a stream; NUL characters inside scalars. Tags are ignored,
 * except that `!!str` marks a scalar as quoted (a string, never null).
 */
#ifndef PORTICO_CONFIG_YAML_H
#define PORTICO_CONFIG_YAML_H

#include <stdbool.h>
#include <stddef.h>

enum ynode_kind {
	YNODE_SCALAR,
	YNODE_SEQUENCE,
	YNODE_MAPPING,
};

struct ynode_pair {
	struct ynode *key;   /* owned */
	struct ynode *value; /* owned */
};

struct ynode {
	enum ynode_kind kind;
	int line;             /* 1-based, where the node starts */
	int column;           /* 1-based */
	/* YNODE_SCALAR */
	char *text;           /* owned, NUL-terminated, never NULL */
	size_t len;
	bool quoted;          /* not plain: '...', "...", | or > style, or !!str */
	/* YNODE_SEQUENCE */
	struct ynode **items; /* owned array of owned nodes */
	size_t num_items;
	/* YNODE_MAPPING, in file order; duplicate keys are kept (the loader reports them) */
	struct ynode_pair *pairs; /* owned array */
	size_t num_pairs;
};

struct ynode_error {
	int line;             /* 1-based */
	int column;           /* 1-based */
	char message[256];
};

/*
 * Parses text[0..len) (UTF-8). On success returns 0 and sets *root to the
 * document's root node, or to NULL for an empty document. On a syntax error
 * returns -EINVAL and fills err; on allocation failure -ENOMEM (err filled).
 * The caller frees *root with ynode_free.
 */
int ynode_parse(const char *text, size_t len, struct ynode **root, struct ynode_error *err);

/* Frees a tree. NULL is a no-op. */
void ynode_free(struct ynode *node);

/* True for a plain scalar "", "~", "null", "Null" or "NULL"; false for NULL. */
bool ynode_is_null(const struct ynode *node);

/* "null", "a list", "a mapping" or "a value"; for messages like "got a list". */
const char *ynode_describe(const struct ynode *node);

/* The value of key in a mapping (the first one if repeated), or NULL. */
const struct ynode *ynode_get(const struct ynode *map, const char *key);

#endif
