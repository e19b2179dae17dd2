#include "net/timer.h"

#include <stdint.h>

#include "core/bug.h"

void timer_wheel_init(struct timer_wheel *w, uint64_t now_ms)
{
	for (unsigned i = 0; i < TIMER_SLOTS; i++)
		list_init(&w->slots[i]);
	w->current_tick = now_ms / TIMER_TICK_MS;
	w->count = 0;
	w->next_tick = UINT64_MAX;
}

void timer_link(struct timer_wheel *w, struct timer *t, uint64_t expire_ms)
{
	uint64_t tick = expire_ms / TIMER_TICK_MS;

	if (timer_linked(t))
		list_unlink(&t->node);
	else
		w->count++;
	if (tick < w->current_tick)
		tick = w->current_tick;
	t->expire_ms = expire_ms;
	list_push_back(&w->slots[tick % TIMER_SLOTS], &t->node);
	if (tick < w->next_tick)
		w->next_tick = tick;
}

void timer_unlink(struct timer_wheel *w, struct timer *t)
{
	if (!timer_linked(t))
		return;
	list_unlink(&t->node);
	BUG_ON(w->count == 0);
	w->count--;
}

static void run_slot(struct timer_wheel *w, struct list *slot, uint64_t now_ms)
{
	struct list due;

	/* Detach the due timers first: callbacks may re-link into this slot. */
	list_init(&due);
	for (struct list *n = slot->next, *next; n != slot; n = next) {
		next = n->next;
		struct timer *t = list_entry(n, struct timer, node);
		if (t->expire_ms / TIMER_TICK_MS <= now_ms / TIMER_TICK_MS) {
			list_unlink(n);
			list_push_back(&due, n);
		}
	}
	while (!list_empty(&due)) {
		struct timer *t = list_entry(due.next, struct timer, node);
		list_unlink(&t->node);
		w->count--;
		t->cb(t);
	}
}

/* The first tick from now whose slot holds a timer (which may belong to
 * a later revolution: a lower bound all the same). */
static uint64_t first_busy_tick(const struct timer_wheel *w)
{
	for (uint64_t t = w->current_tick; t < w->current_tick + TIMER_SLOTS; t++)
		if (!list_empty(&w->slots[t % TIMER_SLOTS]))
			return t;
	return UINT64_MAX;
}

void timer_wheel_run(struct timer_wheel *w, uint64_t now_ms)
{
	uint64_t now_tick = now_ms / TIMER_TICK_MS;

	if (w->count == 0) {
		w->current_tick = now_tick + 1;
		w->next_tick = UINT64_MAX;
		return;
	}
	if (now_tick < w->next_tick) { /* nothing can be due: skip the slots */
		if (now_tick >= w->current_tick)
			w->current_tick = now_tick + 1;
		return;
	}
	/* After a long stall, one revolution visits every slot. */
	if (now_tick >= w->current_tick + TIMER_SLOTS)
		w->current_tick = now_tick - TIMER_SLOTS + 1;
	/* Advance before running: a callback that links a timer due now lands
	 * in the next slot, not in the one being run (which would wait a
	 * whole revolution). */
	while (w->current_tick <= now_tick) {
		uint64_t tick = w->current_tick++;
		run_slot(w, &w->slots[tick % TIMER_SLOTS], now_ms);
	}
	if (w->next_tick < w->current_tick)
		w->next_tick = w->count ? first_busy_tick(w) : UINT64_MAX;
}

int timer_wheel_wait_ms(const struct timer_wheel *w, uint64_t now_ms)
{
	if (w->count == 0)
		return -1;
	uint64_t tick = w->next_tick > w->current_tick ? w->next_tick : w->current_tick;
	uint64_t next = tick * TIMER_TICK_MS;
	if (next <= now_ms)
		return 0;
	return next - now_ms > INT32_MAX ? INT32_MAX : (int)(next - now_ms);
}
