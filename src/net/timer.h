/*
 * timer: a hashed timer wheel with O(1) link and unlink.
 *
 * Every phase of every connection has a timeout, so timers are linked and
 * unlinked on almost every event: a sorted structure (heap, list) would cost
 * O(log n) or O(n) there (Redis's O(n) timer list is the accident to avoid).
 * The wheel has TIMER_SLOTS slots of TIMER_TICK_MS each; a timer further out
 * than one revolution stays in its slot and is skipped until its turn comes.
 * Firing is at most one tick late. The loop sleeps until the first slot
 * that holds a timer, not from tick to tick: an idle worker does not wake
 * a hundred times a second.
 *
 * Timers are intrusive: embedded in their owner, which passes them to
 * timer_link and gets them back in the callback (use container_of).
 * A wheel belongs to one worker thread.
 */
#ifndef PORTICO_NET_TIMER_H
#define PORTICO_NET_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/list.h"

#define TIMER_TICK_MS 10u
#define TIMER_SLOTS 4096u

struct timer;
typedef void (*timer_cb)(struct timer *t);

struct timer {
	struct list node;
	uint64_t expire_ms;
	timer_cb cb;
};

struct timer_wheel {
	struct list slots[TIMER_SLOTS];
	uint64_t current_tick; /* every slot before it has been run */
	uint64_t count;        /* linked timers */
	uint64_t next_tick;    /* no timer is due before it (a lower bound), so
				* the loop sleeps until then, not tick by tick */
};

void timer_wheel_init(struct timer_wheel *w, uint64_t now_ms);

static inline void timer_init(struct timer *t, timer_cb cb)
{
	list_init(&t->node);
	t->expire_ms = 0;
	t->cb = cb;
}

static inline bool timer_linked(const struct timer *t)
{
	return list_linked(&t->node);
}

/* Arms t to fire at expire_ms (monotonic); re-arming an armed timer moves it. */
void timer_link(struct timer_wheel *w, struct timer *t, uint64_t expire_ms);

/* Disarms t; a no-op when not armed. */
void timer_unlink(struct timer_wheel *w, struct timer *t);

/* Fires every timer due at now_ms. Callbacks may link and unlink timers. */
void timer_wheel_run(struct timer_wheel *w, uint64_t now_ms);

/* Milliseconds the loop may sleep before the next tick matters, or -1. */
int timer_wheel_wait_ms(const struct timer_wheel *w, uint64_t now_ms);

#endif
