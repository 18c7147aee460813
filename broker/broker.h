/*
 * broker — replogd's top level: configuration, the reactor, the listening
 * socket, connections, topics, periodic work, signals and shutdown.
 *
 * Life cycle:
 *   broker_start   read meta.properties (cluster id; refuse a data_dir that
 *                  belongs to another node id), open and recover every
 *                  topic, bind and listen, block SIGTERM/SIGINT into a
 *                  signalfd;
 *   broker_run     the loop: deliver completions, run timers, reap deleted
 *                  topics, until a signal asks to stop;
 *   stopping       controlled shutdown first: the controller moves this
 *                  broker's leaderships while it still serves (bounded by a
 *                  session timeout); then stop accepting and reading new
 *                  requests, let in-flight requests finish (bounded), flush
 *                  every log, close connections, close every log cleanly so
 *                  the next start only checks the tail, and leave a marker
 *                  that says so.
 *   storage failure
 *                  a write or fsync of this broker's data failed (or the
 *                  metadata log's): after a failed fsync the page cache no
 *                  longer says what is on disk, so the broker crash-stops,
 *                  as Kafka does when its only log directory fails and as
 *                  PostgreSQL and Redpanda do on an fsync error. One
 *                  event=storage_failed line, every produce waiting on the
 *                  failed partition answered KAFKA_STORAGE_ERROR, then the
 *                  stop above (bounded: the failed log is fenced, so nothing
 *                  waits for it, and it is not marked clean), exit status
 *                  BROKER_EXIT_STORAGE. A restart recovers the log from
 *                  what is on disk (a torn tail is cut to discarded/).
 *
 * Everything runs on the one reactor thread; state is owned by it.
 */
#ifndef REPLOG_BROKER_H
#define REPLOG_BROKER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/signalfd.h>

#include "config.h"
#include "metrics.h"
#include "reactor.h"
#include "timer.h"
#include "topics.h"

/* Exit status after a storage failure: EX_IOERR (sysexits.h). */
#define BROKER_EXIT_STORAGE 74

struct conn;
struct cluster;
struct fetcher;

struct broker {
	struct broker_config b_cfg;
	struct reactor b_reactor;
	struct topics *b_topics;
	struct cluster *b_cluster;
	struct coord *b_coord;
	struct cleaner *b_cleaner;
		/* log compaction (cleaner.h) */ /* the group coordinator (coordinator.h) */
	struct fetcher *b_fetchers;		 /* replication from each leader */
	bool b_clean_start;			 /* the previous stop closed every log cleanly */
	char b_cluster_id[64];

	int b_listen_fd;
	struct io_op b_accept_op;
	bool b_accept_inflight;
	char b_adv_host[CONFIG_HOSTPORT_MAX];
	uint16_t b_adv_port;

	struct conn *b_conns; /* all open connections (intrusive list) */
	uint32_t b_conn_count;
	uint64_t b_next_conn_id;

	int b_signal_fd;
	struct io_op b_signal_op;
	struct signalfd_siginfo b_siginfo;
	bool b_signal_inflight;

	struct mt_broker b_metrics;
	struct mhttp *b_mhttp; /* GET /metrics, when metrics.listen is set */

	struct timer b_tick; /* periodic work: flush ticks, retention, HW checkpoints */
	int64_t b_last_housekeeping_ms;
	struct timer b_accept_retry; /* after EMFILE and the like */
	bool b_stopping;	     /* asked to stop: handing over leaderships */
	bool b_serving_stopped;	     /* no longer reading requests: draining */
	int64_t b_stop_began_ms;
	int64_t b_stop_deadline_ms;
	int b_exit_code;
	bool b_storage_failed; /* crash-stopping after a storage error (sticky) */
};

/* Returns 0, or -1 after logging why (the message names the cause). */
int broker_start(struct broker *b, const struct broker_config *cfg);
/* Runs until stopped; returns the process exit code. */
int broker_run(struct broker *b);
/* Learn the cluster id from the controller's metadata: recorded in
 * meta.properties the first time; -1 (logged) when the data directory
 * belongs to another cluster. */
int broker_adopt_cluster_id(struct broker *b, const char *id);
/* A new random cluster id (22 characters of base64url) into out. */
void broker_new_cluster_id(char *out, size_t cap);
void broker_stop(struct broker *b, const char *why);

/* A storage error that leaves disk and memory possibly apart: log
 * event=storage_failed once (later calls only stop), then stop as for
 * SIGTERM with exit status BROKER_EXIT_STORAGE. topic NULL means the
 * metadata log. dir_fd: the failed partition's directory, to name the
 * failing file and op from the I/O engine's first failure when op is NULL;
 * -1 when unknown. err: -errno or an RL_E* code. The caller has already
 * failed what waits on the failed log. */
void broker_storage_failed(struct broker *b, const char *topic, int32_t partition, int dir_fd,
			   const char *op, int err);

/* Is rc, from a log or metadata-log call, the disk failing: a -errno other
 * than running out of memory or descriptors, or RL_EFENCED (an earlier
 * failure)? Refusals (RL_EORDER, RL_ETOO_LARGE, ...) are not. */
bool broker_is_storage_error(int rc);

/* Resume accepting after a connection closed (max_connections). */
void broker_maybe_accept(struct broker *b);

#endif
