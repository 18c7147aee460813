/*
 * kp_group — the consumer-group APIs (kp_group.h). Layouts, per Kafka's
 * message schemas (clients/src/main/resources/common/message/<Api>*.json),
 * restricted to our version ranges. All integers big-endian; "string" is
 * int16 length + bytes (-1 = null where marked nullable), "bytes" int32
 * length + bytes, "[x]" an int32 count then the elements; in flexible
 * versions (OffsetFetch v6+ only, here) those are compact: uvarint of
 * length/count + 1, 0 = null, and every struct ends with a tagged-field
 * section ("tags"; uvarint count, then tag/size/data).
 *
 * FindCoordinator (10) v0-2, classic (flexible from v3)
 *   Request   key string, key_type int8 (v1+)
 *   Response  throttle_time_ms int32 (v1+), error_code int16,
 *             error_message nullable string (v1+), node_id int32,
 *             host string, port int32
 *
 * JoinGroup (11) v2-5, classic (flexible from v6)
 *   Request   group_id string, session_timeout_ms int32,
 *             rebalance_timeout_ms int32 (v1+), member_id string,
 *             group_instance_id nullable string (v5+), protocol_type string,
 *             protocols [name string, metadata bytes]
 *   Response  throttle_time_ms int32 (v2+), error_code int16,
 *             generation_id int32, protocol_name string, leader string,
 *             member_id string,
 *             members [member_id string,
 *                      group_instance_id nullable string (v5+),
 *                      metadata bytes]
 *
 * Heartbeat (12) v0-3, classic (flexible from v4)
 *   Request   group_id string, generation_id int32, member_id string,
 *             group_instance_id nullable string (v3+)
 *   Response  throttle_time_ms int32 (v1+), error_code int16
 *
 * LeaveGroup (13) v0-1, classic (flexible from v4; v3+ has a members[])
 *   Request   group_id string, member_id string
 *   Response  throttle_time_ms int32 (v1+), error_code int16
 *
 * SyncGroup (14) v0-3, classic (flexible from v4)
 *   Request   group_id string, generation_id int32, member_id string,
 *             group_instance_id nullable string (v3+),
 *             assignments [member_id string, assignment bytes]
 *   Response  throttle_time_ms int32 (v1+), error_code int16,
 *             assignment bytes
 *
 * OffsetCommit (8) v2-7, classic (flexible from v8)
 *   Request   group_id string, generation_id int32, member_id string,
 *             group_instance_id nullable string (v7+),
 *             retention_time_ms int64 (v2-4),
 *             topics [name string,
 *                     partitions [partition_index int32,
 *                                 committed_offset int64,
 *                                 committed_leader_epoch int32 (v6+),
 *                                 committed_metadata nullable string]]
 *             (Kafka lists group_instance_id before retention_time_ms; no
 *             version has both, so the order never shows.)
 *   Response  throttle_time_ms int32 (v3+),
 *             topics [name string,
 *                     partitions [partition_index int32, error_code int16]]
 *
 * OffsetFetch (9) v1-7, classic v1-5, flexible v6-7
 *   Request   group_id string,
 *             topics [name string, partition_indexes [int32], tags (v6+)]
 *                    (nullable v2+: null = every committed partition),
 *             require_stable bool (v7+), tags (v6+)
 *   Response  throttle_time_ms int32 (v3+),
 *             topics [name string,
 *                     partitions [partition_index int32,
 *                                 committed_offset int64,
 *                                 committed_leader_epoch int32 (v5+),
 *                                 metadata nullable string,
 *                                 error_code int16, tags (v6+)],
 *                     tags (v6+)],
 *             error_code int16 (v2+), tags (v6+)
 *
 * ListGroups (16) v0-2, classic (flexible from v3)
 *   Request   (empty)
 *   Response  throttle_time_ms int32 (v1+), error_code int16,
 *             groups [group_id string, protocol_type string]
 *
 * DescribeGroups (15) v0-2, classic (flexible from v5)
 *   Request   groups [string]
 *   Response  throttle_time_ms int32 (v1+),
 *             groups [error_code int16, group_id string, group_state string,
 *                     protocol_type string, protocol_data string,
 *                     members [member_id string, client_id string,
 *                              client_host string, member_metadata bytes,
 *                              member_assignment bytes]]
 *
 * librdkafka's OffsetFetch v7 request body, as captured (kcatG2):
 * 05 "grp2" 02 07 "seeded" 02 00000000 00 01 00 — one topic, partition 0,
 * require_stable true.
 *
 * The version table (kp_api.c) decides classic vs compact; every API but
 * OffsetFetch is classic throughout its range, which the decoders assert,
 * so their minimum element sizes below are classic sizes.
 */
#include "kp_group.h"

#include "kp_api.h"
#include "rlassert.h"

