/*
 * Tests for net/timer: the hashed timer wheel.
 *
 * Each test timer is embedded in a struct probe that records when (at which
 * run's now) and in which order it fired. The wheel is large (TIMER_SLOTS
 * lists), so it is a static, re-initialised by every test.
 */
#include <criterion/criterion.h>
#include <stdint.h>

#include "core/bug.h"
#include "net/timer.h"

#define T0 1000u /* the wheel's start time, ms */
#define REV ((uint64_t)TIMER_SLOTS * TIMER_TICK_MS)

struct probe {
	struct timer timer;
	int fired;           /* times the callback ran */
	uint64_t fired_at;   /* run_now when it last ran */
	int order;           /* global sequence number of the last firing */
	/* optional action from inside the callback */
	struct probe *unlink_other;
	struct probe *link_other;
	uint64_t link_other_at;
	uint64_t relink_self_every; /* periodic: re-link at now + this */
};

static struct timer_wheel wheel;
static uint64_t run_now;
static int sequence;

static void on_fire(struct timer *t)
{
	struct probe *p = container_of(t, struct probe, timer);

	p->fired++;
	p->fired_at = run_now;
	p->order = ++sequence;
	cr_expect_not(timer_linked(t), "a firing timer is unlinked before its callback");
	if (p->unlink_other)
		timer_unlink(&wheel, &p->unlink_other->timer);
	if (p->link_other)
		timer_link(&wheel, &p->link_other->timer, p->link_other_at);
	if (p->relink_self_every)
		timer_link(&wheel, t, run_now + p->relink_self_every);
}

static void probe_init(struct probe *p)
{
	*p = (struct probe){ 0 };
	timer_init(&p->timer, on_fire);
}

static void run(uint64_t now)
{
	run_now = now;
	timer_wheel_run(&wheel, now);
}

/* Runs once per tick from (exclusive) the last run up to and including to. */
static void run_every_tick(uint64_t from, uint64_t to)
{
	for (uint64_t now = from; now <= to; now += TIMER_TICK_MS)
		run(now);
}

static void setup(void)
{
	timer_wheel_init(&wheel, T0);
	run_now = T0;
	sequence = 0;
}

TestSuite(timer, .init = setup);

Test(timer, init_leaves_timer_unlinked)
{
	struct probe p;

	probe_init(&p);
	cr_expect_not(timer_linked(&p.timer));
	cr_expect_eq(wheel.count, 0);
}

Test(timer, link_and_unlink_bookkeeping)
{
	struct probe a, b;

	probe_init(&a);
	probe_init(&b);
	timer_link(&wheel, &a.timer, T0 + 100);
	cr_expect(timer_linked(&a.timer));
	cr_expect_eq(a.timer.expire_ms, T0 + 100);
	cr_expect_eq(wheel.count, 1);
	timer_link(&wheel, &b.timer, T0 + 200);
	cr_expect_eq(wheel.count, 2);
	timer_link(&wheel, &a.timer, T0 + 300);
	cr_expect_eq(wheel.count, 2, "re-linking an armed timer does not count it twice");
	cr_expect_eq(a.timer.expire_ms, T0 + 300);
	timer_unlink(&wheel, &a.timer);
	cr_expect_not(timer_linked(&a.timer));
	cr_expect_eq(wheel.count, 1);
	timer_unlink(&wheel, &a.timer);
	cr_expect_eq(wheel.count, 1, "unlinking an unarmed timer is a no-op");
	timer_unlink(&wheel, &b.timer);
	cr_expect_eq(wheel.count, 0);
	run(T0 + 1000);
	cr_expect_eq(a.fired + b.fired, 0, "unlinked timers never fire");
}

Test(timer, fires_at_first_run_in_its_tick_never_before)
{
	struct probe p;

	probe_init(&p);
	timer_link(&wheel, &p.timer, T0 + 50);
	run(T0 + 20);
	run(T0 + 49);
	cr_expect_eq(p.fired, 0, "not before its expiry tick");
	cr_expect(timer_linked(&p.timer));
	run(T0 + 50);
	cr_expect_eq(p.fired, 1);
	cr_expect_eq(p.fired_at, T0 + 50);
	cr_expect_not(timer_linked(&p.timer));
	cr_expect_eq(wheel.count, 0);
	run(T0 + 100);
	cr_expect_eq(p.fired, 1, "fires once");
}

