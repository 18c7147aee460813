/*
 * topics_cmd — `replog topics describe` (API in topics_cmd.h).
 *
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

#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_view.h"
#include "kp_api.h"
#include "rlassert.h"

#define TOPICS_PREFIX	"replog topics describe: "
#define TOPICS_INTERNAL "__cluster_metadata"
#define TOPICS_IDS_BUF	1024

const char topics_help[] =
	"NAME\n"
	"    replog topics - describe the topics of a running cluster\n"
	"\n"
	"SYNOPSIS\n"
	"    replog topics describe [--bootstrap-server HOST:PORT[,HOST:PORT...]]\n"
	"                           [--topic TOPIC]... [--under-replicated-partitions]\n"
	"                           [--unavailable-partitions] [--timeout-ms N]\n"
	"\n"
	"DESCRIPTION\n"
	"    Like kafka-topics.sh --describe, plus the offsets of every replica.\n"
	"    First a Metadata request (v7) goes to the first bootstrap server that\n"
	"    answers: it gives the live brokers, the topics, and per partition the\n"
	"    leader, the leader epoch, the replicas, the ISR and the offline\n"
	"    replicas, as the controller last told that broker. Then every live\n"
	"    broker is asked for its own view of the replicas it holds\n"
	"    (ReplogDescribeReplicas): log end offset (LEO), high watermark (HW),\n"
	"    flushed offset, role, eligible leader replicas, and on the leader\n"
	"    each follower's fetch offset. Brokers are asked one after the other,\n"
	"    each within --timeout-ms. Nothing is changed and no topic is created.\n"
	"\n"
	"    A broker that does not answer does not make the command fail: what is\n"
	"    known is printed, its replicas are marked, and one line on stderr\n"
	"    names it and the cause (connection refused, timed out, ...).\n"
	"\n"
	"    The internal metadata log (__cluster_metadata) is not a topic clients\n"
	"    see; brokers do not describe it. Read it offline with\n"
	"    `replog dump-log <data_dir>/__cluster_metadata-0`.\n"
	"\n"
	"OPTIONS\n"
	"    -b, --bootstrap-server HOST:PORT[,HOST:PORT...]\n"
	"        Brokers to ask for the Metadata, tried in order until one answers\n"
	"        (default 127.0.0.1:9092). IPv6 addresses as [ADDR]:PORT.\n"
	"    -t, --topic TOPIC\n"
	"        Describe only this topic (may be given several times). A topic that\n"
	"        does not exist is an error (exit status 1); the others are still\n"
	"        described.\n"
	"    --under-replicated-partitions\n"
	"        Print only partitions whose ISR is smaller than their replica list,\n"
	"        and no topic lines.\n"
	"    --unavailable-partitions\n"
	"        Print only partitions without a live leader, and no topic lines.\n"
	"        With both filters, a partition matching either is printed.\n"
	"    --timeout-ms N\n"
	"        Time allowed for each broker, connecting included (default 5000,\n"
	"        at most 600000). The whole run takes at most (bootstrap servers\n"
	"        tried + live brokers) x N.\n"
	"    -h, --help\n"
	"        Print this manual.\n"
	"\n"
	"OUTPUT\n"
	"    On stdout, per topic (sorted by name) one line, then one line per\n"
	"    partition, fields separated by tabs (shown here as spaces, and each\n"
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
	"    On stderr, one line per broker that did not answer, and per replica\n"
	"    broker that is not alive, e.g.\n"
	"      replog topics describe: broker 3 did not answer: timed out after 5000 ms\n"
	"        waiting for the ReplogDescribeReplicas response from 127.0.0.1:9094\n"
	"      replog topics describe: broker 2 is not alive according to the metadata\n"
	"        from 127.0.0.1:9092: not asked\n"
	"\n"
	"EXIT STATUS\n"
	"    0  described (some brokers may not have answered: see stderr)\n"
	"    1  a topic named with --topic does not exist (the others are described)\n"
	"    2  usage error: unknown action or option, bad value\n"
	"    3  no bootstrap server answered the Metadata request, or the output\n"
	"       could not be written\n"
	"\n"
	"EXAMPLES\n"
	"    Every topic of a local cluster:\n"
	"      replog topics describe --bootstrap-server 127.0.0.1:9092\n"
	"    What is not fully replicated, with a short timeout per broker:\n"
	"      replog topics describe -b 10.0.0.1:9092,10.0.0.2:9092 \\\n"
	"          --under-replicated-partitions --timeout-ms 2000\n"
	"    One topic:\n"
	"      replog topics describe --topic orders\n";

struct topics_opts {
	struct cview_args to_args;
	bool to_under_replicated;
	bool to_unavailable;
};

enum {
	TOPICS_OPT_UNDER = CVIEW_OPT_EXTRA,
	TOPICS_OPT_UNAVAILABLE,
};

static const struct option topics_long_options[] = {
	CVIEW_LONG_OPTIONS,
	{"under-replicated-partitions", no_argument, NULL, TOPICS_OPT_UNDER},
	{"unavailable-partitions", no_argument, NULL, TOPICS_OPT_UNAVAILABLE},
	{NULL, 0, NULL, 0},
};

static void topics_extra_option(int opt, void *ctx)
{
	struct topics_opts *o = ctx;
	if (opt == TOPICS_OPT_UNDER)
		o->to_under_replicated = true;
	else if (opt == TOPICS_OPT_UNAVAILABLE)
		o->to_unavailable = true;
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

/* Replica brokers that are not alive by the metadata: one stderr line each. */
static void topics_report_down(const struct cview *cv, const struct kp_metadata_response_topic **ts,
			       int32_t nts)
{
	int32_t seen[CVIEW_MAX_BROKERS];
	int32_t nseen = 0;
	for (int32_t i = 0; i < nts; i++)
		for (int32_t j = 0; j < ts[i]->partitions_count; j++) {
			const struct kp_metadata_response_partition *p = &ts[i]->partitions[j];
			for (int32_t k = 0; k < p->replica_nodes_count; k++) {
				int32_t id = p->replica_nodes[k];
				bool dup = cview_broker(cv, id) != NULL;
				for (int32_t s = 0; !dup && s < nseen; s++)
					dup = seen[s] == id;
				if (dup || nseen >= CVIEW_MAX_BROKERS)
					continue;
				seen[nseen++] = id;
				fprintf(stderr,
					TOPICS_PREFIX "broker %" PRId32
						      " is not alive according to "
						      "the metadata from %s: not asked\n",
					id, cv->cv_boot_addr);
			}
		}
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
	topics_report_down(&cv, ts, nts);

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

int topics_main(int argc, char **argv)
{
	if (argc < 2) {
		fputs("replog topics: no action given: the action is `describe`\n"
		      "Try 'replog topics --help' for more information.\n",
		      stderr);
		return TOPICS_EXIT_USAGE;
	}
	const char *action = argv[1];
	if (strcmp(action, "--help") == 0 || strcmp(action, "-h") == 0 ||
	    strcmp(action, "help") == 0) {
		fputs(topics_help, stdout);
		return TOPICS_EXIT_OK;
	}
	if (strcmp(action, "describe") != 0 && strcmp(action, "--describe") != 0) {
		fprintf(stderr,
			"replog topics: unknown action '%s': the action is `describe`\n"
			"Try 'replog topics --help' for more information.\n",
			action);
		return TOPICS_EXIT_USAGE;
	}
	struct topics_opts o = {0};
	struct cview_cli cli = {.cc_prefix = TOPICS_PREFIX,
				.cc_name = "replog topics",
				.cc_help = topics_help,
				.cc_options = topics_long_options,
				.cc_extra = topics_extra_option,
				.cc_ctx = &o};
	int rc = cview_parse_args(argc - 1, argv + 1, &cli, &o.to_args);
	if (rc >= 0)
		return rc;
	return topics_describe(&o);
}