#define MIN_PROTOCOL	     6	/* name, metadata */
#define MIN_JOIN_MEMBER	     6	/* member_id, metadata */
#define MIN_ASSIGNMENT	     6	/* member_id, assignment */
#define MIN_COMMIT_TOPIC     6	/* name, partitions count */
#define MIN_COMMIT_PARTITION 14 /* index, offset, metadata */
#define MIN_COMMIT_RESULT    6	/* index, error_code */
#define MIN_FETCH_TOPIC	     6	/* name, count */
#define MIN_FETCH_TOPIC_FLEX 3	/* name, count, tags */
#define MIN_FETCH_PARTITION  16 /* index, offset, metadata, error_code */
#define MIN_LISTED_GROUP     4	/* group_id, protocol_type */
#define MIN_DESCRIBED_GROUP  14 /* error_code, 4 strings, members count */
#define MIN_DESCRIBED_MEMBER 14 /* 3 strings, 2 bytes */

/* Compact forms are never longer than classic ones, and a flexible
 * partition also carries the epoch and a tags byte. */
_Static_assert(MIN_FETCH_PARTITION <= 4 + 8 + 4 + 1 + 2 + 1, "flexible partition bound");
_Static_assert(MIN_FETCH_TOPIC_FLEX == 1 + 1 + 1, "flexible topic bound");

static size_t min_fetch_topic(const struct kp_reader *r)
{
	return r->kr_flexible ? MIN_FETCH_TOPIC_FLEX : MIN_FETCH_TOPIC;
}

/* Begin a classic-only API: the version check, then the invariant that its
 * whole range is classic. */
static int begin_classic_decode(struct kp_reader *r, int16_t api, int16_t version)
{
	if (kp_api_begin_decode(r, api, version))
		return r->kr_err;
	RL_DEBUG_ASSERT(!r->kr_flexible);
	return 0;
}

static int begin_classic_encode(struct kp_writer *w, int16_t api, int16_t version)
{
	if (kp_api_begin_encode(w, api, version))
		return w->kw_err;
	RL_DEBUG_ASSERT(!w->kw_flexible);
	return 0;
}

/* ----------------------------------------------------- FindCoordinator */

int kp_findcoordinator_request_decode(struct kp_reader *r, int16_t version,
				      struct kp_findcoordinator_request *req)
{
	if (begin_classic_decode(r, KP_API_FIND_COORDINATOR, version))
		return r->kr_err;
	req->key = kp_read_string(r);
	req->key_type = version >= 1 ? kp_read_int8(r) : KP_COORDINATOR_GROUP;
	return kp_reader_finish(r);
}

int kp_findcoordinator_request_encode(struct kp_writer *w, int16_t version,
				      const struct kp_findcoordinator_request *req)
{
	if (begin_classic_encode(w, KP_API_FIND_COORDINATOR, version))
		return w->kw_err;
	kp_write_string(w, req->key);
	if (version >= 1)
		kp_write_int8(w, req->key_type);
	return w->kw_err;
}

int kp_findcoordinator_response_decode(struct kp_reader *r, int16_t version,
				       struct kp_findcoordinator_response *resp)
{
	if (begin_classic_decode(r, KP_API_FIND_COORDINATOR, version))
		return r->kr_err;
	resp->throttle_time_ms = version >= 1 ? kp_read_int32(r) : 0;
	resp->error_code = kp_read_int16(r);
	resp->error_message = version >= 1 ? kp_read_nullable_string(r) : KP_STR_NULL;
	resp->node_id = kp_read_int32(r);
	resp->host = kp_read_string(r);
	resp->port = kp_read_int32(r);
	return kp_reader_finish(r);
}

int kp_findcoordinator_response_encode(struct kp_writer *w, int16_t version,
				       const struct kp_findcoordinator_response *resp)
{
	if (begin_classic_encode(w, KP_API_FIND_COORDINATOR, version))
		return w->kw_err;
	if (version >= 1)
		kp_write_int32(w, resp->throttle_time_ms);
	kp_write_int16(w, resp->error_code);
	if (version >= 1)
		kp_write_nullable_string(w, resp->error_message);
	kp_write_int32(w, resp->node_id);
	kp_write_string(w, resp->host);
	kp_write_int32(w, resp->port);
	return w->kw_err;
}

/* ----------------------------------------------------------- JoinGroup */

