/*
 * broker — start, loop, stop (life cycle in broker.h).
 *
 * <data_dir>/meta.properties ties a data directory to one node, as Kafka's
 * does: "version=1", "cluster.id=<22 chars>", "node.id=<id>". A directory
 * written by another node id is refused at start, so a misconfigured
 * broker cannot serve another broker's logs.
 */
#include "broker.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blog.h"
#include "checkpoint.h"
#include "cluster.h"
#include "cleaner.h"
#include "coordinator.h"
#include "metrics_http.h"
#include "conn.h"
#include "replica.h"
#include "rlerr.h"

#define BROKER_RING_ENTRIES	 4096
#define BROKER_LISTEN_BACKLOG	 1024
#define BROKER_SHUTDOWN_GRACE_MS 10000
#define BROKER_HOUSEKEEPING_MS	 5000
#define BROKER_ACCEPT_RETRY_MS	 100
#define BROKER_CLEAN_MARKER	 ".broker-clean-shutdown"

/* ---- meta.properties -------------------------------------------------- */

void broker_new_cluster_id(char *out, size_t cap)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint8_t raw[16];
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		memset(raw, 0x42, sizeof(raw));
	size_t n = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < sizeof(raw) && n + 1 < cap; i++) {
		acc = acc << 8 | raw[i];
		bits += 8;
		while (bits >= 6 && n + 1 < cap) {
			out[n++] = b64[(acc >> (bits - 6)) & 63];
			bits -= 6;
		}
	}
	if (bits > 0 && n + 1 < cap)
		out[n++] = b64[(acc << (6 - bits)) & 63];
	out[n] = '\0';
}

/* The only voter of a one-voter quorum names the cluster when its data
 * directory is new. With several voters, whichever first becomes the
 * active controller names it (ctl_start). */
static bool broker_names_cluster(const struct broker *b)
{
	return b->b_cfg.bc_controller_count == 1 && b->b_cfg.bc_controllers[0] == b->b_cfg.bc_id;
}

/* meta.properties ties a data directory to one broker id and one cluster.
 * Every broker but the one that named the cluster gets the cluster id once
 * it has read it in the metadata (broker_adopt_cluster_id). */
static int broker_write_meta(struct broker *b, int dfd)
{
	char text[256];
	int n = b->b_cluster_id[0]
			? snprintf(text, sizeof(text), "version=1\ncluster.id=%s\nnode.id=%d\n",
				   b->b_cluster_id, b->b_cfg.bc_id)
			: snprintf(text, sizeof(text), "version=1\nnode.id=%d\n", b->b_cfg.bc_id);
	int rc = checkpoint_write(dfd, "meta.properties", text, (size_t)n);
	if (rc < 0)
		blog(BLOG_ERROR, "meta_properties_write_failed", "data_dir", b->b_cfg.bc_data_dir,
		     "error", rl_strerror(rc), NULL);
	return rc;
}

static int broker_read_meta(struct broker *b, int dfd)
{
	const char *dir = b->b_cfg.bc_data_dir;
	char text[512];
	int n = checkpoint_read(dfd, "meta.properties", text, sizeof(text));
	if (n == -ENOENT) {
		if (broker_names_cluster(b))
			broker_new_cluster_id(b->b_cluster_id, sizeof(b->b_cluster_id));
		return broker_write_meta(b, dfd);
	}
	if (n < 0) {
		blog(BLOG_ERROR, "start_failed", "reason", "cannot read meta.properties",
		     "data_dir", dir, "error", rl_strerror(n), NULL);
		return -1;
	}
	char *cid = strstr(text, "cluster.id="), *nid = strstr(text, "node.id=");
	long node = nid ? strtol(nid + 8, NULL, 10) : -1;
	if (!nid || (cid && sscanf(cid + 11, "%63[A-Za-z0-9_-]", b->b_cluster_id) != 1)) {
		blog(BLOG_ERROR, "start_failed", "reason", "meta.properties is damaged", "data_dir",
		     dir, NULL);
		return -1;
	}
	if (node != b->b_cfg.bc_id) {
		char b1[BLOG_I64_BUF], b2[BLOG_I64_BUF];
		blog(BLOG_ERROR, "start_failed", "reason", "data_dir belongs to another broker id",
		     "data_dir", dir, "dir_node_id", blog_i64(b1, node), "config_id",
		     blog_i64(b2, b->b_cfg.bc_id), NULL);
		return -1;
	}
	if (!cid && broker_names_cluster(b)) {
		broker_new_cluster_id(b->b_cluster_id, sizeof(b->b_cluster_id));
		return broker_write_meta(b, dfd);
	}
	return 0;
}

