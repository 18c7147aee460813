/*
 * api — decoding and dispatch of requests (rules in api.h).
 *
 * Each request gets one arena for everything decoded from it and
 * everything its response needs: sized from the frame (decoded arrays
 * are at most a few times the bytes they came from), plus what the
 * response will hold for this API (Metadata answers about every topic).
 * A request that still does not fit is malformed for our purposes.
 */
#include "api.h"
#include "coordinator.h"

#include <stdio.h>
#include <stdlib.h>

#include "blog.h"
#include "broker.h"
#include "cluster.h"
#include "conn.h"
#include "replica.h"
#include "kp_api.h"
#include "kp_message.h"
#include "rlassert.h"

#define API_ARENA_BASE	    (64u << 10)
#define API_ARENA_FIRST_MAX (1u << 20)
#define API_ARENA_RATIO	    8

static const struct api_entry api_entries[] = {
	{KP_API_PRODUCE, 3, 7, produce_handle, false},
	{KP_API_FETCH, 4, 11, fetch_handle, false},
	{KP_API_LIST_OFFSETS, 0, 2, listoffsets_handle, false},
	{KP_API_METADATA, 0, 8, metadata_handle, false},
	{KP_API_API_VERSIONS, 0, 3, api_versions_handle, false},
	{KP_API_CREATE_TOPICS, 0, 4, createtopics_handle, false},
	{KP_API_DELETE_TOPICS, 0, 3, deletetopics_handle, false},
	{KP_API_OFFSET_FOR_LEADER_EPOCH, 0, 3, epochs_handle, false},
	{KP_API_FIND_COORDINATOR, 0, 2, findcoordinator_handle, false},
	{KP_API_JOIN_GROUP, 2, 5, joingroup_handle, false},
	{KP_API_HEARTBEAT, 0, 3, heartbeat_handle, false},
	{KP_API_LEAVE_GROUP, 0, 1, leavegroup_handle, false},
	{KP_API_SYNC_GROUP, 0, 3, syncgroup_handle, false},
	{KP_API_OFFSET_COMMIT, 2, 7, offsetcommit_handle, false},
	{KP_API_OFFSET_FETCH, 1, 7, offsetfetch_handle, false},
	{KP_API_LIST_GROUPS, 0, 2, listgroups_handle, false},
	{KP_API_DESCRIBE_GROUPS, 0, 2, describegroups_handle, false},
	{KP_API_DELETE_GROUPS, 0, 1, deletegroups_handle, false},
	{KP_API_REPLOG_BROKER_REGISTER, 0, 0, replog_register_handle, true},
	{KP_API_REPLOG_BROKER_HEARTBEAT, 0, 0, replog_heartbeat_handle, true},
	{KP_API_REPLOG_ALTER_PARTITION, 0, 0, replog_alter_handle, true},
	{KP_API_REPLOG_DESCRIBE_REPLICAS, 0, 0, replog_describe_handle, true},
	{KP_API_REPLOG_LIST_DISCARDED, 0, 0, replog_discarded_handle, true},
	{KP_API_REPLOG_RAFT, 0, 0, replog_raft_handle, true},
	{KP_API_REPLOG_DESCRIBE_QUORUM, 0, 0, replog_quorum_handle, true},
};

const struct api_entry *api_table(int *count)
{
	*count = (int)(sizeof(api_entries) / sizeof(api_entries[0]));
	return api_entries;
}

int api_advertise(struct kreq *rq, struct kp_apiversions_api_version **out)
{
	int n;
	const struct api_entry *t = api_table(&n);
	*out = kreq_alloc(rq, (size_t)n, sizeof(**out));
	if (!*out)
		return -1;
	int k = 0;
	for (int i = 0; i < n; i++)
		if (!t[i].ae_internal)
			(*out)[k++] =
				(struct kp_apiversions_api_version){.api_key = t[i].ae_key,
								    .min_version = t[i].ae_min,
								    .max_version = t[i].ae_max};
	return k;
}

static const struct api_entry *api_find(int16_t key)
{
	for (size_t i = 0; i < sizeof(api_entries) / sizeof(api_entries[0]); i++)
		if (api_entries[i].ae_key == key)
			return &api_entries[i];
	return NULL;
}

