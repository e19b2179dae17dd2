/*
 * loop: one worker's event loop — epoll, edge-triggered, plus a timer wheel.
 *
 * A turn: wait for events (sleeping at most until the next timer tick), call
 * each ready handle's callback, then run due timers, then the deferred
 * callbacks queued during the turn. Handles are registered once, for reading
 * and writing, edge-triggered: no epoll_ctl per request (nginx's choice);
 * owners remember readiness and drain until EAGAIN or a short read.
 *
 * A loop and its handles belong to one thread; only loop_wake may be called
 * from another.
 */
#ifndef PORTICO_NET_LOOP_H
#define PORTICO_NET_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/list.h"
#include "net/timer.h"

struct loop_io;
typedef void (*loop_io_cb)(struct loop_io *io, uint32_t events);

struct loop_io {
	int fd;
	loop_io_cb cb;
};

struct loop_defer;
typedef void (*loop_defer_cb)(struct loop_defer *d);

/* Work to run at the end of the current turn (closing, pipelined requests). */
struct loop_defer {
	struct list node;
	loop_defer_cb cb;
};

struct loop {
	int epfd;
	int wake_fd;          /* eventfd: another thread asks for attention */
	struct loop_io wake_io;
	void (*on_wake)(struct loop *loop); /* called in the loop's thread */
	uint64_t now_ms;      /* cached at each turn */
	uint64_t now_us;      /* the same instant in microseconds */
	struct timer_wheel timers;
	struct list deferred;
	bool stop;
};

int loop_init(struct loop *loop);
void loop_deinit(struct loop *loop);

/* Registers io for EPOLLIN|EPOLLOUT|EPOLLRDHUP, edge-triggered. 0 or -errno. */
int loop_add(struct loop *loop, struct loop_io *io);

/* Registers io for EPOLLIN only, level-triggered (listening sockets). */
int loop_add_listener(struct loop *loop, struct loop_io *io);

void loop_del(struct loop *loop, struct loop_io *io);

/* Pauses (false) or resumes (true) a level-triggered listener. */
void loop_listener_enable(struct loop *loop, struct loop_io *io, bool on);

static inline void loop_defer_init(struct loop_defer *d, loop_defer_cb cb)
{
	list_init(&d->node);
	d->cb = cb;
}

/* Queues d for the end of this turn; queuing twice is a no-op. */
void loop_defer(struct loop *loop, struct loop_defer *d);

static inline void loop_defer_cancel(struct loop_defer *d)
{
	list_unlink(&d->node);
}

/* Runs one turn. */
void loop_run_once(struct loop *loop);

/* Runs turns until loop->stop is set. */
void loop_run(struct loop *loop);

/* Runs the deferred callbacks queued so far (used when tearing down). */
void loop_run_deferred(struct loop *loop);

/* Wakes the loop from another thread; on_wake runs in the loop's thread. */
void loop_wake(struct loop *loop);

#endif
