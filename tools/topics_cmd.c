/*
 * topics_cmd — `replog topics create|list|describe|delete` (API in
 * topics_cmd.h).
 *
 * create and delete send one CreateTopics (v4) / DeleteTopics (v3) to the
 * active controller, the only broker that answers them (the others say
 * NOT_CONTROLLER). It is found from Metadata's controller_id; a refusal
 * with NOT_CONTROLLER, or a controller that cannot be named or reached,
 * sends the tool back to the Metadata, a bounded number of times within
 * --timeout-ms (topics_admin_call). list prints the Metadata's topic names.
 *
 * describe:
 * What this file owns: the command line of `replog topics`, putting the
 * Metadata answer (leaders, leader epochs, replicas, ISR, offline replicas:
 * the controller's view, from one broker) together with every broker's
 * ReplogDescribeReplicas answer (each replica's own view: its offsets, its
 * role, the ELR it knows, and on the leader the followers' fetch offsets),
 * and printing one line per topic and one per partition in kafka-topics'
 * `Label: value` form, tab-separated, so scripts that cut by label work.
 *
 * Per replica, one token in Offsets: and Flushed: (in replica order):
 *   <id>:<LEO>/<HW>    what that replica reported (Flushed: <id>:<offset>)
 *   <id>:down          the broker is not alive according to the Metadata
 *                      answer (no address to ask)
 *   <id>:unreachable   alive on paper, but it did not answer in time
 *   <id>:missing       it answered, without this partition
 *   <id>:error=<NAME>  it holds the replica with a storage error
 * A partition is under-replicated when its ISR is smaller than its replica
 * list, offline when it has no leader or its leader is not alive: the same
 * rules as kafka-topics' --under-replicated-partitions and
 * --unavailable-partitions.
 */
#include "topics_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster_view.h"
#include "kp_api.h"
#include "rlassert.h"

#define TOPICS_PREFIX	     "replog topics describe: "
#define TOPICS_CREATE_PREFIX "replog topics create: "
#define TOPICS_DELETE_PREFIX "replog topics delete: "
#define TOPICS_LIST_PREFIX   "replog topics list: "
/* --config given at most this often (Kafka has ~30 topic configs). */
#define TOPICS_MAX_CONFIGS 64
/* CreateTopics v4: -1 means the broker's default; v1+ carries messages. */
#define TOPICS_CREATE_VERSION 4
#define TOPICS_DELETE_VERSION 3
/* Looking for the controller again after NOT_CONTROLLER or no answer: at
 * most this many tries, this far apart, all within --timeout-ms. */
#define TOPICS_ADMIN_ATTEMPTS	20
#define TOPICS_ADMIN_BACKOFF_MS 100
#define TOPICS_INTERNAL		"__cluster_metadata"
#define TOPICS_IDS_BUF		1024

