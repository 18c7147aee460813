/*
 * coordinator — the group coordinator (API and promises in coordinator.h).
 *
 * What this file owns: the groups this broker coordinates (one
 * struct grp_group each, with the partition of __consumer_offsets it
 * belongs to), one committed-offset table per partition it leads (loaded
 * from the log when it became leader, in that leader epoch), and the
 * commits being written.
 */
#include "coordinator.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "batch.h"
#include "batch_builder.h"
#include "blog.h"
#include "broker.h"
#include "cluster.h"
#include "compress.h"
#include "config.h"
#include "conn.h"
#include "group.h"
#include "kp_api.h"
#include "meta.h"
#include "offsets.h"
#include "partition.h"
#include "record.h"
#include "rlerr.h"

#define COORD_LOAD_CHUNK      (1u << 20)
#define COORD_CREATE_RETRY_MS 2000

struct coord_group {
	struct grp_group *g;
	int32_t part; /* of __consumer_offsets */
	struct coord_group *next;
};

struct coord {
	struct coord_group *groups;
	struct ofs_table *tables[COORD_PARTITIONS];
	int32_t loaded_epoch[COORD_PARTITIONS]; /* -1: not loaded */
	int64_t create_asked_ms;
	uint64_t nonce;
	struct grp_config cfg;
};

static struct coord *co_of(struct broker *b)
{
	return b->b_coord;
}

static int64_t co_now(struct broker *b)
{
	return b->b_reactor.re_now_ms;
}

static int32_t co_nparts(struct broker *b)
{
	const struct meta_topic *t = meta_topic(cluster_image(b), OFS_TOPIC, sizeof(OFS_TOPIC) - 1);
	return t ? (t->mt_npartitions < COORD_PARTITIONS ? t->mt_npartitions : COORD_PARTITIONS)
		 : 0;
}

/* A NUL-terminated copy of s in the request's arena ("" when null). */
static const char *co_cstr(struct kreq *rq, struct kp_str s)
{
	int len = s.len > 0 ? s.len : 0;
	char *c = kreq_alloc(rq, (size_t)len + 1, 1);
	if (!c)
		return NULL;
	if (len)
		memcpy(c, s.ptr, (size_t)len);
	c[len] = '\0';
	return c;
}

/* ---- loading a partition's offsets ---------------------------------------- */

static void co_apply_batch(struct ofs_table *t, const struct batch_header *h, const uint8_t *batch,
			   size_t size, uint8_t **scratch, size_t *cap)
{
	if (h->bh_attributes & BATCH_ATTR_CONTROL)
		return;
	const uint8_t *region = batch + BATCH_HEADER_BYTES;
	size_t len = size - BATCH_HEADER_BYTES;
	if (batch_codec(h) != BATCH_CODEC_NONE) {
		size_t want = len * 8 > (1u << 20) ? len * 8 : (1u << 20);
		if (*cap < want) {
			uint8_t *n = realloc(*scratch, want);
			if (!n)
				return;
			*scratch = n;
			*cap = want;
		}
		int64_t n = decompress_records(batch_codec(h), *scratch, *cap, region, len);
		if (n < 0)
			return;
		region = *scratch;
		len = (size_t)n;
	}
	struct record_iter it;
	struct record r;
	record_iter_init(&it, region, len, h->bh_records_count);
	while (record_iter_next(&it, &r) == 1)
		ofs_table_apply(t, r.r_key, r.r_key_len > 0 ? (size_t)r.r_key_len : 0, r.r_value,
				r.r_value_len > 0 ? (size_t)r.r_value_len : 0);
}

/* Read the whole partition into a new table. */
static struct ofs_table *co_load(struct partition *p)
{
	struct ofs_table *t = ofs_table_new();
	uint8_t *buf = malloc(COORD_LOAD_CHUNK * 2);
	uint8_t *scratch = NULL;
	size_t cap = 0;
	if (!t || !buf) {
		ofs_table_free(t);
		free(buf);
		return NULL;
	}
	int64_t off = plog_start_offset(p->pt_log), end = plog_end_offset(p->pt_log);
	for (int guard = 0; off < end && guard < 1000000; guard++) {
		struct plog_slice s;
		int rc = plog_read(p->pt_log, off, COORD_LOAD_CHUNK, end, true, &s);
		if (rc != 1)
			break;
		size_t want = s.ps_len > COORD_LOAD_CHUNK * 2 ? COORD_LOAD_CHUNK * 2 : s.ps_len;
		int64_t got = plog_slice_copy(&s, buf, want);
		int64_t next = s.ps_next_offset;
		plog_slice_release(&s);
		if (got <= 0)
			break;
		struct batch_iter it;
		struct batch_header h;
		const uint8_t *batch;
		size_t size;
		batch_iter_init(&it, buf, (size_t)got);
		while (batch_iter_next(&it, &h, &batch, &size) == 1)
			co_apply_batch(t, &h, batch, size, &scratch, &cap);
		if (next <= off)
			break;
		off = next;
	}
	free(buf);
	free(scratch);
	return t;
}

/* The offsets partition `idx` if this broker leads it, with its table
 * loaded for the current leader epoch; NULL with *err otherwise. */
