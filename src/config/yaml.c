/*
 * yaml: libyaml's event stream folded into a ynode tree.
 *
 * The event API is used rather than libyaml's document loader because the
 * loader resolves aliases silently and keeps marks in a side table; walking
 * events lets anchors be refused at their position and keeps each node's
 * position on the node. Recursion depth is bounded (YNODE_MAX_DEPTH) so a
 * hostile file cannot exhaust the stack.
 */
#include "config/yaml.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define YNODE_MAX_DEPTH 64
#define YNODE_STR_TAG "tag:yaml.org,2002:str"

struct ybuild {
	yaml_parser_t parser;
	const char *text;
	size_t len;
	struct ynode_error *err;
};

static int ybuild_fail(struct ybuild *b, yaml_mark_t mark, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int ybuild_fail(struct ybuild *b, yaml_mark_t mark, int rc, const char *fmt, ...)
{
	va_list ap;

	b->err->line = (int)mark.line + 1;
	b->err->column = (int)mark.column + 1;
	va_start(ap, fmt);
	vsnprintf(b->err->message, sizeof(b->err->message), fmt, ap);
	va_end(ap);
	return rc;
}

/* Line and column of a byte offset, for reader errors that carry no mark. */
static yaml_mark_t ybuild_mark_at(const struct ybuild *b, size_t offset)
{
	yaml_mark_t m = { 0 };

	for (size_t i = 0; i < offset && i < b->len; i++) {
		if (b->text[i] == '\n') {
			m.line++;
			m.column = 0;
		} else {
			m.column++;
		}
	}
	m.index = offset;
	return m;
}

static int ybuild_syntax_error(struct ybuild *b)
{
	yaml_parser_t *p = &b->parser;
	yaml_mark_t m = p->problem_mark;
	const char *problem = p->problem ? p->problem : "invalid YAML";

	if (p->error == YAML_MEMORY_ERROR)
		return ybuild_fail(b, m, -ENOMEM, "out of memory while reading YAML");
	if (p->error == YAML_READER_ERROR)
		return ybuild_fail(b, ybuild_mark_at(b, p->problem_offset), -EINVAL,
				   "%s (the file must be UTF-8 text)", problem);
	if (m.index < b->len && b->text[m.index] == '\t')
		return ybuild_fail(b, m, -EINVAL,
				   "tab character where YAML expects spaces (indent with spaces only)");
	if (p->context)
		return ybuild_fail(b, m, -EINVAL, "%s (%s that starts at line %d)", problem,
				   p->context, (int)p->context_mark.line + 1);
	return ybuild_fail(b, m, -EINVAL, "%s", problem);
}

static int ybuild_next(struct ybuild *b, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&b->parser, ev))
		return ybuild_syntax_error(b);
	return 0;
}

static struct ynode *ynode_new(enum ynode_kind kind, yaml_mark_t mark)
{
	struct ynode *n = calloc(1, sizeof(*n));

	if (n) {
		n->kind = kind;
		n->line = (int)mark.line + 1;
		n->column = (int)mark.column + 1;
	}
	return n;
}

static int ybuild_scalar(struct ybuild *b, yaml_event_t *ev, struct ynode **out)
{
	const char *value = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag;
	struct ynode *n;

	if (memchr(value, '\0', len))
		return ybuild_fail(b, ev->start_mark, -EINVAL, "NUL characters are not allowed in values");
	n = ynode_new(YNODE_SCALAR, ev->start_mark);
	if (!n || !(n->text = malloc(len + 1))) {
		free(n);
		return ybuild_fail(b, ev->start_mark, -ENOMEM, "out of memory while reading YAML");
	}
	memcpy(n->text, value, len);
	n->text[len] = '\0';
	n->len = len;
	n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
		    (tag && strcmp(tag, YNODE_STR_TAG) == 0);
	*out = n;
	return 0;
}

static int ybuild_node(struct ybuild *b, yaml_event_t *ev, int depth, struct ynode **out);