int kp_joingroup_request_decode(struct kp_reader *r, int16_t version,
				struct kp_joingroup_request *req)
{
	if (begin_classic_decode(r, KP_API_JOIN_GROUP, version))
		return r->kr_err;
	req->group_id = kp_read_string(r);
	req->session_timeout_ms = kp_read_int32(r);
	req->rebalance_timeout_ms = version >= 1 ? kp_read_int32(r) : -1;
	req->member_id = kp_read_string(r);
	req->group_instance_id = version >= 5 ? kp_read_nullable_string(r) : KP_STR_NULL;
	req->protocol_type = kp_read_string(r);
	req->protocols = kp_read_struct_array(r, false, MIN_PROTOCOL, sizeof(*req->protocols),
					      &req->protocols_count);
	for (int32_t i = 0; i < req->protocols_count && !r->kr_err; i++) {
		req->protocols[i].name = kp_read_string(r);
		req->protocols[i].metadata = kp_read_bytes(r);
	}
	return kp_reader_finish(r);
}

int kp_joingroup_request_encode(struct kp_writer *w, int16_t version,
				const struct kp_joingroup_request *req)
{
	if (begin_classic_encode(w, KP_API_JOIN_GROUP, version))
		return w->kw_err;
	kp_write_string(w, req->group_id);
	kp_write_int32(w, req->session_timeout_ms);
	if (version >= 1)
		kp_write_int32(w, req->rebalance_timeout_ms);
	kp_write_string(w, req->member_id);
	if (version >= 5)
		kp_write_nullable_string(w, req->group_instance_id);
	kp_write_string(w, req->protocol_type);
	kp_write_array_begin(w, req->protocols, req->protocols_count, false);
	for (int32_t i = 0; i < req->protocols_count && !w->kw_err; i++) {
		kp_write_string(w, req->protocols[i].name);
		kp_write_bytes(w, req->protocols[i].metadata);
	}
	return w->kw_err;
}

int kp_joingroup_response_decode(struct kp_reader *r, int16_t version,
				 struct kp_joingroup_response *resp)
{
	if (begin_classic_decode(r, KP_API_JOIN_GROUP, version))
		return r->kr_err;
	resp->throttle_time_ms = version >= 2 ? kp_read_int32(r) : 0;
	resp->error_code = kp_read_int16(r);
	resp->generation_id = kp_read_int32(r);
	resp->protocol_name = kp_read_string(r);
	resp->leader = kp_read_string(r);
	resp->member_id = kp_read_string(r);
	resp->members = kp_read_struct_array(r, false, MIN_JOIN_MEMBER, sizeof(*resp->members),
					     &resp->members_count);
	for (int32_t i = 0; i < resp->members_count && !r->kr_err; i++) {
		struct kp_joingroup_member *m = &resp->members[i];
		m->member_id = kp_read_string(r);
		m->group_instance_id = version >= 5 ? kp_read_nullable_string(r) : KP_STR_NULL;
		m->metadata = kp_read_bytes(r);
	}
	return kp_reader_finish(r);
}

int kp_joingroup_response_encode(struct kp_writer *w, int16_t version,
				 const struct kp_joingroup_response *resp)
{
	if (begin_classic_encode(w, KP_API_JOIN_GROUP, version))
		return w->kw_err;
	if (version >= 2)
		kp_write_int32(w, resp->throttle_time_ms);
	kp_write_int16(w, resp->error_code);
	kp_write_int32(w, resp->generation_id);
	kp_write_string(w, resp->protocol_name);
	kp_write_string(w, resp->leader);
	kp_write_string(w, resp->member_id);
	kp_write_array_begin(w, resp->members, resp->members_count, false);
	for (int32_t i = 0; i < resp->members_count && !w->kw_err; i++) {
		const struct kp_joingroup_member *m = &resp->members[i];
		kp_write_string(w, m->member_id);
		if (version >= 5)
			kp_write_nullable_string(w, m->group_instance_id);
		kp_write_bytes(w, m->metadata);
	}
	return w->kw_err;
}

/* ----------------------------------------------------------- Heartbeat */

int kp_heartbeat_request_decode(struct kp_reader *r, int16_t version,
				struct kp_heartbeat_request *req)
{
	if (begin_classic_decode(r, KP_API_HEARTBEAT, version))
		return r->kr_err;
	req->group_id = kp_read_string(r);
	req->generation_id = kp_read_int32(r);
	req->member_id = kp_read_string(r);
	req->group_instance_id = version >= 3 ? kp_read_nullable_string(r) : KP_STR_NULL;
	return kp_reader_finish(r);
}

int kp_heartbeat_request_encode(struct kp_writer *w, int16_t version,
				const struct kp_heartbeat_request *req)
{
	if (begin_classic_encode(w, KP_API_HEARTBEAT, version))
		return w->kw_err;
	kp_write_string(w, req->group_id);
	kp_write_int32(w, req->generation_id);
	kp_write_string(w, req->member_id);
	if (version >= 3)
		kp_write_nullable_string(w, req->group_instance_id);
	return w->kw_err;
}

/* Heartbeat and LeaveGroup answer the same: throttle_time_ms (v1+), then
 * error_code. */