static struct partition *co_lead(struct broker *b, int32_t idx, int16_t *err)
{
	struct coord *co = co_of(b);
	int kerr = 0;
	struct partition *p =
		api_leader_partition(b, OFS_TOPIC, (int)sizeof(OFS_TOPIC) - 1, idx, &kerr);
	if (!p || idx < 0 || idx >= COORD_PARTITIONS) {
		*err = KP_ERR_NOT_COORDINATOR;
		return NULL;
	}
	if (co->loaded_epoch[idx] != p->pt_leader_epoch || !co->tables[idx]) {
		struct ofs_table *t = co_load(p);
		if (!t) {
			*err = KP_ERR_COORDINATOR_NOT_AVAILABLE;
			return NULL;
		}
		ofs_table_free(co->tables[idx]);
		co->tables[idx] = t;
		co->loaded_epoch[idx] = p->pt_leader_epoch;
		char e[BLOG_I64_BUF], n[BLOG_I64_BUF], pi[BLOG_I64_BUF];
		blog(BLOG_INFO, "group_offsets_loaded", "partition", blog_i64(pi, idx), "epoch",
		     blog_i64(e, p->pt_leader_epoch), "offsets", blog_i64(n, ofs_table_size(t)),
		     NULL);
	}
	return p;
}

/* The partition a group id belongs to; -1 before the topic exists. */
static int32_t co_part_of(struct broker *b, const char *group)
{
	int32_t n = co_nparts(b);
	return n > 0 ? ofs_partition_for(group, n) : -1;
}

static struct coord_group *co_find(struct coord *co, const char *id)
{
	for (struct coord_group *cg = co->groups; cg; cg = cg->next)
		if (strcmp(cg->g->id, id) == 0)
			return cg;
	return NULL;
}

static struct coord_group *co_group(struct broker *b, const char *id, int32_t part, bool create)
{
	struct coord *co = co_of(b);
	struct coord_group *cg = co_find(co, id);
	if (cg || !create)
		return cg;
	cg = calloc(1, sizeof(*cg));
	if (!cg)
		return NULL;
	cg->g = grp_new(id);
	if (!cg->g) {
		free(cg);
		return NULL;
	}
	cg->part = part;
	cg->next = co->groups;
	co->groups = cg;
	return cg;
}

/* Check that this broker coordinates `group` now: 0 with *part set, or the
 * Kafka error to answer. */
static int16_t co_check(struct broker *b, const char *group, int32_t *part)
{
	if (!group || !*group)
		return KP_ERR_INVALID_GROUP_ID;
	int32_t idx = co_part_of(b, group);
	if (idx < 0)
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	int16_t err = 0;
	if (!co_lead(b, idx, &err))
		return err;
	*part = idx;
	return 0;
}

/* ---- the ops the group logic calls ---------------------------------------- */

struct co_waiter {
	struct kreq *rq;
	int16_t version;
};

static struct co_waiter *co_park(struct kreq *rq)
{
	struct co_waiter *w = kreq_alloc(rq, 1, sizeof(*w));
	if (!w)
		return NULL;
	w->rq = rq;
	w->version = rq->rq_hdr.request_api_version;
	kreq_ref(rq);
	return w;
}

static void co_join_done(void *waiter, const struct grp_join_result *r)
{
	struct co_waiter *w = waiter;
	struct kreq *rq = w->rq;
	union kp_response_body resp = {.join_group = {
					       .error_code = r->error_code,
					       .generation_id = r->generation,
					       .protocol_name = kp_str_from_cstr(r->protocol_name),
					       .leader = kp_str_from_cstr(r->leader),
					       .member_id = kp_str_from_cstr(r->member_id),
				       }};
	if (r->nmembers > 0) {
		struct kp_joingroup_member *ms = kreq_alloc(rq, (size_t)r->nmembers, sizeof(*ms));
		if (ms) {
			for (int32_t i = 0; i < r->nmembers; i++)
				ms[i] = (struct kp_joingroup_member){
					.member_id = kp_str_from_cstr(r->members[i].member_id),
					.group_instance_id = KP_STR_NULL,
					.metadata = {r->members[i].metadata,
						     r->members[i].metadata_len},
				};
			resp.join_group.members = ms;
			resp.join_group.members_count = r->nmembers;
		}
	}
	kreq_respond(rq, &resp);
	kreq_unref(rq);
}

static void co_sync_done(void *waiter, int16_t err, const uint8_t *assignment, int32_t len)
{
	struct co_waiter *w = waiter;
	struct kreq *rq = w->rq;
	union kp_response_body resp = {
		.sync_group = {
			.error_code = err,
			.assignment = {assignment ? assignment : (const uint8_t *)"",
				       assignment ? len : 0},
		}};
	kreq_respond(rq, &resp);
	kreq_unref(rq);
}

static const struct grp_ops co_ops = {.join_done = co_join_done, .sync_done = co_sync_done};

/* ---- FindCoordinator ------------------------------------------------------ */

static void co_create_topic(struct broker *b)
{
	struct coord *co = co_of(b);
	if (co->create_asked_ms && co_now(b) - co->create_asked_ms < COORD_CREATE_RETRY_MS)
		return;
	co->create_asked_ms = co_now(b);
	const struct meta_image *mi = cluster_image(b);
	int live = 0;
	for (int i = 0; i < mi->mi_nbrokers; i++)
		live += meta_broker_alive(mi, mi->mi_brokers[i].mb_id);
	int16_t rf = (int16_t)(live >= 3 ? 3 : live > 0 ? live : 1);
	cluster_create_internal_topic(b, OFS_TOPIC, COORD_PARTITIONS, rf, rf >= 3 ? 2 : 1,
				      CONFIG_CLEANUP_COMPACT);
}

