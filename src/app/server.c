/*
 * server: the process. The main thread binds the listeners (app/sockets.c),
 * starts one thread per worker, then only waits for signals and turns them
 * into commands for the workers, delivered through each worker's eventfd:
 * drain (SIGTERM/SIGINT), stop (SIGQUIT), reload (SIGHUP).
 *
 * Reload: the new file is loaded and checked on the main thread; a bad file
 * is refused with its errors logged and nothing changes. Each worker then
 * switches to the new snapshot (proxy_worker_reload) and releases the old
 * one when its last connection using it ends; the main thread frees a
 * snapshot once every worker has released it.
 */
#include "app/server.h"

#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/sockets.h"
#include "config/config.h"
#include "core/bug.h"
#include "core/clock.h"
#include "log/access_log.h"
#include "log/log.h"
#include "proxy/proxy.h"
#include "upstream/health.h"
#include "upstream/health_check.h"

#define RELOAD_WAIT_MS 5000

enum worker_stop { STOP_NONE, STOP_DRAIN, STOP_NOW };

/* A snapshot and how many workers still use it. */
struct snapshot {
	struct proxy_config *config; /* owned */
	atomic_uint users;
	struct snapshot *next;
};

struct worker_thread {
	struct proxy_worker proxy;
	pthread_t thread;
	bool started;
	unsigned id;
	int *listen_fds;             /* per listener, for the next init or reload */
	atomic_ulong **counters;     /* per listener */
	struct server *server;
	_Atomic int stop;
	atomic_bool reload_pending;
	atomic_int reload_result;    /* 1 = not yet answered, else 0 or -errno */
	const struct proxy_config *reload_config;
	atomic_bool finished;
	int init_error;
	/* The loop's eventfd exists only between the worker's init and deinit,
	 * both on the worker thread: loop_wake is called under wake_lock and
	 * only while wakeable, never on a closed (maybe reused) descriptor. */
	pthread_mutex_t wake_lock;
	bool wakeable;
};

struct server {
	struct snapshot *current;
	struct snapshot *snapshots;  /* every snapshot not yet freed */
	pthread_mutex_t snapshots_lock; /* the list; taken on reload and release only */
	struct worker_thread *workers;
	unsigned num_workers;
	struct socket_table sockets;
	struct access_log *access_log;
	sem_t workers_ready; /* posted by each worker once its init returned */
	struct health_checker *checker; /* active checks of the current snapshot */
	uint64_t next_dns_ms;         /* when `dns:` upstreams are resolved again */
	bool stopping;                /* a drain or stop was sent */
};

static struct snapshot *snapshot_of(struct server *s, const struct proxy_config *cfg)
{
	for (struct snapshot *p = s->snapshots; p; p = p->next)
		if (p->config == cfg)
			return p;
	return NULL;
}

/* Worker thread: it no longer uses cfg. */
static void on_release(struct proxy_worker *pw, const struct proxy_config *cfg)
{
	struct worker_thread *wt = container_of(pw, struct worker_thread, proxy);
	struct server *s = wt->server;

	pthread_mutex_lock(&s->snapshots_lock);
	struct snapshot *snap = snapshot_of(s, cfg);
	if (snap)
		atomic_fetch_sub(&snap->users, 1);
	pthread_mutex_unlock(&s->snapshots_lock);
}

static void on_worker_wake(struct loop *loop)
{
	struct proxy_worker *pw = container_of(loop, struct proxy_worker, loop);
	struct worker_thread *wt = container_of(pw, struct worker_thread, proxy);

	if (atomic_exchange(&wt->reload_pending, false)) {
		int rc = proxy_worker_reload(pw, wt->reload_config, wt->listen_fds, wt->counters);
		atomic_store(&wt->reload_result, rc);
	}
	int stop = atomic_load(&wt->stop);
	if (stop != STOP_NONE)
		proxy_worker_stop(pw, stop == STOP_DRAIN);
}

static void set_wakeable(struct worker_thread *wt, bool wakeable)
{
	pthread_mutex_lock(&wt->wake_lock);
	wt->wakeable = wakeable;
	pthread_mutex_unlock(&wt->wake_lock);
}

/* Main thread: asks the worker to look at its commands, if its loop lives. */
static void wake_worker(struct worker_thread *wt)
{
	pthread_mutex_lock(&wt->wake_lock);
	if (wt->wakeable)
		loop_wake(&wt->proxy.loop);
	pthread_mutex_unlock(&wt->wake_lock);
}

