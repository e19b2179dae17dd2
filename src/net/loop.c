#include "net/loop.h"

#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/bug.h"
#include "core/clock.h"

#define LOOP_MAX_EVENTS 256

static void on_wake_event(struct loop_io *io, uint32_t events)
{
	struct loop *loop = container_of(io, struct loop, wake_io);
	uint64_t value;

	while (read(io->fd, &value, sizeof(value)) > 0)
		;
	if (loop->on_wake)
		loop->on_wake(loop);
}

/* One clock read per turn: what happens in a turn shares its instant, as
 * in nginx; durations are exact to the length of a turn. */
static void loop_update_time(struct loop *loop)
{
	loop->now_us = clock_monotonic_us();
	loop->now_ms = loop->now_us / 1000;
}

int loop_init(struct loop *loop)
{
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0)
		return -errno;
	loop->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (loop->wake_fd < 0) {
		int err = -errno;
		close(loop->epfd);
		return err;
	}
	loop_update_time(loop);
	timer_wheel_init(&loop->timers, loop->now_ms);
	list_init(&loop->deferred);
	loop->stop = false;
	loop->on_wake = NULL;
	loop->wake_io.fd = loop->wake_fd;
	loop->wake_io.cb = on_wake_event;
	return loop_add_listener(loop, &loop->wake_io);
}

void loop_deinit(struct loop *loop)
{
	close(loop->wake_fd);
	close(loop->epfd);
}

int loop_add(struct loop *loop, struct loop_io *io)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
		.data.ptr = io,
	};
	return epoll_ctl(loop->epfd, EPOLL_CTL_ADD, io->fd, &ev) ? -errno : 0;
}

int loop_add_listener(struct loop *loop, struct loop_io *io)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = io };
	return epoll_ctl(loop->epfd, EPOLL_CTL_ADD, io->fd, &ev) ? -errno : 0;
}

void loop_del(struct loop *loop, struct loop_io *io)
{
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
}

void loop_listener_enable(struct loop *loop, struct loop_io *io, bool on)
{
	struct epoll_event ev = { .events = on ? EPOLLIN : 0, .data.ptr = io };
	epoll_ctl(loop->epfd, EPOLL_CTL_MOD, io->fd, &ev);
}

void loop_defer(struct loop *loop, struct loop_defer *d)
{
	if (!list_linked(&d->node))
		list_push_back(&loop->deferred, &d->node);
}

void loop_run_deferred(struct loop *loop)
{
	while (!list_empty(&loop->deferred)) {
		struct loop_defer *d = list_entry(loop->deferred.next, struct loop_defer, node);
		list_unlink(&d->node);
		d->cb(d);
	}
}

void loop_run_once(struct loop *loop)
{
	struct epoll_event events[LOOP_MAX_EVENTS];
	int timeout = list_empty(&loop->deferred)
			      ? timer_wheel_wait_ms(&loop->timers, loop->now_ms)
			      : 0;
	/* not glibc's epoll_wait, a cancellation point: see net/tcp.c */
	int n = (int)syscall(SYS_epoll_pwait, loop->epfd, events, LOOP_MAX_EVENTS, timeout, NULL, 0);

	loop_update_time(loop);
	for (int i = 0; i < n; i++) {
		struct loop_io *io = events[i].data.ptr;
		io->cb(io, events[i].events);
	}
	timer_wheel_run(&loop->timers, loop->now_ms);
	loop_run_deferred(loop);
}

void loop_run(struct loop *loop)
{
	while (!loop->stop)
		loop_run_once(loop);
}

void loop_wake(struct loop *loop)
{
	uint64_t one = 1;
	ssize_t w = write(loop->wake_fd, &one, sizeof(one));
	(void)w;
}