Test(timer, late_run_fires_due_timer_once)
{
	struct probe p;

	probe_init(&p);
	timer_link(&wheel, &p.timer, T0 + 50);
	run(T0 + 137);
	cr_expect_eq(p.fired, 1);
	cr_expect_eq(p.fired_at, T0 + 137);
}

Test(timer, expiry_mid_tick_not_fired_in_an_earlier_tick)
{
	struct probe p;

	probe_init(&p);
	timer_link(&wheel, &p.timer, T0 + 55);
	run_every_tick(T0, T0 + 40);
	cr_expect_eq(p.fired, 0);
	run(T0 + 59);
	cr_expect_eq(p.fired, 1, "fires within its expiry tick (at most one tick early/late)");
}

Test(timer, fires_in_expiry_order)
{
	struct probe a, b, c;

	probe_init(&a);
	probe_init(&b);
	probe_init(&c);
	timer_link(&wheel, &c.timer, T0 + 70);
	timer_link(&wheel, &a.timer, T0 + 30);
	timer_link(&wheel, &b.timer, T0 + 50);
	run(T0 + 100);
	cr_expect_eq(a.order, 1);
	cr_expect_eq(b.order, 2);
	cr_expect_eq(c.order, 3);
	cr_expect_eq(wheel.count, 0);
}

Test(timer, each_timer_fires_in_its_own_tick_when_run_every_tick)
{
	struct probe p[5];

	for (int i = 0; i < 5; i++) {
		probe_init(&p[i]);
		timer_link(&wheel, &p[i].timer, T0 + 100 + (uint64_t)i * 30);
	}
	run_every_tick(T0, T0 + 300);
	for (int i = 0; i < 5; i++) {
		cr_expect_eq(p[i].fired, 1, "timer %d", i);
		cr_expect_eq(p[i].fired_at, T0 + 100 + (uint64_t)i * 30, "timer %d", i);
	}
}

Test(timer, past_expiry_fires_at_next_run)
{
	struct probe p;

	probe_init(&p);
	timer_link(&wheel, &p.timer, 3); /* long before the wheel's start */
	cr_expect_eq(wheel.count, 1);
	run(T0);
	cr_expect_eq(p.fired, 1);
}

Test(timer, relinking_later_moves_the_timer)
{
	struct probe p;

	probe_init(&p);
	timer_link(&wheel, &p.timer, T0 + 50);
	timer_link(&wheel, &p.timer, T0 + 200);
	run_every_tick(T0, T0 + 190);
	cr_expect_eq(p.fired, 0, "not at the old expiry");
	run(T0 + 200);
	cr_expect_eq(p.fired, 1);
	cr_expect_eq(wheel.count, 0);
}

Test(timer, relinking_earlier_moves_the_timer)
{
	struct probe p;

	probe_init(&p);
	timer_link(&wheel, &p.timer, T0 + 500);
	timer_link(&wheel, &p.timer, T0 + 20);
	run(T0 + 20);
	cr_expect_eq(p.fired, 1);
	run(T0 + 600);
	cr_expect_eq(p.fired, 1, "the old position is gone");
}

Test(timer, unlink_inside_callback_same_tick)
{
	struct probe a, b;

	probe_init(&a);
	probe_init(&b);
	a.unlink_other = &b;
	timer_link(&wheel, &a.timer, T0 + 50);
	timer_link(&wheel, &b.timer, T0 + 52); /* same tick, fires after a */
	run(T0 + 50);
	cr_expect_eq(a.fired, 1);
	cr_expect_eq(b.fired, 0, "b was unlinked by a's callback");
	cr_expect_not(timer_linked(&b.timer));
	cr_expect_eq(wheel.count, 0);
}