void findcoordinator_handle(struct broker *b, struct kreq *rq)
{
	const struct kp_findcoordinator_request *req = &rq->rq_body.find_coordinator;
	union kp_response_body resp = {.find_coordinator = {
					       .error_code = KP_ERR_COORDINATOR_NOT_AVAILABLE,
					       .error_message = KP_STR_NULL,
					       .node_id = -1,
					       .host = KP_STR(""),
					       .port = -1,
				       }};
	struct kp_findcoordinator_response *r = &resp.find_coordinator;
	const char *key = co_cstr(rq, req->key);
	const struct meta_image *mi = cluster_image(b);
	const struct meta_topic *t = meta_topic(mi, OFS_TOPIC, sizeof(OFS_TOPIC) - 1);
	if (req->key_type != KP_COORDINATOR_GROUP) {
		r->error_message = KP_STR("replog has no transaction coordinator");
	} else if (!key || !*key) {
		r->error_code = KP_ERR_INVALID_GROUP_ID;
	} else if (!t || t->mt_npartitions <= 0) {
		co_create_topic(b);
	} else {
		int32_t idx = ofs_partition_for(key, co_nparts(b));
		int32_t leader = t->mt_parts[idx].mp_leader;
		const struct meta_broker *mb = leader >= 0 ? meta_broker_c(mi, leader) : NULL;
		char host[CONFIG_HOSTPORT_MAX];
		uint16_t port;
		if (mb && meta_broker_alive(mi, leader) &&
		    config_parse_hostport(mb->mb_address, host, sizeof(host), &port) == 0) {
			const char *h = co_cstr(rq, kp_str_from_cstr(host));
			if (h) {
				r->error_code = 0;
				r->node_id = leader;
				r->host = kp_str_from_cstr(h);
				r->port = port;
			}
		}
	}
	kreq_respond(rq, &resp);
}

/* ---- JoinGroup, SyncGroup, Heartbeat, LeaveGroup -------------------------- */

static void co_join_fail(struct kreq *rq, int16_t err, struct kp_str member)
{
	union kp_response_body resp = {.join_group = {.error_code = err,
						      .generation_id = -1,
						      .protocol_name = KP_STR(""),
						      .leader = KP_STR(""),
						      .member_id = member}};
	kreq_respond(rq, &resp);
}

void joingroup_handle(struct broker *b, struct kreq *rq)
{
	struct coord *co = co_of(b);
	const struct kp_joingroup_request *req = &rq->rq_body.join_group;
	const char *group = co_cstr(rq, req->group_id);
	int32_t part = -1;
	int16_t err = co_check(b, group, &part);
	struct coord_group *cg = err ? NULL : co_group(b, group, part, true);
	struct grp_protocol *ps = kreq_alloc(
		rq, req->protocols_count > 0 ? (size_t)req->protocols_count : 1, sizeof(*ps));
	struct co_waiter *w = NULL;
	if (!err && (!cg || !ps || !(w = co_park(rq))))
		err = KP_ERR_COORDINATOR_NOT_AVAILABLE;
	if (err) {
		co_join_fail(rq, err, req->member_id);
		return;
	}
	for (int32_t i = 0; i < req->protocols_count; i++)
		ps[i] = (struct grp_protocol){
			.name = co_cstr(rq, req->protocols[i].name),
			.metadata = req->protocols[i].metadata.ptr,
			.metadata_len = req->protocols[i].metadata.len,
		};
	char host[72];
	const char *peer = rq->rq_conn->cn_peer;
	const char *colon = strrchr(peer, ':');
	snprintf(host, sizeof(host), "/%.*s", colon ? (int)(colon - peer) : (int)strlen(peer),
		 peer);
	co->nonce = co->nonce * 6364136223846793005ull + 1442695040888963407ull;
	struct grp_join_req jr = {
		.member_id = co_cstr(rq, req->member_id),
		.client_id = co_cstr(rq, rq->rq_hdr.client_id),
		.client_host = host,
		.session_timeout_ms = req->session_timeout_ms,
		.rebalance_timeout_ms = req->rebalance_timeout_ms,
		.protocol_type = co_cstr(rq, req->protocol_type),
		.protocols = ps,
		.nprotocols = req->protocols_count,
		.require_known_member_id = w->version >= 4,
		.id_nonce = co->nonce ^ (uint64_t)co_now(b),
	};
	grp_join(cg->g, &co->cfg, &jr, w, co_now(b), &co_ops);
}

void syncgroup_handle(struct broker *b, struct kreq *rq)
{
	const struct kp_syncgroup_request *req = &rq->rq_body.sync_group;
	const char *group = co_cstr(rq, req->group_id);
	int32_t part = -1;
	int16_t err = co_check(b, group, &part);
	struct coord_group *cg = err ? NULL : co_group(b, group, part, false);
	if (!err && !cg)
		err = KP_ERR_UNKNOWN_MEMBER_ID;
	struct grp_assignment *as = kreq_alloc(
		rq, req->assignments_count > 0 ? (size_t)req->assignments_count : 1, sizeof(*as));
	struct co_waiter *w = NULL;
	if (!err && (!as || !(w = co_park(rq))))
		err = KP_ERR_COORDINATOR_NOT_AVAILABLE;
	if (err) {
		union kp_response_body resp = {
			.sync_group = {.error_code = err, .assignment = {(const uint8_t *)"", 0}}};
		kreq_respond(rq, &resp);
		return;
	}
	for (int32_t i = 0; i < req->assignments_count; i++)
		as[i] = (struct grp_assignment){
			.member_id = co_cstr(rq, req->assignments[i].member_id),
			.assignment = req->assignments[i].assignment.ptr,
			.assignment_len = req->assignments[i].assignment.len,
		};
	grp_sync(cg->g, co_cstr(rq, req->member_id), req->generation_id, as, req->assignments_count,
		 w, co_now(b), &co_ops);
}