/* Bytes a response of this request may need beyond what decoding used. */
static size_t api_response_reserve(struct broker *b, const struct kreq *rq)
{
	int16_t key = rq->rq_hdr.request_api_key;
	const struct meta_image *mi = cluster_image(b);
	if (key == KP_API_REPLOG_DESCRIBE_QUORUM)
		return 4096 +
		       (size_t)mi->mi_nbrokers * (sizeof(struct kp_replog_quorum_broker) + 300) +
		       CONFIG_MAX_BROKERS * sizeof(struct kp_replog_quorum_member);
	if (key == KP_API_REPLOG_LIST_DISCARDED)
		return 65536 +
		       REPLOG_DISCARDED_MAX * (sizeof(struct kp_replog_discarded_entry) + 512);
	if (key == KP_API_REPLOG_DESCRIBE_REPLICAS) {
		size_t bytes = 65536;
		uint32_t n = topics_count(b->b_topics);
		for (uint32_t i = 0; i < n; i++)
			bytes += 256 + (size_t)topics_at(b->b_topics, i)->tp_partition_count *
					       (sizeof(struct kp_replog_replica) + 4096);
		return bytes;
	}
	if (key != KP_API_METADATA)
		return 0;
	size_t bytes = 4096 + (size_t)mi->mi_nbrokers * 300;
	for (uint32_t i = 0; i < mi->mi_ntopics; i++)
		bytes += sizeof(struct kp_metadata_response_topic) + 64 +
			 (size_t)mi->mi_order[i]->mt_npartitions *
				 (sizeof(struct kp_metadata_response_partition) +
				  3 * 8 * ISR_MAX_REPLICAS / 4 + 64);
	return bytes;
}

static int api_arena_init(struct kreq *rq, size_t size)
{
	free(rq->rq_arena_mem);
	rq->rq_arena_mem = malloc(size);
	if (!rq->rq_arena_mem)
		return -1;
	kp_arena_init(&rq->rq_arena, rq->rq_arena_mem, size);
	return 0;
}

static void api_close(struct kreq *rq, const char *what, int rc)
{
	char why[256];
	snprintf(why, sizeof(why), "%s %s v%d (correlation id %d, client %.*s): %s", what,
		 kp_api_name(rq->rq_hdr.request_api_key) ? kp_api_name(rq->rq_hdr.request_api_key)
							 : "unknown API",
		 rq->rq_hdr.request_api_version, rq->rq_hdr.correlation_id,
		 rq->rq_hdr.client_id.len > 0 ? (int)rq->rq_hdr.client_id.len : 1,
		 rq->rq_hdr.client_id.len > 0 ? rq->rq_hdr.client_id.ptr : "-", kp_strerror(rc));
	conn_close_after_responses(rq->rq_conn, why);
	kreq_silent(rq); /* this one gets no answer */
}

/* ApiVersions at a version we do not know: error 35 and a v0 body. */
static void api_versions_unsupported(struct kreq *rq)
{
	struct kp_apiversions_response resp = {.error_code = KP_ERR_UNSUPPORTED_VERSION};
	int n = api_advertise(rq, &resp.api_keys);
	if (n < 0) {
		api_close(rq, "cannot answer", KP_EARENA);
		return;
	}
	resp.api_keys_count = n;
	struct kp_response_header h = {.correlation_id = rq->rq_hdr.correlation_id};
	kp_writer_reset(&rq->rq_out);
	size_t mark = kp_write_frame_begin(&rq->rq_out);
	kp_response_header_encode(&rq->rq_out, KP_API_API_VERSIONS, 0, &h);
	kp_apiversions_response_encode(&rq->rq_out, 0, &resp);
	kp_write_frame_end(&rq->rq_out, mark);
	if (kp_writer_error(&rq->rq_out)) {
		api_close(rq, "cannot answer", kp_writer_error(&rq->rq_out));
		return;
	}
	kreq_respond_encoded(rq);
}