static int throttle_error_decode(struct kp_reader *r, int16_t api_key, int16_t version,
				 int32_t *throttle_time_ms, int16_t *error_code)
{
	if (begin_classic_decode(r, api_key, version))
		return r->kr_err;
	*throttle_time_ms = version >= 1 ? kp_read_int32(r) : 0;
	*error_code = kp_read_int16(r);
	return kp_reader_finish(r);
}

static int throttle_error_encode(struct kp_writer *w, int16_t api_key, int16_t version,
				 int32_t throttle_time_ms, int16_t error_code)
{
	if (begin_classic_encode(w, api_key, version))
		return w->kw_err;
	if (version >= 1)
		kp_write_int32(w, throttle_time_ms);
	kp_write_int16(w, error_code);
	return w->kw_err;
}

int kp_heartbeat_response_decode(struct kp_reader *r, int16_t version,
				 struct kp_heartbeat_response *resp)
{
	return throttle_error_decode(r, KP_API_HEARTBEAT, version, &resp->throttle_time_ms,
				     &resp->error_code);
}

int kp_heartbeat_response_encode(struct kp_writer *w, int16_t version,
				 const struct kp_heartbeat_response *resp)
{
	return throttle_error_encode(w, KP_API_HEARTBEAT, version, resp->throttle_time_ms,
				     resp->error_code);
}

/* ---------------------------------------------------------- LeaveGroup */

int kp_leavegroup_request_decode(struct kp_reader *r, int16_t version,
				 struct kp_leavegroup_request *req)
{
	if (begin_classic_decode(r, KP_API_LEAVE_GROUP, version))
		return r->kr_err;
	req->group_id = kp_read_string(r);
	req->member_id = kp_read_string(r);
	return kp_reader_finish(r);
}

int kp_leavegroup_request_encode(struct kp_writer *w, int16_t version,
				 const struct kp_leavegroup_request *req)
{
	if (begin_classic_encode(w, KP_API_LEAVE_GROUP, version))
		return w->kw_err;
	kp_write_string(w, req->group_id);
	kp_write_string(w, req->member_id);
	return w->kw_err;
}

int kp_leavegroup_response_decode(struct kp_reader *r, int16_t version,
				  struct kp_leavegroup_response *resp)
{
	return throttle_error_decode(r, KP_API_LEAVE_GROUP, version, &resp->throttle_time_ms,
				     &resp->error_code);
}

int kp_leavegroup_response_encode(struct kp_writer *w, int16_t version,
				  const struct kp_leavegroup_response *resp)
{
	return throttle_error_encode(w, KP_API_LEAVE_GROUP, version, resp->throttle_time_ms,
				     resp->error_code);
}

/* ----------------------------------------------------------- SyncGroup */

int kp_syncgroup_request_decode(struct kp_reader *r, int16_t version,
				struct kp_syncgroup_request *req)
{
	if (begin_classic_decode(r, KP_API_SYNC_GROUP, version))
		return r->kr_err;
	req->group_id = kp_read_string(r);
	req->generation_id = kp_read_int32(r);
	req->member_id = kp_read_string(r);
	req->group_instance_id = version >= 3 ? kp_read_nullable_string(r) : KP_STR_NULL;
	req->assignments = kp_read_struct_array(r, false, MIN_ASSIGNMENT, sizeof(*req->assignments),
						&req->assignments_count);
	for (int32_t i = 0; i < req->assignments_count && !r->kr_err; i++) {
		req->assignments[i].member_id = kp_read_string(r);
		req->assignments[i].assignment = kp_read_bytes(r);
	}
	return kp_reader_finish(r);
}

int kp_syncgroup_request_encode(struct kp_writer *w, int16_t version,
				const struct kp_syncgroup_request *req)
{
	if (begin_classic_encode(w, KP_API_SYNC_GROUP, version))
		return w->kw_err;
	kp_write_string(w, req->group_id);
	kp_write_int32(w, req->generation_id);
	kp_write_string(w, req->member_id);
	if (version >= 3)
		kp_write_nullable_string(w, req->group_instance_id);
	kp_write_array_begin(w, req->assignments, req->assignments_count, false);
	for (int32_t i = 0; i < req->assignments_count && !w->kw_err; i++) {
		kp_write_string(w, req->assignments[i].member_id);
		kp_write_bytes(w, req->assignments[i].assignment);
	}
	return w->kw_err;
}

int kp_syncgroup_response_decode(struct kp_reader *r, int16_t version,
				 struct kp_syncgroup_response *resp)
{
	if (begin_classic_decode(r, KP_API_SYNC_GROUP, version))
		return r->kr_err;
	resp->throttle_time_ms = version >= 1 ? kp_read_int32(r) : 0;
	resp->error_code = kp_read_int16(r);
	resp->assignment = kp_read_bytes(r);
	return kp_reader_finish(r);
}