int broker_adopt_cluster_id(struct broker *b, const char *id)
{
	if (strcmp(b->b_cluster_id, id) == 0)
		return 0;
	if (b->b_cluster_id[0]) {
		blog(BLOG_ERROR, "wrong_cluster", "reason",
		     "data_dir belongs to another cluster than the controller's", "data_dir",
		     b->b_cfg.bc_data_dir, "cluster_id", b->b_cluster_id, "controller_cluster_id",
		     id, NULL);
		return -1;
	}
	snprintf(b->b_cluster_id, sizeof(b->b_cluster_id), "%s", id);
	int dfd = open(b->b_cfg.bc_data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = dfd < 0 ? -errno : broker_write_meta(b, dfd);
	if (dfd >= 0)
		close(dfd);
	if (rc == 0)
		blog(BLOG_INFO, "cluster_joined", "cluster_id", id, NULL);
	return rc < 0 ? -1 : 0;
}

static int broker_meta(struct broker *b)
{
	const char *dir = b->b_cfg.bc_data_dir;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		blog(BLOG_ERROR, "start_failed", "reason", "cannot create data_dir", "data_dir",
		     dir, "error", strerror(errno), NULL);
		return -1;
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		blog(BLOG_ERROR, "start_failed", "reason", "cannot open data_dir", "data_dir", dir,
		     "error", strerror(errno), NULL);
		return -1;
	}
	int rc = broker_read_meta(b, dfd);
	/* Was the previous stop clean (every log closed)? Consumed here: from
	 * now on a crash is an unclean shutdown. */
	if (rc >= 0 && faccessat(dfd, BROKER_CLEAN_MARKER, F_OK, 0) == 0) {
		b->b_clean_start = true;
		if (unlinkat(dfd, BROKER_CLEAN_MARKER, 0) < 0 || fsync(dfd) < 0)
			rc = -1;
	}
	close(dfd);
	return rc < 0 ? -1 : 0;
}

/* After every log closed cleanly: the next start may say so. */
static void broker_mark_clean(struct broker *b)
{
	int dfd = open(b->b_cfg.bc_data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return;
	checkpoint_write(dfd, BROKER_CLEAN_MARKER, "", 0);
	close(dfd);
}

/* ---- listening -------------------------------------------------------- */

static int broker_listen(struct broker *b)
{
	char host[CONFIG_HOSTPORT_MAX], port[8];
	uint16_t p;
	if (config_parse_hostport(b->b_cfg.bc_listen, host, sizeof(host), &p) < 0)
		return -1;
	snprintf(port, sizeof(port), "%u", p);
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *res;
	int gai = getaddrinfo(host, port, &hints, &res);
	if (gai) {
		blog(BLOG_ERROR, "start_failed", "reason", "cannot resolve broker.listen", "listen",
		     b->b_cfg.bc_listen, "error", gai_strerror(gai), NULL);
		return -1;
	}
	int fd = -1, err = 0;
	for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			err = errno;
			continue;
		}
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
		    listen(fd, BROKER_LISTEN_BACKLOG) < 0) {
			err = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0) {
		blog(BLOG_ERROR, "start_failed", "reason", "cannot listen", "listen",
		     b->b_cfg.bc_listen, "error", strerror(err), NULL);
		return -1;
	}
	b->b_listen_fd = fd;
	return 0;
}

static void broker_accept_done(struct io_op *op, int res);

static void broker_accept_retry(struct timer *t)
{
	broker_maybe_accept(t->tm_ctx);
}

void broker_maybe_accept(struct broker *b)
{
	if (b->b_accept_inflight || b->b_stopping || b->b_listen_fd < 0)
		return;
	if (b->b_conn_count >= (uint32_t)b->b_cfg.bc_max_connections)
		return; /* resumed when a connection closes */
	b->b_accept_op.op_done = broker_accept_done;
	b->b_accept_op.op_ctx = b;
	if (reactor_accept(&b->b_reactor, &b->b_accept_op, b->b_listen_fd) == 0)
		b->b_accept_inflight = true;
}

