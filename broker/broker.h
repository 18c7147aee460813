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

/* Resume accepting after a connection closed (max_connections). */
void broker_maybe_accept(struct broker *b);

#endif