void heartbeat_handle(struct broker *b, struct kreq *rq)
{
	const struct kp_heartbeat_request *req = &rq->rq_body.heartbeat;
	const char *group = co_cstr(rq, req->group_id);
	int32_t part = -1;
	int16_t err = co_check(b, group, &part);
	struct coord_group *cg = err ? NULL : co_group(b, group, part, false);
	if (!err)
		err = cg ? grp_heartbeat(cg->g, co_cstr(rq, req->member_id), req->generation_id,
					 co_now(b))
			 : KP_ERR_UNKNOWN_MEMBER_ID;
	union kp_response_body resp = {.heartbeat = {.error_code = err}};
	kreq_respond(rq, &resp);
}

void leavegroup_handle(struct broker *b, struct kreq *rq)
{
	const struct kp_leavegroup_request *req = &rq->rq_body.leave_group;
	const char *group = co_cstr(rq, req->group_id);
	int32_t part = -1;
	int16_t err = co_check(b, group, &part);
	struct coord_group *cg = err ? NULL : co_group(b, group, part, false);
	if (!err)
		err = cg ? grp_leave(cg->g, co_cstr(rq, req->member_id), co_now(b), &co_ops)
			 : KP_ERR_UNKNOWN_MEMBER_ID;
	union kp_response_body resp = {.leave_group = {.error_code = err}};
	kreq_respond(rq, &resp);
}

/* ---- OffsetCommit --------------------------------------------------------- */

struct co_commit {
	struct broker *b;
	struct kreq *rq;
	struct partition *p;
	int32_t part;
	const char *group;
	uint8_t *buf;
	struct plog_append app;
	struct isr_waiter iw;
	int pending;
	int16_t err;
	union kp_response_body resp;
};

static void co_commit_respond(struct co_commit *c, int16_t err)
{
	struct kp_offsetcommit_response *r = &c->resp.offset_commit;
	for (int32_t t = 0; t < r->topics_count; t++)
		for (int32_t i = 0; i < r->topics[t].partitions_count; i++)
			if (r->topics[t].partitions[i].error_code == 0)
				r->topics[t].partitions[i].error_code = err;
	kreq_respond(c->rq, &c->resp);
}

static void co_commit_finish(struct co_commit *c)
{
	if (--c->pending > 0)
		return;
	struct coord *co = co_of(c->b);
	const struct kp_offsetcommit_request *req = &c->rq->rq_body.offset_commit;
	if (!c->err && co->tables[c->part] && co->loaded_epoch[c->part] == c->p->pt_leader_epoch) {
		for (int32_t t = 0; t < req->topics_count; t++) {
			const char *topic = co_cstr(c->rq, req->topics[t].name);
			for (int32_t i = 0; topic && i < req->topics[t].partitions_count; i++) {
				const struct kp_offsetcommit_partition *pp =
					&req->topics[t].partitions[i];
				struct ofs_commit oc = {
					.offset = pp->committed_offset,
					.leader_epoch = pp->committed_leader_epoch,
					.metadata = co_cstr(c->rq, pp->committed_metadata),
					.commit_timestamp_ms = co_now(c->b),
				};
				ofs_table_put(co->tables[c->part], c->group, topic,
					      pp->partition_index, &oc);
			}
		}
	}
	co_commit_respond(c, c->err);
	free(c->buf);
	struct kreq *rq = c->rq;
	kreq_unref(rq);
}

static void co_commit_written(struct plog_append *pa, int res)
{
	struct co_commit *c = pa->pa_ctx;
	if (res < 0 && !c->err)
		c->err = KP_ERR_COORDINATOR_NOT_AVAILABLE;
	co_commit_finish(c);
}

static void co_commit_acked(struct isr_waiter *w, int verdict)
{
	struct co_commit *c = w->iw_ctx;
	if (verdict == ISR_FAIL_NOT_LEADER && !c->err)
		c->err = KP_ERR_NOT_COORDINATOR;
	else if (verdict != ISR_OK && !c->err)
		c->err = KP_ERR_COORDINATOR_NOT_AVAILABLE;
	co_commit_finish(c);
}

/* One batch with a record per partition committed. Returns its size or -1. */
static int64_t co_commit_batch(struct co_commit *c, const struct kp_offsetcommit_request *req)
{
	size_t need = BATCH_HEADER_BYTES + 64;
	for (int32_t t = 0; t < req->topics_count; t++)
		for (int32_t i = 0; i < req->topics[t].partitions_count; i++)
			need += 2 * (size_t)(req->group_id.len + req->topics[t].name.len) + 128 +
				(size_t)(req->topics[t].partitions[i].committed_metadata.len > 0
						 ? req->topics[t]
							   .partitions[i]
							   .committed_metadata.len
						 : 0);
	c->buf = malloc(need);
	if (!c->buf)
		return -1;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	struct batch_builder bb;
	batch_builder_init(&bb, c->buf, need, BATCH_CODEC_NONE, now, -1, -1, -1);
	uint8_t key[OFS_KEY_MAX > 70000 ? 70000 : OFS_KEY_MAX], val[OFS_METADATA_MAX + 64];
	for (int32_t t = 0; t < req->topics_count; t++) {
		const char *topic = co_cstr(c->rq, req->topics[t].name);
		for (int32_t i = 0; topic && i < req->topics[t].partitions_count; i++) {
			const struct kp_offsetcommit_partition *pp = &req->topics[t].partitions[i];
			struct ofs_commit oc = {.offset = pp->committed_offset,
						.leader_epoch = pp->committed_leader_epoch,
						.metadata = co_cstr(c->rq, pp->committed_metadata),
						.commit_timestamp_ms = now};
			int32_t kl = ofs_key_encode(key, sizeof(key), c->group, topic,
						    pp->partition_index);
			int32_t vl = oc.metadata ? ofs_value_encode(val, sizeof(val), &oc) : -1;
			if (kl < 0 || vl < 0 ||
			    batch_builder_add(&bb, now, key, kl, val, vl, NULL, 0) < 0)
				return -1;
		}
	}
	return batch_builder_finish(&bb);
}

