/*
 * access_log: one line per request, written without blocking the workers.
 *
 * Each worker appends finished lines to its own single-producer ring; one
 * writer thread drains every ring at least every 200 ms and writes them to
 * the file (or stdout). A full ring drops the line and counts it rather than
 * stalling a worker behind a slow disk or a blocked pipe.
 */
#ifndef PORTICO_LOG_ACCESS_LOG_H
#define PORTICO_LOG_ACCESS_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "log/access_log_config.h"

struct access_log;

/* Opens the destination and starts the writer thread; NULL with errno set
 * on failure. One ring per worker. */
struct access_log *access_log_open(const struct access_log_config *cfg, unsigned num_workers);

/* Appends a line (without newline); only worker `worker` may call this for
 * its ring. */
void access_log_append(struct access_log *log, unsigned worker, const char *line, size_t len);

/* Flushes what is queued, stops the writer and frees; NULL is a no-op. */
void access_log_close(struct access_log *log);

enum access_log_format access_log_format(const struct access_log *log);

/* Lines dropped because a ring was full. */
uint64_t access_log_dropped(const struct access_log *log);

#endif