const char topics_help[] =
	"NAME\n"
	"    replog topics - create, list, describe and delete the topics of a running\n"
	"    cluster\n"
	"\n"
	"SYNOPSIS\n"
	"    replog topics create --topic TOPIC [--partitions N] [--replication-factor N]\n"
	"                         [--config KEY=VALUE]... [--if-not-exists]\n"
	"                         [--bootstrap-server HOST:PORT[,HOST:PORT...]]\n"
	"                         [--timeout-ms N]\n"
	"    replog topics list [--bootstrap-server HOST:PORT[,HOST:PORT...]]\n"
	"                       [--timeout-ms N]\n"
	"    replog topics describe [--bootstrap-server HOST:PORT[,HOST:PORT...]]\n"
	"                           [--topic TOPIC]... [--under-replicated-partitions]\n"
	"                           [--unavailable-partitions] [--timeout-ms N]\n"
	"    replog topics delete --topic TOPIC\n"
	"                         [--bootstrap-server HOST:PORT[,HOST:PORT...]]\n"
	"                         [--timeout-ms N]\n"
	"    replog topics --help\n"
	"\n"
	"    Each action may also be spelled as kafka-topics.sh does (--create,\n"
	"    --list, --describe, --delete).\n"
	"\n"
	"DESCRIPTION\n"
	"    create\n"
	"        Like kafka-topics.sh --create. A Metadata request (v7) to the first\n"
	"        bootstrap server that answers names the active controller\n"
	"        (controller_id); CreateTopics (v4) goes to it, as only the controller\n"
	"        creates topics. If it answers NOT_CONTROLLER, or the metadata names no\n"
	"        live controller, or the controller does not answer, the metadata is\n"
	"        asked again and the request sent again, 100 ms apart, at most 20\n"
	"        times and while --timeout-ms has not passed since the start. The\n"
	"        answer comes once the controller has made the topic durable; the\n"
	"        other brokers learn of it shortly after.\n"
	"\n"
	"    list\n"
	"        Like kafka-topics.sh --list: the names of the topics in the Metadata\n"
	"        answer of the first bootstrap server that answers. Internal topics\n"
	"        (__cluster_metadata) are never listed.\n"
	"\n"
	"    describe\n"
	"        Like kafka-topics.sh --describe, plus the offsets of every replica.\n"
	"        First a Metadata request (v7) goes to the first bootstrap server that\n"
	"        answers: it gives the live brokers, the topics, and per partition the\n"
	"        leader, the leader epoch, the replicas, the ISR and the offline\n"
	"        replicas, as the controller last told that broker. Then every live\n"
	"        broker is asked for its own view of the replicas it holds\n"
	"        (ReplogDescribeReplicas): log end offset (LEO), high watermark (HW),\n"
	"        flushed offset, role, eligible leader replicas, and on the leader\n"
	"        each follower's fetch offset. Brokers are asked one after the other,\n"
	"        each within --timeout-ms. Nothing is changed and no topic is created.\n"
	"\n"
	"        A broker that does not answer does not make the command fail: what is\n"
	"        known is printed, its replicas are marked, and one line on stderr\n"
	"        names it and the cause (connection refused, timed out, ...).\n"
	"\n"
	"        The internal metadata log (__cluster_metadata) is not a topic clients\n"
	"        see; brokers do not describe it. Read it offline with\n"
	"        `replog dump-log <data_dir>/__cluster_metadata-0`.\n"
	"\n"
	"    delete\n"
	"        Like kafka-topics.sh --delete: DeleteTopics (v3) to the active\n"
	"        controller, found and retried as for create. The topic leaves the\n"
	"        metadata at once; every broker removes its files once idle.\n"
	"\n"
	"OPTIONS\n"
	"    -b, --bootstrap-server HOST:PORT[,HOST:PORT...]\n"
	"        Brokers to ask for the Metadata, tried in order until one answers\n"
	"        (default 127.0.0.1:9092). IPv6 addresses as [ADDR]:PORT. Any broker\n"
	"        will do for create and delete: the controller is found from it.\n"
	"    -t, --topic TOPIC\n"
	"        create, delete: the topic (exactly once).\n"
	"        describe: describe only this topic (may be given several times). A\n"
	"        topic that does not exist is an error (exit status 1); the others\n"
	"        are still described.\n"
	"    --partitions N\n"
	"        create: number of partitions, 1 or more (default -1: the broker's\n"
	"        topic_defaults.partitions).\n"
	"    --replication-factor N\n"
	"        create: replicas per partition, 1 up to the number of brokers\n"
	"        (default -1: the broker's topic_defaults.replication_factor).\n"
	"    --config KEY=VALUE\n"
	"        create: a topic config by Kafka's name, e.g. min.insync.replicas=2,\n"
	"        retention.ms=86400000 (may be given several times, at most 64). The\n"
	"        controller checks names and values (INVALID_CONFIG otherwise).\n"
	"    --if-not-exists\n"
	"        create: a topic that already exists is not an error (exit status 0,\n"
	"        nothing printed). Its settings are not compared with the options.\n"
	"    --under-replicated-partitions\n"
	"        describe: print only partitions whose ISR is smaller than their\n"
	"        replica list, and no topic lines.\n"
	"    --unavailable-partitions\n"
	"        describe: print only partitions without a live leader, and no topic\n"
	"        lines. With both filters, a partition matching either is printed.\n"
	"    --timeout-ms N\n"
	"        Time allowed for each broker, connecting included (default 5000,\n"
	"        at most 600000). describe takes at most (bootstrap servers tried +\n"
	"        live brokers) x N; create and delete give up on finding the\n"
	"        controller after N ms.\n"
	"    -h, --help\n"
	"        Print this manual.\n"
	"\n"
	"OUTPUT\n"
	"    create: `Created topic TOPIC.` on stdout.\n"
	"    delete: `Deleted topic TOPIC.` on stdout.\n"
	"    list: one topic name per line, sorted by name (byte order).\n"
	"\n"
	"    When the controller refuses a create or delete, one line on stderr\n"
	"    names the topic, the Kafka error by name and code, and the controller's\n"
	"    message, e.g.\n"
	"      replog topics create: topic 'orders' not created: TOPIC_ALREADY_EXISTS\n"
	"        (36): topic \"orders\" already exists\n"
	"      replog topics create: topic 'orders' not created:\n"
	"        INVALID_REPLICATION_FACTOR (38): replication_factor: must be at most\n"
	"        the number of brokers (3), got 5\n"
	"      replog topics delete: topic 'nope' not deleted:\n"
	"        UNKNOWN_TOPIC_OR_PARTITION (3): it does not exist\n"
	"    When no broker answers, one line per server tried names it and the\n"
	"    cause, then a summary, e.g.\n"
	"      replog topics list: no metadata from bootstrap server 127.0.0.1:9099:\n"
	"        connection refused by 127.0.0.1:9099 (is the broker running?)\n"
	"      replog topics list: no bootstrap server answered (tried 127.0.0.1:9099)\n"
	"\n"
	"    describe: on stdout, per topic (sorted by name) one line, then one line\n"
	"    per partition, fields separated by tabs (shown here as spaces, and each\n"
	"    partition line wrapped; it is one line):\n"
	"      Topic: t PartitionCount: 3 ReplicationFactor: 3 Configs: N/A\n"
	"          Topic: t Partition: 0 Leader: 1 LeaderEpoch: 4 Replicas: 1,2,3\n"
	"          Isr: 1,2 Elr: 3 Offline: 3 Offsets: 1:120/118,2:120/118,3:down\n"
	"          Flushed: 1:120,2:118,3:down FollowerLag: 2:0,3:40 Discarded:\n"
	"          Status: under-replicated\n"
	"    Leader: none means no leader. Elr: eligible leader replicas outside the\n"
	"    ISR, from the replica with the newest partition epoch (N/A if no\n"
	"    replica answered). Offline: replicas on brokers that are not alive.\n"
	"    Offsets: per replica <id>:<LEO>/<HW> as that replica reports it, or\n"
	"      <id>:down          its broker is not alive (not asked)\n"
	"      <id>:unreachable   its broker did not answer\n"
	"      <id>:missing       its broker answered without this partition\n"
	"      <id>:error=<NAME>  its broker reports an error for the replica\n"
	"    Flushed: the same with the offset up to which the replica's log is\n"
	"    fsynced. FollowerLag: per follower, the leader's LEO minus the offset\n"
	"    the follower last fetched from, as the leader sees it (<id>:? when the\n"
	"    leader has no fetch from it yet, N/A when the leader did not answer or\n"
	"    does not lead). Discarded: per replica that truncated writes away\n"
	"    since its broker started, <id>:<discards>/<records> (listed by\n"
	"    `replog discarded`; empty when none). Status: ok, under-replicated\n"
	"    (ISR smaller than the replicas), offline (no leader, or the leader\n"
	"    is not alive), or both separated by a comma. Configs: N/A: replog\n"
	"    brokers do not serve DescribeConfigs yet.\n"
	"\n"
	"    describe, on stderr: one line per broker that did not answer, and per\n"
	"    replica broker that is not alive, e.g.\n"
	"      replog topics describe: broker 3 did not answer: timed out after 5000 ms\n"
	"        waiting for the ReplogDescribeReplicas response from 127.0.0.1:9094\n"
	"      replog topics describe: broker 2 is not alive according to the metadata\n"
	"        from 127.0.0.1:9092: not asked\n"
	"\n"
	"EXIT STATUS\n"
	"    create, delete, list:\n"
	"    0  done (create --if-not-exists: also when the topic already exists)\n"
	"    1  the controller refused (the Kafka error is on stderr), or no\n"
	"       bootstrap server or controller answered within --timeout-ms\n"
	"    2  usage error: unknown action or option, bad value, --topic missing\n"
	"\n"
	"    describe:\n"
	"    0  described (some brokers may not have answered: see stderr)\n"
	"    1  a topic named with --topic does not exist (the others are described)\n"
	"    2  usage error: unknown action or option, bad value\n"
	"    3  no bootstrap server answered the Metadata request, or the output\n"
	"       could not be written\n"
	"\n"
	"EXAMPLES\n"
	"    A topic of 6 partitions on 3 brokers, acks=all needing 2 in sync:\n"
	"      replog topics create --topic orders --partitions 6 \\\n"
	"          --replication-factor 3 --config min.insync.replicas=2\n"
	"    Idempotent, in a deploy script, with the broker's defaults:\n"
	"      replog topics create --topic audit --if-not-exists -b 10.0.0.1:9092\n"
	"    Every topic, one per line:\n"
	"      replog topics list --bootstrap-server 127.0.0.1:9092\n"
	"    Every topic of a local cluster, in detail:\n"
	"      replog topics describe --bootstrap-server 127.0.0.1:9092\n"
	"    What is not fully replicated, with a short timeout per broker:\n"
	"      replog topics describe -b 10.0.0.1:9092,10.0.0.2:9092 \\\n"
	"          --under-replicated-partitions --timeout-ms 2000\n"
	"    One topic:\n"
	"      replog topics describe --topic orders\n"
	"    Remove it:\n"
	"      replog topics delete --topic orders\n";