static bool co_commit_response(struct kreq *rq, union kp_response_body *resp, int16_t err)
{
	const struct kp_offsetcommit_request *req = &rq->rq_body.offset_commit;
	struct kp_offsetcommit_response *r = &resp->offset_commit;
	r->topics = kreq_alloc(rq, req->topics_count > 0 ? (size_t)req->topics_count : 1,
			       sizeof(*r->topics));
	if (!r->topics)
		return false;
	r->topics_count = req->topics_count;
	for (int32_t t = 0; t < req->topics_count; t++) {
		struct kp_offsetcommit_topic_result *tr = &r->topics[t];
		tr->name = req->topics[t].name;
		int32_t n = req->topics[t].partitions_count;
		tr->partitions = kreq_alloc(rq, n > 0 ? (size_t)n : 1, sizeof(*tr->partitions));
		if (!tr->partitions)
			return false;
		tr->partitions_count = n;
		for (int32_t i = 0; i < n; i++) {
			tr->partitions[i].partition_index =
				req->topics[t].partitions[i].partition_index;
			tr->partitions[i].error_code = err;
			if (!err &&
			    req->topics[t].partitions[i].committed_metadata.len > OFS_METADATA_MAX)
				tr->partitions[i].error_code = KP_ERR_OFFSET_METADATA_TOO_LARGE;
		}
	}
	return true;
}

void offsetcommit_handle(struct broker *b, struct kreq *rq)
{
	const struct kp_offsetcommit_request *req = &rq->rq_body.offset_commit;
	struct co_commit *c = kreq_alloc(rq, 1, sizeof(*c));
	const char *group = co_cstr(rq, req->group_id);
	int32_t part = -1;
	int16_t err = c ? co_check(b, group, &part) : KP_ERR_COORDINATOR_NOT_AVAILABLE;
	if (!err) {
		struct coord_group *cg = co_group(b, group, part, false);
		const char *member = co_cstr(rq, req->member_id);
		if (cg)
			err = grp_commit_allowed(cg->g, member, req->generation_id);
		else if (req->generation_id >= 0)
			err = KP_ERR_ILLEGAL_GENERATION; /* no such generation here */
	}
	union kp_response_body fail = {0};
	if (err || !c) {
		if (co_commit_response(rq, &fail, err))
			kreq_respond(rq, &fail);
		return;
	}
	*c = (struct co_commit){.b = b, .rq = rq, .part = part, .group = group};
	if (!co_commit_response(rq, &c->resp, 0)) {
		kreq_respond(rq, &fail);
		return;
	}
	int16_t lerr = 0;
	c->p = co_lead(b, part, &lerr);
	if (!c->p || !cluster_lease_valid(b) || !isr_accepts_acks_all(&c->p->pt_isr)) {
		co_commit_respond(c, c->p && !lerr ? KP_ERR_COORDINATOR_NOT_AVAILABLE
						   : KP_ERR_NOT_COORDINATOR);
		return;
	}
	int64_t size = co_commit_batch(c, req);
	if (size <= 0) {
		free(c->buf);
		co_commit_respond(c, KP_ERR_INVALID_COMMIT_OFFSET_SIZE);
		return;
	}
	c->app = (struct plog_append){.pa_done = co_commit_written, .pa_ctx = c};
	int rc = plog_append_leader(c->p->pt_log, &c->app, c->buf, (size_t)size,
				    c->p->pt_leader_epoch);
	if (rc < 0) {
		free(c->buf);
		co_commit_respond(c, KP_ERR_COORDINATOR_NOT_AVAILABLE);
		return;
	}
	kreq_ref(rq);
	c->pending = 2;
	c->iw = (struct isr_waiter){
		.iw_target = c->app.pa_last_offset + 1, .iw_done = co_commit_acked, .iw_ctx = c};
	isr_waiter_add(&c->p->pt_isr, &c->iw);
}

/* ---- OffsetFetch ---------------------------------------------------------- */

struct co_fetch_all {
	struct kreq *rq;
	struct kp_offsetfetch_topic_result *topics;
	int32_t ntopics, cap;
	bool failed;
};

