/*
 * rl_group — libreplog's group consumer (API and promises in replog.h).
 *
 * What it owns: an rl_client for the coordinator (FindCoordinator,
 * JoinGroup, SyncGroup, Heartbeat, OffsetFetch, OffsetCommit, LeaveGroup),
 * a replog_consumer that fetches the assigned partitions, the subscription,
 * and per assigned partition the offset last committed and whether the
 * application moved it (seek).
 *
 * The protocol is Kafka's classic, eager one: when a rebalance starts,
 * positions are committed (auto commit) and every partition is given up;
 * after JoinGroup and SyncGroup the new assignment is fetched from its
 * committed offsets. The leader member assigns with "range" (each topic's
 * partitions split in consecutive runs over the members that subscribe to
 * it, sorted by member id), the assignor every Kafka client offers, so
 * Java, librdkafka and kafka-python members can share a group with it.
 *
 * The calls block inside replog_group_poll (a JoinGroup waits for the
 * rebalance); request_timeout_ms is raised to cover the rebalance timeout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_api.h"
#include "rl_core.h"

#define RL_GROUP_FIND_VERSION	   2
#define RL_GROUP_JOIN_VERSION	   5
#define RL_GROUP_SYNC_VERSION	   3
#define RL_GROUP_HB_VERSION	   3
#define RL_GROUP_LEAVE_VERSION	   1
#define RL_GROUP_FETCH_VERSION	   5
#define RL_GROUP_COMMIT_VERSION	   5
#define RL_GROUP_MAX_JOIN_ATTEMPTS 20
#define RL_GROUP_MEMBER_MAX	   512

struct rl_gpart {
	struct replog_topic_partition tp;
	int64_t committed; /* acknowledged by the coordinator; -1 none */
	bool seeked;
};

struct rl_bytes {
	uint8_t *p;
	size_t len, cap;
	bool bad;
};

struct rl_member_sub;

/* What the last JoinGroup answered (filled in its callback). */
struct rl_join_out {
	int16_t kerr;
	bool leader;
	struct rl_member_sub *members;
	int nmembers;
};

struct replog_group_consumer {
	struct rl_client cl;
	replog_consumer *cons;
	struct replog_config cfg;
	struct replog_group_config g;
	char group[REPLOG_TOPIC_MAX + 1];
	char **topics;
	size_t ntopics;
	char member_id[RL_GROUP_MEMBER_MAX];
	int32_t generation;
	int32_t coordinator; /* broker id, -1 unknown */
	bool need_join;
	struct rl_gpart *parts;
	size_t nparts;
	struct replog_topic_partition *view;
	int64_t next_hb_ms, next_commit_ms;
	replog_rebalance_cb cb;
	void *opaque;
	/* what the callbacks of the last calls took from their answers */
	int16_t kerr;
	struct rl_join_out join;
	int16_t sync_kerr;
	struct rl_bytes sync_assignment;
};

void replog_group_config_init(struct replog_group_config *g)
{
	*g = (struct replog_group_config){
		.session_timeout_ms = 10000,
		.heartbeat_interval_ms = 1000,
		.rebalance_timeout_ms = 30000,
		.auto_commit_interval_ms = 5000,
		.start_offset = REPLOG_OFFSET_EARLIEST,
	};
}

/* ---- the consumer protocol (subscription and assignment bytes) ------------ */

static void rl_put(struct rl_bytes *b, const void *src, size_t n)
{
	if (b->bad)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		while (cap < b->len + n)
			cap *= 2;
		uint8_t *q = realloc(b->p, cap);
		if (!q) {
			b->bad = true;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, src, n);
	b->len += n;
}