static int api_decode(struct broker *b, struct kreq *rq, size_t arena_bytes)
{
	struct kp_reader r;
	if (api_arena_init(rq, arena_bytes) < 0)
		return KP_EARENA;
	kp_reader_init(&r, rq->rq_frame, rq->rq_frame_len, &rq->rq_arena);
	int rc = kp_request_header_decode(&r, &rq->rq_hdr);
	if (rc < 0)
		return rc;
	rc = kp_request_body_decode(&r, rq->rq_hdr.request_api_key, rq->rq_hdr.request_api_version,
				    &rq->rq_body);
	if (rc == 0)
		rc = kp_reader_finish(&r);
	if (rc == KP_ETRAILING) {
		char b1[BLOG_I64_BUF];
		blog(BLOG_DEBUG, "request_trailing_bytes", "api",
		     kp_api_name(rq->rq_hdr.request_api_key), "bytes",
		     blog_i64(b1, (long long)kp_reader_remaining(&r)), NULL);
		rc = 0;
	}
	(void)b;
	return rc;
}

void api_dispatch(struct broker *b, struct kreq *rq)
{
	size_t frame = rq->rq_frame_len;
	size_t first = frame * API_ARENA_RATIO;
	if (first > API_ARENA_FIRST_MAX)
		first = API_ARENA_FIRST_MAX;
	int rc = api_decode(b, rq, first + API_ARENA_BASE);
	if (rc == KP_EARENA && first < frame * API_ARENA_RATIO)
		rc = api_decode(b, rq, frame * API_ARENA_RATIO + API_ARENA_BASE);
	int16_t key = rq->rq_hdr.request_api_key, version = rq->rq_hdr.request_api_version;
	if (rc == KP_EUNSUPPORTED_VERSION && key == KP_API_API_VERSIONS) {
		api_versions_unsupported(rq);
		return;
	}
	const struct api_entry *e = api_find(key);
	if (rc == KP_EUNSUPPORTED_API || (rc == 0 && !e)) {
		api_close(rq, "unsupported API", KP_EUNSUPPORTED_API);
		return;
	}
	if (rc == KP_EUNSUPPORTED_VERSION ||
	    (rc == 0 && (version < e->ae_min || version > e->ae_max))) {
		api_close(rq, "unsupported version of", KP_EUNSUPPORTED_VERSION);
		return;
	}
	if (rc < 0) {
		api_close(rq, "malformed", rc);
		return;
	}
	if (blog_enabled(BLOG_DEBUG)) {
		char b1[BLOG_I64_BUF], b2[BLOG_I64_BUF];
		blog(BLOG_DEBUG, "request", "api", kp_api_name(key), "version",
		     blog_i64(b1, version), "correlation_id",
		     blog_i64(b2, rq->rq_hdr.correlation_id), "client", rq->rq_conn->cn_peer, NULL);
	}
	/* Room for the response beyond the decoded request. */
	size_t reserve = api_response_reserve(b, rq);
	if (reserve && rq->rq_arena.ka_size - kp_arena_used(&rq->rq_arena) < reserve) {
		rc = api_decode(b, rq, kp_arena_used(&rq->rq_arena) + reserve + API_ARENA_BASE);
		if (rc < 0) {
			api_close(rq, "cannot decode again", rc);
			return;
		}
	}
	mt_request(&b->b_metrics, key);
	e->ae_fn(b, rq);
}

struct api_topics_wait {
	struct cluster_meta_wait tw_wait;
	struct kreq *tw_rq;
	const struct kp_str *tw_names;
	int32_t tw_n;
	int64_t tw_deadline_ms;
	bool tw_waiting;
	bool tw_hold;
	void (*tw_done)(struct broker *b, struct kreq *rq);
};

static bool api_topics_ready(struct broker *b, const struct api_topics_wait *tw)
{
	if (!cluster_caught_up(b))
		return false;
	for (int32_t i = 0; i < tw->tw_n; i++) {
		struct kp_str name = tw->tw_names[i];
		const struct meta_topic *t = meta_topic(cluster_image(b), name.ptr, name.len);
		char why[256];
		if (!t) {
			if (name.len > 0 && topics_valid_name(name.ptr, name.len, why, sizeof(why)))
				return false;
			continue;
		}
		for (int32_t p = 0; p < t->mt_npartitions; p++)
			if (t->mt_parts[p].mp_leader < 0)
				return false;
	}
	return true;
}

static void api_topics_end(struct kreq *rq, struct api_topics_wait *tw)
{
	if (tw->tw_hold)
		conn_release(rq->rq_conn);
	kreq_unref(rq); /* the wait's reference */
}