static int co_fetch_visit(void *ctx, const char *topic, int32_t partition,
			  const struct ofs_commit *c)
{
	struct co_fetch_all *fa = ctx;
	struct kp_offsetfetch_topic_result *tr = NULL;
	for (int32_t i = 0; i < fa->ntopics && !tr; i++)
		if ((size_t)fa->topics[i].name.len == strlen(topic) &&
		    memcmp(fa->topics[i].name.ptr, topic, strlen(topic)) == 0)
			tr = &fa->topics[i];
	if (!tr) {
		if (fa->ntopics == fa->cap) {
			fa->failed = true;
			return 1;
		}
		tr = &fa->topics[fa->ntopics++];
		tr->name = kp_str_from_cstr(co_cstr(fa->rq, kp_str_from_cstr(topic)));
		tr->partitions = kreq_alloc(fa->rq, 64, sizeof(*tr->partitions));
		if (!tr->partitions) {
			fa->failed = true;
			return 1;
		}
	}
	if (tr->partitions_count == 64)
		return 0; /* at most 64 per topic in an answer for every partition */
	tr->partitions[tr->partitions_count++] = (struct kp_offsetfetch_partition){
		.partition_index = partition,
		.committed_offset = c->offset,
		.committed_leader_epoch = c->leader_epoch,
		.metadata = kp_str_from_cstr(co_cstr(fa->rq, kp_str_from_cstr(c->metadata))),
	};
	return 0;
}

void offsetfetch_handle(struct broker *b, struct kreq *rq)
{
	struct coord *co = co_of(b);
	const struct kp_offsetfetch_request *req = &rq->rq_body.offset_fetch;
	const char *group = co_cstr(rq, req->group_id);
	int32_t part = -1;
	int16_t err = co_check(b, group, &part);
	union kp_response_body resp = {.offset_fetch = {.error_code = err}};
	struct kp_offsetfetch_response *r = &resp.offset_fetch;
	if (!err && req->topics_count < 0) { /* every partition the group committed */
		struct co_fetch_all fa = {.rq = rq, .cap = 256};
		fa.topics = kreq_alloc(rq, (size_t)fa.cap, sizeof(*fa.topics));
		if (fa.topics)
			ofs_table_visit(co->tables[part], group, co_fetch_visit, &fa);
		r->topics = fa.topics;
		r->topics_count = fa.ntopics;
		kreq_respond(rq, &resp);
		return;
	}
	int32_t nt = req->topics_count > 0 ? req->topics_count : 0;
	r->topics = kreq_alloc(rq, nt ? (size_t)nt : 1, sizeof(*r->topics));
	r->topics_count = r->topics ? nt : 0;
	for (int32_t t = 0; r->topics && t < nt; t++) {
		const struct kp_offsetfetch_topic *qt = &req->topics[t];
		struct kp_offsetfetch_topic_result *tr = &r->topics[t];
		const char *topic = co_cstr(rq, qt->name);
		tr->name = qt->name;
		int32_t np = qt->partition_indexes_count > 0 ? qt->partition_indexes_count : 0;
		tr->partitions = kreq_alloc(rq, np ? (size_t)np : 1, sizeof(*tr->partitions));
		tr->partitions_count = tr->partitions ? np : 0;
		for (int32_t i = 0; tr->partitions && i < np; i++) {
			struct kp_offsetfetch_partition *op = &tr->partitions[i];
			struct ofs_commit c;
			op->partition_index = qt->partition_indexes[i];
			op->committed_offset = -1;
			op->committed_leader_epoch = -1;
			op->metadata = KP_STR("");
			op->error_code = err;
			if (!err && topic &&
			    ofs_table_get(co->tables[part], group, topic, op->partition_index,
					  &c)) {
				op->committed_offset = c.offset;
				op->committed_leader_epoch = c.leader_epoch;
				op->metadata =
					kp_str_from_cstr(co_cstr(rq, kp_str_from_cstr(c.metadata)));
			}
		}
	}
	kreq_respond(rq, &resp);
}

/* ---- ListGroups, DescribeGroups ------------------------------------------- */

void listgroups_handle(struct broker *b, struct kreq *rq)
{
	struct coord *co = co_of(b);
	int n = 0;
	for (struct coord_group *cg = co->groups; cg; cg = cg->next)
		n++;
	union kp_response_body resp = {.list_groups = {0}};
	struct kp_listgroups_response *r = &resp.list_groups;
	r->groups = kreq_alloc(rq, n ? (size_t)n : 1, sizeof(*r->groups));
	for (struct coord_group *cg = co->groups; cg && r->groups; cg = cg->next) {
		int16_t err = 0;
		if (!co_lead(b, cg->part, &err))
			continue;
		r->groups[r->groups_count++] = (struct kp_listgroups_group){
			.group_id = kp_str_from_cstr(co_cstr(rq, kp_str_from_cstr(cg->g->id))),
			.protocol_type = kp_str_from_cstr(co_cstr(
				rq, kp_str_from_cstr(cg->g->protocol_type ? cg->g->protocol_type
									  : ""))),
		};
	}
	kreq_respond(rq, &resp);
}