static void broker_accept_done(struct io_op *op, int res)
{
	struct broker *b = op->op_ctx;
	b->b_accept_inflight = false;
	if (res >= 0) {
		int one = 1;
		setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (b->b_stopping)
			close(res);
		else
			conn_create(b, res);
	} else if (!b->b_stopping && res != -ECANCELED) {
		blog(BLOG_WARN, "accept_failed", "error", strerror(-res), NULL);
		if (res == -EMFILE || res == -ENFILE || res == -ENOMEM || res == -ENOBUFS) {
			/* Out of descriptors or memory: try again shortly, not at once. */
			timer_init(&b->b_accept_retry, broker_accept_retry, b);
			timer_arm(&b->b_reactor.re_timers, &b->b_accept_retry,
				  b->b_reactor.re_now_ms + BROKER_ACCEPT_RETRY_MS);
			return;
		}
	}
	broker_maybe_accept(b);
}

/* ---- signals and periodic work ---------------------------------------- */

static void broker_signal_done(struct io_op *op, int res)
{
	struct broker *b = op->op_ctx;
	b->b_signal_inflight = false;
	if (res == (int)sizeof(b->b_siginfo)) {
		int sig = (int)b->b_siginfo.ssi_signo;
		broker_stop(b, sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "signal");
	}
	if (b->b_signal_fd >= 0 && reactor_read(&b->b_reactor, &b->b_signal_op, b->b_signal_fd,
						&b->b_siginfo, sizeof(b->b_siginfo)) == 0)
		b->b_signal_inflight = true;
}

static int broker_signals(struct broker *b)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	b->b_signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (b->b_signal_fd < 0)
		return -1;
	b->b_signal_op.op_done = broker_signal_done;
	b->b_signal_op.op_ctx = b;
	if (reactor_read(&b->b_reactor, &b->b_signal_op, b->b_signal_fd, &b->b_siginfo,
			 sizeof(b->b_siginfo)) < 0)
		return -1;
	b->b_signal_inflight = true;
	return 0;
}

static int64_t broker_tick_ms(const struct broker *b)
{
	int64_t t = b->b_cfg.bc_flush_interval_ms;
	return t > 0 && t < 100 ? t : 100;
}

static void broker_tick(struct timer *t)
{
	struct broker *b = t->tm_ctx;
	bool housekeeping =
		b->b_reactor.re_now_ms - b->b_last_housekeeping_ms >= BROKER_HOUSEKEEPING_MS;
	if (housekeeping)
		b->b_last_housekeeping_ms = b->b_reactor.re_now_ms;
	topics_tick(b->b_topics, housekeeping);
	cluster_tick(b);
	coord_tick(b);
	cleaner_tick(b);
	timer_arm(&b->b_reactor.re_timers, &b->b_tick, b->b_reactor.re_now_ms + broker_tick_ms(b));
}

/* ---- start / run / stop ----------------------------------------------- */

static void broker_on_fsync(void *ctx, int64_t usec)
{
	struct broker *b = ctx;
	mt_observe_us(&b->b_metrics.mb_fsync, usec);
}

static void broker_on_storage_error(void *ctx, struct partition *p, const char *op, int err)
{
	if (broker_is_storage_error(err))
		replica_storage_failed(ctx, p, op, err);
}

