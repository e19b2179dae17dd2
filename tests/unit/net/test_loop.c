/*
 * Tests for net/loop: one turn = io callbacks, then due timers, then the
 * deferred callbacks; loop_wake from another thread.
 *
 * A socketpair stands in for a connection. Turns never block for long: a
 * test either has an event pending or a timer armed (the loop then wakes at
 * the next tick), and the suite has a timeout in case a turn hangs.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/bug.h"
#include "core/clock.h"
#include "net/loop.h"

static struct loop loop;
static int sv[2] = { -1, -1 };
static int sequence;

static void setup(void)
{
	cr_assert_eq(loop_init(&loop), 0);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	sequence = 0;
}

static void teardown(void)
{
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	sv[0] = sv[1] = -1;
	loop_deinit(&loop);
}

TestSuite(loop, .init = setup, .fini = teardown, .timeout = 10);

/* --- io --------------------------------------------------------------- */

struct io_probe {
	struct loop_io io;
	int calls;
	uint32_t events;      /* union of the events seen */
	char got[64];
	size_t got_len;
	int order;            /* sequence number of the last call */
	struct loop_defer *defer_twice; /* queued twice from the callback */
};

static void on_io(struct loop_io *io, uint32_t events)
{
	struct io_probe *p = container_of(io, struct io_probe, io);

	p->calls++;
	p->events |= events;
	p->order = ++sequence;
	if (events & EPOLLIN) {
		ssize_t n;
		while ((n = read(io->fd, p->got + p->got_len, sizeof(p->got) - p->got_len)) > 0)
			p->got_len += (size_t)n;
	}
	if (p->defer_twice) {
		loop_defer(&loop, p->defer_twice);
		loop_defer(&loop, p->defer_twice);
	}
}

/* Keeps every turn short: with a timer armed the loop sleeps one tick. */
static void on_guard(struct timer *t)
{
}

static struct timer guard;

static void on_nudge(struct loop_defer *d)
{
	(void)d;
}

static void arm_guard(void)
{
	timer_init(&guard, on_guard);
	timer_link(&loop.timers, &guard, loop.now_ms + 5000);
}

Test(loop, io_callback_fires_on_readability)
{
	struct io_probe p = { .io = { .fd = sv[1], .cb = on_io } };

	arm_guard();
	cr_assert_eq(loop_add(&loop, &p.io), 0);
	/* The first turn may report the writable edge; nothing to read yet. */
	loop_run_once(&loop);
	cr_expect_eq(p.events & EPOLLIN, 0, "no EPOLLIN before any byte was sent");
	cr_expect_eq(p.got_len, 0);

	p.events = 0;
	cr_assert_eq(write(sv[0], "ping", 4), 4);
	for (int i = 0; i < 50 && !(p.events & EPOLLIN); i++)
		loop_run_once(&loop);
	cr_expect(p.events & EPOLLIN);
	cr_expect_eq(p.got_len, 4);
	cr_expect_eq(memcmp(p.got, "ping", 4), 0);
	loop_del(&loop, &p.io);
	timer_unlink(&loop.timers, &guard);
}

Test(loop, edge_triggered_io_reports_each_new_arrival)
{
	struct io_probe p = { .io = { .fd = sv[1], .cb = on_io } };

	arm_guard();
	cr_assert_eq(loop_add(&loop, &p.io), 0);
	loop_run_once(&loop);
	cr_assert_eq(write(sv[0], "ab", 2), 2);
	for (int i = 0; i < 50 && p.got_len < 2; i++)
		loop_run_once(&loop);
	int calls = p.calls;
	loop_run_once(&loop);
	cr_expect_eq(p.calls, calls, "no new edge without new bytes");
	cr_assert_eq(write(sv[0], "cd", 2), 2);
	for (int i = 0; i < 50 && p.got_len < 4; i++)
		loop_run_once(&loop);
	cr_expect_eq(p.got_len, 4);
	cr_expect_eq(memcmp(p.got, "abcd", 4), 0);
	loop_del(&loop, &p.io);
	timer_unlink(&loop.timers, &guard);
}

