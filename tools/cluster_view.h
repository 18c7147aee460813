/*
 * cluster_view — the cluster as the online `replog` commands see it: the
 * --bootstrap-server list and --timeout-ms options, one Metadata answer
 * (from the first bootstrap server that gives one), the table of live
 * brokers it names, and one request asked of every one of them, each
 * answer kept beside the broker that gave it. Prefix cview_*.
 *
 * What it owns: the connections (kclient, one per broker, plus the
 * bootstrap one), and thereby every decoded answer; they live until
 * cview_deinit(). Brokers are asked one after the other, each within its
 * own --timeout-ms budget, so a run is bounded by (bootstrap servers tried
 * + brokers) x timeout.
 *
 * Reporting: every broker that does not answer is reported on stderr, one
 * line each, prefixed with the command's name and naming the broker and the
 * cause; the caller decides what that means for its exit code.
 */
#ifndef REPLOG_CLUSTER_VIEW_H
#define REPLOG_CLUSTER_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <getopt.h>

#include "kclient.h"

#define CVIEW_DEFAULT_BOOTSTRAP "127.0.0.1:9092"
#define CVIEW_METADATA_VERSION	7 /* leader epochs, offline replicas */
#define CVIEW_MAX_BROKERS	1024
#define CVIEW_MAX_BOOTSTRAP	64
#define CVIEW_MAX_TOPICS	256 /* --topic given at most this often */

struct cview_broker {
	int32_t cb_id;
	char cb_addr[KCLIENT_ADDR_MAX]; /* "host:port" from the Metadata answer */
	struct kclient cb_conn;		/* owned; holds cb_resp's memory */
	bool cb_answered;
	union kp_response_body cb_resp; /* valid when cb_answered */
};

struct cview {
	const char *cv_prefix; /* borrowed: "replog topics describe: " */
	int cv_timeout_ms;
	struct kclient cv_boot; /* owned: the bootstrap connection that answered */
	char cv_boot_addr[KCLIENT_ADDR_MAX];
	bool cv_have_md;
	struct kp_metadata_response cv_md; /* views into cv_boot's memory */
	struct cview_broker *cv_brokers;   /* owned: cv_md's brokers, by id */
	int32_t cv_nbrokers;
	int32_t cv_nanswered; /* of the last cview_ask_all() */
	bool cv_auto_create;  /* Metadata may create the topics it names */
};

/* prefix must outlive cv. */
void cview_init(struct cview *cv, const char *prefix, int timeout_ms);
void cview_deinit(struct cview *cv);

/* Check a --bootstrap-server value: 1..CVIEW_MAX_BOOTSTRAP comma-separated
 * HOST:PORT. Returns 0, or KCLIENT_EADDR with the offending piece in why. */
int cview_check_bootstrap(const char *list, char *why, size_t why_cap);

/* ---- the options every online command shares ---------------------------- */

struct cview_args {
	const char *ca_bootstrap; /* --bootstrap-server (default CVIEW_DEFAULT_BOOTSTRAP) */
	char *ca_topics[CVIEW_MAX_TOPICS]; /* --topic, borrowed from argv */
	int ca_ntopics;
	int ca_timeout_ms; /* --timeout-ms (default KCLIENT_DEFAULT_TIMEOUT_MS) */
};

/* getopt_long values: --timeout-ms, then the command's own long options. */
enum { CVIEW_OPT_TIMEOUT = 256, CVIEW_OPT_EXTRA };

#define CVIEW_SHORT_OPTIONS ":b:t:h"
/* clang-format off */
#define CVIEW_LONG_OPTIONS                                                \
	{"bootstrap-server", required_argument, NULL, 'b'},               \
	{"topic", required_argument, NULL, 't'},                          \
	{"timeout-ms", required_argument, NULL, CVIEW_OPT_TIMEOUT},       \
	{"help", no_argument, NULL, 'h'}
/* clang-format on */