static void *worker_main(void *arg)
{
	struct worker_thread *wt = arg;
	struct server *s = wt->server;

	wt->init_error = proxy_worker_init(&wt->proxy, wt->id, s->current->config, wt->listen_fds,
					   wt->counters, s->access_log);
	wt->proxy.on_release = on_release;
	if (wt->init_error == 0) {
		wt->proxy.loop.on_wake = on_worker_wake;
		set_wakeable(wt, true);
	}
	sem_post(&s->workers_ready); /* the main thread may now reload or wake us */
	if (wt->init_error == 0) {
		on_worker_wake(&wt->proxy.loop); /* a stop that came before we were ready */
		proxy_worker_run(&wt->proxy);
		set_wakeable(wt, false);
	} else {
		log_error("worker %u: cannot start: %s", wt->id, strerror(-wt->init_error));
	}
	proxy_worker_deinit(&wt->proxy);
	atomic_store(&wt->finished, true);
	return NULL;
}

/* A snapshot with its shared health state, inherited from the current one
 * for servers that stay. */
static struct snapshot *snapshot_add(struct server *s, struct proxy_config *cfg)
{
	cfg->health = health_table_new(cfg->upstreams, cfg->num_upstreams);
	if (!cfg->health)
		return NULL;
	if (s->current) {
		const struct proxy_config *old = s->current->config;
		health_table_inherit(cfg->health, cfg->upstreams, cfg->num_upstreams, old->health,
				     old->upstreams, old->num_upstreams);
	}
	struct snapshot *snap = calloc(1, sizeof(*snap));
	if (!snap) {
		health_table_free(cfg->health);
		cfg->health = NULL;
		return NULL;
	}
	snap->config = cfg;
	atomic_init(&snap->users, s->num_workers);
	pthread_mutex_lock(&s->snapshots_lock);
	snap->next = s->snapshots;
	s->snapshots = snap;
	pthread_mutex_unlock(&s->snapshots_lock);
	return snap;
}

/* Frees the snapshots no worker uses any more (main thread). */
static void snapshots_collect(struct server *s, bool all)
{
	struct snapshot *dead = NULL;

	pthread_mutex_lock(&s->snapshots_lock);
	for (struct snapshot **p = &s->snapshots; *p;) {
		struct snapshot *snap = *p;
		if (all || (snap != s->current && atomic_load(&snap->users) == 0)) {
			*p = snap->next;
			snap->next = dead;
			dead = snap;
		} else {
			p = &snap->next;
		}
	}
	pthread_mutex_unlock(&s->snapshots_lock);
	while (dead) {
		struct snapshot *next = dead->next;
		health_table_free(dead->config->health);
		config_free(dead->config);
		free(dead);
		dead = next;
	}
}

static int worker_tables(struct server *s, size_t num_listeners)
{
	for (unsigned w = 0; w < s->num_workers; w++) {
		struct worker_thread *wt = &s->workers[w];
		free(wt->listen_fds);
		free(wt->counters);
		wt->listen_fds = calloc(num_listeners ? num_listeners : 1, sizeof(int));
		wt->counters = calloc(num_listeners ? num_listeners : 1, sizeof(*wt->counters));
		if (!wt->listen_fds || !wt->counters)
			return -1;
	}
	return 0;
}

static int bind_listeners(struct server *s, const struct proxy_config *cfg)
{
	int *fds[s->num_workers];

	if (worker_tables(s, cfg->num_listeners) != 0)
		return -1;
	for (unsigned w = 0; w < s->num_workers; w++)
		fds[w] = s->workers[w].listen_fds;
	return socket_table_update(&s->sockets, cfg, fds, s->workers[0].counters) == 0 ? 0 : -1;
}

static void copy_counters(struct server *s, size_t n)
{
	for (unsigned w = 1; w < s->num_workers; w++)
		memcpy(s->workers[w].counters, s->workers[0].counters, n * sizeof(*s->workers[w].counters));
}

static void send_stop(struct server *s, int stop)
{
	s->stopping = true;
	for (unsigned i = 0; i < s->num_workers; i++) {
		atomic_store(&s->workers[i].stop, stop);
		if (s->workers[i].started)
			wake_worker(&s->workers[i]);
	}
}

static bool wait_reloaded(struct server *s)
{
	struct timespec pause = { 0, 5L * 1000 * 1000 };
	bool ok = true;
	for (unsigned i = 0; i < s->num_workers; i++) {
		struct worker_thread *wt = &s->workers[i];
		for (int t = 0; t < RELOAD_WAIT_MS / 5 && atomic_load(&wt->reload_result) == 1 &&
				!atomic_load(&wt->finished);
		     t++)
			nanosleep(&pause, NULL);
		if (atomic_load(&wt->reload_result) != 0)
			ok = false;
	}
	return ok;
}