int kp_syncgroup_response_encode(struct kp_writer *w, int16_t version,
				 const struct kp_syncgroup_response *resp)
{
	if (begin_classic_encode(w, KP_API_SYNC_GROUP, version))
		return w->kw_err;
	if (version >= 1)
		kp_write_int32(w, resp->throttle_time_ms);
	kp_write_int16(w, resp->error_code);
	kp_write_bytes(w, resp->assignment);
	return w->kw_err;
}

/* -------------------------------------------------------- OffsetCommit */

static void decode_commit_topic(struct kp_reader *r, int16_t version,
				struct kp_offsetcommit_topic *t)
{
	t->name = kp_read_string(r);
	t->partitions = kp_read_struct_array(r, false, MIN_COMMIT_PARTITION, sizeof(*t->partitions),
					     &t->partitions_count);
	for (int32_t j = 0; j < t->partitions_count && !r->kr_err; j++) {
		struct kp_offsetcommit_partition *p = &t->partitions[j];
		p->partition_index = kp_read_int32(r);
		p->committed_offset = kp_read_int64(r);
		p->committed_leader_epoch = version >= 6 ? kp_read_int32(r) : -1;
		p->committed_metadata = kp_read_nullable_string(r);
	}
}

int kp_offsetcommit_request_decode(struct kp_reader *r, int16_t version,
				   struct kp_offsetcommit_request *req)
{
	if (begin_classic_decode(r, KP_API_OFFSET_COMMIT, version))
		return r->kr_err;
	req->group_id = kp_read_string(r);
	req->generation_id = kp_read_int32(r);
	req->member_id = kp_read_string(r);
	req->group_instance_id = version >= 7 ? kp_read_nullable_string(r) : KP_STR_NULL;
	req->retention_time_ms = version >= 2 && version <= 4 ? kp_read_int64(r) : -1;
	req->topics = kp_read_struct_array(r, false, MIN_COMMIT_TOPIC, sizeof(*req->topics),
					   &req->topics_count);
	for (int32_t i = 0; i < req->topics_count && !r->kr_err; i++)
		decode_commit_topic(r, version, &req->topics[i]);
	return kp_reader_finish(r);
}

int kp_offsetcommit_request_encode(struct kp_writer *w, int16_t version,
				   const struct kp_offsetcommit_request *req)
{
	if (begin_classic_encode(w, KP_API_OFFSET_COMMIT, version))
		return w->kw_err;
	kp_write_string(w, req->group_id);
	kp_write_int32(w, req->generation_id);
	kp_write_string(w, req->member_id);
	if (version >= 7)
		kp_write_nullable_string(w, req->group_instance_id);
	if (version >= 2 && version <= 4)
		kp_write_int64(w, req->retention_time_ms);
	kp_write_array_begin(w, req->topics, req->topics_count, false);
	for (int32_t i = 0; i < req->topics_count && !w->kw_err; i++) {
		const struct kp_offsetcommit_topic *t = &req->topics[i];
		kp_write_string(w, t->name);
		kp_write_array_begin(w, t->partitions, t->partitions_count, false);
		for (int32_t j = 0; j < t->partitions_count && !w->kw_err; j++) {
			const struct kp_offsetcommit_partition *p = &t->partitions[j];
			kp_write_int32(w, p->partition_index);
			kp_write_int64(w, p->committed_offset);
			if (version >= 6)
				kp_write_int32(w, p->committed_leader_epoch);
			kp_write_nullable_string(w, p->committed_metadata);
		}
	}
	return w->kw_err;
}

int kp_offsetcommit_response_decode(struct kp_reader *r, int16_t version,
				    struct kp_offsetcommit_response *resp)
{
	if (begin_classic_decode(r, KP_API_OFFSET_COMMIT, version))
		return r->kr_err;
	resp->throttle_time_ms = version >= 3 ? kp_read_int32(r) : 0;
	resp->topics = kp_read_struct_array(r, false, MIN_COMMIT_TOPIC, sizeof(*resp->topics),
					    &resp->topics_count);
	for (int32_t i = 0; i < resp->topics_count && !r->kr_err; i++) {
		struct kp_offsetcommit_topic_result *t = &resp->topics[i];
		t->name = kp_read_string(r);
		t->partitions = kp_read_struct_array(r, false, MIN_COMMIT_RESULT,
						     sizeof(*t->partitions), &t->partitions_count);
		for (int32_t j = 0; j < t->partitions_count && !r->kr_err; j++) {
			t->partitions[j].partition_index = kp_read_int32(r);
			t->partitions[j].error_code = kp_read_int16(r);
		}
	}
	return kp_reader_finish(r);
}

