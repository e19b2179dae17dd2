#include "app/server.h"

#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/bug.h"
#include "log/access_log.h"
#include "log/log.h"
#include "net/sock.h"
#include "proxy/proxy.h"

#define LISTEN_BACKLOG 4096

enum worker_command { CMD_NONE, CMD_DRAIN, CMD_STOP };

struct worker_thread {
	struct proxy_worker proxy;
	pthread_t thread;
	unsigned id;
	int *listen_fds;             /* owned until the worker takes them */
	struct server *server;
	_Atomic int command;
	atomic_bool finished;
	int init_error;
};

struct server {
	const struct proxy_config *config;
	struct worker_thread *workers;
	unsigned num_workers;
	atomic_ulong *listener_counters;
	struct access_log *access_log;
};

static void on_worker_wake(struct loop *loop)
{
	struct proxy_worker *pw = container_of(loop, struct proxy_worker, loop);
	struct worker_thread *wt = container_of(pw, struct worker_thread, proxy);
	int cmd = atomic_load(&wt->command);

	if (cmd != CMD_NONE)
		proxy_worker_stop(pw, cmd == CMD_DRAIN);
}

static void *worker_main(void *arg)
{
	struct worker_thread *wt = arg;
	struct server *s = wt->server;

	wt->init_error = proxy_worker_init(&wt->proxy, wt->id, s->config, wt->listen_fds,
					   s->listener_counters, s->access_log);
	if (wt->init_error == 0) {
		wt->proxy.loop.on_wake = on_worker_wake;
		on_worker_wake(&wt->proxy.loop); /* a stop that came before we were ready */
		proxy_worker_run(&wt->proxy);
	} else {
		log_error("worker %u: cannot start: %s", wt->id, strerror(-wt->init_error));
	}
	proxy_worker_deinit(&wt->proxy);
	atomic_store(&wt->finished, true);
	return NULL;
}

static void close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* Binds every listener once per worker, before any thread starts, so a
 * port in use is reported and exits 3 cleanly. */
static int bind_all(struct server *s)
{
	const struct proxy_config *cfg = s->config;
	for (unsigned w = 0; w < s->num_workers; w++) {
		struct worker_thread *wt = &s->workers[w];
		wt->listen_fds = malloc(sizeof(int) * (cfg->num_listeners ? cfg->num_listeners : 1));
		if (!wt->listen_fds)
			return -1;
		for (size_t i = 0; i < cfg->num_listeners; i++)
			wt->listen_fds[i] = -1;
		for (size_t i = 0; i < cfg->num_listeners; i++) {
			int fd = sock_listen(&cfg->listeners[i].addr, LISTEN_BACKLOG, true);
			if (fd < 0) {
				log_error("cannot listen on %s (listener \"%s\"): %s",
					  cfg->listeners[i].address, cfg->listeners[i].name,
					  strerror(-fd));
				return -1;
			}
			wt->listen_fds[i] = fd;
		}
	}
	return 0;
}

static int drop_privileges(const char *user)
{
	struct passwd *pw = getpwnam(user);
	if (!pw) {
		log_error("user \"%s\" does not exist", user);
		return -1;
	}
	if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
		log_error("cannot switch to user \"%s\": %s", user, strerror(errno));
		return -1;
	}
	return 0;
}

static int write_pid_file(const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		log_error("cannot write pid file %s: %s", path, strerror(errno));
		return -1;
	}
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
	return 0;
}

static void send_command(struct server *s, int cmd)
{
	for (unsigned i = 0; i < s->num_workers; i++) {
		atomic_store(&s->workers[i].command, cmd);
		loop_wake(&s->workers[i].proxy.loop);
	}
}

static bool all_finished(struct server *s)
{
	for (unsigned i = 0; i < s->num_workers; i++)
		if (!atomic_load(&s->workers[i].finished))
			return false;
	return true;
}

/* The main thread's life: wait for signals and for the workers to end. */
static void supervise(struct server *s, const sigset_t *signals)
{
	struct timespec tick = { 0, 100 * 1000 * 1000 };

	while (!all_finished(s)) {
		int sig = sigtimedwait(signals, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT) {
			log_info("signal %d: draining", sig);
			send_command(s, CMD_DRAIN);
		} else if (sig == SIGQUIT) {
			log_info("SIGQUIT: stopping now");
			send_command(s, CMD_STOP);
		} else if (sig == SIGHUP) {
			log_warn("SIGHUP: reload is not supported by this version; configuration kept");
		}
	}
}

static int start_workers(struct server *s)
{
	for (unsigned i = 0; i < s->num_workers; i++) {
		struct worker_thread *wt = &s->workers[i];
		wt->id = i;
		wt->server = s;
		if (pthread_create(&wt->thread, NULL, worker_main, wt) != 0) {
			log_error("cannot start worker thread %u", i);
			s->num_workers = i;
			send_command(s, CMD_STOP);
			return -1;
		}
	}
	return 0;
}

static int open_access_log(struct server *s)
{
	const struct access_log_config *al = &s->config->access_log;
	if (!al->path)
		return 0;
	s->access_log = access_log_open(al, s->num_workers);
	if (!s->access_log) {
		log_error("cannot open access log %s: %s", al->path, strerror(errno));
		return -1;
	}
	return 0;
}

static void server_cleanup(struct server *s)
{
	for (unsigned i = 0; i < s->num_workers; i++) {
		if (s->workers[i].listen_fds && s->workers[i].thread == 0)
			close_fds(s->workers[i].listen_fds, s->config->num_listeners);
		free(s->workers[i].listen_fds);
	}
	access_log_close(s->access_log);
	free(s->workers);
	free(s->listener_counters);
}

int server_run(const struct proxy_config *cfg)
{
	struct server s = { .config = cfg, .num_workers = cfg->workers };
	sigset_t signals;
	int rc = EXIT_CANNOT_START;

	/* Signals are taken by the main thread only (workers inherit the mask),
	 * and blocked before the sockets listen: a SIGTERM that comes as soon
	 * as the port answers must drain, not kill. */
	sigemptyset(&signals);
	sigaddset(&signals, SIGTERM);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGQUIT);
	sigaddset(&signals, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &signals, NULL);
	signal(SIGPIPE, SIG_IGN);
	s.workers = calloc(s.num_workers, sizeof(*s.workers));
	s.listener_counters = calloc(cfg->num_listeners ? cfg->num_listeners : 1,
				     sizeof(*s.listener_counters));
	if (!s.workers || !s.listener_counters || bind_all(&s) != 0)
		goto out;
	if (cfg->user && drop_privileges(cfg->user) != 0)
		goto out;
	if (cfg->pid_file && write_pid_file(cfg->pid_file) != 0)
		goto out;
	if (open_access_log(&s) != 0)
		goto out;
	if (start_workers(&s) != 0)
		goto join;
	for (size_t i = 0; i < cfg->num_listeners; i++)
		log_info("listening on %s (listener \"%s\", %u workers)", cfg->listeners[i].address,
			 cfg->listeners[i].name, s.num_workers);
	supervise(&s, &signals);
	rc = EXIT_OK;
join:
	for (unsigned i = 0; i < s.num_workers; i++) {
		pthread_join(s.workers[i].thread, NULL);
		if (s.workers[i].init_error)
			rc = EXIT_CANNOT_START;
	}
	if (cfg->pid_file)
		unlink(cfg->pid_file);
out:
	server_cleanup(&s);
	return rc;
}