int broker_start(struct broker *b, const struct broker_config *cfg)
{
	memset(b, 0, sizeof(*b));
	b->b_cfg = *cfg;
	b->b_listen_fd = -1;
	b->b_signal_fd = -1;
	blog_set_level(cfg->bc_log_level);
	if (config_parse_hostport(cfg->bc_advertised, b->b_adv_host, sizeof(b->b_adv_host),
				  &b->b_adv_port) < 0) {
		blog(BLOG_ERROR, "start_failed", "reason", "bad broker.advertised", "advertised",
		     cfg->bc_advertised, NULL);
		return -1;
	}
	if (broker_meta(b) < 0)
		return -1;
	uint32_t max_timers =
		(uint32_t)cfg->bc_max_connections * (uint32_t)cfg->bc_max_inflight_requests + 1024;
	int rc = reactor_init(&b->b_reactor, BROKER_RING_ENTRIES, max_timers);
	if (rc < 0) {
		blog(BLOG_ERROR, "start_failed", "reason", "io_uring is not available", "error",
		     strerror(-rc), NULL);
		return -1;
	}
	char err[512];
	struct topics_env env = {
		.te_data_dir = cfg->bc_data_dir,
		.te_io = reactor_engine(&b->b_reactor),
		.te_flush_interval_ms = cfg->bc_flush_interval_ms,
		.te_flush_bytes = cfg->bc_flush_bytes,
		.te_on_progress = replica_on_progress,
		.te_ctx = b,
		.te_on_fsync = broker_on_fsync,
		.te_fsync_ctx = b,
		.te_on_storage_error = broker_on_storage_error,
	};
	if (topics_open(&env, &b->b_topics, err, sizeof(err)) < 0) {
		blog(BLOG_ERROR, "start_failed", "reason", "cannot open topics", "error", err,
		     NULL);
		reactor_deinit(&b->b_reactor);
		return -1;
	}
	if (coord_init(b) < 0 || cleaner_start(b) < 0 || broker_listen(b) < 0 ||
	    broker_signals(b) < 0 || cluster_start(b) < 0 || mhttp_start(b, &b->b_mhttp) < 0) {
		cluster_stop(b);
		cleaner_stop(b);
		coord_deinit(b);
		topics_close(b->b_topics);
		reactor_deinit(&b->b_reactor);
		return -1;
	}
	timer_init(&b->b_accept_retry, broker_accept_retry, b);
	broker_maybe_accept(b);
	timer_init(&b->b_tick, broker_tick, b);
	timer_arm(&b->b_reactor.re_timers, &b->b_tick, b->b_reactor.re_now_ms + broker_tick_ms(b));
	char b1[BLOG_I64_BUF], b2[BLOG_I64_BUF];
	blog(BLOG_INFO, "broker_started", "id", blog_i64(b1, cfg->bc_id), "listen", cfg->bc_listen,
	     "advertised", cfg->bc_advertised, "data_dir", cfg->bc_data_dir, "cluster_id",
	     b->b_cluster_id, "topics", blog_i64(b2, topics_count(b->b_topics)), "config",
	     cfg->bc_source, NULL);
	return 0;
}

/* ---- storage failure -------------------------------------------------- */

/* The engine's first failed data op, when it was on a file of the
 * directory dir_fd (or on the directory itself): its name and path. */
static bool broker_failed_op(struct broker *b, int dir_fd, const char **op, char *file, size_t cap)
{
	const struct io_engine *e = reactor_engine(&b->b_reactor);
	struct stat dst, st;
	if (dir_fd < 0 || e->ie_failed_code == 0 || fstat(dir_fd, &dst) < 0)
		return false;
	char link[64];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", e->ie_failed_fd);
	ssize_t n = readlink(link, file, cap - 1);
	if (n <= 0)
		return false;
	file[n] = '\0';
	bool here = fstat(e->ie_failed_fd, &st) == 0 && st.st_dev == dst.st_dev &&
		    st.st_ino == dst.st_ino;
	char *slash = strrchr(file, '/');
	if (!here && slash && slash != file) {
		*slash = '\0';
		here = stat(file, &st) == 0 && st.st_dev == dst.st_dev && st.st_ino == dst.st_ino;
		*slash = '/';
	}
	if (here)
		*op = io_opcode_name(e->ie_failed_code);
	return here;
}

bool broker_is_storage_error(int rc)
{
	if (rc == RL_EFENCED)
		return true;
	return rc < 0 && rc > RL_EBASE && rc != -ENOMEM && rc != -EMFILE && rc != -ENFILE;
}

void broker_storage_failed(struct broker *b, const char *topic, int32_t partition, int dir_fd,
			   const char *op, int err)
{
	if (!b->b_storage_failed) {
		b->b_storage_failed = true;
		char file[CONFIG_PATH_MAX + 64] = "";
		if (!op && !broker_failed_op(b, dir_fd, &op, file, sizeof(file)))
			file[0] = '\0';
		char b1[BLOG_I64_BUF], b2[BLOG_I64_BUF];
		blog_i64(b2, BROKER_EXIT_STORAGE);
		if (topic)
			blog(BLOG_ERROR, "storage_failed", "topic", topic, "partition",
			     blog_i64(b1, partition), "op", op ? op : "unknown", "file", file,
			     "error", rl_strerror(err), "exit_status", b2, NULL);
		else
			blog(BLOG_ERROR, "storage_failed", "log", "metadata", "op",
			     op ? op : "unknown", "error", rl_strerror(err), "exit_status", b2,
			     NULL);
	}
	b->b_exit_code = BROKER_EXIT_STORAGE;
	broker_stop(b, "storage failure");
}