Test(timer, unlink_inside_callback_later_tick_same_run)
{
	struct probe a, b;

	probe_init(&a);
	probe_init(&b);
	a.unlink_other = &b;
	timer_link(&wheel, &a.timer, T0 + 30);
	timer_link(&wheel, &b.timer, T0 + 60);
	run(T0 + 100);
	cr_expect_eq(a.fired, 1);
	cr_expect_eq(b.fired, 0);
	cr_expect_eq(wheel.count, 0);
}

Test(timer, link_inside_callback_for_the_future)
{
	struct probe a, b;

	probe_init(&a);
	probe_init(&b);
	a.link_other = &b;
	a.link_other_at = T0 + 100;
	timer_link(&wheel, &a.timer, T0 + 50);
	run(T0 + 50);
	cr_expect_eq(a.fired, 1);
	cr_expect_eq(wheel.count, 1);
	run_every_tick(T0 + 60, T0 + 90);
	cr_expect_eq(b.fired, 0);
	run(T0 + 100);
	cr_expect_eq(b.fired, 1);
	cr_expect_eq(wheel.count, 0);
}

/*
 * BUG (src/net/timer.c, timer_wheel_run/timer_link): a callback that links a
 * timer due now (expire_ms <= now, so its tick is clamped to current_tick)
 * puts it into the slot being run, whose due timers were already detached;
 * the loop then moves current_tick past that slot, so the timer is only seen
 * again one revolution (TIMER_SLOTS * TIMER_TICK_MS = 40.96 s) later.
 */
Test(timer, link_due_now_inside_callback_fires_at_next_run)
{
	struct probe a, b;

	probe_init(&a);
	probe_init(&b);
	a.link_other = &b;
	a.link_other_at = T0 + 50; /* due already */
	timer_link(&wheel, &a.timer, T0 + 50);
	run(T0 + 50);
	cr_assert_eq(a.fired, 1);
	run_every_tick(T0 + 60, T0 + 100);
	cr_expect_eq(b.fired, 1, "a due timer linked from a callback must not wait a revolution");
	cr_expect_leq(b.fired_at, T0 + 60);
	timer_unlink(&wheel, &b.timer);
}

Test(timer, periodic_relink_from_own_callback)
{
	struct probe p;

	probe_init(&p);
	p.relink_self_every = 100;
	timer_link(&wheel, &p.timer, T0 + 100);
	run_every_tick(T0, T0 + 1000);
	cr_expect_eq(p.fired, 10);
	cr_expect_eq(p.fired_at, T0 + 1000);
	cr_expect_eq(wheel.count, 1);
	timer_unlink(&wheel, &p.timer);
	cr_expect_eq(wheel.count, 0);
}

Test(timer, beyond_one_revolution_not_fired_a_revolution_early)
{
	struct probe p;
	uint64_t expire = T0 + REV + 50; /* same slot as T0 + 50 */

	probe_init(&p);
	timer_link(&wheel, &p.timer, expire);
	run(T0 + 50);
	cr_expect_eq(p.fired, 0, "same slot, one revolution early");
	run_every_tick(T0 + 60, expire - TIMER_TICK_MS);
	cr_expect_eq(p.fired, 0);
	cr_expect_eq(wheel.count, 1);
	run(expire);
	cr_expect_eq(p.fired, 1);
	cr_expect_eq(p.fired_at, expire);
}

Test(timer, several_revolutions_out_with_sparse_runs)
{
	struct probe p;
	uint64_t expire = T0 + 3 * REV + 70;

	probe_init(&p);
	timer_link(&wheel, &p.timer, expire);
	for (uint64_t now = T0 + 70; now < expire; now += REV) {
		run(now);
		cr_expect_eq(p.fired, 0, "run at %llu", (unsigned long long)now);
	}
	run(expire - 10);
	cr_expect_eq(p.fired, 0);
	run(expire);
	cr_expect_eq(p.fired, 1);
}