static void rl_put_be(struct rl_bytes *b, uint32_t v, int bytes)
{
	uint8_t x[4];
	for (int i = 0; i < bytes; i++)
		x[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
	rl_put(b, x, (size_t)bytes);
}

static void rl_put_str(struct rl_bytes *b, const char *s)
{
	rl_put_be(b, (uint32_t)strlen(s), 2);
	rl_put(b, s, strlen(s));
}

/* Subscription v0: int16 version, [string topic], bytes user_data (null). */
static void rl_subscription(const replog_group_consumer *gc, struct rl_bytes *b)
{
	rl_put_be(b, 0, 2);
	rl_put_be(b, (uint32_t)gc->ntopics, 4);
	for (size_t i = 0; i < gc->ntopics; i++)
		rl_put_str(b, gc->topics[i]);
	rl_put_be(b, 0xffffffffu, 4);
}

struct rl_rd {
	const uint8_t *p;
	size_t len, pos;
	bool bad;
};

static uint32_t rl_get_be(struct rl_rd *r, int bytes)
{
	if (r->bad || r->pos + (size_t)bytes > r->len) {
		r->bad = true;
		return 0;
	}
	uint32_t v = 0;
	for (int i = 0; i < bytes; i++)
		v = v << 8 | r->p[r->pos + (size_t)i];
	r->pos += (size_t)bytes;
	return v;
}

/* A string into buf (truncated to cap-1); false when malformed. */
static bool rl_get_str(struct rl_rd *r, char *buf, size_t cap)
{
	int16_t n = (int16_t)rl_get_be(r, 2);
	if (r->bad || n < 0 || r->pos + (size_t)n > r->len) {
		r->bad = true;
		return false;
	}
	size_t k = (size_t)n < cap - 1 ? (size_t)n : cap - 1;
	memcpy(buf, r->p + r->pos, k);
	buf[k] = '\0';
	r->pos += (size_t)n;
	return true;
}

/* ---- plumbing ------------------------------------------------------------- */

/* rl_call hands the response to a callback while its frame is alive; the
 * group code uses it right there, so the handlers below do their work in
 * these callbacks. */
typedef int (*rl_group_take)(replog_group_consumer *gc, const union kp_response_body *resp,
			     struct replog_error *err);

struct rl_gtake {
	replog_group_consumer *gc;
	rl_group_take fn;
};

static int rl_gtake_fn(void *ctx, const union kp_response_body *resp, struct replog_error *err)
{
	struct rl_gtake *t = ctx;
	return t->fn(t->gc, resp, err);
}

static int rl_gcall(replog_group_consumer *gc, int32_t broker, int16_t api, int16_t version,
		    const union kp_request_body *req, rl_group_take fn, struct replog_error *err)
{
	struct rl_gtake t = {.gc = gc, .fn = fn};
	return rl_call(&gc->cl, broker, api, version, req, rl_gtake_fn, &t, err);
}

static bool rl_coordinator_moved(int16_t kerr)
{
	return kerr == KP_ERR_NOT_COORDINATOR || kerr == KP_ERR_COORDINATOR_NOT_AVAILABLE ||
	       kerr == KP_ERR_COORDINATOR_LOAD_IN_PROGRESS;
}

/* ---- finding the coordinator --------------------------------------------- */

static int rl_take_find(replog_group_consumer *gc, const union kp_response_body *resp,
			struct replog_error *err)
{
	const struct kp_findcoordinator_response *r = &resp->find_coordinator;
	gc->kerr = r->error_code;
	if (!r->error_code)
		gc->coordinator = r->node_id;
	return REPLOG_OK;
}

static int rl_find_coordinator(replog_group_consumer *gc, struct replog_error *err)
{
	int64_t end = rl_now_ms() + gc->cfg.request_timeout_ms;
	for (;;) {
		int rc = rl_metadata_refresh(&gc->cl, (const char *const *)gc->topics,
					     (int)gc->ntopics, false, err);
		union kp_request_body req = {
			.find_coordinator = {.key = kp_str_from_cstr(gc->group),
					     .key_type = KP_COORDINATOR_GROUP}};
		gc->kerr = 0;
		if (rc == 0)
			rc = rl_gcall(gc, -1, KP_API_FIND_COORDINATOR, RL_GROUP_FIND_VERSION, &req,
				      rl_take_find, err);
		if (rc == 0 && !gc->kerr && rl_client_conn(&gc->cl, gc->coordinator))
			return REPLOG_OK;
		if (rl_now_ms() >= end)
			return rc ? rc
				  : rl_fail(err, REPLOG_ERR_BROKER, gc->kerr,
					    "group \"%s\": no coordinator within %d ms (%s)",
					    gc->group, gc->cfg.request_timeout_ms,
					    gc->kerr ? kp_error_name(gc->kerr) : "unknown broker");
		rl_client_poll(&gc->cl, gc->cfg.retry_backoff_ms);
	}
}

/* ---- assignment (range) --------------------------------------------------- */

struct rl_member_sub {
	char id[RL_GROUP_MEMBER_MAX];
	char topics[64][REPLOG_TOPIC_MAX + 1];
	int ntopics;
	struct rl_bytes out; /* its assignment */
	/* assignment being built: per topic, partitions */
};

static int rl_cmp_member(const void *a, const void *b)
{
	return strcmp(((const struct rl_member_sub *)a)->id, ((const struct rl_member_sub *)b)->id);
}

static bool rl_member_has(const struct rl_member_sub *m, const char *topic)
{
	for (int i = 0; i < m->ntopics; i++)
		if (strcmp(m->topics[i], topic) == 0)
			return true;
	return false;
}

/* Assignment v0 for every member: the leader's job. */
static int rl_range_assign(replog_group_consumer *gc, struct rl_member_sub *ms, int n,
			   struct replog_error *err)
{
	qsort(ms, (size_t)n, sizeof(*ms), rl_cmp_member);
	/* Every topic any member subscribes to, once. */
	char all[256][REPLOG_TOPIC_MAX + 1];
	int nall = 0;
	for (int i = 0; i < n; i++)
		for (int k = 0; k < ms[i].ntopics; k++) {
			bool seen = false;
			for (int j = 0; j < nall && !seen; j++)
				seen = strcmp(all[j], ms[i].topics[k]) == 0;
			if (!seen && nall < 256)
				snprintf(all[nall++], sizeof(all[0]), "%s", ms[i].topics[k]);
		}
	/* Per member: the list of (topic, partitions) it gets. */
	int32_t *counts = calloc((size_t)n * (size_t)(nall ? nall : 1), sizeof(int32_t));
	int32_t *firsts = calloc((size_t)n * (size_t)(nall ? nall : 1), sizeof(int32_t));
	if (!counts || !firsts) {
		free(counts);
		free(firsts);
		return rl_fail(err, REPLOG_ERR_NOMEM, 0, "out of memory");
	}
	for (int t = 0; t < nall; t++) {
		struct rl_topic_meta *md;
		if (rl_topic_get(&gc->cl, all[t], false, &md, NULL))
			continue; /* unknown topic: nobody gets it */
		int subs = 0;
		for (int i = 0; i < n; i++)
			subs += rl_member_has(&ms[i], all[t]);
		if (!subs)
			continue;
		int32_t per = md->nparts / subs, extra = md->nparts % subs, next = 0, k = 0;
		for (int i = 0; i < n; i++) {
			if (!rl_member_has(&ms[i], all[t]))
				continue;
			int32_t c = per + (k < extra);
			counts[i * nall + t] = c;
			firsts[i * nall + t] = next;
			next += c;
			k++;
		}
	}
	for (int i = 0; i < n; i++) {
		struct rl_bytes *b = &ms[i].out;
		int with = 0;
		for (int t = 0; t < nall; t++)
			with += counts[i * nall + t] > 0;
		rl_put_be(b, 0, 2);
		rl_put_be(b, (uint32_t)with, 4);
		for (int t = 0; t < nall; t++) {
			int32_t c = counts[i * nall + t];
			if (c <= 0)
				continue;
			rl_put_str(b, all[t]);
			rl_put_be(b, (uint32_t)c, 4);
			for (int32_t p = 0; p < c; p++)
				rl_put_be(b, (uint32_t)(firsts[i * nall + t] + p), 4);
		}
		rl_put_be(b, 0xffffffffu, 4);
	}
	free(counts);
	free(firsts);
	return REPLOG_OK;
}

/* ---- join and sync -------------------------------------------------------- */

static int rl_take_join(replog_group_consumer *gc, const union kp_response_body *resp,
			struct replog_error *err)
{
	const struct kp_joingroup_response *r = &resp->join_group;
	gc->join.kerr = r->error_code;
	if (r->member_id.len > 0 && r->member_id.len < RL_GROUP_MEMBER_MAX)
		snprintf(gc->member_id, sizeof(gc->member_id), "%.*s", r->member_id.len,
			 r->member_id.ptr);
	if (r->error_code)
		return REPLOG_OK;
	gc->generation = r->generation_id;
	gc->join.leader = r->leader.len == (int32_t)strlen(gc->member_id) &&
			  memcmp(r->leader.ptr, gc->member_id, (size_t)r->leader.len) == 0;
	if (!gc->join.leader || r->members_count <= 0)
		return REPLOG_OK;
	gc->join.members = calloc((size_t)r->members_count, sizeof(*gc->join.members));
	if (!gc->join.members)
		return rl_fail(err, REPLOG_ERR_NOMEM, 0, "out of memory");
	for (int32_t i = 0; i < r->members_count; i++) {
		struct rl_member_sub *m = &gc->join.members[gc->join.nmembers++];
		snprintf(m->id, sizeof(m->id), "%.*s", r->members[i].member_id.len,
			 r->members[i].member_id.ptr);
		struct rl_rd rd = {.p = r->members[i].metadata.ptr,
				   .len = r->members[i].metadata.len > 0
						  ? (size_t)r->members[i].metadata.len
						  : 0};
		(void)rl_get_be(&rd, 2); /* version */
		int32_t nt = (int32_t)rl_get_be(&rd, 4);
		for (int32_t k = 0; k < nt && k < 64 && !rd.bad; k++)
			if (rl_get_str(&rd, m->topics[m->ntopics], sizeof(m->topics[0])))
				m->ntopics++;
	}
	return REPLOG_OK;
}

static int rl_take_sync(replog_group_consumer *gc, const union kp_response_body *resp,
			struct replog_error *err)
{
	const struct kp_syncgroup_response *r = &resp->sync_group;
	gc->sync_kerr = r->error_code;
	gc->sync_assignment.len = 0;
	if (!r->error_code && r->assignment.len > 0)
		rl_put(&gc->sync_assignment, r->assignment.ptr, (size_t)r->assignment.len);
	return gc->sync_assignment.bad ? rl_fail(err, REPLOG_ERR_NOMEM, 0, "out of memory")
				       : REPLOG_OK;
}

/* Decode the assignment into gc->parts (committed offsets unknown yet). */
static int rl_take_assignment(replog_group_consumer *gc, const uint8_t *p, size_t len)
{
	free(gc->parts);
	gc->parts = NULL;
	gc->nparts = 0;
	struct rl_rd rd = {.p = p, .len = len};
	if (len == 0)
		return 0;
	(void)rl_get_be(&rd, 2);
	int32_t nt = (int32_t)rl_get_be(&rd, 4);
	size_t cap = 0;
	for (int32_t t = 0; t < nt && !rd.bad; t++) {
		char topic[REPLOG_TOPIC_MAX + 1];
		if (!rl_get_str(&rd, topic, sizeof(topic)))
			break;
		int32_t np = (int32_t)rl_get_be(&rd, 4);
		for (int32_t k = 0; k < np && !rd.bad; k++) {
			int32_t part = (int32_t)rl_get_be(&rd, 4);
			if (gc->nparts == cap) {
				cap = cap ? cap * 2 : 16;
				struct rl_gpart *q = realloc(gc->parts, cap * sizeof(*q));
				if (!q)
					return -1;
				gc->parts = q;
			}
			struct rl_gpart *gp = &gc->parts[gc->nparts++];
			memset(gp, 0, sizeof(*gp));
			snprintf(gp->tp.topic, sizeof(gp->tp.topic), "%s", topic);
			gp->tp.partition = part;
			gp->committed = -1;
		}
	}
	return rd.bad ? -1 : 0;
}

static void rl_group_view(replog_group_consumer *gc)
{
	free(gc->view);
	gc->view = calloc(gc->nparts ? gc->nparts : 1, sizeof(*gc->view));
	for (size_t i = 0; gc->view && i < gc->nparts; i++)
		gc->view[i] = gc->parts[i].tp;
}

/* ---- offsets -------------------------------------------------------------- */

static int rl_take_fetch(replog_group_consumer *gc, const union kp_response_body *resp,
			 struct replog_error *err)
{
	const struct kp_offsetfetch_response *r = &resp->offset_fetch;
	gc->kerr = r->error_code;
	for (int32_t t = 0; t < r->topics_count; t++)
		for (int32_t i = 0; i < r->topics[t].partitions_count; i++) {
			const struct kp_offsetfetch_partition *op = &r->topics[t].partitions[i];
			if (op->error_code && !gc->kerr)
				gc->kerr = op->error_code;
			for (size_t k = 0; k < gc->nparts; k++)
				if (gc->parts[k].tp.partition == op->partition_index &&
				    (size_t)r->topics[t].name.len ==
					    strlen(gc->parts[k].tp.topic) &&
				    memcmp(r->topics[t].name.ptr, gc->parts[k].tp.topic,
					   (size_t)r->topics[t].name.len) == 0)
					gc->parts[k].committed = op->committed_offset;
		}
	return REPLOG_OK;
}

/* One topic entry per partition: valid Kafka, and simple. */
static int rl_fetch_committed(replog_group_consumer *gc, struct replog_error *err)
{
	if (gc->nparts == 0)
		return REPLOG_OK;
	struct kp_offsetfetch_topic *ts = calloc(gc->nparts, sizeof(*ts));
	int32_t *idx = calloc(gc->nparts, sizeof(*idx));
	if (!ts || !idx) {
		free(ts);
		free(idx);
		return rl_fail(err, REPLOG_ERR_NOMEM, 0, "out of memory");
	}
	for (size_t i = 0; i < gc->nparts; i++) {
		idx[i] = gc->parts[i].tp.partition;
		ts[i] = (struct kp_offsetfetch_topic){
			.name = kp_str_from_cstr(gc->parts[i].tp.topic),
			.partition_indexes = &idx[i],
			.partition_indexes_count = 1};
	}
	union kp_request_body req = {.offset_fetch = {.group_id = kp_str_from_cstr(gc->group),
						      .topics = ts,
						      .topics_count = (int32_t)gc->nparts}};
	gc->kerr = 0;
	int rc = rl_gcall(gc, gc->coordinator, KP_API_OFFSET_FETCH, RL_GROUP_FETCH_VERSION, &req,
			  rl_take_fetch, err);
	free(ts);
	free(idx);
	if (!rc && gc->kerr)
		rc = rl_fail(err, REPLOG_ERR_BROKER, gc->kerr, "OffsetFetch for group \"%s\": %s",
			     gc->group, kp_error_name(gc->kerr));
	return rc;
}

static int rl_take_commit(replog_group_consumer *gc, const union kp_response_body *resp,
			  struct replog_error *err)
{
	const struct kp_offsetcommit_response *r = &resp->offset_commit;
	gc->kerr = 0;
	for (int32_t t = 0; t < r->topics_count; t++)
		for (int32_t i = 0; i < r->topics[t].partitions_count; i++)
			if (r->topics[t].partitions[i].error_code && !gc->kerr)
				gc->kerr = r->topics[t].partitions[i].error_code;
	return REPLOG_OK;
}

int replog_group_commit(replog_group_consumer *gc, struct replog_error *err)
{
	if (gc->need_join || gc->nparts == 0)
		return REPLOG_OK;
	struct kp_offsetcommit_topic *ts = calloc(gc->nparts, sizeof(*ts));
	struct kp_offsetcommit_partition *ps = calloc(gc->nparts, sizeof(*ps));
	int64_t *pos = calloc(gc->nparts, sizeof(*pos));
	size_t n = 0;
	if (!ts || !ps || !pos) {
		free(ts);
		free(ps);
		free(pos);
		return rl_fail(err, REPLOG_ERR_NOMEM, 0, "out of memory");
	}
	for (size_t i = 0; i < gc->nparts; i++) {
		struct rl_gpart *gp = &gc->parts[i];
		int64_t off;
		if (replog_consumer_position(gc->cons, gp->tp.topic, gp->tp.partition, &off, NULL))
			continue;
		pos[i] = off;
		/* Never backwards unless the application seeked; nothing new: skip. */
		if (off == gp->committed || (off < gp->committed && !gp->seeked))
			continue;
		ps[n] = (struct kp_offsetcommit_partition){.partition_index = gp->tp.partition,
							   .committed_offset = off,
							   .committed_leader_epoch = -1,
							   .committed_metadata = KP_STR("")};
		ts[n] = (struct kp_offsetcommit_topic){.name = kp_str_from_cstr(gp->tp.topic),
						       .partitions = &ps[n],
						       .partitions_count = 1};
		n++;
	}
	int rc = REPLOG_OK;
	if (n > 0) {
		union kp_request_body req = {.offset_commit = {
						     .group_id = kp_str_from_cstr(gc->group),
						     .generation_id = gc->generation,
						     .member_id = kp_str_from_cstr(gc->member_id),
						     .group_instance_id = KP_STR_NULL,
						     .retention_time_ms = -1,
						     .topics = ts,
						     .topics_count = (int32_t)n,
					     }};
		gc->kerr = 0;
		rc = rl_gcall(gc, gc->coordinator, KP_API_OFFSET_COMMIT, RL_GROUP_COMMIT_VERSION,
			      &req, rl_take_commit, err);
		if (!rc && gc->kerr) {
			if (gc->kerr == KP_ERR_REBALANCE_IN_PROGRESS ||
			    gc->kerr == KP_ERR_ILLEGAL_GENERATION ||
			    gc->kerr == KP_ERR_UNKNOWN_MEMBER_ID || rl_coordinator_moved(gc->kerr))
				gc->need_join = true;
			rc = rl_fail(err, REPLOG_ERR_BROKER, gc->kerr,
				     "commit for group \"%s\" refused: %s", gc->group,
				     kp_error_name(gc->kerr));
		}
		if (!rc)
			for (size_t i = 0; i < gc->nparts; i++) {
				struct rl_gpart *gp = &gc->parts[i];
				for (size_t k = 0; k < n; k++)
					if (ps[k].partition_index == gp->tp.partition &&
					    strcmp(gp->tp.topic, ts[k].name.ptr) == 0 &&
					    (size_t)ts[k].name.len == strlen(gp->tp.topic)) {
						gp->committed = ps[k].committed_offset;
						gp->seeked = false;
					}
			}
	}
	free(ts);
	free(ps);
	free(pos);
	return rc;
}

/* ---- the rebalance -------------------------------------------------------- */

static void rl_revoke_all(replog_group_consumer *gc)
{
	if (gc->nparts == 0)
		return;
	if (gc->g.auto_commit_interval_ms > 0)
		replog_group_commit(gc, NULL);
	rl_group_view(gc);
	if (gc->cb)
		gc->cb(gc, REPLOG_PARTITIONS_REVOKED, gc->view, gc->nparts, gc->opaque);
	for (size_t i = 0; i < gc->nparts; i++)
		replog_consumer_unassign(gc->cons, gc->parts[i].tp.topic,
					 gc->parts[i].tp.partition);
	free(gc->parts);
	gc->parts = NULL;
	gc->nparts = 0;
}

static int rl_join_once(replog_group_consumer *gc, struct replog_error *err)
{
	struct rl_bytes sub = {0};
	rl_subscription(gc, &sub);
	if (sub.bad)
		return rl_fail(err, REPLOG_ERR_NOMEM, 0, "out of memory");
	struct kp_joingroup_protocol proto = {.name = KP_STR("range"),
					      .metadata = {sub.p, (int32_t)sub.len}};
	union kp_request_body req = {.join_group = {
					     .group_id = kp_str_from_cstr(gc->group),
					     .session_timeout_ms = gc->g.session_timeout_ms,
					     .rebalance_timeout_ms = gc->g.rebalance_timeout_ms,
					     .member_id = kp_str_from_cstr(gc->member_id),
					     .group_instance_id = KP_STR_NULL,
					     .protocol_type = KP_STR("consumer"),
					     .protocols = &proto,
					     .protocols_count = 1,
				     }};
	memset(&gc->join, 0, sizeof(gc->join));
	int rc = rl_gcall(gc, gc->coordinator, KP_API_JOIN_GROUP, RL_GROUP_JOIN_VERSION, &req,
			  rl_take_join, err);
	free(sub.p);
	if (rc)
		return rc;
	if (gc->join.kerr)
		return rl_fail(err, REPLOG_ERR_BROKER, gc->join.kerr, "JoinGroup \"%s\": %s",
			       gc->group, kp_error_name(gc->join.kerr));
	struct kp_syncgroup_assignment *as = NULL;
	int nas = 0;
	if (gc->join.leader) {
		rc = rl_range_assign(gc, gc->join.members, gc->join.nmembers, err);
		as = calloc(gc->join.nmembers ? (size_t)gc->join.nmembers : 1, sizeof(*as));
		for (int i = 0; !rc && as && i < gc->join.nmembers; i++)
			as[nas++] = (struct kp_syncgroup_assignment){
				.member_id = kp_str_from_cstr(gc->join.members[i].id),
				.assignment = {gc->join.members[i].out.p,
					       (int32_t)gc->join.members[i].out.len}};
	}
	union kp_request_body sreq = {.sync_group = {
					      .group_id = kp_str_from_cstr(gc->group),
					      .generation_id = gc->generation,
					      .member_id = kp_str_from_cstr(gc->member_id),
					      .group_instance_id = KP_STR_NULL,
					      .assignments = as,
					      .assignments_count = nas,
				      }};
	gc->sync_kerr = 0;
	if (!rc)
		rc = rl_gcall(gc, gc->coordinator, KP_API_SYNC_GROUP, RL_GROUP_SYNC_VERSION, &sreq,
			      rl_take_sync, err);
	free(as);
	for (int i = 0; i < gc->join.nmembers; i++)
		free(gc->join.members[i].out.p);
	free(gc->join.members);
	gc->join.members = NULL;
	if (rc)
		return rc;
	if (gc->sync_kerr)
		return rl_fail(err, REPLOG_ERR_BROKER, gc->sync_kerr, "SyncGroup \"%s\": %s",
			       gc->group, kp_error_name(gc->sync_kerr));
	if (rl_take_assignment(gc, gc->sync_assignment.p, gc->sync_assignment.len) < 0)
		return rl_fail(err, REPLOG_ERR_PROTOCOL, 0, "group \"%s\": undecodable assignment",
			       gc->group);
	return REPLOG_OK;
}

static int rl_start_assignment(replog_group_consumer *gc, struct replog_error *err)
{
	int rc = rl_fetch_committed(gc, err);
	for (size_t i = 0; !rc && i < gc->nparts; i++) {
		struct rl_gpart *gp = &gc->parts[i];
		int64_t from = gp->committed >= 0 ? gp->committed : gc->g.start_offset;
		rc = replog_consumer_assign(gc->cons, gp->tp.topic, gp->tp.partition, from, err);
	}
	if (rc)
		return rc;
	rl_group_view(gc);
	if (gc->cb)
		gc->cb(gc, REPLOG_PARTITIONS_ASSIGNED, gc->view, gc->nparts, gc->opaque);
	return REPLOG_OK;
}

static int rl_rejoin(replog_group_consumer *gc, struct replog_error *err)
{
	rl_revoke_all(gc);
	int rc = REPLOG_OK;
	for (int attempt = 0; attempt < RL_GROUP_MAX_JOIN_ATTEMPTS; attempt++) {
		if (gc->coordinator < 0 && (rc = rl_find_coordinator(gc, err)))
			return rc;
		rc = rl_join_once(gc, err);
		if (!rc)
			break;
		int kerr = err ? err->kafka_code : 0;
		if (kerr == KP_ERR_UNKNOWN_MEMBER_ID)
			gc->member_id[0] = '\0';
		else if (rl_coordinator_moved(kerr) || rc == REPLOG_ERR_TRANSPORT)
			gc->coordinator = -1;
		else if (kerr != KP_ERR_MEMBER_ID_REQUIRED &&
			 kerr != KP_ERR_REBALANCE_IN_PROGRESS && kerr != KP_ERR_ILLEGAL_GENERATION)
			return rc;
		if (kerr != KP_ERR_MEMBER_ID_REQUIRED)
			rl_client_poll(&gc->cl, gc->cfg.retry_backoff_ms);
	}
	if (rc)
		return rc;
	gc->need_join = false;
	rc = rl_start_assignment(gc, err);
	int64_t now = rl_now_ms();
	gc->next_hb_ms = now + gc->g.heartbeat_interval_ms;
	gc->next_commit_ms = now + gc->g.auto_commit_interval_ms;
	return rc;
}

/* ---- heartbeat and poll --------------------------------------------------- */

static int rl_take_hb(replog_group_consumer *gc, const union kp_response_body *resp,
		      struct replog_error *err)
{
	gc->kerr = resp->heartbeat.error_code;
	return REPLOG_OK;
}

static void rl_heartbeat(replog_group_consumer *gc)
{
	union kp_request_body req = {.heartbeat = {.group_id = kp_str_from_cstr(gc->group),
						   .generation_id = gc->generation,
						   .member_id = kp_str_from_cstr(gc->member_id),
						   .group_instance_id = KP_STR_NULL}};
	gc->kerr = 0;
	struct replog_error e;
	int rc = rl_gcall(gc, gc->coordinator, KP_API_HEARTBEAT, RL_GROUP_HB_VERSION, &req,
			  rl_take_hb, &e);
	if (rc || rl_coordinator_moved(gc->kerr)) {
		gc->coordinator = -1;
		gc->need_join = true;
	} else if (gc->kerr == KP_ERR_UNKNOWN_MEMBER_ID) {
		gc->member_id[0] = '\0';
		gc->need_join = true;
	} else if (gc->kerr) { /* REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION */
		gc->need_join = true;
	}
	gc->next_hb_ms = rl_now_ms() + gc->g.heartbeat_interval_ms;
}

int replog_group_poll(replog_group_consumer *gc, int timeout_ms, const struct replog_message **msgs,
		      size_t *count, struct replog_error *err)
{
	*msgs = NULL;
	*count = 0;
	if (gc->ntopics == 0)
		return rl_fail(err, REPLOG_ERR_STATE, 0, "group poll: nothing subscribed");
	int64_t end = rl_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	for (;;) {
		if (gc->need_join) {
			int rc = rl_rejoin(gc, err);
			if (rc)
				return rc;
		}
		int64_t now = rl_now_ms();
		if (now >= gc->next_hb_ms)
			rl_heartbeat(gc);
		if (gc->need_join)
			continue;
		if (gc->g.auto_commit_interval_ms > 0 && now >= gc->next_commit_ms) {
			replog_group_commit(gc, NULL);
			gc->next_commit_ms = now + gc->g.auto_commit_interval_ms;
		}
		int64_t wait = end - rl_now_ms();
		int64_t to_hb = gc->next_hb_ms - rl_now_ms();
		if (wait > to_hb)
			wait = to_hb;
		if (gc->nparts == 0) { /* nothing assigned: keep the membership alive */
			rl_client_poll(&gc->cl, wait > 0 ? (int)(wait < 100 ? wait : 100) : 0);
			if (rl_now_ms() >= end)
				return REPLOG_OK;
			continue;
		}
		int rc = replog_consumer_poll(gc->cons, wait > 0 ? (int)wait : 0, msgs, count, err);
		if (rc || *count > 0 || rl_now_ms() >= end)
			return rc;
	}
}

/* ---- the rest of the API -------------------------------------------------- */

int replog_group_subscribe(replog_group_consumer *gc, const char *const *topics, size_t count,
			   struct replog_error *err)
{
	if (count == 0 || count > 64)
		return rl_fail(err, REPLOG_ERR_ARG, 0, "subscribe: 1..64 topics");
	char **copy = calloc(count, sizeof(*copy));
	for (size_t i = 0; copy && i < count; i++)
		copy[i] = strdup(topics[i]);
	for (size_t i = 0; copy && i < count; i++)
		if (!copy[i]) {
			for (size_t k = 0; k < count; k++)
				free(copy[k]);
			free(copy);
			copy = NULL;
		}
	if (!copy)
		return rl_fail(err, REPLOG_ERR_NOMEM, 0, "out of memory");
	for (size_t i = 0; i < gc->ntopics; i++)
		free(gc->topics[i]);
	free(gc->topics);
	gc->topics = copy;
	gc->ntopics = count;
	gc->need_join = true;
	return REPLOG_OK;
}

int replog_group_seek(replog_group_consumer *gc, const char *topic, int32_t partition,
		      int64_t offset, struct replog_error *err)
{
	for (size_t i = 0; i < gc->nparts; i++)
		if (gc->parts[i].tp.partition == partition &&
		    strcmp(gc->parts[i].tp.topic, topic) == 0) {
			int rc = replog_consumer_seek(gc->cons, topic, partition, offset, err);
			if (!rc)
				gc->parts[i].seeked = true;
			return rc;
		}
	return rl_fail(err, REPLOG_ERR_STATE, 0, "seek: %s[%d] is not assigned to this member",
		       topic, partition);
}

int replog_group_assignment(const replog_group_consumer *gc,
			    const struct replog_topic_partition **parts, size_t *count)
{
	*parts = gc->view;
	*count = gc->view ? gc->nparts : 0;
	return REPLOG_OK;
}

int64_t replog_group_committed(const replog_group_consumer *gc, const char *topic,
			       int32_t partition)
{
	for (size_t i = 0; i < gc->nparts; i++)
		if (gc->parts[i].tp.partition == partition &&
		    strcmp(gc->parts[i].tp.topic, topic) == 0)
			return gc->parts[i].committed;
	return -1;
}

int32_t replog_group_generation(const replog_group_consumer *gc)
{
	return gc->generation;
}

replog_group_consumer *replog_group_consumer_new(const struct replog_config *cfg,
						 const struct replog_group_config *gcfg,
						 const char *group_id, replog_rebalance_cb cb,
						 void *opaque, struct replog_error *err)
{
	if (!group_id || !*group_id || strlen(group_id) > REPLOG_TOPIC_MAX) {
		rl_fail(err, REPLOG_ERR_ARG, 0, "a group id of 1..%d characters", REPLOG_TOPIC_MAX);
		return NULL;
	}
	replog_group_consumer *gc = calloc(1, sizeof(*gc));
	if (!gc) {
		rl_fail(err, REPLOG_ERR_NOMEM, 0, "out of memory");
		return NULL;
	}
	if (gcfg)
		gc->g = *gcfg;
	else
		replog_group_config_init(&gc->g);
	struct replog_config c = *cfg;
	/* A JoinGroup waits for the whole rebalance. */
	if (c.request_timeout_ms < gc->g.rebalance_timeout_ms + 5000)
		c.request_timeout_ms = gc->g.rebalance_timeout_ms + 5000;
	if (rl_client_init(&gc->cl, &c, err)) {
		free(gc);
		return NULL;
	}
	gc->cfg = gc->cl.cfg;
	gc->cons = replog_consumer_new(cfg, err);
	if (!gc->cons) {
		rl_client_deinit(&gc->cl);
		free(gc);
		return NULL;
	}
	snprintf(gc->group, sizeof(gc->group), "%s", group_id);
	gc->coordinator = -1;
	gc->generation = -1;
	gc->cb = cb;
	gc->opaque = opaque;
	return gc;
}

static int rl_take_leave(replog_group_consumer *gc, const union kp_response_body *resp,
			 struct replog_error *err)
{
	return REPLOG_OK;
}

void replog_group_consumer_close(replog_group_consumer *gc)
{
	if (!gc)
		return;
	if (!gc->need_join && gc->coordinator >= 0) {
		rl_revoke_all(gc);
		if (gc->member_id[0]) {
			union kp_request_body req = {
				.leave_group = {.group_id = kp_str_from_cstr(gc->group),
						.member_id = kp_str_from_cstr(gc->member_id)}};
			rl_gcall(gc, gc->coordinator, KP_API_LEAVE_GROUP, RL_GROUP_LEAVE_VERSION,
				 &req, rl_take_leave, NULL);
		}
	}
	replog_consumer_destroy(gc->cons);
	rl_client_deinit(&gc->cl);
	for (size_t i = 0; i < gc->ntopics; i++)
		free(gc->topics[i]);
	free(gc->topics);
	free(gc->parts);
	free(gc->view);
	free(gc->sync_assignment.p);
	free(gc);
}