struct topics_opts {
	struct cview_args to_args;
	bool to_under_replicated;
	bool to_unavailable;
	/* create */
	int32_t to_partitions;			    /* --partitions, -1 = the broker's default */
	int16_t to_replication_factor;		    /* --replication-factor, -1 = the default */
	const char *to_configs[TOPICS_MAX_CONFIGS]; /* --config key=value, borrowed */
	int to_nconfigs;
	bool to_if_not_exists;
	char to_bad[160]; /* the first bad value of an option of our own, "" = none */
};

enum {
	TOPICS_OPT_UNDER = CVIEW_OPT_EXTRA,
	TOPICS_OPT_UNAVAILABLE,
	TOPICS_OPT_PARTITIONS,
	TOPICS_OPT_RF,
	TOPICS_OPT_CONFIG,
	TOPICS_OPT_IF_NOT_EXISTS,
};

static const struct option topics_long_options[] = {
	CVIEW_LONG_OPTIONS,
	{"under-replicated-partitions", no_argument, NULL, TOPICS_OPT_UNDER},
	{"unavailable-partitions", no_argument, NULL, TOPICS_OPT_UNAVAILABLE},
	{NULL, 0, NULL, 0},
};

static const struct option topics_create_options[] = {
	CVIEW_LONG_OPTIONS,
	{"partitions", required_argument, NULL, TOPICS_OPT_PARTITIONS},
	{"replication-factor", required_argument, NULL, TOPICS_OPT_RF},
	{"config", required_argument, NULL, TOPICS_OPT_CONFIG},
	{"if-not-exists", no_argument, NULL, TOPICS_OPT_IF_NOT_EXISTS},
	{NULL, 0, NULL, 0},
};

/* delete and list: the shared options only. */
static const struct option topics_plain_options[] = {
	CVIEW_LONG_OPTIONS,
	{NULL, 0, NULL, 0},
};