static void api_topics_woken(struct cluster_meta_wait *w)
{
	struct api_topics_wait *tw = w->cmw_ctx;
	struct kreq *rq = tw->tw_rq;
	struct broker *b = rq->rq_conn->cn_broker;
	tw->tw_waiting = false;
	if (!rq->rq_orphan && rq->rq_state == KREQ_WORKING) {
		int64_t left = tw->tw_deadline_ms - b->b_reactor.re_now_ms;
		if (left > 0 && !api_topics_ready(b, tw)) {
			tw->tw_waiting = true;
			cluster_wait_metadata(b, &tw->tw_wait, left);
			return;
		}
		rq->rq_cancel = NULL;
		rq->rq_handler_state = NULL;
		tw->tw_done(b, rq);
	}
	api_topics_end(rq, tw);
}

/* The connection closed while waiting. */
static void api_topics_cancel(struct kreq *rq)
{
	struct api_topics_wait *tw = rq->rq_handler_state;
	if (!tw || !tw->tw_waiting)
		return;
	tw->tw_waiting = false;
	cluster_cancel_wait(rq->rq_conn->cn_broker, &tw->tw_wait);
	api_topics_end(rq, tw);
}

bool api_wait_topics(struct broker *b, struct kreq *rq, const struct kp_str *names, int32_t n,
		     int64_t timeout_ms, bool hold, void (*done)(struct broker *b, struct kreq *rq))
{
	struct api_topics_wait *tw = kreq_alloc(rq, 1, sizeof(*tw));
	if (!tw)
		return false;
	*tw = (struct api_topics_wait){.tw_rq = rq,
				       .tw_names = names,
				       .tw_n = n,
				       .tw_deadline_ms = b->b_reactor.re_now_ms + timeout_ms,
				       .tw_waiting = true,
				       .tw_hold = hold,
				       .tw_done = done};
	tw->tw_wait.cmw_done = api_topics_woken;
	tw->tw_wait.cmw_ctx = tw;
	rq->rq_handler_state = tw;
	rq->rq_cancel = api_topics_cancel;
	kreq_ref(rq);
	if (hold)
		conn_hold(rq->rq_conn);
	cluster_wait_metadata(b, &tw->tw_wait, timeout_ms);
	return true;
}

bool api_auto_create(struct broker *b, const char *name, int len)
{
	char why[256];
	if (!b->b_cfg.bc_auto_create_topics || !topics_valid_name(name, len, why, sizeof(why)))
		return false;
	cluster_auto_create(b, name, len);
	return true;
}

struct partition *api_partition(struct broker *b, const char *name, int len, int32_t index,
				int *err)
{
	struct partition *p = topics_partition(b->b_topics, name, len, index);
	if (!p) {
		/* Before catching up, "unknown" may only mean "not learned yet":
		 * answer what makes a client look again, not what makes it
		 * forget the topic. */
		*err = meta_partition(cluster_image(b), name, len, index) || !cluster_caught_up(b)
			       ? KP_ERR_NOT_LEADER_OR_FOLLOWER
			       : KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		return NULL;
	}
	if (p->pt_storage_error) {
		*err = p->pt_storage_error;
		return NULL;
	}
	*err = KP_ERR_NONE;
	return p;
}

struct partition *api_leader_partition_at(struct broker *b, const char *name, int len,
					  int32_t index, int32_t current_leader_epoch, int *err)
{
	struct partition *p = api_partition(b, name, len, index, err);
	if (!p)
		return NULL;
	/* A newer epoch than ours: we have not applied the metadata yet (and
	 * may be about to lead): the caller retries. Checked first, so that a
	 * new leader's first seconds are not answered "not the leader". */
	if (current_leader_epoch > p->pt_leader_epoch) {
		*err = KP_ERR_UNKNOWN_LEADER_EPOCH;
		return NULL;
	}
	if (!replica_is_leader(p)) {
		*err = KP_ERR_NOT_LEADER_OR_FOLLOWER;
		return NULL;
	}
	if (current_leader_epoch >= 0 && current_leader_epoch < p->pt_leader_epoch) {
		*err = KP_ERR_FENCED_LEADER_EPOCH;
		return NULL;
	}
	return p;
}

struct partition *api_leader_partition(struct broker *b, const char *name, int len, int32_t index,
				       int *err)
{
	struct partition *p = api_partition(b, name, len, index, err);
	if (p && !replica_is_leader(p)) {
		*err = KP_ERR_NOT_LEADER_OR_FOLLOWER;
		return NULL;
	}
	return p;
}