static void co_describe_one(struct broker *b, struct kreq *rq, const struct kp_str *id,
			    struct kp_describegroups_group *out)
{
	const char *group = co_cstr(rq, *id);
	int32_t part = -1;
	out->group_id = *id;
	out->group_state = KP_STR("Dead");
	out->protocol_type = KP_STR("");
	out->protocol_data = KP_STR("");
	out->error_code = co_check(b, group, &part);
	if (out->error_code)
		return;
	struct coord_group *cg = co_group(b, group, part, false);
	if (!cg)
		return; /* no such group: Dead, no members, as Kafka answers */
	const struct grp_group *g = cg->g;
	out->group_state = kp_str_from_cstr(grp_state_name(g->state));
	out->protocol_type = kp_str_from_cstr(g->protocol_type ? g->protocol_type : "");
	bool stable = g->state == GRP_STABLE;
	out->protocol_data = kp_str_from_cstr(stable && g->protocol ? g->protocol : "");
	int32_t n = grp_member_count(g);
	out->members = kreq_alloc(rq, n ? (size_t)n : 1, sizeof(*out->members));
	if (!out->members)
		return;
	out->members_count = n;
	for (int32_t i = 0; i < n; i++) {
		int32_t ml = 0, al = 0;
		const uint8_t *md = stable ? grp_member_metadata(g, i, &ml) : NULL;
		const uint8_t *as = stable ? grp_member_assignment(g, i, &al) : NULL;
		out->members[i] = (struct kp_describegroups_member){
			.member_id = kp_str_from_cstr(grp_member_id(g, i)),
			.client_id = kp_str_from_cstr(grp_member_client_id(g, i)),
			.client_host = kp_str_from_cstr(grp_member_client_host(g, i)),
			.member_metadata = {md ? md : (const uint8_t *)"", md ? ml : 0},
			.member_assignment = {as ? as : (const uint8_t *)"", as ? al : 0},
		};
	}
}

void describegroups_handle(struct broker *b, struct kreq *rq)
{
	const struct kp_describegroups_request *req = &rq->rq_body.describe_groups;
	union kp_response_body resp = {.describe_groups = {0}};
	struct kp_describegroups_response *r = &resp.describe_groups;
	int32_t n = req->groups_count > 0 ? req->groups_count : 0;
	r->groups = kreq_alloc(rq, n ? (size_t)n : 1, sizeof(*r->groups));
	r->groups_count = r->groups ? n : 0;
	for (int32_t i = 0; i < r->groups_count; i++)
		co_describe_one(b, rq, &req->groups[i], &r->groups[i]);
	kreq_respond(rq, &resp);
}

/* ---- DeleteGroups --------------------------------------------------------- */

/* One group's deletion: a batch of tombstones for its offsets, then it is
 * forgotten once the batch is committed. */
struct co_delete {
	struct broker *b;
	struct kreq *rq;
	struct co_delete_all *all;
	struct kp_deletegroups_result *res;
	const char *group;
	int32_t part;
	struct partition *p;
	uint8_t *buf;
	struct plog_append app;
	struct isr_waiter iw;
	int pending;
};

struct co_delete_all {
	struct kreq *rq;
	union kp_response_body resp;
	int pending; /* groups still being written */
};

static void co_delete_all_done(struct co_delete_all *all)
{
	if (--all->pending > 0)
		return;
	struct kreq *rq = all->rq;
	kreq_respond(rq, &all->resp);
	kreq_unref(rq);
}

static void co_delete_finish(struct co_delete *d)
{
	if (--d->pending > 0)
		return;
	struct coord *co = co_of(d->b);
	if (d->res->error_code == 0) {
		if (co->tables[d->part])
			ofs_table_drop_group(co->tables[d->part], d->group);
		for (struct coord_group **pp = &co->groups; *pp; pp = &(*pp)->next)
			if (strcmp((*pp)->g->id, d->group) == 0) {
				struct coord_group *cg = *pp;
				*pp = cg->next;
				grp_give_up(cg->g, &co_ops);
				grp_free(cg->g);
				free(cg);
				break;
			}
	}
	free(d->buf);
	co_delete_all_done(d->all);
}

static void co_delete_written(struct plog_append *pa, int res)
{
	struct co_delete *d = pa->pa_ctx;
	if (res < 0)
		d->res->error_code = KP_ERR_COORDINATOR_NOT_AVAILABLE;
	co_delete_finish(d);
}

static void co_delete_acked(struct isr_waiter *w, int verdict)
{
	struct co_delete *d = w->iw_ctx;
	if (verdict != ISR_OK && !d->res->error_code)
		d->res->error_code = verdict == ISR_FAIL_NOT_LEADER
					     ? KP_ERR_NOT_COORDINATOR
					     : KP_ERR_COORDINATOR_NOT_AVAILABLE;
	co_delete_finish(d);
}

struct co_tomb {
	struct batch_builder *bb;
	const char *group;
	int64_t now;
	int n;
	bool failed;
};

static int co_tomb_visit(void *ctx, const char *topic, int32_t partition,
			 const struct ofs_commit *c)
{
	struct co_tomb *t = ctx;
	(void)c;
	uint8_t key[1024];
	int32_t kl = ofs_key_encode(key, sizeof(key), t->group, topic, partition);
	if (kl < 0 || batch_builder_add(t->bb, t->now, key, kl, NULL, -1, NULL, 0) < 0) {
		t->failed = true;
		return 1;
	}
	t->n++;
	return 0;
}

/* Start deleting one group; its result is in d->res. Returns true when a
 * write is under way (the answer waits for it). */