/* An integer in [min, max], the whole string. */
static bool topics_parse_int(const char *s, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (end == s || *end || errno || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static void topics_extra_option(int opt, void *ctx)
{
	struct topics_opts *o = ctx;
	long v;
	if (o->to_bad[0])
		return; /* the first error is the one reported */
	switch (opt) {
	case TOPICS_OPT_UNDER:
		o->to_under_replicated = true;
		break;
	case TOPICS_OPT_UNAVAILABLE:
		o->to_unavailable = true;
		break;
	case TOPICS_OPT_PARTITIONS:
		if (!topics_parse_int(optarg, -1, INT32_MAX, &v) || v == 0)
			snprintf(o->to_bad, sizeof(o->to_bad),
				 "--partitions '%.64s': expected a count from 1 to %d, or -1",
				 optarg, INT32_MAX);
		else
			o->to_partitions = (int32_t)v;
		break;
	case TOPICS_OPT_RF:
		if (!topics_parse_int(optarg, -1, INT16_MAX, &v) || v == 0)
			snprintf(o->to_bad, sizeof(o->to_bad),
				 "--replication-factor '%.64s': expected a count from 1 to %d, "
				 "or -1",
				 optarg, INT16_MAX);
		else
			o->to_replication_factor = (int16_t)v;
		break;
	case TOPICS_OPT_CONFIG: {
		const char *eq = strchr(optarg, '=');
		if (!eq || eq == optarg)
			snprintf(o->to_bad, sizeof(o->to_bad),
				 "--config '%.64s': expected key=value", optarg);
		else if (o->to_nconfigs >= TOPICS_MAX_CONFIGS)
			snprintf(o->to_bad, sizeof(o->to_bad), "--config: at most %d",
				 TOPICS_MAX_CONFIGS);
		else
			o->to_configs[o->to_nconfigs++] = optarg;
		break;
	}
	case TOPICS_OPT_IF_NOT_EXISTS:
		o->to_if_not_exists = true;
		break;
	default:
		break;
	}
}

/* ---- putting the answers together ---------------------------------------- */

/* What the brokers answered about one topic: per broker (cv_brokers order)
 * its replica topic, or NULL. */
struct topics_view {
	const struct cview *tv_cv;
	const struct kp_replog_replica_topic **tv_rt; /* owned array, cv_nbrokers long */
};

static const struct kp_replog_replica_topic *topics_find_rt(const struct cview_broker *cb,
							    struct kp_str name)
{
	if (!cb->cb_answered)
		return NULL;
	const struct kp_replog_describe_response *r = &cb->cb_resp.replog_describe_replicas;
	for (int32_t i = 0; i < r->topics_count; i++)
		if (kp_str_eq(r->topics[i].name, name))
			return &r->topics[i];
	return NULL;
}

static void topics_view_fill(struct topics_view *tv, struct kp_str name)
{
	for (int32_t i = 0; i < tv->tv_cv->cv_nbrokers; i++)
		tv->tv_rt[i] = topics_find_rt(&tv->tv_cv->cv_brokers[i], name);
}

/* One replica's state as its broker reported it. */
enum topics_replica_state {
	TOPICS_R_OK,
	TOPICS_R_DOWN,	      /* not alive by the metadata */
	TOPICS_R_UNREACHABLE, /* did not answer */
	TOPICS_R_MISSING,     /* answered without this partition */
	TOPICS_R_ERROR,	      /* answered with an error for it */
};

static enum topics_replica_state topics_replica(const struct topics_view *tv, int32_t id,
						int32_t partition,
						const struct kp_replog_replica **out)
{
	*out = NULL;
	const struct cview_broker *cb = cview_broker(tv->tv_cv, id);
	if (!cb)
		return TOPICS_R_DOWN;
	if (!cb->cb_answered)
		return TOPICS_R_UNREACHABLE;
	const struct kp_replog_replica_topic *rt = tv->tv_rt[cb - tv->tv_cv->cv_brokers];
	for (int32_t i = 0; rt && i < rt->partitions_count; i++)
		if (rt->partitions[i].partition_index == partition) {
			*out = &rt->partitions[i];
			return rt->partitions[i].error_code ? TOPICS_R_ERROR : TOPICS_R_OK;
		}
	return TOPICS_R_MISSING;
}

/* "<id>:<what>" of one replica for the Offsets: (flushed false) or
 * Flushed: (true) field. */
static void topics_print_replica(FILE *out, const struct topics_view *tv, int32_t id,
				 int32_t partition, bool flushed)
{
	const struct kp_replog_replica *r;
	switch (topics_replica(tv, id, partition, &r)) {
	case TOPICS_R_OK:
		if (flushed)
			fprintf(out, "%" PRId32 ":%" PRId64, id, r->flushed_offset);
		else
			fprintf(out, "%" PRId32 ":%" PRId64 "/%" PRId64, id, r->log_end_offset,
				r->high_watermark);
		return;
	case TOPICS_R_DOWN:
		fprintf(out, "%" PRId32 ":down", id);
		return;
	case TOPICS_R_UNREACHABLE:
		fprintf(out, "%" PRId32 ":unreachable", id);
		return;
	case TOPICS_R_MISSING:
		fprintf(out, "%" PRId32 ":missing", id);
		return;
	case TOPICS_R_ERROR:
		fprintf(out, "%" PRId32 ":error=%s", id, kp_error_name(r->error_code));
		return;
	}
}

static void topics_print_ids(FILE *out, const int32_t *ids, int32_t count)
{
	for (int32_t i = 0; i < count; i++)
		fprintf(out, "%s%" PRId32, i ? "," : "", ids[i]);
}

/* The ELR as known by the answering replica with the newest partition
 * epoch; false when no replica answered about this partition. */
static bool topics_elr(const struct topics_view *tv, const struct kp_metadata_response_partition *p,
		       const struct kp_replog_replica **best)
{
	*best = NULL;
	for (int32_t i = 0; i < p->replica_nodes_count; i++) {
		const struct kp_replog_replica *r;
		if (topics_replica(tv, p->replica_nodes[i], p->partition_index, &r) != TOPICS_R_OK)
			continue;
		if (!*best || r->partition_epoch > (*best)->partition_epoch)
			*best = r;
	}
	return *best != NULL;
}

/* FollowerLag: from the leader's own answer, if it leads. */
static void topics_print_lag(FILE *out, const struct topics_view *tv,
			     const struct kp_metadata_response_partition *p)
{
	const struct kp_replog_replica *l = NULL;
	if (p->leader_id < 0 ||
	    topics_replica(tv, p->leader_id, p->partition_index, &l) != TOPICS_R_OK ||
	    l->role != KP_REPLOG_ROLE_LEADER) {
		fputs("N/A", out);
		return;
	}
	int n = 0;
	for (int32_t i = 0; i < p->replica_nodes_count; i++) {
		int32_t id = p->replica_nodes[i];
		if (id == p->leader_id)
			continue;
		const struct kp_replog_follower *f = NULL;
		for (int32_t k = 0; k < l->followers_count; k++)
			if (l->followers[k].replica_id == id)
				f = &l->followers[k];
		if (f && f->log_end_offset >= 0)
			fprintf(out, "%s%" PRId32 ":%" PRId64, n ? "," : "", id,
				l->log_end_offset - f->log_end_offset);
		else
			fprintf(out, "%s%" PRId32 ":?", n ? "," : "", id);
		n++;
	}
}

/* Discarded: per replica that recorded any, <id>:<events>/<records>. */
static void topics_print_discarded(FILE *out, const struct topics_view *tv,
				   const struct kp_metadata_response_partition *p)
{
	int n = 0;
	for (int32_t i = 0; i < p->replica_nodes_count; i++) {
		const struct kp_replog_replica *r = NULL;
		if (topics_replica(tv, p->replica_nodes[i], p->partition_index, &r) !=
			    TOPICS_R_OK ||
		    r->discarded_events <= 0)
			continue;
		fprintf(out, "%s%" PRId32 ":%" PRId32 "/%" PRId64, n++ ? "," : "",
			p->replica_nodes[i], r->discarded_events, r->discarded_records);
	}
}

static bool topics_under_replicated(const struct kp_metadata_response_partition *p)
{
	return p->isr_nodes_count < p->replica_nodes_count;
}

static bool topics_offline(const struct cview *cv, const struct kp_metadata_response_partition *p)
{
	return p->leader_id < 0 || !cview_broker(cv, p->leader_id);
}

static void topics_print_partition(FILE *out, const struct topics_view *tv, struct kp_str topic,
				   const struct kp_metadata_response_partition *p)
{
	fprintf(out, "\tTopic: %.*s\tPartition: %" PRId32 "\tLeader: ", (int)topic.len, topic.ptr,
		p->partition_index);
	if (p->leader_id >= 0)
		fprintf(out, "%" PRId32, p->leader_id);
	else
		fputs("none", out);
	fprintf(out, "\tLeaderEpoch: %" PRId32 "\tReplicas: ", p->leader_epoch);
	topics_print_ids(out, p->replica_nodes, p->replica_nodes_count);
	fputs("\tIsr: ", out);
	topics_print_ids(out, p->isr_nodes, p->isr_nodes_count);
	fputs("\tElr: ", out);
	const struct kp_replog_replica *best;
	if (topics_elr(tv, p, &best))
		topics_print_ids(out, best->elr, best->elr_count);
	else
		fputs("N/A", out);
	fputs("\tOffline: ", out);
	topics_print_ids(out, p->offline_replicas, p->offline_replicas_count);
	fputs("\tOffsets: ", out);
	for (int32_t i = 0; i < p->replica_nodes_count; i++) {
		fputs(i ? "," : "", out);
		topics_print_replica(out, tv, p->replica_nodes[i], p->partition_index, false);
	}
	fputs("\tFlushed: ", out);
	for (int32_t i = 0; i < p->replica_nodes_count; i++) {
		fputs(i ? "," : "", out);
		topics_print_replica(out, tv, p->replica_nodes[i], p->partition_index, true);
	}
	fputs("\tFollowerLag: ", out);
	topics_print_lag(out, tv, p);
	fputs("\tDiscarded: ", out);
	topics_print_discarded(out, tv, p);
	bool offline = topics_offline(tv->tv_cv, p), under = topics_under_replicated(p);
	fprintf(out, "\tStatus: %s%s%s\n", offline ? "offline" : "", offline && under ? "," : "",
		under	  ? "under-replicated"
		: offline ? ""
			  : "ok");
}

static int topics_cmp_topic(const void *a, const void *b)
{
	const struct kp_metadata_response_topic *x =
		*(const struct kp_metadata_response_topic *const *)a;
	const struct kp_metadata_response_topic *y =
		*(const struct kp_metadata_response_topic *const *)b;
	int32_t n = x->name.len < y->name.len ? x->name.len : y->name.len;
	int c = n > 0 ? memcmp(x->name.ptr, y->name.ptr, (size_t)n) : 0;
	return c ? c : (x->name.len > y->name.len) - (x->name.len < y->name.len);
}

static int topics_cmp_partition(const void *a, const void *b)
{
	const struct kp_metadata_response_partition *x = a, *y = b;
	return (x->partition_index > y->partition_index) -
	       (x->partition_index < y->partition_index);
}

static bool topics_named(const struct topics_opts *o, struct kp_str name)
{
	for (int i = 0; i < o->to_args.ca_ntopics; i++)
		if (kp_str_eq_cstr(name, o->to_args.ca_topics[i]))
			return true;
	return false;
}

/* A topic named with --topic that the Metadata answer refuses. */
static void topics_report_missing(const struct cview *cv,
				  const struct kp_metadata_response_topic *t)
{
	if (kp_str_eq_cstr(t->name, TOPICS_INTERNAL))
		fprintf(stderr,
			TOPICS_PREFIX "topic '%s' is replog's internal metadata log, which brokers "
				      "do not describe; read it offline with `replog dump-log "
				      "<data_dir>/%s-0`\n",
			TOPICS_INTERNAL, TOPICS_INTERNAL);
	else if (t->error_code == KP_ERR_UNKNOWN_TOPIC_OR_PARTITION)
		fprintf(stderr,
			TOPICS_PREFIX
			"unknown topic '%.*s': it does not exist (metadata from %s)\n",
			(int)t->name.len, t->name.ptr, cv->cv_boot_addr);
	else
		fprintf(stderr, TOPICS_PREFIX "topic '%.*s': %s (%d) from %s\n", (int)t->name.len,
			t->name.ptr, kp_error_name(t->error_code), t->error_code, cv->cv_boot_addr);
}

static int topics_describe(const struct topics_opts *o)
{
	struct cview cv;
	cview_init(&cv, TOPICS_PREFIX, o->to_args.ca_timeout_ms);
	int rc = cview_metadata(&cv, o->to_args.ca_bootstrap, o->to_args.ca_topics,
				o->to_args.ca_ntopics);
	if (rc < 0) {
		fprintf(stderr, TOPICS_PREFIX "no bootstrap server answered (tried %s)\n",
			o->to_args.ca_bootstrap);
		cview_deinit(&cv);
		return TOPICS_EXIT_UNREACHABLE;
	}
	const struct kp_metadata_response *md = &cv.cv_md;
	int exit_code = TOPICS_EXIT_OK;

	/* The topics to print, sorted by name. */
	int32_t nt = md->topics_count > 0 ? md->topics_count : 0;
	const struct kp_metadata_response_topic **ts = calloc((size_t)(nt ? nt : 1), sizeof(*ts));
	struct kp_replog_describe_topic *want =
		calloc((size_t)(o->to_args.ca_ntopics ? o->to_args.ca_ntopics : 1), sizeof(*want));
	const struct kp_replog_replica_topic **rt =
		calloc((size_t)(cv.cv_nbrokers ? cv.cv_nbrokers : 1), sizeof(*rt));
	if (!ts || !want || !rt) {
		fprintf(stderr, TOPICS_PREFIX "out of memory\n");
		free(ts);
		free(want);
		free(rt);
		cview_deinit(&cv);
		return TOPICS_EXIT_UNREACHABLE;
	}
	int32_t nts = 0;
	for (int32_t i = 0; i < nt; i++) {
		const struct kp_metadata_response_topic *t = &md->topics[i];
		bool named = topics_named(o, t->name);
		if (o->to_args.ca_ntopics && !named)
			continue; /* the broker answered more than was asked */
		if (t->error_code != KP_ERR_NONE) {
			if (named) {
				topics_report_missing(&cv, t);
				exit_code = TOPICS_EXIT_NO_TOPIC;
			}
			continue;
		}
		if (!named && (t->is_internal || kp_str_eq_cstr(t->name, TOPICS_INTERNAL)))
			continue;
		ts[nts++] = t;
	}
	/* A named topic the answer does not mention at all. */
	for (int i = 0; i < o->to_args.ca_ntopics; i++) {
		bool found = false;
		for (int32_t k = 0; k < nt && !found; k++)
			found = kp_str_eq_cstr(md->topics[k].name, o->to_args.ca_topics[i]);
		if (!found) {
			fprintf(stderr,
				TOPICS_PREFIX "unknown topic '%s': not in the metadata from %s\n",
				o->to_args.ca_topics[i], cv.cv_boot_addr);
			exit_code = TOPICS_EXIT_NO_TOPIC;
		}
	}
	qsort(ts, (size_t)nts, sizeof(*ts), topics_cmp_topic);

	/* Every live broker's view of the replicas it holds. */
	union kp_request_body req = {
		.replog_describe_replicas = {.topics = NULL, .topics_count = -1}};
	if (o->to_args.ca_ntopics) {
		for (int i = 0; i < o->to_args.ca_ntopics; i++)
			want[i] = (struct kp_replog_describe_topic){
				.name = kp_str_from_cstr(o->to_args.ca_topics[i]),
				.partitions = NULL,
				.partitions_count = -1};
		req.replog_describe_replicas.topics = want;
		req.replog_describe_replicas.topics_count = o->to_args.ca_ntopics;
	}
	if (nts > 0)
		cview_ask_all(&cv, KP_API_REPLOG_DESCRIBE_REPLICAS, &req);
	cview_report_down(&cv, ts, nts, "", NULL);

	bool filtered = o->to_under_replicated || o->to_unavailable;
	struct topics_view tv = {.tv_cv = &cv, .tv_rt = rt};
	for (int32_t i = 0; i < nts; i++) {
		const struct kp_metadata_response_topic *t = ts[i];
		/* Sorted in place: the answer is ours, in cv's memory. */
		qsort(t->partitions, (size_t)(t->partitions_count > 0 ? t->partitions_count : 0),
		      sizeof(*t->partitions), topics_cmp_partition);
		topics_view_fill(&tv, t->name);
		if (!filtered)
			fprintf(stdout,
				"Topic: %.*s\tPartitionCount: %" PRId32
				"\tReplicationFactor: %" PRId32 "\tConfigs: N/A\n",
				(int)t->name.len, t->name.ptr, t->partitions_count,
				t->partitions_count > 0 ? t->partitions[0].replica_nodes_count : 0);
		for (int32_t j = 0; j < t->partitions_count; j++) {
			const struct kp_metadata_response_partition *p = &t->partitions[j];
			if (filtered && !(o->to_under_replicated && topics_under_replicated(p)) &&
			    !(o->to_unavailable && topics_offline(&cv, p)))
				continue;
			topics_print_partition(stdout, &tv, t->name, p);
		}
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, TOPICS_PREFIX "cannot write the output\n");
		exit_code = TOPICS_EXIT_UNREACHABLE;
	}
	free(ts);
	free(want);
	free(rt);
	cview_deinit(&cv);
	return exit_code;
}

/* ---- create, delete, list ------------------------------------------------ */

static int64_t topics_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void topics_sleep_ms(int64_t ms)
{
	struct timespec ts = {.tv_sec = (time_t)(ms / 1000),
			      .tv_nsec = (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* One answer of the controller to an admin request. */
struct topics_admin_result {
	int16_t ar_error;			   /* Kafka error code of our topic */
	char ar_message[256];			   /* the broker's message, "" if none */
	char ar_controller[KCLIENT_ADDR_MAX + 32]; /* who answered */
};

/*
 * Send CreateTopics (create true) or DeleteTopics for o's one topic to the
 * active controller: Metadata from the bootstrap servers names it
 * (controller_id); a NOT_CONTROLLER answer, or a controller the metadata
 * cannot name or reach, means the controller moved: ask the metadata again,
 * at most TOPICS_ADMIN_ATTEMPTS times, until --timeout-ms has passed since
 * the start. Outcomes: 0 with *res filled (ar_error may be a Kafka error);
 * -1 when no controller answered (the causes are on stderr).
 */
static int topics_admin_call(const struct topics_opts *o, const char *prefix, bool create,
			     struct topics_admin_result *res)
{
	RL_ASSERT(o->to_args.ca_ntopics == 1);
	RL_ASSERT(o->to_nconfigs >= 0 && o->to_nconfigs <= TOPICS_MAX_CONFIGS);
	const char *name = o->to_args.ca_topics[0];
	int64_t deadline_ms = topics_now_ms() + o->to_args.ca_timeout_ms;
	char why[KCLIENT_ERRMSG_MAX + 2 * KCLIENT_ADDR_MAX + 512] = "";
	struct kp_createtopics_config cfgs[TOPICS_MAX_CONFIGS];
	for (int i = 0; i < o->to_nconfigs; i++) {
		const char *kv = o->to_configs[i], *eq = strchr(kv, '=');
		cfgs[i] = (struct kp_createtopics_config){
			.name = {.ptr = kv, .len = (int32_t)(eq - kv)},
			.value = kp_str_from_cstr(eq + 1)};
	}
	struct kp_createtopics_topic ct = {.name = kp_str_from_cstr(name),
					   .num_partitions = o->to_partitions,
					   .replication_factor = o->to_replication_factor,
					   .assignments = NULL,
					   .assignments_count = 0,
					   .configs = o->to_nconfigs ? cfgs : NULL,
					   .configs_count = o->to_nconfigs};
	struct kp_str dt = kp_str_from_cstr(name);
	union kp_request_body req;
	if (create)
		req.create_topics =
			(struct kp_createtopics_request){.topics = &ct,
							 .topics_count = 1,
							 .timeout_ms = o->to_args.ca_timeout_ms,
							 .validate_only = false};
	else
		req.delete_topics =
			(struct kp_deletetopics_request){.topic_names = &dt,
							 .topic_names_count = 1,
							 .timeout_ms = o->to_args.ca_timeout_ms};

	for (int attempt = 0; attempt < TOPICS_ADMIN_ATTEMPTS; attempt++) {
		if (attempt > 0) {
			if (topics_now_ms() + TOPICS_ADMIN_BACKOFF_MS >= deadline_ms)
				break;
			topics_sleep_ms(TOPICS_ADMIN_BACKOFF_MS);
		}
		struct cview cv;
		cview_init(&cv, prefix, o->to_args.ca_timeout_ms);
		if (cview_metadata(&cv, o->to_args.ca_bootstrap, NULL, 0) < 0) {
			fprintf(stderr, "%sno bootstrap server answered (tried %s)\n", prefix,
				o->to_args.ca_bootstrap);
			cview_deinit(&cv);
			return -1; /* each server's cause is on stderr already */
		}
		int32_t cid = cv.cv_md.controller_id;
		const struct cview_broker *cb = cview_broker(&cv, cid);
		if (!cb) {
			snprintf(why, sizeof(why),
				 "the metadata from %s names no live controller (controller_id "
				 "%" PRId32 ")",
				 cv.cv_boot_addr, cid);
			cview_deinit(&cv);
			continue;
		}
		int64_t left_ms = deadline_ms - topics_now_ms();
		int budget_ms = left_ms < 1 ? 1 : (int)left_ms;
		struct kclient kc = {.kc_fd = -1};
		union kp_response_body resp;
		int16_t api = create ? KP_API_CREATE_TOPICS : KP_API_DELETE_TOPICS;
		int16_t version = create ? TOPICS_CREATE_VERSION : TOPICS_DELETE_VERSION;
		int rc = kclient_init(&kc, cb->cb_addr, budget_ms);
		if (rc == 0)
			rc = kclient_connect(&kc);
		if (rc == 0)
			rc = kclient_call(&kc, api, version, &req, &resp);
		snprintf(res->ar_controller, sizeof(res->ar_controller), "broker %" PRId32 " at %s",
			 cid, cb->cb_addr);
		cview_deinit(&cv);
		if (rc < 0) {
			snprintf(why, sizeof(why), "controller %s did not answer: %s",
				 res->ar_controller, kclient_errmsg(&kc));
			kclient_deinit(&kc);
			continue;
		}
		int32_t n = create ? resp.create_topics.topics_count
				   : resp.delete_topics.responses_count;
		if (n < 1) {
			snprintf(why, sizeof(why), "controller %s answered without the topic",
				 res->ar_controller);
			kclient_deinit(&kc);
			continue;
		}
		res->ar_message[0] = '\0';
		if (create) {
			const struct kp_createtopics_topic_result *r =
				&resp.create_topics.topics[0];
			res->ar_error = r->error_code;
			if (r->error_message.len > 0)
				snprintf(res->ar_message, sizeof(res->ar_message), "%.*s",
					 (int)r->error_message.len, r->error_message.ptr);
		} else {
			res->ar_error = resp.delete_topics.responses[0].error_code;
		}
		kclient_deinit(&kc);
		if (res->ar_error == KP_ERR_NOT_CONTROLLER) {
			snprintf(why, sizeof(why), "%s is no longer the controller%s%s",
				 res->ar_controller, res->ar_message[0] ? ": " : "",
				 res->ar_message);
			continue;
		}
		return 0;
	}
	fprintf(stderr, "%sno controller answered within %d ms: %s\n", prefix,
		o->to_args.ca_timeout_ms, why[0] ? why : "gave up");
	return -1;
}

static int topics_create(const struct topics_opts *o)
{
	const char *name = o->to_args.ca_topics[0];
	struct topics_admin_result res;
	if (topics_admin_call(o, TOPICS_CREATE_PREFIX, true, &res) < 0)
		return TOPICS_EXIT_FAILED;
	if (res.ar_error == KP_ERR_TOPIC_ALREADY_EXISTS && o->to_if_not_exists)
		return TOPICS_EXIT_OK;
	if (res.ar_error != KP_ERR_NONE) {
		fprintf(stderr, TOPICS_CREATE_PREFIX "topic '%s' not created: %s (%d)%s%s\n", name,
			kp_error_name(res.ar_error), res.ar_error, res.ar_message[0] ? ": " : "",
			res.ar_message);
		return TOPICS_EXIT_FAILED;
	}
	printf("Created topic %s.\n", name);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, TOPICS_CREATE_PREFIX "cannot write the output\n");
		return TOPICS_EXIT_FAILED;
	}
	return TOPICS_EXIT_OK;
}

static int topics_delete(const struct topics_opts *o)
{
	const char *name = o->to_args.ca_topics[0];
	struct topics_admin_result res;
	if (topics_admin_call(o, TOPICS_DELETE_PREFIX, false, &res) < 0)
		return TOPICS_EXIT_FAILED;
	if (res.ar_error == KP_ERR_UNKNOWN_TOPIC_OR_PARTITION) {
		fprintf(stderr,
			TOPICS_DELETE_PREFIX "topic '%s' not deleted: %s (%d): it does not exist\n",
			name, kp_error_name(res.ar_error), res.ar_error);
		return TOPICS_EXIT_FAILED;
	}
	if (res.ar_error != KP_ERR_NONE) {
		fprintf(stderr, TOPICS_DELETE_PREFIX "topic '%s' not deleted: %s (%d)\n", name,
			kp_error_name(res.ar_error), res.ar_error);
		return TOPICS_EXIT_FAILED;
	}
	printf("Deleted topic %s.\n", name);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, TOPICS_DELETE_PREFIX "cannot write the output\n");
		return TOPICS_EXIT_FAILED;
	}
	return TOPICS_EXIT_OK;
}