Test(timer, long_stall_fires_everything_due)
{
	struct probe p[6], later;
	const uint64_t at[6] = { T0 + 10, T0 + 5000, T0 + 30000, T0 + REV - 10,
				 T0 + REV + 20, T0 + 2 * REV + 990 };
	uint64_t now = T0 + 3 * REV;

	for (int i = 0; i < 6; i++) {
		probe_init(&p[i]);
		timer_link(&wheel, &p[i].timer, at[i]);
	}
	probe_init(&later);
	timer_link(&wheel, &later.timer, now + 500);
	run(now);
	for (int i = 0; i < 6; i++)
		cr_expect_eq(p[i].fired, 1, "timer %d due at %llu", i, (unsigned long long)at[i]);
	cr_expect_eq(later.fired, 0);
	cr_expect_eq(wheel.count, 1);
	run(now + 490);
	cr_expect_eq(later.fired, 0);
	run(now + 500);
	cr_expect_eq(later.fired, 1);
	cr_expect_eq(wheel.count, 0);
}

Test(timer, stall_does_not_fire_future_timer_in_a_visited_slot)
{
	struct probe p;
	uint64_t now = T0 + 2 * REV;

	probe_init(&p);
	timer_link(&wheel, &p.timer, now + REV / 2);
	run(now);
	cr_expect_eq(p.fired, 0);
	run(now + REV / 2);
	cr_expect_eq(p.fired, 1);
}

Test(timer, wait_ms_without_timers_is_infinite)
{
	cr_expect_eq(timer_wheel_wait_ms(&wheel, T0), -1);
	run(T0 + 500);
	cr_expect_eq(timer_wheel_wait_ms(&wheel, T0 + 500), -1);
}

Test(timer, wait_ms_never_oversleeps_the_next_expiry)
{
	struct probe p;

	probe_init(&p);
	timer_link(&wheel, &p.timer, T0 + 35);
	uint64_t now = T0;
	int guard = 0;
	while (!p.fired && guard++ < 100) {
		int w = timer_wheel_wait_ms(&wheel, now);
		cr_assert_geq(w, 0);
		cr_assert_leq(now + (uint64_t)w, T0 + 35,
			      "sleeping %d ms from %llu would pass the expiry", w,
			      (unsigned long long)now);
		now += (uint64_t)w ? (uint64_t)w : 1;
		run(now);
	}
	cr_expect_eq(p.fired, 1);
	cr_expect_leq(p.fired_at, T0 + 35 + TIMER_TICK_MS, "at most one tick late");
	cr_expect_eq(timer_wheel_wait_ms(&wheel, now), -1);
}

Test(timer, wait_ms_zero_when_overdue)
{
	struct probe p;

	probe_init(&p);
	timer_link(&wheel, &p.timer, T0 + 10);
	cr_expect_eq(timer_wheel_wait_ms(&wheel, T0 + 500), 0);
	timer_unlink(&wheel, &p.timer);
}

Test(timer, count_follows_firing)
{
	struct probe p[8];

	for (int i = 0; i < 8; i++) {
		probe_init(&p[i]);
		timer_link(&wheel, &p[i].timer, T0 + 10 + (uint64_t)i * 100);
	}
	cr_expect_eq(wheel.count, 8);
	run(T0 + 350);
	cr_expect_eq(wheel.count, 4);
	timer_unlink(&wheel, &p[7].timer);
	cr_expect_eq(wheel.count, 3);
	run(T0 + 5000);
	cr_expect_eq(wheel.count, 0);
	for (int i = 0; i < 7; i++)
		cr_expect_eq(p[i].fired, 1, "timer %d", i);
	cr_expect_eq(p[7].fired, 0);
}

Test(timer, the_wait_reaches_the_first_timer_not_the_next_tick)
{
	struct timer_wheel w;
	struct timer t;

	timer_wheel_init(&w, 1000);
	cr_expect_eq(timer_wheel_wait_ms(&w, 1000), -1, "no timer: sleep until woken");
	timer_init(&t, NULL);
	timer_link(&w, &t, 1000 + 5000);
	int wait = timer_wheel_wait_ms(&w, 1000);
	cr_expect(wait >= 4990 && wait <= 5000, "waits %d ms for a timer 5 s away", wait);
	timer_wheel_run(&w, 1000 + 2000); /* an early wake-up changes nothing */
	cr_expect(timer_linked(&t));
	wait = timer_wheel_wait_ms(&w, 3000);
	cr_expect(wait >= 2990 && wait <= 3000, "then waits %d ms", wait);
	timer_unlink(&w, &t);
}
