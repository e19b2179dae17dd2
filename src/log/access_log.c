#include "log/access_log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RING_SIZE ((size_t)256 * 1024) /* bytes per worker; a power of two */
#define FLUSH_INTERVAL_MS 200

struct ring {
	_Alignas(64) atomic_size_t head; /* written by the worker */
	_Alignas(64) atomic_size_t tail; /* written by the writer thread */
	char bytes[RING_SIZE];
};

struct access_log {
	int fd;
	bool owns_fd;
	enum access_log_format format;
	unsigned num_rings;
	struct ring *rings;
	atomic_bool stop;
	atomic_uint_fast64_t dropped;
	pthread_t thread;
	pthread_mutex_t mutex; /* only for the writer's sleep, never taken by workers */
	pthread_cond_t cond;
};

void access_log_append(struct access_log *log, unsigned worker, const char *line, size_t len)
{
	struct ring *r = &log->rings[worker];
	size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);

	if (len + 1 > RING_SIZE - (head - tail)) {
		atomic_fetch_add_explicit(&log->dropped, 1, memory_order_relaxed);
		return;
	}
	for (size_t i = 0; i < len; i++)
		r->bytes[(head + i) & (RING_SIZE - 1)] = line[i];
	r->bytes[(head + len) & (RING_SIZE - 1)] = '\n';
	atomic_store_explicit(&r->head, head + len + 1, memory_order_release);
}

static void write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

static void drain_ring(struct access_log *log, struct ring *r)
{
	size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	size_t head = atomic_load_explicit(&r->head, memory_order_acquire);

	while (tail != head) {
		size_t off = tail & (RING_SIZE - 1);
		size_t n = head - tail;
		if (n > RING_SIZE - off)
			n = RING_SIZE - off;
		write_all(log->fd, r->bytes + off, n);
		tail += n;
	}
	atomic_store_explicit(&r->tail, tail, memory_order_release);
}

static void *writer_main(void *arg)
{
	struct access_log *log = arg;
	bool last = false;

	while (!last) {
		last = atomic_load(&log->stop);
		for (unsigned i = 0; i < log->num_rings; i++)
			drain_ring(log, &log->rings[i]);
		if (last)
			break;
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += FLUSH_INTERVAL_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&log->mutex);
		if (!atomic_load(&log->stop))
			pthread_cond_timedwait(&log->cond, &log->mutex, &until);
		pthread_mutex_unlock(&log->mutex);
	}
	return NULL;
}

struct access_log *access_log_open(const struct access_log_config *cfg, unsigned num_workers)
{
	struct access_log *log = calloc(1, sizeof(*log));
	if (!log)
		return NULL;
	log->format = cfg->format;
	log->num_rings = num_workers;
	if (strcmp(cfg->path, "-") == 0) {
		log->fd = STDOUT_FILENO;
	} else {
		log->fd = open(cfg->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		log->owns_fd = true;
	}
	log->rings = calloc(num_workers, sizeof(*log->rings));
	if (log->fd < 0 || !log->rings)
		goto fail;
	pthread_mutex_init(&log->mutex, NULL);
	pthread_cond_init(&log->cond, NULL);
	if (pthread_create(&log->thread, NULL, writer_main, log) != 0) {
		pthread_mutex_destroy(&log->mutex);
		pthread_cond_destroy(&log->cond);
		goto fail;
	}
	return log;
fail:;
	int err = errno;
	if (log->owns_fd && log->fd >= 0)
		close(log->fd);
	free(log->rings);
	free(log);
	errno = err;
	return NULL;
}

void access_log_close(struct access_log *log)
{
	if (!log)
		return;
	pthread_mutex_lock(&log->mutex);
	atomic_store(&log->stop, true);
	pthread_cond_signal(&log->cond);
	pthread_mutex_unlock(&log->mutex);
	pthread_join(log->thread, NULL);
	pthread_mutex_destroy(&log->mutex);
	pthread_cond_destroy(&log->cond);
	if (log->owns_fd)
		close(log->fd);
	free(log->rings);
	free(log);
}

enum access_log_format access_log_format(const struct access_log *log)
{
	return log->format;
}

uint64_t access_log_dropped(const struct access_log *log)
{
	return atomic_load(&log->dropped);
}