static int topics_list(const struct topics_opts *o)
{
	struct cview cv;
	cview_init(&cv, TOPICS_LIST_PREFIX, o->to_args.ca_timeout_ms);
	if (cview_metadata(&cv, o->to_args.ca_bootstrap, NULL, 0) < 0) {
		fprintf(stderr, TOPICS_LIST_PREFIX "no bootstrap server answered (tried %s)\n",
			o->to_args.ca_bootstrap);
		cview_deinit(&cv);
		return TOPICS_EXIT_FAILED;
	}
	const struct kp_metadata_response *md = &cv.cv_md;
	int32_t nt = md->topics_count > 0 ? md->topics_count : 0;
	const struct kp_metadata_response_topic **ts = calloc((size_t)(nt ? nt : 1), sizeof(*ts));
	if (!ts) {
		fprintf(stderr, TOPICS_LIST_PREFIX "out of memory\n");
		cview_deinit(&cv);
		return TOPICS_EXIT_FAILED;
	}
	int32_t nts = 0;
	for (int32_t i = 0; i < nt; i++) {
		const struct kp_metadata_response_topic *t = &md->topics[i];
		if (t->error_code != KP_ERR_NONE || t->is_internal ||
		    kp_str_eq_cstr(t->name, TOPICS_INTERNAL))
			continue;
		ts[nts++] = t;
	}
	qsort(ts, (size_t)nts, sizeof(*ts), topics_cmp_topic);
	for (int32_t i = 0; i < nts; i++)
		printf("%.*s\n", (int)ts[i]->name.len, ts[i]->name.ptr);
	int exit_code = TOPICS_EXIT_OK;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, TOPICS_LIST_PREFIX "cannot write the output\n");
		exit_code = TOPICS_EXIT_FAILED;
	}
	free(ts);
	cview_deinit(&cv);
	return exit_code;
}