int kp_offsetcommit_response_encode(struct kp_writer *w, int16_t version,
				    const struct kp_offsetcommit_response *resp)
{
	if (begin_classic_encode(w, KP_API_OFFSET_COMMIT, version))
		return w->kw_err;
	if (version >= 3)
		kp_write_int32(w, resp->throttle_time_ms);
	kp_write_array_begin(w, resp->topics, resp->topics_count, false);
	for (int32_t i = 0; i < resp->topics_count && !w->kw_err; i++) {
		const struct kp_offsetcommit_topic_result *t = &resp->topics[i];
		kp_write_string(w, t->name);
		kp_write_array_begin(w, t->partitions, t->partitions_count, false);
		for (int32_t j = 0; j < t->partitions_count && !w->kw_err; j++) {
			kp_write_int32(w, t->partitions[j].partition_index);
			kp_write_int16(w, t->partitions[j].error_code);
		}
	}
	return w->kw_err;
}

/* --------------------------------------------------------- OffsetFetch */

int kp_offsetfetch_request_decode(struct kp_reader *r, int16_t version,
				  struct kp_offsetfetch_request *req)
{
	if (kp_api_begin_decode(r, KP_API_OFFSET_FETCH, version))
		return r->kr_err;
	req->group_id = kp_read_string(r);
	req->topics = kp_read_struct_array(r, version >= 2, min_fetch_topic(r),
					   sizeof(*req->topics), &req->topics_count);
	for (int32_t i = 0; i < req->topics_count && !r->kr_err; i++) {
		struct kp_offsetfetch_topic *t = &req->topics[i];
		t->name = kp_read_string(r);
		t->partition_indexes = kp_read_int32_array(r, false, &t->partition_indexes_count);
		t->tags = r->kr_flexible ? kp_read_tags(r) : KP_TAGS_EMPTY;
	}
	req->require_stable = version >= 7 ? kp_read_bool(r) : false;
	req->tags = r->kr_flexible ? kp_read_tags(r) : KP_TAGS_EMPTY;
	return kp_reader_finish(r);
}

int kp_offsetfetch_request_encode(struct kp_writer *w, int16_t version,
				  const struct kp_offsetfetch_request *req)
{
	if (kp_api_begin_encode(w, KP_API_OFFSET_FETCH, version))
		return w->kw_err;
	kp_write_string(w, req->group_id);
	kp_write_array_begin(w, req->topics, req->topics_count, version >= 2);
	for (int32_t i = 0; i < req->topics_count && !w->kw_err; i++) {
		const struct kp_offsetfetch_topic *t = &req->topics[i];
		kp_write_string(w, t->name);
		kp_write_int32_array(w, false, t->partition_indexes, t->partition_indexes_count);
		if (w->kw_flexible)
			kp_write_tags(w, t->tags);
	}
	if (version >= 7)
		kp_write_bool(w, req->require_stable);
	if (w->kw_flexible)
		kp_write_tags(w, req->tags);
	return w->kw_err;
}

static void decode_fetch_partition(struct kp_reader *r, int16_t version,
				   struct kp_offsetfetch_partition *p)
{
	p->partition_index = kp_read_int32(r);
	p->committed_offset = kp_read_int64(r);
	p->committed_leader_epoch = version >= 5 ? kp_read_int32(r) : -1;
	p->metadata = kp_read_nullable_string(r);
	p->error_code = kp_read_int16(r);
	p->tags = r->kr_flexible ? kp_read_tags(r) : KP_TAGS_EMPTY;
}

int kp_offsetfetch_response_decode(struct kp_reader *r, int16_t version,
				   struct kp_offsetfetch_response *resp)
{
	if (kp_api_begin_decode(r, KP_API_OFFSET_FETCH, version))
		return r->kr_err;
	resp->throttle_time_ms = version >= 3 ? kp_read_int32(r) : 0;
	resp->topics = kp_read_struct_array(r, false, min_fetch_topic(r), sizeof(*resp->topics),
					    &resp->topics_count);
	for (int32_t i = 0; i < resp->topics_count && !r->kr_err; i++) {
		struct kp_offsetfetch_topic_result *t = &resp->topics[i];
		t->name = kp_read_string(r);
		t->partitions = kp_read_struct_array(r, false, MIN_FETCH_PARTITION,
						     sizeof(*t->partitions), &t->partitions_count);
		for (int32_t j = 0; j < t->partitions_count && !r->kr_err; j++)
			decode_fetch_partition(r, version, &t->partitions[j]);
		t->tags = r->kr_flexible ? kp_read_tags(r) : KP_TAGS_EMPTY;
	}
	resp->error_code = version >= 2 ? kp_read_int16(r) : KP_ERR_NONE;
	resp->tags = r->kr_flexible ? kp_read_tags(r) : KP_TAGS_EMPTY;
	return kp_reader_finish(r);
}