void broker_stop(struct broker *b, const char *why)
{
	if (b->b_stopping)
		return;
	b->b_stopping = true;
	b->b_stop_began_ms = b->b_reactor.re_now_ms;
	b->b_stop_deadline_ms = INT64_MAX;
	blog(BLOG_INFO, "broker_stopping", "reason", why, NULL);
	/* Controlled shutdown: leaderships move first, while we still serve. */
	cluster_begin_shutdown(b);
}

/* Stopping, phase 1: the controller moved what could move (bounded by a
 * session timeout: without a controller there is nobody to ask). */
static bool broker_handed_over(struct broker *b)
{
	return cluster_shutdown_ready(b) ||
	       b->b_reactor.re_now_ms >= b->b_stop_began_ms + b->b_cfg.bc_session_timeout_ms;
}

/* Stopping, phase 2: in-flight work drains and every log flushes. */
static bool broker_drained(struct broker *b)
{
	topics_flush_all(b->b_topics);
	return topics_quiet(b->b_topics) || b->b_reactor.re_now_ms >= b->b_stop_deadline_ms;
}

static void broker_stop_serving(struct broker *b)
{
	b->b_serving_stopped = true;
	b->b_stop_deadline_ms = b->b_reactor.re_now_ms + BROKER_SHUTDOWN_GRACE_MS;
	if (b->b_listen_fd >= 0) {
		shutdown(b->b_listen_fd, SHUT_RDWR);
		reactor_cancel_fd(&b->b_reactor, b->b_listen_fd);
	}
	topics_flush_all(b->b_topics);
}

int broker_run(struct broker *b)
{
	bool conns_closed = false;
	for (;;) {
		int rc = reactor_turn(&b->b_reactor, b->b_stopping ? 50 : -1);
		if (rc < 0 && rc != -EINTR) {
			blog(BLOG_ERROR, "reactor_failed", "error", strerror(-rc), NULL);
			if (!b->b_storage_failed)
				b->b_exit_code = 1;
			broker_stop(b, "reactor failure");
		}
		topics_reap(b->b_topics);
		if (!b->b_stopping)
			continue;
		if (!b->b_serving_stopped) {
			if (!broker_handed_over(b))
				continue;
			broker_stop_serving(b);
		}
		if (!conns_closed && broker_drained(b)) {
			while (b->b_conns)
				conn_close(b->b_conns, "broker shutting down");
			mhttp_stop(b->b_mhttp);
			cluster_stop(b);
			conns_closed = true;
		}
		if (conns_closed && !b->b_accept_inflight && topics_quiet(b->b_topics) &&
		    io_ring_engine(b->b_reactor.re_ring)->ie_inflight <=
			    (b->b_signal_inflight ? 1u : 0u))
			break;
		if (conns_closed && b->b_reactor.re_now_ms >= b->b_stop_deadline_ms + 5000)
			break; /* something never completed: leave anyway, unclean */
	}
	timer_cancel(&b->b_reactor.re_timers, &b->b_tick);
	timer_cancel(&b->b_reactor.re_timers, &b->b_accept_retry);
	coord_deinit(b);
	cleaner_stop(b); /* before the logs close: a run reads their files */
	if (!conns_closed)
		cluster_stop(b);
	int rc = topics_close(b->b_topics);
	if (rc < 0 && b->b_storage_failed) {
		/* Expected: the failed log is fenced and stays unclean. */
		blog(BLOG_WARN, "shutdown_unclean", "error", rl_strerror(rc), NULL);
	} else if (rc < 0) {
		blog(BLOG_ERROR, "shutdown_unclean", "error", rl_strerror(rc), NULL);
		b->b_exit_code = 1;
	} else if (!b->b_storage_failed) {
		/* After a storage failure the broker never says it stopped
		 * cleanly: it registers as after a crash (no eligibility kept). */
		broker_mark_clean(b);
	}
	if (b->b_listen_fd >= 0)
		close(b->b_listen_fd);
	if (b->b_signal_fd >= 0)
		close(b->b_signal_fd);
	mhttp_free(b->b_mhttp);
	b->b_mhttp = NULL;
	reactor_deinit(&b->b_reactor);
	blog(BLOG_INFO, "broker_stopped", "clean",
	     rc == 0 && !b->b_storage_failed ? "true" : "false", NULL);
	return b->b_exit_code;
}