static int ybuild_sequence(struct ybuild *b, struct ynode *seq, int depth)
{
	size_t cap = 0;

	for (;;) {
		yaml_event_t ev;
		struct ynode *item = NULL;
		int rc = ybuild_next(b, &ev);

		if (rc < 0)
			return rc;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		rc = ybuild_node(b, &ev, depth + 1, &item);
		if (rc < 0)
			return rc;
		if (seq->num_items == cap) {
			size_t ncap = cap ? cap * 2 : 4;
			/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
			struct ynode **items = realloc(seq->items, ncap * sizeof(*items));
			if (!items) {
				ynode_free(item);
				return -ENOMEM;
			}
			seq->items = items;
			cap = ncap;
		}
		seq->items[seq->num_items++] = item;
	}
}

static int ybuild_mapping(struct ybuild *b, struct ynode *map, int depth)
{
	size_t cap = 0;

	for (;;) {
		yaml_event_t ev;
		struct ynode *key = NULL, *value = NULL;
		int rc = ybuild_next(b, &ev);

		if (rc < 0)
			return rc;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		if (ev.type == YAML_SCALAR_EVENT && ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		    ev.data.scalar.length == 2 && memcmp(ev.data.scalar.value, "<<", 2) == 0) {
			rc = ybuild_fail(b, ev.start_mark, -EINVAL,
					 "merge keys (<<) are not supported; write the keys out");
			yaml_event_delete(&ev);
			return rc;
		}
		if ((rc = ybuild_node(b, &ev, depth + 1, &key)) < 0)
			return rc;
		if ((rc = ybuild_next(b, &ev)) < 0 || (rc = ybuild_node(b, &ev, depth + 1, &value)) < 0) {
			ynode_free(key);
			return rc;
		}
		if (map->num_pairs == cap) {
			size_t ncap = cap ? cap * 2 : 4;
			struct ynode_pair *pairs = realloc(map->pairs, ncap * sizeof(*pairs));
			if (!pairs) {
				ynode_free(key);
				ynode_free(value);
				return -ENOMEM;
			}
			map->pairs = pairs;
			cap = ncap;
		}
		map->pairs[map->num_pairs++] = (struct ynode_pair){ key, value };
	}
}

static const char *ybuild_anchor(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return (const char *)ev->data.scalar.anchor;
	case YAML_SEQUENCE_START_EVENT:
		return (const char *)ev->data.sequence_start.anchor;
	case YAML_MAPPING_START_EVENT:
		return (const char *)ev->data.mapping_start.anchor;
	default:
		return NULL;
	}
}

/* Builds the node that starts with *ev; always deletes *ev. */
static int ybuild_node(struct ybuild *b, yaml_event_t *ev, int depth, struct ynode **out)
{
	const char *anchor = ybuild_anchor(ev);
	struct ynode *n = NULL;
	int rc;

	if (ev->type == YAML_ALIAS_EVENT)
		rc = ybuild_fail(b, ev->start_mark, -EINVAL,
				 "aliases (*%s) are not supported; repeat the value instead",
				 (const char *)ev->data.alias.anchor);
	else if (anchor)
		rc = ybuild_fail(b, ev->start_mark, -EINVAL,
				 "anchors (&%s) are not supported; repeat the value instead", anchor);
	else if (depth > YNODE_MAX_DEPTH)
		rc = ybuild_fail(b, ev->start_mark, -EINVAL, "nesting is too deep (over %d levels)",
				 YNODE_MAX_DEPTH);
	else if (ev->type == YAML_SCALAR_EVENT)
		rc = ybuild_scalar(b, ev, &n);
	else if (ev->type == YAML_SEQUENCE_START_EVENT || ev->type == YAML_MAPPING_START_EVENT) {
		bool is_seq = ev->type == YAML_SEQUENCE_START_EVENT;
		n = ynode_new(is_seq ? YNODE_SEQUENCE : YNODE_MAPPING, ev->start_mark);
		if (!n)
			rc = -ENOMEM;
		else
			rc = is_seq ? ybuild_sequence(b, n, depth) : ybuild_mapping(b, n, depth);
	} else
		rc = ybuild_fail(b, ev->start_mark, -EINVAL, "unexpected YAML event");
	if (rc == -ENOMEM && !b->err->message[0])
		ybuild_fail(b, ev->start_mark, -ENOMEM, "out of memory while reading YAML");
	yaml_event_delete(ev);
	if (rc < 0) {
		ynode_free(n);
		return rc;
	}
	*out = n;
	return 0;
}