int kp_offsetfetch_response_encode(struct kp_writer *w, int16_t version,
				   const struct kp_offsetfetch_response *resp)
{
	if (kp_api_begin_encode(w, KP_API_OFFSET_FETCH, version))
		return w->kw_err;
	if (version >= 3)
		kp_write_int32(w, resp->throttle_time_ms);
	kp_write_array_begin(w, resp->topics, resp->topics_count, false);
	for (int32_t i = 0; i < resp->topics_count && !w->kw_err; i++) {
		const struct kp_offsetfetch_topic_result *t = &resp->topics[i];
		kp_write_string(w, t->name);
		kp_write_array_begin(w, t->partitions, t->partitions_count, false);
		for (int32_t j = 0; j < t->partitions_count && !w->kw_err; j++) {
			const struct kp_offsetfetch_partition *p = &t->partitions[j];
			kp_write_int32(w, p->partition_index);
			kp_write_int64(w, p->committed_offset);
			if (version >= 5)
				kp_write_int32(w, p->committed_leader_epoch);
			kp_write_nullable_string(w, p->metadata);
			kp_write_int16(w, p->error_code);
			if (w->kw_flexible)
				kp_write_tags(w, p->tags);
		}
		if (w->kw_flexible)
			kp_write_tags(w, t->tags);
	}
	if (version >= 2)
		kp_write_int16(w, resp->error_code);
	if (w->kw_flexible)
		kp_write_tags(w, resp->tags);
	return w->kw_err;
}

/* ---------------------------------------------------------- ListGroups */

int kp_listgroups_request_decode(struct kp_reader *r, int16_t version,
				 struct kp_listgroups_request *req)
{
	if (begin_classic_decode(r, KP_API_LIST_GROUPS, version))
		return r->kr_err;
	req->lg_unused = 0;
	return kp_reader_finish(r);
}

int kp_listgroups_request_encode(struct kp_writer *w, int16_t version,
				 const struct kp_listgroups_request *req)
{
	(void)req;
	return begin_classic_encode(w, KP_API_LIST_GROUPS, version);
}

int kp_listgroups_response_decode(struct kp_reader *r, int16_t version,
				  struct kp_listgroups_response *resp)
{
	if (begin_classic_decode(r, KP_API_LIST_GROUPS, version))
		return r->kr_err;
	resp->throttle_time_ms = version >= 1 ? kp_read_int32(r) : 0;
	resp->error_code = kp_read_int16(r);
	resp->groups = kp_read_struct_array(r, false, MIN_LISTED_GROUP, sizeof(*resp->groups),
					    &resp->groups_count);
	for (int32_t i = 0; i < resp->groups_count && !r->kr_err; i++) {
		resp->groups[i].group_id = kp_read_string(r);
		resp->groups[i].protocol_type = kp_read_string(r);
	}
	return kp_reader_finish(r);
}

int kp_listgroups_response_encode(struct kp_writer *w, int16_t version,
				  const struct kp_listgroups_response *resp)
{
	if (begin_classic_encode(w, KP_API_LIST_GROUPS, version))
		return w->kw_err;
	if (version >= 1)
		kp_write_int32(w, resp->throttle_time_ms);
	kp_write_int16(w, resp->error_code);
	kp_write_array_begin(w, resp->groups, resp->groups_count, false);
	for (int32_t i = 0; i < resp->groups_count && !w->kw_err; i++) {
		kp_write_string(w, resp->groups[i].group_id);
		kp_write_string(w, resp->groups[i].protocol_type);
	}
	return w->kw_err;
}

/* ------------------------------------------------------ DescribeGroups */

int kp_describegroups_request_decode(struct kp_reader *r, int16_t version,
				     struct kp_describegroups_request *req)
{
	if (begin_classic_decode(r, KP_API_DESCRIBE_GROUPS, version))
		return r->kr_err;
	req->groups = kp_read_string_array(r, false, &req->groups_count);
	return kp_reader_finish(r);
}

int kp_describegroups_request_encode(struct kp_writer *w, int16_t version,
				     const struct kp_describegroups_request *req)
{
	if (begin_classic_encode(w, KP_API_DESCRIBE_GROUPS, version))
		return w->kw_err;
	kp_write_string_array(w, false, req->groups, req->groups_count);
	return w->kw_err;
}