enum topics_action {
	TOPICS_DESCRIBE,
	TOPICS_CREATE,
	TOPICS_DELETE,
	TOPICS_LIST,
};

static const struct {
	const char *ta_name;
	const char *ta_flag; /* kafka-topics' spelling */
	enum topics_action ta_action;
	const char *ta_prefix;
	const struct option *ta_options;
} topics_actions[] = {
	{"describe", "--describe", TOPICS_DESCRIBE, TOPICS_PREFIX, topics_long_options},
	{"create", "--create", TOPICS_CREATE, TOPICS_CREATE_PREFIX, topics_create_options},
	{"delete", "--delete", TOPICS_DELETE, TOPICS_DELETE_PREFIX, topics_plain_options},
	{"list", "--list", TOPICS_LIST, TOPICS_LIST_PREFIX, topics_plain_options},
};

__attribute__((format(printf, 2, 3))) static int topics_usage_error(const char *prefix,
								    const char *fmt, ...)
{
	va_list ap;
	fputs(prefix, stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'replog topics --help' for more information.\n", stderr);
	return TOPICS_EXIT_USAGE;
}

int topics_main(int argc, char **argv)
{
	if (argc < 2)
		return topics_usage_error("replog topics: ",
					  "no action given: the action is "
					  "one of create, list, describe, delete");
	const char *action = argv[1];
	if (strcmp(action, "--help") == 0 || strcmp(action, "-h") == 0 ||
	    strcmp(action, "help") == 0) {
		fputs(topics_help, stdout);
		return TOPICS_EXIT_OK;
	}
	size_t k = 0;
	while (k < sizeof(topics_actions) / sizeof(topics_actions[0]) &&
	       strcmp(action, topics_actions[k].ta_name) != 0 &&
	       strcmp(action, topics_actions[k].ta_flag) != 0)
		k++;
	if (k == sizeof(topics_actions) / sizeof(topics_actions[0]))
		return topics_usage_error("replog topics: ",
					  "unknown action '%s': the action is one of create, "
					  "list, describe, delete",
					  action);
	const char *prefix = topics_actions[k].ta_prefix;
	struct topics_opts o = {.to_partitions = -1, .to_replication_factor = -1};
	struct cview_cli cli = {.cc_prefix = prefix,
				.cc_name = "replog topics",
				.cc_help = topics_help,
				.cc_options = topics_actions[k].ta_options,
				.cc_extra = topics_extra_option,
				.cc_ctx = &o};
	int rc = cview_parse_args(argc - 1, argv + 1, &cli, &o.to_args);
	if (rc >= 0)
		return rc;
	if (o.to_bad[0])
		return topics_usage_error(prefix, "%s", o.to_bad);
	switch (topics_actions[k].ta_action) {
	case TOPICS_DESCRIBE:
		return topics_describe(&o);
	case TOPICS_CREATE:
	case TOPICS_DELETE:
		if (o.to_args.ca_ntopics != 1)
			return topics_usage_error(prefix, "exactly one --topic is needed, got %d",
						  o.to_args.ca_ntopics);
		return topics_actions[k].ta_action == TOPICS_CREATE ? topics_create(&o)
								    : topics_delete(&o);
	case TOPICS_LIST:
		if (o.to_args.ca_ntopics != 0)
			return topics_usage_error(prefix, "%s", "--topic is not an option of list");
		return topics_list(&o);
	}
	return TOPICS_EXIT_USAGE;
}