/* Makes cfg the running snapshot: new listeners bound, workers switched.
 * Returns false (cfg freed, nothing changed) when it cannot be applied. */
static bool apply_snapshot(struct server *s, struct proxy_config *cfg)
{
	struct snapshot *snap = snapshot_add(s, cfg);
	if (!snap || bind_listeners(s, cfg) != 0) {
		log_error("reload refused: cannot bind the new listeners");
		if (snap)
			atomic_store(&snap->users, 0);
		else
			config_free(cfg);
		snapshots_collect(s, false);
		return false;
	}
	copy_counters(s, cfg->num_listeners);
	health_checker_stop(s->checker);
	s->current = snap;
	s->checker = health_checker_start(cfg->upstreams, cfg->num_upstreams, cfg->health);
	for (unsigned i = 0; i < s->num_workers; i++) {
		struct worker_thread *wt = &s->workers[i];
		wt->reload_config = cfg;
		atomic_store(&wt->reload_result, 1);
		atomic_store(&wt->reload_pending, true);
		wake_worker(wt);
	}
	if (!wait_reloaded(s))
		log_error("reload: a worker could not switch; it keeps the previous configuration");
	return true;
}

static void reload(struct server *s)
{
	const char *path = s->current->config->path;
	struct config_errors errs = { 0 };

	if (!path) {
		log_warn("reload: no configuration file (quick mode); nothing to reload");
		return;
	}
	struct proxy_config *cfg = config_load_file(path, &errs);
	if (!cfg) {
		for (size_t i = 0; i < errs.count; i++)
			log_error("reload refused: %s", errs.messages[i]);
		config_errors_deinit(&errs);
		return;
	}
	if (apply_snapshot(s, cfg))
		log_info("configuration reloaded from %s", path);
	s->next_dns_ms = 0;
}

/* The shortest dns_ttl of the snapshot's `dns:` upstreams, 0 if none. */
static uint64_t dns_interval(const struct proxy_config *cfg)
{
	uint64_t ttl = 0;
	for (size_t i = 0; i < cfg->num_upstreams; i++)
		if (cfg->upstreams[i].dns && (ttl == 0 || cfg->upstreams[i].dns_ttl_ms < ttl))
			ttl = cfg->upstreams[i].dns_ttl_ms;
	return ttl;
}

static bool same_servers(const struct upstream_config *a, const struct upstream_config *b)
{
	if (a->num_servers != b->num_servers)
		return false;
	for (size_t i = 0; i < a->num_servers; i++)
		if (strcmp(a->servers[i].address, b->servers[i].address) != 0)
			return false;
	return true;
}

/*
 * `dns:` upstreams: every dns_ttl the same configuration is loaded again,
 * which resolves the names again; when an answer changed, the new snapshot
 * replaces the running one exactly as a reload does (servers that stay keep
 * their health, removed ones finish their requests, new ones join). A
 * failed lookup keeps the servers known so far.
 */
static void dns_refresh(struct server *s, uint64_t now_ms)
{
	const struct proxy_config *cur = s->current->config;
	uint64_t every = dns_interval(cur);
	struct config_errors errs = { 0 };

	if (every == 0 || now_ms < s->next_dns_ms || s->stopping)
		return;
	s->next_dns_ms = now_ms + every;
	struct proxy_config *fresh = config_reload_source(cur, &errs);
	if (!fresh) {
		for (size_t i = 0; i < errs.count; i++)
			log_warn("dns refresh: %s (keeping the known servers)", errs.messages[i]);
		config_errors_deinit(&errs);
		return;
	}
	bool changed = false;
	for (size_t i = 0; i < cur->num_upstreams && !changed; i++)
		changed = cur->upstreams[i].dns && !same_servers(&cur->upstreams[i], &fresh->upstreams[i]);
	if (!changed) {
		config_free(fresh);
		return;
	}
	if (apply_snapshot(s, fresh))
		log_info("dns: upstream servers changed; now in use");
}

static bool all_finished(struct server *s)
{
	for (unsigned i = 0; i < s->num_workers; i++)
		if (!atomic_load(&s->workers[i].finished))
			return false;
	return true;
}

/* How long the main thread waits for a signal before it looks around:
 * a second (released snapshots), less when `dns:` names are due sooner,
 * 100 ms once stopping, to exit soon after the last worker. */
static struct timespec supervise_tick(const struct server *s)
{
	uint64_t ms = s->stopping ? 100 : 1000;
	uint64_t dns = dns_interval(s->current->config);