static int ybuild_expect(struct ybuild *b, yaml_event_type_t type, yaml_event_t *ev)
{
	int rc = ybuild_next(b, ev);

	if (rc < 0)
		return rc;
	if (ev->type != type) {
		rc = ybuild_fail(b, ev->start_mark, -EINVAL, "unexpected YAML structure");
		yaml_event_delete(ev);
	}
	return rc;
}

static int ybuild_document(struct ybuild *b, struct ynode **root)
{
	yaml_event_t ev;
	int rc;

	if ((rc = ybuild_expect(b, YAML_STREAM_START_EVENT, &ev)) < 0)
		return rc;
	yaml_event_delete(&ev);
	if ((rc = ybuild_next(b, &ev)) < 0)
		return rc;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		return 0; /* empty file */
	}
	yaml_event_delete(&ev); /* DOCUMENT_START */
	if ((rc = ybuild_next(b, &ev)) < 0 || (rc = ybuild_node(b, &ev, 0, root)) < 0)
		return rc;
	if ((rc = ybuild_expect(b, YAML_DOCUMENT_END_EVENT, &ev)) < 0)
		return rc;
	yaml_event_delete(&ev);
	if ((rc = ybuild_next(b, &ev)) < 0)
		return rc;
	if (ev.type != YAML_STREAM_END_EVENT)
		rc = ybuild_fail(b, ev.start_mark, -EINVAL,
				 "only one YAML document is allowed (found a second \"---\")");
	yaml_event_delete(&ev);
	return rc;
}

int ynode_parse(const char *text, size_t len, struct ynode **root, struct ynode_error *err)
{
	struct ybuild b = { .text = text, .len = len, .err = err };
	int rc;

	*root = NULL;
	memset(err, 0, sizeof(*err));
	if (!yaml_parser_initialize(&b.parser)) {
		snprintf(err->message, sizeof(err->message), "out of memory while reading YAML");
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&b.parser, (const unsigned char *)text, len);
	rc = ybuild_document(&b, root);
	yaml_parser_delete(&b.parser);
	if (rc < 0) {
		ynode_free(*root);
		*root = NULL;
		if (!err->message[0])
			snprintf(err->message, sizeof(err->message), "out of memory while reading YAML");
		if (err->line == 0)
			err->line = err->column = 1;
	}
	return rc;
}

void ynode_free(struct ynode *node)
{
	if (!node)
		return;
	free(node->text);
	for (size_t i = 0; i < node->num_items; i++)
		ynode_free(node->items[i]);
	free(node->items);
	for (size_t i = 0; i < node->num_pairs; i++) {
		ynode_free(node->pairs[i].key);
		ynode_free(node->pairs[i].value);
	}
	free(node->pairs);
	free(node);
}

bool ynode_is_null(const struct ynode *node)
{
	if (!node || node->kind != YNODE_SCALAR || node->quoted)
		return false;
	return node->len == 0 || strcmp(node->text, "~") == 0 || strcmp(node->text, "null") == 0 ||
	       strcmp(node->text, "Null") == 0 || strcmp(node->text, "NULL") == 0;
}

const char *ynode_describe(const struct ynode *node)
{
	if (!node || ynode_is_null(node))
		return "null";
	if (node->kind == YNODE_SEQUENCE)
		return "a list";
	if (node->kind == YNODE_MAPPING)
		return "a mapping";
	return "a value";
}

const struct ynode *ynode_get(const struct ynode *map, const char *key)
{
	if (!map || map->kind != YNODE_MAPPING)
		return NULL;
	for (size_t i = 0; i < map->num_pairs; i++) {
		const struct ynode *k = map->pairs[i].key;
		if (k->kind == YNODE_SCALAR && strcmp(k->text, key) == 0)
			return map->pairs[i].value;
	}
	return NULL;
}

const char *config_yaml_version(void)
{
	return yaml_get_version_string();
}