static void decode_described_group(struct kp_reader *r, struct kp_describegroups_group *g)
{
	g->error_code = kp_read_int16(r);
	g->group_id = kp_read_string(r);
	g->group_state = kp_read_string(r);
	g->protocol_type = kp_read_string(r);
	g->protocol_data = kp_read_string(r);
	g->members = kp_read_struct_array(r, false, MIN_DESCRIBED_MEMBER, sizeof(*g->members),
					  &g->members_count);
	for (int32_t j = 0; j < g->members_count && !r->kr_err; j++) {
		struct kp_describegroups_member *m = &g->members[j];
		m->member_id = kp_read_string(r);
		m->client_id = kp_read_string(r);
		m->client_host = kp_read_string(r);
		m->member_metadata = kp_read_bytes(r);
		m->member_assignment = kp_read_bytes(r);
	}
}

int kp_describegroups_response_decode(struct kp_reader *r, int16_t version,
				      struct kp_describegroups_response *resp)
{
	if (begin_classic_decode(r, KP_API_DESCRIBE_GROUPS, version))
		return r->kr_err;
	resp->throttle_time_ms = version >= 1 ? kp_read_int32(r) : 0;
	resp->groups = kp_read_struct_array(r, false, MIN_DESCRIBED_GROUP, sizeof(*resp->groups),
					    &resp->groups_count);
	for (int32_t i = 0; i < resp->groups_count && !r->kr_err; i++)
		decode_described_group(r, &resp->groups[i]);
	return kp_reader_finish(r);
}

int kp_describegroups_response_encode(struct kp_writer *w, int16_t version,
				      const struct kp_describegroups_response *resp)
{
	if (begin_classic_encode(w, KP_API_DESCRIBE_GROUPS, version))
		return w->kw_err;
	if (version >= 1)
		kp_write_int32(w, resp->throttle_time_ms);
	kp_write_array_begin(w, resp->groups, resp->groups_count, false);
	for (int32_t i = 0; i < resp->groups_count && !w->kw_err; i++) {
		const struct kp_describegroups_group *g = &resp->groups[i];
		kp_write_int16(w, g->error_code);
		kp_write_string(w, g->group_id);
		kp_write_string(w, g->group_state);
		kp_write_string(w, g->protocol_type);
		kp_write_string(w, g->protocol_data);
		kp_write_array_begin(w, g->members, g->members_count, false);
		for (int32_t j = 0; j < g->members_count && !w->kw_err; j++) {
			const struct kp_describegroups_member *m = &g->members[j];
			kp_write_string(w, m->member_id);
			kp_write_string(w, m->client_id);
			kp_write_string(w, m->client_host);
			kp_write_bytes(w, m->member_metadata);
			kp_write_bytes(w, m->member_assignment);
		}
	}
	return w->kw_err;
}

/* -------------------------------------------------------- DeleteGroups */

/* v0-1 are classic; v1 only changed throttling semantics. */
#define MIN_DELETE_RESULT 4 /* an empty group id + error_code, at least */

int kp_deletegroups_request_decode(struct kp_reader *r, int16_t version,
				   struct kp_deletegroups_request *req)
{
	if (begin_classic_decode(r, KP_API_DELETE_GROUPS, version))
		return r->kr_err;
	req->groups_names = kp_read_string_array(r, false, &req->groups_names_count);
	return kp_reader_finish(r);
}

int kp_deletegroups_request_encode(struct kp_writer *w, int16_t version,
				   const struct kp_deletegroups_request *req)
{
	if (begin_classic_encode(w, KP_API_DELETE_GROUPS, version))
		return w->kw_err;
	kp_write_array_begin(w, req->groups_names, req->groups_names_count, false);
	for (int32_t i = 0; i < req->groups_names_count && !w->kw_err; i++)
		kp_write_string(w, req->groups_names[i]);
	return w->kw_err;
}

int kp_deletegroups_response_decode(struct kp_reader *r, int16_t version,
				    struct kp_deletegroups_response *resp)
{
	if (begin_classic_decode(r, KP_API_DELETE_GROUPS, version))
		return r->kr_err;
	resp->throttle_time_ms = kp_read_int32(r);
	resp->results = kp_read_struct_array(r, false, MIN_DELETE_RESULT, sizeof(*resp->results),
					     &resp->results_count);
	for (int32_t i = 0; i < resp->results_count && !r->kr_err; i++) {
		resp->results[i].group_id = kp_read_string(r);
		resp->results[i].error_code = kp_read_int16(r);
	}
	return kp_reader_finish(r);
}

int kp_deletegroups_response_encode(struct kp_writer *w, int16_t version,
				    const struct kp_deletegroups_response *resp)
{
	if (begin_classic_encode(w, KP_API_DELETE_GROUPS, version))
		return w->kw_err;
	kp_write_int32(w, resp->throttle_time_ms);
	kp_write_array_begin(w, resp->results, resp->results_count, false);
	for (int32_t i = 0; i < resp->results_count && !w->kw_err; i++) {
		kp_write_string(w, resp->results[i].group_id);
		kp_write_int16(w, resp->results[i].error_code);
	}
	return w->kw_err;
}
