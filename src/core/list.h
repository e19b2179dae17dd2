/*
 * list: intrusive circular doubly linked list.
 *
 * Nodes are embedded in their owner (a connection, a timer, a pooled
 * connection), so linking and unlinking are O(1) and never allocate.
 * An unlinked node points to itself, so list_unlink is idempotent.
 */
#ifndef PORTICO_CORE_LIST_H
#define PORTICO_CORE_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct list {
	struct list *next;
	struct list *prev;
};

static inline void list_init(struct list *l)
{
	l->next = l;
	l->prev = l;
}

static inline bool list_empty(const struct list *l)
{
	return l->next == l;
}

static inline bool list_linked(const struct list *node)
{
	return node->next != node;
}

static inline void list_insert_after(struct list *pos, struct list *node)
{
	node->prev = pos;
	node->next = pos->next;
	pos->next->prev = node;
	pos->next = node;
}

static inline void list_push_back(struct list *head, struct list *node)
{
	list_insert_after(head->prev, node);
}

static inline void list_push_front(struct list *head, struct list *node)
{
	list_insert_after(head, node);
}

static inline void list_unlink(struct list *node)
{
	node->prev->next = node->next;
	node->next->prev = node->prev;
	node->next = node;
	node->prev = node;
}

#define list_entry(node, type, member)                                        \
	((type *)(void *)((char *)(node) - offsetof(type, member)))

#endif