Test(loop, deleted_io_is_not_called)
{
	struct io_probe p = { .io = { .fd = sv[1], .cb = on_io } };

	arm_guard();
	cr_assert_eq(loop_add(&loop, &p.io), 0);
	loop_del(&loop, &p.io);
	cr_assert_eq(write(sv[0], "x", 1), 1);
	for (int i = 0; i < 3; i++) {
		struct loop_defer nudge; /* a turn that polls without sleeping */
		loop_defer_init(&nudge, on_nudge);
		loop_defer(&loop, &nudge);
		loop_run_once(&loop);
	}
	cr_expect_eq(p.calls, 0);
	timer_unlink(&loop.timers, &guard);
}

/* --- deferred ----------------------------------------------------------- */

struct defer_probe {
	struct loop_defer defer;
	int calls;
	int order;
};

static void on_defer(struct loop_defer *d)
{
	struct defer_probe *p = container_of(d, struct defer_probe, defer);

	p->calls++;
	p->order = ++sequence;
}

struct timer_probe {
	struct timer timer;
	int calls;
	int order;
	uint64_t fired_ms;
	bool stop_loop;
};

static void on_timer(struct timer *t)
{
	struct timer_probe *p = container_of(t, struct timer_probe, timer);

	p->calls++;
	p->order = ++sequence;
	p->fired_ms = clock_monotonic_ms();
	if (p->stop_loop)
		loop.stop = true;
}

Test(loop, deferred_runs_once_at_end_of_turn_after_io_and_timers)
{
	struct defer_probe d = { 0 };
	struct timer_probe t = { 0 };
	struct io_probe p = { .io = { .fd = sv[1], .cb = on_io }, .defer_twice = &d.defer };

	loop_defer_init(&d.defer, on_defer);
	timer_init(&t.timer, on_timer);
	timer_link(&loop.timers, &t.timer, loop.now_ms); /* due this turn */
	cr_assert_eq(write(sv[0], "go", 2), 2);
	cr_assert_eq(loop_add(&loop, &p.io), 0);
	loop_run_once(&loop);
	cr_expect_geq(p.calls, 1);
	cr_expect_eq(t.calls, 1);
	cr_expect_eq(d.calls, 1, "queued twice, runs once");
	cr_expect_lt(p.order, t.order, "io callbacks before timers");
	cr_expect_lt(t.order, d.order, "deferred callbacks last");
	cr_expect_not(list_linked(&d.defer.node));
	cr_expect(list_empty(&loop.deferred));

	/* Not run again in later turns unless queued again. */
	p.defer_twice = NULL;
	arm_guard();
	loop_run_once(&loop);
	cr_expect_eq(d.calls, 1);
	loop_del(&loop, &p.io);
	timer_unlink(&loop.timers, &guard);
}

Test(loop, deferred_queued_before_a_turn_makes_it_not_sleep)
{
	struct defer_probe d = { 0 };
	struct timer_probe far = { 0 };

	loop_defer_init(&d.defer, on_defer);
	timer_init(&far.timer, on_timer);
	timer_link(&loop.timers, &far.timer, loop.now_ms + 60000);
	loop_defer(&loop, &d.defer);
	loop_defer(&loop, &d.defer);
	uint64_t start = clock_monotonic_ms();
	loop_run_once(&loop);
	cr_expect_eq(d.calls, 1);
	cr_expect_lt(clock_monotonic_ms() - start, 1000);
	cr_expect_eq(far.calls, 0);
	timer_unlink(&loop.timers, &far.timer);
}

Test(loop, cancelled_deferred_does_not_run)
{
	struct defer_probe a = { 0 }, b = { 0 };

	loop_defer_init(&a.defer, on_defer);
	loop_defer_init(&b.defer, on_defer);
	loop_defer(&loop, &a.defer);
	loop_defer(&loop, &b.defer);
	loop_defer_cancel(&a.defer);
	loop_run_once(&loop);
	cr_expect_eq(a.calls, 0);
	cr_expect_eq(b.calls, 1);
}