struct cview_cli {
	const char *cc_prefix;		 /* "replog discarded: ", for errors */
	const char *cc_name;		 /* "replog discarded", for "Try '... --help'" */
	const char *cc_help;		 /* printed by --help */
	const struct option *cc_options; /* CVIEW_LONG_OPTIONS, the command's own, {0} */
	/* A long option of the command's own (>= CVIEW_OPT_EXTRA). */
	void (*cc_extra)(int opt, void *ctx);
	void *cc_ctx;
};

/* Parse argv (argv[0] is the command). Returns -1 to go on, or the exit
 * code to return now: 0 after --help, 2 after a usage error (reported on
 * stderr with a pointer to --help). */
int cview_parse_args(int argc, char **argv, const struct cview_cli *cli, struct cview_args *a);

/* Metadata (CVIEW_METADATA_VERSION, never creating topics) for `topics`
 * (ntopics 0 = every topic), from the first server of the comma-separated
 * `bootstrap` list that answers; each one that does not is reported.
 * Fills cv_md and cv_brokers. Returns 0, or the last server's error when
 * none answered. */
int cview_metadata(struct cview *cv, const char *bootstrap, char *const *topics, int ntopics);

/* Ask every broker in cv_brokers (api_key, version 0, req); each one that
 * does not answer, or answers with a top-level error, is reported.
 * Returns how many answered (also in cv_nanswered). */
int cview_ask_all(struct cview *cv, int16_t api_key, const union kp_request_body *req);

/* The broker with that id in the Metadata answer, or NULL (not alive). */
const struct cview_broker *cview_broker(const struct cview *cv, int32_t id);

/* The leader of topic-partition by cv_md. Returns 0 with *leader set; or
 * the Kafka error code (> 0) that stands in the way: the topic's own error
 * (UNKNOWN_TOPIC_OR_PARTITION, ...), UNKNOWN_TOPIC_OR_PARTITION for a
 * partition the topic does not have, the partition's error, or
 * LEADER_NOT_AVAILABLE when it names no leader or one that is not alive. */
int cview_find_leader(const struct cview *cv, const char *topic, int32_t partition,
		      const struct cview_broker **leader);

/* CLOCK_MONOTONIC in milliseconds; sleep that long (EINTR resumed). */
int64_t cview_now_ms(void);
void cview_sleep_ms(int64_t ms);

/* Between two looks for a leader that is not there yet. */
#define CVIEW_LEADER_BACKOFF_MS 100

/* Connect *kc (caller's, deinit by the caller in every case) to the leader
 * of topic-partition, found by Metadata from the bootstrap list. While
 * there is no leader (LEADER_NOT_AVAILABLE, NOT_LEADER_OR_FOLLOWER) or it
 * does not answer, look again every CVIEW_LEADER_BACKOFF_MS until
 * deadline_ms (cview_now_ms() clock). Returns 0 with kc connected (a fresh
 * budget of timeout_ms) and *leader_id set; or -1 with the reason on
 * stderr, prefixed: no bootstrap server answered, the topic or partition
 * does not exist (at once), another Kafka error, or the deadline passed. */
int cview_connect_leader(const char *prefix, const char *bootstrap, const char *topic,
			 int32_t partition, int timeout_ms, int64_t deadline_ms, bool auto_create,
			 struct kclient *kc, int32_t *leader_id);

/* "2023-11-14T22:13:20.000Z" (ISO-8601 UTC, milliseconds). */
void cview_format_time(char *buf, size_t cap, int64_t ms);
/* Replica brokers of the topics ts[0..nts) (NULL: every topic of the
 * metadata) that the metadata says are not alive: one stderr line each,
 * "<prefix>broker N is not alive according to the metadata from ADDR:
 * not asked<suffix>". Their ids go to seen[] (CVIEW_MAX_BROKERS long, may
 * be NULL). Returns how many. */
int32_t cview_report_down(const struct cview *cv, const struct kp_metadata_response_topic **ts,
			  int32_t nts, const char *suffix, int32_t *seen);

/* "1,2,3" into buf (truncated with "..." if it does not fit). */
void cview_format_ids(char *buf, size_t cap, const int32_t *ids, int32_t count);

#endif