	if (dns && dns < ms)
		ms = dns;
	return (struct timespec){ (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
}

/* The main thread's life: wait for signals and for the workers to end. */
static void supervise(struct server *s, const sigset_t *signals)
{
	while (!all_finished(s)) {
		struct timespec tick = supervise_tick(s);
		int sig = sigtimedwait(signals, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT) {
			log_info("signal %d: draining", sig);
			send_stop(s, STOP_DRAIN);
		} else if (sig == SIGQUIT) {
			log_info("SIGQUIT: stopping now");
			send_stop(s, STOP_NOW);
		} else if (sig == SIGHUP) {
			reload(s);
		}
		dns_refresh(s, clock_monotonic_ms());
		snapshots_collect(s, false);
	}
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

static int start_workers(struct server *s)
{
	copy_counters(s, s->current->config->num_listeners);
	for (unsigned i = 0; i < s->num_workers; i++) {
		struct worker_thread *wt = &s->workers[i];
		wt->id = i;
		wt->server = s;
		pthread_mutex_init(&wt->wake_lock, NULL);
		if (pthread_create(&wt->thread, NULL, worker_main, wt) != 0) {
			log_error("cannot start worker thread %u", i);
			send_stop(s, STOP_NOW);
			return -1;
		}
		wt->started = true;
	}
	/* Reload rewrites what init reads (s->current, listen_fds): wait for it. */
	for (unsigned i = 0; i < s->num_workers; i++)
		sem_wait(&s->workers_ready);
	return 0;
}

static int open_access_log(struct server *s)
{
	const struct access_log_config *al = &s->current->config->access_log;
	if (!al->path)
		return 0;
	s->access_log = access_log_open(al, s->num_workers);
	if (!s->access_log) {
		log_error("cannot open access log %s: %s", al->path, strerror(errno));
		return -1;
	}
	return 0;
}

static void block_signals(sigset_t *signals)
{
	/* Taken by the main thread only (workers inherit the mask), and blocked
	 * before the sockets listen: a SIGTERM that comes as soon as the port
	 * answers must drain, not kill. */
	sigemptyset(signals);
	sigaddset(signals, SIGTERM);
	sigaddset(signals, SIGINT);
	sigaddset(signals, SIGQUIT);
	sigaddset(signals, SIGHUP);
	pthread_sigmask(SIG_BLOCK, signals, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int start(struct server *s, struct proxy_config *cfg)
{
	s->workers = calloc(s->num_workers, sizeof(*s->workers));
	if (!s->workers || !snapshot_add(s, cfg)) {
		config_free(cfg);
		return -1;
	}
	s->current = s->snapshots;
	s->sockets.num_workers = s->num_workers;
	if (bind_listeners(s, cfg) != 0)
		return -1;
	if (cfg->user && drop_privileges(cfg->user) != 0)
		return -1;
	if (cfg->pid_file && write_pid_file(cfg->pid_file) != 0)
		return -1;
	return open_access_log(s);
}

int server_run(struct proxy_config *cfg)
{
	struct server s = { .num_workers = cfg->workers };
	sigset_t signals;
	int rc = EXIT_CANNOT_START;

	pthread_mutex_init(&s.snapshots_lock, NULL);
	sem_init(&s.workers_ready, 0, 0);
	block_signals(&signals);
	if (start(&s, cfg) != 0 || start_workers(&s) != 0)
		goto out;
	for (size_t i = 0; i < cfg->num_listeners; i++)
		log_info("listening on %s (listener \"%s\", %u workers)", cfg->listeners[i].address,
			 cfg->listeners[i].name, s.num_workers);
	s.checker = health_checker_start(cfg->upstreams, cfg->num_upstreams, cfg->health);
	supervise(&s, &signals);
	rc = EXIT_OK;
out:
	for (unsigned i = 0; s.workers && i < s.num_workers; i++) {
		if (!s.workers[i].started)
			continue;
		pthread_join(s.workers[i].thread, NULL);
		if (s.workers[i].init_error)
			rc = EXIT_CANNOT_START;
	}
	health_checker_stop(s.checker);
	if (rc == EXIT_CANNOT_START && s.workers && !s.workers[0].started)
		socket_table_close_all(&s.sockets);
	if (s.current && s.current->config->pid_file)
		unlink(s.current->config->pid_file);
	access_log_close(s.access_log);
	socket_table_deinit(&s.sockets);
	for (unsigned i = 0; s.workers && i < s.num_workers; i++) {
		free(s.workers[i].listen_fds);
		free(s.workers[i].counters);
	}
	free(s.workers);
	snapshots_collect(&s, true);
	pthread_mutex_destroy(&s.snapshots_lock);
	sem_destroy(&s.workers_ready);
	return rc;
}