Test(loop, deferred_run_in_queue_order)
{
	struct defer_probe d[3] = { 0 };

	for (int i = 0; i < 3; i++)
		loop_defer_init(&d[i].defer, on_defer);
	loop_defer(&loop, &d[2].defer);
	loop_defer(&loop, &d[0].defer);
	loop_defer(&loop, &d[1].defer);
	loop_defer(&loop, &d[2].defer);
	loop_run_deferred(&loop);
	cr_expect_eq(d[2].order, 1);
	cr_expect_eq(d[0].order, 2);
	cr_expect_eq(d[1].order, 3);
	for (int i = 0; i < 3; i++)
		cr_expect_eq(d[i].calls, 1);
}

/* --- timers --------------------------------------------------------------- */

Test(loop, timer_fires_from_run_once_not_before_its_time)
{
	struct timer_probe t = { 0 };
	uint64_t start = loop.now_ms;

	timer_init(&t.timer, on_timer);
	timer_link(&loop.timers, &t.timer, start + 50);
	int turns = 0;
	while (!t.calls && turns++ < 1000)
		loop_run_once(&loop);
	cr_assert_eq(t.calls, 1);
	cr_expect_geq(t.fired_ms + TIMER_TICK_MS, start + 50,
		      "fired at %llu, due at %llu", (unsigned long long)t.fired_ms,
		      (unsigned long long)(start + 50));
	cr_expect_lt(t.fired_ms, start + 1000);
	cr_expect_leq(turns, 2, "the loop slept until the timer was due, not tick by tick");
	cr_expect_eq(loop.timers.count, 0);
}

Test(loop, run_stops_when_a_timer_sets_stop)
{
	struct timer_probe a = { 0 }, b = { .stop_loop = true };

	timer_init(&a.timer, on_timer);
	timer_init(&b.timer, on_timer);
	timer_link(&loop.timers, &a.timer, loop.now_ms + 10);
	timer_link(&loop.timers, &b.timer, loop.now_ms + 40);
	loop_run(&loop);
	cr_expect_eq(a.calls, 1);
	cr_expect_eq(b.calls, 1);
	cr_expect_lt(a.order, b.order);
}

/* --- wake ------------------------------------------------------------------ */

static int wakes;
static pthread_t loop_thread;
static bool woken_in_loop_thread;

static void on_wake(struct loop *l)
{
	cr_expect_eq(l, &loop);
	wakes++;
	woken_in_loop_thread = pthread_equal(pthread_self(), loop_thread);
	l->stop = true;
}

static void *waker(void *arg)
{
	struct timespec ts = { 0, 30 * 1000 * 1000 };

	nanosleep(&ts, NULL);
	loop_wake(&loop);
	return NULL;
}

Test(loop, wake_from_another_thread_calls_on_wake)
{
	pthread_t th;

	wakes = 0;
	loop_thread = pthread_self();
	loop.on_wake = on_wake;
	/* No timers, nothing deferred: the turn would sleep forever unless woken. */
	cr_assert_eq(pthread_create(&th, NULL, waker, NULL), 0);
	loop_run(&loop);
	pthread_join(th, NULL);
	cr_expect_eq(wakes, 1);
	cr_expect(woken_in_loop_thread, "on_wake runs in the loop's thread");
}

Test(loop, several_wakes_before_a_turn_coalesce)
{
	wakes = 0;
	loop_thread = pthread_self();
	loop.on_wake = on_wake;
	loop_wake(&loop);
	loop_wake(&loop);
	loop_wake(&loop);
	loop_run_once(&loop);
	cr_expect_eq(wakes, 1);
	/* The eventfd was drained: another turn does not call on_wake again. */
	struct timer_probe t = { 0 };
	timer_init(&t.timer, on_timer);
	timer_link(&loop.timers, &t.timer, loop.now_ms + 20);
	while (!t.calls)
		loop_run_once(&loop);
	cr_expect_eq(wakes, 1);
}
