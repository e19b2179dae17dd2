/*
 * byte_relay: the "floor" row of `make bench` — the least any proxy does on
 * this machine. Each client connection gets a connection of its own to the
 * backend, and bytes are copied both ways as they come: no HTTP, no pool, no
 * timers. What it costs per request is the kernel's share of every proxy's
 * work (two reads, two writes, the waits), so a real proxy's CPU per request
 * can come close to it but not below.
 *
 * One thread per worker, each with its own epoll loop and SO_REUSEPORT
 * listener, edge-triggered like portico: a short read means drained.
 *
 *     byte_relay LISTEN_PORT BACKEND_PORT [THREADS]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FDS 65536
#define SIDE_BUF 16384
#define LISTENER UINT64_MAX

/* One socket of a pair and the bytes read from it not yet written to its peer. */
struct side {
	int peer;
	bool connecting; /* a backend socket whose connect has not completed */
	size_t off, len;
	char buf[SIDE_BUF];
};

static struct side *sides[MAX_FDS];
static uint32_t generation[MAX_FDS]; /* tells a closed fd's late events from a new one's */
static int listen_port, backend_port;

static void fail(const char *what)
{
	perror(what);
	exit(1);
}

static void watch(int ep, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
				  .data.u64 = (uint64_t)generation[fd] << 32 | (uint32_t)fd };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0)
		fail("epoll_ctl");
}

static struct side *side_new(int fd, int peer)
{
	struct side *s = calloc(1, sizeof(*s));
	if (!s)
		fail("calloc");
	s->peer = peer;
	sides[fd] = s;
	return s;
}

static void close_pair(int fd)
{
	int peer = sides[fd]->peer;
	int fds[2] = { fd, peer };

	for (int i = 0; i < 2; i++) {
		free(sides[fds[i]]);
		sides[fds[i]] = NULL;
		generation[fds[i]]++;
		close(fds[i]);
	}
}

/* Moves what fd sends to its peer; false when the pair is done. */
static bool pump(int fd)
{
	struct side *s = sides[fd];

	for (;;) {
		if (s->len > s->off) {
			if (sides[s->peer]->connecting)
				return true;
			ssize_t w = write(s->peer, s->buf + s->off, s->len - s->off);
			if (w < 0)
				return errno == EAGAIN; /* the peer's EPOLLOUT resumes */
			s->off += (size_t)w;
			if (s->off < s->len)
				return true;
			bool drained = s->len < sizeof(s->buf);
			s->off = s->len = 0;
			if (drained)
				return true;
		}
		ssize_t n = read(fd, s->buf, sizeof(s->buf));
		if (n <= 0)
			return n < 0 && errno == EAGAIN;
		s->len = (size_t)n;
	}
}

static void accept_all(int ep, int lfd, const struct sockaddr_in *backend)
{
	int one = 1;

	for (;;) {
		int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c < 0)
			return;
		int b = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (b < 0 || c >= MAX_FDS || b >= MAX_FDS) {
			close(c);
			if (b >= 0)
				close(b);
			continue;
		}
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(b, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		side_new(c, b);
		side_new(b, c)->connecting = true;
		if (connect(b, (const struct sockaddr *)backend, sizeof(*backend)) != 0 &&
		    errno != EINPROGRESS) {
			close_pair(c);
			continue;
		}
		watch(ep, c);
		watch(ep, b);
	}
}

static void *worker(void *arg)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(listen_port),
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in backend = addr;
	struct epoll_event events[512];
	int one = 1;

	backend.sin_port = htons(backend_port);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (lfd < 0 || ep < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) || listen(lfd, 4096))
		fail("listen");
	struct epoll_event lev = { .events = EPOLLIN, .data.u64 = LISTENER };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev) != 0)
		fail("epoll_ctl");
	for (;;) {
		int n = epoll_wait(ep, events, 512, -1);
		for (int i = 0; i < n; i++) {
			if (events[i].data.u64 == LISTENER) {
				accept_all(ep, lfd, &backend);
				continue;
			}
			int fd = (int)(uint32_t)events[i].data.u64;
			if ((uint32_t)(events[i].data.u64 >> 32) != generation[fd] || !sides[fd])
				continue; /* closed earlier in this batch */
			struct side *s = sides[fd];
			if (events[i].events & EPOLLERR) {
				close_pair(fd);
				continue;
			}
			/* (an edge reports EPOLLOUT along with EPOLLIN: act only on
			 * bytes that wait for this socket) */
			struct side *p = sides[s->peer];
			if (events[i].events & EPOLLOUT) {
				s->connecting = false;
				if (p->len > p->off && !pump(s->peer)) {
					close_pair(fd);
					continue;
				}
			}
			if ((events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) && !pump(fd))
				close_pair(fd);
		}
	}
	return arg;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: byte_relay LISTEN_PORT BACKEND_PORT [THREADS]\n");
		return 2;
	}
	listen_port = atoi(argv[1]);
	backend_port = atoi(argv[2]);
	int threads = argc > 3 ? atoi(argv[3]) : 1;
	signal(SIGPIPE, SIG_IGN);
	for (int i = 1; i < threads; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, worker, NULL) != 0)
			fail("pthread_create");
	}
	worker(NULL);
	return 0;
}