static bool co_delete_one(struct broker *b, struct co_delete *d)
{
	struct coord *co = co_of(b);
	int16_t err = co_check(b, d->group, &d->part);
	if (err) {
		d->res->error_code = err;
		return false;
	}
	struct coord_group *cg = co_find(co, d->group);
	if (cg && grp_member_count(cg->g) > 0) {
		d->res->error_code = KP_ERR_NON_EMPTY_GROUP;
		return false;
	}
	int64_t have = 0;
	struct ofs_table *tab = co->tables[d->part];
	size_t entries = (size_t)ofs_table_size(tab);
	if (!cg && entries == 0) {
		d->res->error_code = KP_ERR_GROUP_ID_NOT_FOUND;
		return false;
	}
	size_t cap = BATCH_HEADER_BYTES + 64 + entries * (1024 + 32);
	d->buf = malloc(cap);
	struct batch_builder bb;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct co_tomb t = {.bb = &bb,
			    .group = d->group,
			    .now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000};
	if (!d->buf) {
		d->res->error_code = KP_ERR_COORDINATOR_NOT_AVAILABLE;
		return false;
	}
	batch_builder_init(&bb, d->buf, cap, BATCH_CODEC_NONE, t.now, -1, -1, -1);
	ofs_table_visit(tab, d->group, co_tomb_visit, &t);
	have = t.n;
	if (t.failed) {
		free(d->buf);
		d->buf = NULL;
		d->res->error_code = KP_ERR_COORDINATOR_NOT_AVAILABLE;
		return false;
	}
	if (have == 0) { /* a member-less group with nothing committed */
		free(d->buf);
		d->buf = NULL;
		if (cg) {
			d->pending = 1;
			d->all->pending++;
			co_delete_finish(d); /* forgets the group object */
			return true;
		}
		d->res->error_code = KP_ERR_GROUP_ID_NOT_FOUND;
		return false;
	}
	int64_t size = batch_builder_finish(&bb);
	d->p = co_lead(b, d->part, &err);
	if (size <= 0 || !d->p || !cluster_lease_valid(b) || !isr_accepts_acks_all(&d->p->pt_isr)) {
		free(d->buf);
		d->buf = NULL;
		d->res->error_code = KP_ERR_COORDINATOR_NOT_AVAILABLE;
		return false;
	}
	d->app = (struct plog_append){.pa_done = co_delete_written, .pa_ctx = d};
	if (plog_append_leader(d->p->pt_log, &d->app, d->buf, (size_t)size, d->p->pt_leader_epoch) <
	    0) {
		free(d->buf);
		d->buf = NULL;
		d->res->error_code = KP_ERR_COORDINATOR_NOT_AVAILABLE;
		return false;
	}
	d->pending = 2;
	d->all->pending++;
	d->iw = (struct isr_waiter){
		.iw_target = d->app.pa_last_offset + 1, .iw_done = co_delete_acked, .iw_ctx = d};
	isr_waiter_add(&d->p->pt_isr, &d->iw);
	return true;
}

void deletegroups_handle(struct broker *b, struct kreq *rq)
{
	const struct kp_deletegroups_request *req = &rq->rq_body.delete_groups;
	int32_t n = req->groups_names_count > 0 ? req->groups_names_count : 0;
	struct co_delete_all *all = kreq_alloc(rq, 1, sizeof(*all));
	struct co_delete *ds = kreq_alloc(rq, n ? (size_t)n : 1, sizeof(*ds));
	struct kp_deletegroups_result *res = kreq_alloc(rq, n ? (size_t)n : 1, sizeof(*res));
	if (!all || !ds || !res) {
		union kp_response_body fail = {.delete_groups = {0}};
		kreq_respond(rq, &fail);
		return;
	}
	all->rq = rq;
	all->resp.delete_groups.results = res;
	all->resp.delete_groups.results_count = n;
	all->pending = 1; /* this handler, until every group is started */
	kreq_ref(rq);
	for (int32_t i = 0; i < n; i++) {
		res[i].group_id = req->groups_names[i];
		ds[i] = (struct co_delete){.b = b,
					   .rq = rq,
					   .all = all,
					   .res = &res[i],
					   .group = co_cstr(rq, req->groups_names[i])};
		co_delete_one(b, &ds[i]);
	}
	co_delete_all_done(all);
}

/* ---- life and time -------------------------------------------------------- */

int coord_init(struct broker *b)
{
	struct coord *co = calloc(1, sizeof(*co));
	if (!co)
		return -1;
	for (int i = 0; i < COORD_PARTITIONS; i++)
		co->loaded_epoch[i] = -1;
	co->cfg = (struct grp_config){
		.min_session_timeout_ms = 1000,
		.max_session_timeout_ms = 30 * 60 * 1000,
		.initial_delay_ms = 1000,
		.max_members = 1000,
	};
	co->nonce = (uint64_t)b->b_cfg.bc_id * 0x9e3779b97f4a7c15ull;
	b->b_coord = co;
	return 0;
}

void coord_deinit(struct broker *b)
{
	struct coord *co = co_of(b);
	if (!co)
		return;
	for (struct coord_group *cg = co->groups, *n; cg; cg = n) {
		n = cg->next;
		grp_give_up(cg->g, &co_ops);
		grp_free(cg->g);
		free(cg);
	}
	for (int i = 0; i < COORD_PARTITIONS; i++)
		ofs_table_free(co->tables[i]);
	free(co);
	b->b_coord = NULL;
}

void coord_tick(struct broker *b)
{
	struct coord *co = co_of(b);
	if (!co)
		return;
	for (struct coord_group **pp = &co->groups; *pp;) {
		struct coord_group *cg = *pp;
		int kerr = 0;
		struct partition *p = api_leader_partition(b, OFS_TOPIC, (int)sizeof(OFS_TOPIC) - 1,
							   cg->part, &kerr);
		bool lost = !p || co->loaded_epoch[cg->part] != p->pt_leader_epoch;
		if (lost) { /* the group moved with its partition's leadership */
			grp_give_up(cg->g, &co_ops);
			grp_free(cg->g);
			*pp = cg->next;
			free(cg);
			continue;
		}
		grp_tick(cg->g, co_now(b), &co_ops);
		pp = &cg->next;
	}
}
