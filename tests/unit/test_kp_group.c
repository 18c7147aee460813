/* Description: group API codecs (kp_group): every version round-trips; golden and captured bytes
 * decode. */
/*
 * FindCoordinator, JoinGroup, Heartbeat, LeaveGroup, SyncGroup,
 * OffsetCommit, OffsetFetch, ListGroups and DescribeGroups: every request
 * and response of every version in the api table is encoded, decoded and
 * compared field by field (fields a version lacks come back as Kafka's
 * defaults), then re-encoded to the same bytes, as a body and as a whole
 * frame. Bodies written by hand from Kafka's schemas (JoinGroup v5,
 * OffsetFetch v6/v7, flexible) decode and encode byte for byte. The group
 * requests kcat and kafka-python sent (shared/reference/captures/kcatG, kcatG2, pyG)
 * decode to what the logs say and re-encode byte for byte. Every
 * truncation of every frame is refused as KP_ETRUNCATED; malformed and
 * trailing bytes are refused; seeded random damage never crashes.
 *
 * KP_WRITE_SEEDS=<dir> writes every body built or captured here into dir,
 * as seeds for tests/fuzz/fuzz_group (which takes a bare body).
 */
#include "testutil.h"

#include "kp_api.h"
#include "kp_message.h"

#define ARENA_BYTES (64 * 1024)
#define WRITER_CAP  (1 << 20)

static uint8_t arena_mem[ARENA_BYTES];

#define EQ(a, b) assert_true((int64_t)(a) == (int64_t)(b))

static uint8_t *exact_copy(const uint8_t *bytes, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	if (len)
		memcpy(copy, bytes, len);
	return copy;
}

static void eq_str(struct kp_str got, struct kp_str exp)
{
	if (!kp_str_eq(got, exp))
		fail_msg("string \"%.*s\" (len %d) != \"%.*s\" (len %d)", got.len > 0 ? got.len : 0,
			 got.ptr ? got.ptr : "", got.len, exp.len > 0 ? exp.len : 0,
			 exp.ptr ? exp.ptr : "", exp.len);
}

static void eq_bytes(struct kp_bytes got, struct kp_bytes exp)
{
	assert_true(kp_bytes_eq(got, exp));
}

static void eq_tags(struct kp_tags got, struct kp_tags exp)
{
	assert_true(kp_tags_eq(got, exp));
}

#define BYTES(lit) ((struct kp_bytes){(const uint8_t *)(lit), (int32_t)(sizeof(lit) - 1)})

/* The group APIs, in the order the tests walk them. */
static const int16_t group_keys[] = {
	KP_API_FIND_COORDINATOR, KP_API_JOIN_GROUP,    KP_API_HEARTBEAT,    KP_API_LEAVE_GROUP,
	KP_API_SYNC_GROUP,	 KP_API_OFFSET_COMMIT, KP_API_OFFSET_FETCH, KP_API_LIST_GROUPS,
	KP_API_DESCRIBE_GROUPS,	 KP_API_DELETE_GROUPS,
};
#define GROUP_KEYS (sizeof(group_keys) / sizeof(group_keys[0]))

/* ------------------------------------------------------------ fixtures */

static uint8_t tag_bytes[2][32];
static struct kp_tags tags_one; /* one unknown field */
static struct kp_tags tags_two; /* two fields, one with a 2-byte tag */

static struct kp_tags build_tags(uint8_t *buf, size_t cap, const struct kp_tag_field *f, int n)
{
	struct kp_writer w;
	kp_writer_init_fixed(&w, buf, cap);
	kp_write_tag_fields(&w, f, n);
	assert_int_equal(kp_writer_error(&w), 0);
	return (struct kp_tags){buf, (int32_t)w.kw_len};
}

static int setup_fixtures(void **state)
{
	(void)state;
	static const uint8_t x[] = {'x'};
	static const uint8_t yz[] = {0x01, 0x02, 0x03};
	const struct kp_tag_field one[] = {{0, {x, 1}}};
	const struct kp_tag_field two[] = {{3, {x, 1}}, {1000, {yz, 3}}};
	tags_one = build_tags(tag_bytes[0], sizeof(tag_bytes[0]), one, 1);
	tags_two = build_tags(tag_bytes[1], sizeof(tag_bytes[1]), two, 2);
	return 0;
}

/* A consumer subscription as librdkafka sends it (version 1, one topic,
 * no user data, no owned partitions): opaque to the codec. */
static const char subscription[] = "\x00\x01\x00\x00\x00\x01\x00\x06seeded"
				   "\x00\x00\x00\x00\x00\x00\x00\x00";

/* ----------------------------------------------------- FindCoordinator */

/* variant 0: a group; 1: a transactional id */
static bool build_fc_req(int16_t v, int variant, union kp_request_body *b)
{
	(void)v;
	if (variant > 1)
		return false;
	b->find_coordinator = (struct kp_findcoordinator_request){
		.key = variant ? KP_STR("txn-7") : KP_STR("grp1"),
		.key_type = variant ? KP_COORDINATOR_TRANSACTION : KP_COORDINATOR_GROUP,
	};
	return true;
}

static void check_fc_req(int16_t v, const union kp_request_body *e_,
			 const union kp_request_body *g_)
{
	const struct kp_findcoordinator_request *e = &e_->find_coordinator,
						*g = &g_->find_coordinator;
	eq_str(g->key, e->key);
	EQ(g->key_type, v >= 1 ? e->key_type : KP_COORDINATOR_GROUP);
}

/* variant 0: found; 1: not available, with a message */
static bool build_fc_resp(int16_t v, int variant, union kp_response_body *b)
{
	(void)v;
	if (variant > 1)
		return false;
	b->find_coordinator = (struct kp_findcoordinator_response){
		.throttle_time_ms = 5,
		.error_code = variant ? KP_ERR_COORDINATOR_NOT_AVAILABLE : KP_ERR_NONE,
		.error_message = variant ? KP_STR("loading") : KP_STR_NULL,
		.node_id = variant ? -1 : 2,
		.host = variant ? KP_STR("") : KP_STR("broker-2.local"),
		.port = variant ? -1 : 9093,
	};
	return true;
}

static void check_fc_resp(int16_t v, const union kp_response_body *e_,
			  const union kp_response_body *g_)
{
	const struct kp_findcoordinator_response *e = &e_->find_coordinator,
						 *g = &g_->find_coordinator;
	EQ(g->throttle_time_ms, v >= 1 ? e->throttle_time_ms : 0);
	EQ(g->error_code, e->error_code);
	eq_str(g->error_message, v >= 1 ? e->error_message : KP_STR_NULL);
	EQ(g->node_id, e->node_id);
	eq_str(g->host, e->host);
	EQ(g->port, e->port);
}

/* ----------------------------------------------------------- JoinGroup */

static struct kp_joingroup_protocol jg_protocols[2];
static struct kp_joingroup_member jg_members[2];

/* variant 0: a first join (no member id, dynamic), two assignors;
 * 1: a static member rejoining, one assignor with empty metadata */
static bool build_jg_req(int16_t v, int variant, union kp_request_body *b)
{
	(void)v;
	if (variant > 1)
		return false;
	jg_protocols[0] = (struct kp_joingroup_protocol){KP_STR("range"),
							 variant ? BYTES("") : BYTES(subscription)};
	jg_protocols[1] = (struct kp_joingroup_protocol){KP_STR("roundrobin"), BYTES(subscription)};
	b->join_group = (struct kp_joingroup_request){
		.group_id = KP_STR("grp1"),
		.session_timeout_ms = 45000,
		.rebalance_timeout_ms = 300000,
		.member_id = variant ? KP_STR("member-1") : KP_STR(""),
		.group_instance_id = variant ? KP_STR("inst-a") : KP_STR_NULL,
		.protocol_type = KP_STR("consumer"),
		.protocols = jg_protocols,
		.protocols_count = variant ? 1 : 2,
	};
	return true;
}

static void check_jg_req(int16_t v, const union kp_request_body *e_,
			 const union kp_request_body *g_)
{
	const struct kp_joingroup_request *e = &e_->join_group, *g = &g_->join_group;
	eq_str(g->group_id, e->group_id);
	EQ(g->session_timeout_ms, e->session_timeout_ms);
	EQ(g->rebalance_timeout_ms, e->rebalance_timeout_ms);
	eq_str(g->member_id, e->member_id);
	eq_str(g->group_instance_id, v >= 5 ? e->group_instance_id : KP_STR_NULL);
	eq_str(g->protocol_type, e->protocol_type);
	EQ(g->protocols_count, e->protocols_count);
	for (int32_t i = 0; i < e->protocols_count; i++) {
		eq_str(g->protocols[i].name, e->protocols[i].name);
		eq_bytes(g->protocols[i].metadata, e->protocols[i].metadata);
	}
}

/* variant 0: the leader's answer, with the members; 1: MEMBER_ID_REQUIRED */
static bool build_jg_resp(int16_t v, int variant, union kp_response_body *b)
{
	(void)v;
	if (variant > 1)
		return false;
	jg_members[0] =
		(struct kp_joingroup_member){KP_STR("member-1"), KP_STR_NULL, BYTES(subscription)};
	jg_members[1] =
		(struct kp_joingroup_member){KP_STR("member-2"), KP_STR("inst-b"), BYTES("")};
	b->join_group = (struct kp_joingroup_response){
		.throttle_time_ms = 7,
		.error_code = variant ? KP_ERR_MEMBER_ID_REQUIRED : KP_ERR_NONE,
		.generation_id = variant ? -1 : 3,
		.protocol_name = variant ? KP_STR("") : KP_STR("range"),
		.leader = variant ? KP_STR("") : KP_STR("member-1"),
		.member_id = variant ? KP_STR("member-1795822414222") : KP_STR("member-1"),
		.members = variant ? NULL : jg_members,
		.members_count = variant ? 0 : 2,
	};
	return true;
}

static void check_jg_resp(int16_t v, const union kp_response_body *e_,
			  const union kp_response_body *g_)
{
	const struct kp_joingroup_response *e = &e_->join_group, *g = &g_->join_group;
	EQ(g->throttle_time_ms, e->throttle_time_ms);
	EQ(g->error_code, e->error_code);
	EQ(g->generation_id, e->generation_id);
	eq_str(g->protocol_name, e->protocol_name);
	eq_str(g->leader, e->leader);
	eq_str(g->member_id, e->member_id);
	EQ(g->members_count, e->members_count);
	for (int32_t i = 0; i < e->members_count; i++) {
		eq_str(g->members[i].member_id, e->members[i].member_id);
		eq_str(g->members[i].group_instance_id,
		       v >= 5 ? e->members[i].group_instance_id : KP_STR_NULL);
		eq_bytes(g->members[i].metadata, e->members[i].metadata);
	}
}

/* ----------------------------------------------------------- Heartbeat */

/* variant 0: dynamic member; 1: static member */
static bool build_hb_req(int16_t v, int variant, union kp_request_body *b)
{
	(void)v;
	if (variant > 1)
		return false;
	b->heartbeat = (struct kp_heartbeat_request){
		.group_id = KP_STR("pygrp"),
		.generation_id = variant ? 12 : 2,
		.member_id = KP_STR("member-1"),
		.group_instance_id = variant ? KP_STR("inst-a") : KP_STR_NULL,
	};
	return true;
}

static void check_hb_req(int16_t v, const union kp_request_body *e_,
			 const union kp_request_body *g_)
{
	const struct kp_heartbeat_request *e = &e_->heartbeat, *g = &g_->heartbeat;
	eq_str(g->group_id, e->group_id);
	EQ(g->generation_id, e->generation_id);
	eq_str(g->member_id, e->member_id);
	eq_str(g->group_instance_id, v >= 3 ? e->group_instance_id : KP_STR_NULL);
}

static bool build_hb_resp(int16_t v, int variant, union kp_response_body *b)
{
	(void)v;
	if (variant > 1)
		return false;
	b->heartbeat = (struct kp_heartbeat_response){
		.throttle_time_ms = variant ? 100 : 0,
		.error_code = variant ? KP_ERR_REBALANCE_IN_PROGRESS : KP_ERR_NONE,
	};
	return true;
}

static void check_hb_resp(int16_t v, const union kp_response_body *e_,
			  const union kp_response_body *g_)
{
	const struct kp_heartbeat_response *e = &e_->heartbeat, *g = &g_->heartbeat;
	EQ(g->throttle_time_ms, v >= 1 ? e->throttle_time_ms : 0);
	EQ(g->error_code, e->error_code);
}

/* ---------------------------------------------------------- LeaveGroup */

static bool build_lg_req(int16_t v, int variant, union kp_request_body *b)
{
	(void)v;
	if (variant > 0)
		return false;
	b->leave_group = (struct kp_leavegroup_request){KP_STR("grp1"), KP_STR("member-1")};
	return true;
}

static void check_lg_req(int16_t v, const union kp_request_body *e_,
			 const union kp_request_body *g_)
{
	(void)v;
	eq_str(g_->leave_group.group_id, e_->leave_group.group_id);
	eq_str(g_->leave_group.member_id, e_->leave_group.member_id);
}

static bool build_lg_resp(int16_t v, int variant, union kp_response_body *b)
{
	(void)v;
	if (variant > 1)
		return false;
	b->leave_group = (struct kp_leavegroup_response){
		.throttle_time_ms = 9,
		.error_code = variant ? KP_ERR_UNKNOWN_MEMBER_ID : KP_ERR_NONE,
	};
	return true;
}

static void check_lg_resp(int16_t v, const union kp_response_body *e_,
			  const union kp_response_body *g_)
{
	EQ(g_->leave_group.throttle_time_ms, v >= 1 ? e_->leave_group.throttle_time_ms : 0);
	EQ(g_->leave_group.error_code, e_->leave_group.error_code);
}

/* ----------------------------------------------------------- SyncGroup */

static const char assignment_a[] = "\x00\x00\x00\x00\x00\x01\x00\x06seeded\x00\x00\x00\x01"
				   "\x00\x00\x00\x00\x00\x00\x00\x00";
static struct kp_syncgroup_assignment sg_assignments[2];

/* variant 0: the leader, with two assignments; 1: a static follower */
static bool build_sg_req(int16_t v, int variant, union kp_request_body *b)
{
	(void)v;
	if (variant > 1)
		return false;
	sg_assignments[0] =
		(struct kp_syncgroup_assignment){KP_STR("member-1"), BYTES(assignment_a)};
	sg_assignments[1] = (struct kp_syncgroup_assignment){KP_STR("member-2"), BYTES("")};
	b->sync_group = (struct kp_syncgroup_request){
		.group_id = KP_STR("grp1"),
		.generation_id = 1,
		.member_id = variant ? KP_STR("member-2") : KP_STR("member-1"),
		.group_instance_id = variant ? KP_STR("inst-b") : KP_STR_NULL,
		.assignments = variant ? NULL : sg_assignments,
		.assignments_count = variant ? 0 : 2,
	};
	return true;
}

static void check_sg_req(int16_t v, const union kp_request_body *e_,
			 const union kp_request_body *g_)
{
	const struct kp_syncgroup_request *e = &e_->sync_group, *g = &g_->sync_group;
	eq_str(g->group_id, e->group_id);
	EQ(g->generation_id, e->generation_id);
	eq_str(g->member_id, e->member_id);
	eq_str(g->group_instance_id, v >= 3 ? e->group_instance_id : KP_STR_NULL);
	EQ(g->assignments_count, e->assignments_count);
	for (int32_t i = 0; i < e->assignments_count; i++) {
		eq_str(g->assignments[i].member_id, e->assignments[i].member_id);
		eq_bytes(g->assignments[i].assignment, e->assignments[i].assignment);
	}
}

static bool build_sg_resp(int16_t v, int variant, union kp_response_body *b)
{
	(void)v;
	if (variant > 1)
		return false;
	b->sync_group = (struct kp_syncgroup_response){
		.throttle_time_ms = 3,
		.error_code = variant ? KP_ERR_REBALANCE_IN_PROGRESS : KP_ERR_NONE,
		.assignment = variant ? BYTES("") : BYTES(assignment_a),
	};
	return true;
}

static void check_sg_resp(int16_t v, const union kp_response_body *e_,
			  const union kp_response_body *g_)
{
	const struct kp_syncgroup_response *e = &e_->sync_group, *g = &g_->sync_group;
	EQ(g->throttle_time_ms, v >= 1 ? e->throttle_time_ms : 0);
	EQ(g->error_code, e->error_code);
	eq_bytes(g->assignment, e->assignment);
}

/* -------------------------------------------------------- OffsetCommit */

static struct kp_offsetcommit_partition oc_parts[] = {
	{0, 3, 5, KP_STR("")},
	{1, 1234567890123, -1, KP_STR_NULL},
	{7, 0, 2, {"meta", 4}},
};
static struct kp_offsetcommit_topic oc_topics[] = {
	{KP_STR("seeded"), oc_parts, 2},
	{KP_STR("orders"), oc_parts + 2, 1},
	{KP_STR("empty"), NULL, 0},
};

/* variant 0: a group member's commit; 1: a simple commit (no group
 * generation), static instance, one topic without partitions */
static bool build_oc_req(int16_t v, int variant, union kp_request_body *b)
{
	(void)v;
	if (variant > 1)
		return false;
	b->offset_commit = (struct kp_offsetcommit_request){
		.group_id = KP_STR("grp2"),
		.generation_id = variant ? -1 : 1,
		.member_id = variant ? KP_STR("") : KP_STR("member-1795822426221"),
		.group_instance_id = variant ? KP_STR("inst-a") : KP_STR_NULL,
		.retention_time_ms = variant ? -1 : 86400000,
		.topics = variant ? oc_topics + 2 : oc_topics,
		.topics_count = variant ? 1 : 3,
	};
	return true;
}

static void check_oc_req(int16_t v, const union kp_request_body *e_,
			 const union kp_request_body *g_)
{
	const struct kp_offsetcommit_request *e = &e_->offset_commit, *g = &g_->offset_commit;
	eq_str(g->group_id, e->group_id);
	EQ(g->generation_id, e->generation_id);
	eq_str(g->member_id, e->member_id);
	eq_str(g->group_instance_id, v >= 7 ? e->group_instance_id : KP_STR_NULL);
	EQ(g->retention_time_ms, v <= 4 ? e->retention_time_ms : -1);
	EQ(g->topics_count, e->topics_count);
	for (int32_t i = 0; i < e->topics_count; i++) {
		const struct kp_offsetcommit_topic *et = &e->topics[i], *gt = &g->topics[i];
		eq_str(gt->name, et->name);
		EQ(gt->partitions_count, et->partitions_count);
		for (int32_t j = 0; j < et->partitions_count; j++) {
			const struct kp_offsetcommit_partition *ep = &et->partitions[j];
			const struct kp_offsetcommit_partition *gp = &gt->partitions[j];
			EQ(gp->partition_index, ep->partition_index);
			EQ(gp->committed_offset, ep->committed_offset);
			EQ(gp->committed_leader_epoch, v >= 6 ? ep->committed_leader_epoch : -1);
			eq_str(gp->committed_metadata, ep->committed_metadata);
		}
	}
}

static struct kp_offsetcommit_partition_result oc_results[] = {
	{0, KP_ERR_NONE},
	{1, KP_ERR_OFFSET_METADATA_TOO_LARGE},
	{3, KP_ERR_ILLEGAL_GENERATION},
};
static struct kp_offsetcommit_topic_result oc_topic_results[] = {
	{KP_STR("seeded"), oc_results, 2},
	{KP_STR("orders"), oc_results + 2, 1},
};

static bool build_oc_resp(int16_t v, int variant, union kp_response_body *b)
{
	(void)v;
	if (variant > 1)
		return false;
	b->offset_commit = (struct kp_offsetcommit_response){
		.throttle_time_ms = 21,
		.topics = variant ? NULL : oc_topic_results,
		.topics_count = variant ? 0 : 2,
	};
	return true;
}

static void check_oc_resp(int16_t v, const union kp_response_body *e_,
			  const union kp_response_body *g_)
{
	const struct kp_offsetcommit_response *e = &e_->offset_commit, *g = &g_->offset_commit;
	EQ(g->throttle_time_ms, v >= 3 ? e->throttle_time_ms : 0);
	EQ(g->topics_count, e->topics_count);
	for (int32_t i = 0; i < e->topics_count; i++) {
		eq_str(g->topics[i].name, e->topics[i].name);
		EQ(g->topics[i].partitions_count, e->topics[i].partitions_count);
		for (int32_t j = 0; j < e->topics[i].partitions_count; j++) {
			EQ(g->topics[i].partitions[j].partition_index,
			   e->topics[i].partitions[j].partition_index);
			EQ(g->topics[i].partitions[j].error_code,
			   e->topics[i].partitions[j].error_code);
		}
	}
}

/* --------------------------------------------------------- OffsetFetch */

static int32_t of_indexes[] = {0, 1, 2, 17};
static struct kp_offsetfetch_topic of_topics[2];

/* variant 0: two topics (tagged fields in flexible versions), stable;
 * 1: an empty topic list; 2: null = every committed partition (v2+) */
static bool build_of_req(int16_t v, int variant, union kp_request_body *b)
{
	if (variant > 2 || (variant == 2 && v < 2))
		return false;
	of_topics[0] = (struct kp_offsetfetch_topic){KP_STR("seeded"), of_indexes, 4, tags_one};
	of_topics[1] = (struct kp_offsetfetch_topic){KP_STR("orders"), NULL, 0, KP_TAGS_EMPTY};
	b->offset_fetch = (struct kp_offsetfetch_request){
		.group_id = KP_STR("grp2"),
		.topics = variant == 0 ? of_topics : NULL,
		.topics_count = (int32_t[]){2, 0, -1}[variant],
		.require_stable = variant == 0,
		.tags = variant == 0 ? tags_two : KP_TAGS_EMPTY,
	};
	return true;
}

static void check_of_req(int16_t v, const union kp_request_body *e_,
			 const union kp_request_body *g_)
{
	const struct kp_offsetfetch_request *e = &e_->offset_fetch, *g = &g_->offset_fetch;
	eq_str(g->group_id, e->group_id);
	EQ(g->topics_count, e->topics_count);
	for (int32_t i = 0; i < e->topics_count; i++) {
		eq_str(g->topics[i].name, e->topics[i].name);
		EQ(g->topics[i].partition_indexes_count, e->topics[i].partition_indexes_count);
		for (int32_t j = 0; j < e->topics[i].partition_indexes_count; j++)
			EQ(g->topics[i].partition_indexes[j], e->topics[i].partition_indexes[j]);
		eq_tags(g->topics[i].tags, v >= 6 ? e->topics[i].tags : KP_TAGS_EMPTY);
	}
	EQ(g->require_stable, v >= 7 ? e->require_stable : false);
	eq_tags(g->tags, v >= 6 ? e->tags : KP_TAGS_EMPTY);
}

static struct kp_offsetfetch_partition of_parts[3];
static struct kp_offsetfetch_topic_result of_results[2];

/* variant 0: offsets, one partition with nothing committed, one error;
 * 1: a whole-request error and no topics */
static bool build_of_resp(int16_t v, int variant, union kp_response_body *b)
{
	(void)v;
	if (variant > 1)
		return false;
	of_parts[0] = (struct kp_offsetfetch_partition){0, 3, 5, KP_STR(""), 0, tags_two};
	of_parts[1] = (struct kp_offsetfetch_partition){1, -1, -1, KP_STR_NULL, 0, KP_TAGS_EMPTY};
	of_parts[2] = (struct kp_offsetfetch_partition){
		9, -1, -1, KP_STR("m"), KP_ERR_UNKNOWN_TOPIC_OR_PARTITION, KP_TAGS_EMPTY};
	of_results[0] =
		(struct kp_offsetfetch_topic_result){KP_STR("seeded"), of_parts, 2, KP_TAGS_EMPTY};
	of_results[1] =
		(struct kp_offsetfetch_topic_result){KP_STR("gone"), of_parts + 2, 1, tags_one};
	b->offset_fetch = (struct kp_offsetfetch_response){
		.throttle_time_ms = 4,
		.topics = variant ? NULL : of_results,
		.topics_count = variant ? 0 : 2,
		.error_code = variant ? KP_ERR_GROUP_AUTHORIZATION_FAILED : KP_ERR_NONE,
		.tags = variant ? tags_one : KP_TAGS_EMPTY,
	};
	return true;
}

static void check_of_resp(int16_t v, const union kp_response_body *e_,
			  const union kp_response_body *g_)
{
	const struct kp_offsetfetch_response *e = &e_->offset_fetch, *g = &g_->offset_fetch;
	EQ(g->throttle_time_ms, v >= 3 ? e->throttle_time_ms : 0);
	EQ(g->topics_count, e->topics_count);
	for (int32_t i = 0; i < e->topics_count; i++) {
		const struct kp_offsetfetch_topic_result *et = &e->topics[i], *gt = &g->topics[i];
		eq_str(gt->name, et->name);
		EQ(gt->partitions_count, et->partitions_count);
		for (int32_t j = 0; j < et->partitions_count; j++) {
			const struct kp_offsetfetch_partition *ep = &et->partitions[j];
			const struct kp_offsetfetch_partition *gp = &gt->partitions[j];
			EQ(gp->partition_index, ep->partition_index);
			EQ(gp->committed_offset, ep->committed_offset);
			EQ(gp->committed_leader_epoch, v >= 5 ? ep->committed_leader_epoch : -1);
			eq_str(gp->metadata, ep->metadata);
			EQ(gp->error_code, ep->error_code);
			eq_tags(gp->tags, v >= 6 ? ep->tags : KP_TAGS_EMPTY);
		}
		eq_tags(gt->tags, v >= 6 ? et->tags : KP_TAGS_EMPTY);
	}
	EQ(g->error_code, v >= 2 ? e->error_code : KP_ERR_NONE);
	eq_tags(g->tags, v >= 6 ? e->tags : KP_TAGS_EMPTY);
}

/* ---------------------------------------------------------- ListGroups */

static bool build_ls_req(int16_t v, int variant, union kp_request_body *b)
{
	(void)v;
	if (variant > 0)
		return false;
	b->list_groups = (struct kp_listgroups_request){0};
	return true;
}

static void check_ls_req(int16_t v, const union kp_request_body *e_,
			 const union kp_request_body *g_)
{
	(void)v;
	(void)e_;
	(void)g_;
}

static struct kp_listgroups_group ls_groups[] = {
	{KP_STR("grp1"), KP_STR("consumer")},
	{KP_STR("connect-x"), KP_STR("")},
};

static bool build_ls_resp(int16_t v, int variant, union kp_response_body *b)
{
	(void)v;
	if (variant > 1)
		return false;
	b->list_groups = (struct kp_listgroups_response){
		.throttle_time_ms = 1,
		.error_code = variant ? KP_ERR_COORDINATOR_LOAD_IN_PROGRESS : KP_ERR_NONE,
		.groups = variant ? NULL : ls_groups,
		.groups_count = variant ? 0 : 2,
	};
	return true;
}

static void check_ls_resp(int16_t v, const union kp_response_body *e_,
			  const union kp_response_body *g_)
{
	const struct kp_listgroups_response *e = &e_->list_groups, *g = &g_->list_groups;
	EQ(g->throttle_time_ms, v >= 1 ? e->throttle_time_ms : 0);
	EQ(g->error_code, e->error_code);
	EQ(g->groups_count, e->groups_count);
	for (int32_t i = 0; i < e->groups_count; i++) {
		eq_str(g->groups[i].group_id, e->groups[i].group_id);
		eq_str(g->groups[i].protocol_type, e->groups[i].protocol_type);
	}
}

/* ------------------------------------------------------ DescribeGroups */

static struct kp_str dg_names[] = {KP_STR("grp1"), KP_STR("nope")};

static bool build_dg_req(int16_t v, int variant, union kp_request_body *b)
{
	(void)v;
	if (variant > 1)
		return false;
	b->describe_groups = (struct kp_describegroups_request){
		.groups = variant ? NULL : dg_names,
		.groups_count = variant ? 0 : 2,
	};
	return true;
}

static void check_dg_req(int16_t v, const union kp_request_body *e_,
			 const union kp_request_body *g_)
{
	(void)v;
	const struct kp_describegroups_request *e = &e_->describe_groups, *g = &g_->describe_groups;
	EQ(g->groups_count, e->groups_count);
	for (int32_t i = 0; i < e->groups_count; i++)
		eq_str(g->groups[i], e->groups[i]);
}

static struct kp_describegroups_member dg_members[2];
static struct kp_describegroups_group dg_groups[2];

static bool build_dg_resp(int16_t v, int variant, union kp_response_body *b)
{
	(void)v;
	if (variant > 1)
		return false;
	dg_members[0] = (struct kp_describegroups_member){KP_STR("member-1"), KP_STR("rdkafka"),
							  KP_STR("/127.0.0.1"), BYTES(subscription),
							  BYTES(assignment_a)};
	dg_members[1] =
		(struct kp_describegroups_member){KP_STR("member-2"), KP_STR("kafka-python-2.0.2"),
						  KP_STR("/10.0.0.9"), BYTES(""), BYTES("")};
	dg_groups[0] = (struct kp_describegroups_group){KP_ERR_NONE,
							KP_STR("grp1"),
							KP_STR("Stable"),
							KP_STR("consumer"),
							KP_STR("range"),
							dg_members,
							2};
	dg_groups[1] = (struct kp_describegroups_group){
		KP_ERR_NONE, KP_STR("nope"), KP_STR("Dead"), KP_STR(""), KP_STR(""), NULL, 0};
	b->describe_groups = (struct kp_describegroups_response){
		.throttle_time_ms = 2,
		.groups = variant ? NULL : dg_groups,
		.groups_count = variant ? 0 : 2,
	};
	return true;
}

static void check_dg_resp(int16_t v, const union kp_response_body *e_,
			  const union kp_response_body *g_)
{
	const struct kp_describegroups_response *e = &e_->describe_groups,
						*g = &g_->describe_groups;
	EQ(g->throttle_time_ms, v >= 1 ? e->throttle_time_ms : 0);
	EQ(g->groups_count, e->groups_count);
	for (int32_t i = 0; i < e->groups_count; i++) {
		const struct kp_describegroups_group *eg = &e->groups[i], *gg = &g->groups[i];
		EQ(gg->error_code, eg->error_code);
		eq_str(gg->group_id, eg->group_id);
		eq_str(gg->group_state, eg->group_state);
		eq_str(gg->protocol_type, eg->protocol_type);
		eq_str(gg->protocol_data, eg->protocol_data);
		EQ(gg->members_count, eg->members_count);
		for (int32_t j = 0; j < eg->members_count; j++) {
			eq_str(gg->members[j].member_id, eg->members[j].member_id);
			eq_str(gg->members[j].client_id, eg->members[j].client_id);
			eq_str(gg->members[j].client_host, eg->members[j].client_host);
			eq_bytes(gg->members[j].member_metadata, eg->members[j].member_metadata);
			eq_bytes(gg->members[j].member_assignment,
				 eg->members[j].member_assignment);
		}
	}
}

static bool build_del_req(int16_t v, int variant, union kp_request_body *b)
{
	(void)v;
	if (variant > 1)
		return false;
	b->delete_groups = (struct kp_deletegroups_request){
		.groups_names = variant ? NULL : dg_names,
		.groups_names_count = variant ? 0 : 2,
	};
	return true;
}

static void check_del_req(int16_t v, const union kp_request_body *e_,
			  const union kp_request_body *g_)
{
	(void)v;
	const struct kp_deletegroups_request *e = &e_->delete_groups, *g = &g_->delete_groups;
	EQ(g->groups_names_count, e->groups_names_count);
	for (int32_t i = 0; i < e->groups_names_count; i++)
		eq_str(g->groups_names[i], e->groups_names[i]);
}

static struct kp_deletegroups_result del_results[2];

static bool build_del_resp(int16_t v, int variant, union kp_response_body *b)
{
	(void)v;
	if (variant > 1)
		return false;
	del_results[0] = (struct kp_deletegroups_result){KP_STR("grp1"), KP_ERR_NONE};
	del_results[1] = (struct kp_deletegroups_result){KP_STR("busy"), KP_ERR_NON_EMPTY_GROUP};
	b->delete_groups = (struct kp_deletegroups_response){
		.throttle_time_ms = 3,
		.results = variant ? NULL : del_results,
		.results_count = variant ? 0 : 2,
	};
	return true;
}

static void check_del_resp(int16_t v, const union kp_response_body *e_,
			   const union kp_response_body *g_)
{
	(void)v;
	const struct kp_deletegroups_response *e = &e_->delete_groups, *g = &g_->delete_groups;
	EQ(g->throttle_time_ms, e->throttle_time_ms);
	EQ(g->results_count, e->results_count);
	for (int32_t i = 0; i < e->results_count; i++) {
		eq_str(g->results[i].group_id, e->results[i].group_id);
		EQ(g->results[i].error_code, e->results[i].error_code);
	}
}

/* ------------------------------------------------------------- cases */

typedef bool (*build_req_fn)(int16_t v, int variant, union kp_request_body *b);
typedef void (*check_req_fn)(int16_t v, const union kp_request_body *e,
			     const union kp_request_body *g);
typedef bool (*build_resp_fn)(int16_t v, int variant, union kp_response_body *b);
typedef void (*check_resp_fn)(int16_t v, const union kp_response_body *e,
			      const union kp_response_body *g);

struct api_case {
	int16_t ac_key;
	int16_t ac_min, ac_max; /* what the table must say */
	build_req_fn ac_build_req;
	check_req_fn ac_check_req;
	build_resp_fn ac_build_resp;
	check_resp_fn ac_check_resp;
};

static const struct api_case api_cases[] = {
	{KP_API_FIND_COORDINATOR, 0, 2, build_fc_req, check_fc_req, build_fc_resp, check_fc_resp},
	{KP_API_JOIN_GROUP, 2, 5, build_jg_req, check_jg_req, build_jg_resp, check_jg_resp},
	{KP_API_HEARTBEAT, 0, 3, build_hb_req, check_hb_req, build_hb_resp, check_hb_resp},
	{KP_API_LEAVE_GROUP, 0, 1, build_lg_req, check_lg_req, build_lg_resp, check_lg_resp},
	{KP_API_SYNC_GROUP, 0, 3, build_sg_req, check_sg_req, build_sg_resp, check_sg_resp},
	{KP_API_OFFSET_COMMIT, 2, 7, build_oc_req, check_oc_req, build_oc_resp, check_oc_resp},
	{KP_API_OFFSET_FETCH, 1, 7, build_of_req, check_of_req, build_of_resp, check_of_resp},
	{KP_API_LIST_GROUPS, 0, 2, build_ls_req, check_ls_req, build_ls_resp, check_ls_resp},
	{KP_API_DESCRIBE_GROUPS, 0, 2, build_dg_req, check_dg_req, build_dg_resp, check_dg_resp},
	{KP_API_DELETE_GROUPS, 0, 1, build_del_req, check_del_req, build_del_resp, check_del_resp},
};
#define API_CASES    (sizeof(api_cases) / sizeof(api_cases[0]))
#define MAX_VARIANTS 4

_Static_assert(API_CASES == GROUP_KEYS, "one case per group api");

/* ----------------------------------------------------- frame corpus */

/* Every valid frame built or captured here, after its size prefix. */
struct frame {
	uint8_t *f_buf;
	size_t f_len;
	bool f_request;
	int16_t f_key; /* responses: what the frame answers */
	int16_t f_version;
};

#define MAX_FRAMES 256
static struct frame corpus[MAX_FRAMES];
static size_t corpus_count;

static void corpus_add(const uint8_t *frame, size_t len, bool request, int16_t key, int16_t v)
{
	assert_true(corpus_count < MAX_FRAMES);
	corpus[corpus_count++] = (struct frame){exact_copy(frame, len), len, request, key, v};
}

/* Seeds for fuzz_group: bare bodies, named after what they are. */
static void maybe_write_seed(const uint8_t *body, size_t len, const char *what, int16_t key,
			     int16_t v, int variant)
{
	static int seq;
	const char *dir = getenv("KP_WRITE_SEEDS");
	if (!dir || !*dir)
		return;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s_%s_v%d_%d_%03d.bin", dir, what, kp_api_name(key), v,
		 variant, seq++);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(body, 1, len, f), len);
	fclose(f);
}

/* ------------------------------------------------------- round trips */

static size_t stat_bodies;

static void roundtrip_request(const struct api_case *ac, int16_t v, int variant,
			      const union kp_request_body *in)
{
	struct kp_writer w, w2;
	kp_writer_init(&w, WRITER_CAP);
	kp_writer_init(&w2, WRITER_CAP);
	struct kp_arena arena;
	struct kp_reader r;
	union kp_request_body out;

	int rc = kp_request_body_encode(&w, ac->ac_key, v, in);
	if (rc)
		fail_msg("%s v%d/%d request encode: %s", kp_api_name(ac->ac_key), v, variant,
			 kp_strerror(rc));
	uint8_t *body = exact_copy(w.kw_buf, w.kw_len);
	kp_arena_init(&arena, arena_mem, sizeof(arena_mem));
	kp_reader_init(&r, body, w.kw_len, &arena);
	memset(&out, 0xa5, sizeof(out));
	rc = kp_request_body_decode(&r, ac->ac_key, v, &out);
	if (rc)
		fail_msg("%s v%d/%d request decode: %s", kp_api_name(ac->ac_key), v, variant,
			 kp_strerror(rc));
	ac->ac_check_req(v, in, &out);
	assert_int_equal(kp_request_body_encode(&w2, ac->ac_key, v, &out), 0);
	assert_int_equal(w2.kw_len, w.kw_len);
	assert_memory_equal(w2.kw_buf, w.kw_buf, w.kw_len);
	maybe_write_seed(body, w.kw_len, "req", ac->ac_key, v, variant);
	free(body);

	/* whole frame: size prefix, header (v2 when flexible), body */
	kp_writer_reset(&w);
	const struct kp_request_header h = {
		.request_api_key = ac->ac_key,
		.request_api_version = v,
		.correlation_id = 1000 + v,
		.client_id = variant == 1 ? KP_STR_NULL : KP_STR("kp-test"),
		.tags = variant == 0 ? tags_one : KP_TAGS_EMPTY,
	};
	assert_int_equal(kp_request_encode(&w, &h, in), 0);
	int32_t size = kp_frame_size(w.kw_buf, w.kw_len, INT32_MAX);
	assert_int_equal((size_t)size + KP_FRAME_PREFIX_BYTES, w.kw_len);
	uint8_t *frame = exact_copy(w.kw_buf + KP_FRAME_PREFIX_BYTES, (size_t)size);
	struct kp_request_header hg;
	kp_arena_init(&arena, arena_mem, sizeof(arena_mem));
	kp_reader_init(&r, frame, (size_t)size, &arena);
	memset(&out, 0x5a, sizeof(out));
	assert_int_equal(kp_request_decode(&r, &hg, &out), 0);
	EQ(hg.request_api_key, ac->ac_key);
	EQ(hg.request_api_version, v);
	EQ(hg.correlation_id, 1000 + v);
	eq_str(hg.client_id, h.client_id);
	bool flexible = kp_api_flexible(ac->ac_key, v);
	EQ(hg.header_version, flexible ? 2 : 1);
	eq_tags(hg.tags, flexible ? h.tags : KP_TAGS_EMPTY);
	ac->ac_check_req(v, in, &out);
	corpus_add(frame, (size_t)size, true, ac->ac_key, v);
	free(frame);
	kp_writer_deinit(&w);
	kp_writer_deinit(&w2);
	stat_bodies++;
}

static void roundtrip_response(const struct api_case *ac, int16_t v, int variant,
			       const union kp_response_body *in)
{
	struct kp_writer w, w2;
	kp_writer_init(&w, WRITER_CAP);
	kp_writer_init(&w2, WRITER_CAP);
	struct kp_arena arena;
	struct kp_reader r;
	union kp_response_body out;

	int rc = kp_response_body_encode(&w, ac->ac_key, v, in);
	if (rc)
		fail_msg("%s v%d/%d response encode: %s", kp_api_name(ac->ac_key), v, variant,
			 kp_strerror(rc));
	uint8_t *body = exact_copy(w.kw_buf, w.kw_len);
	kp_arena_init(&arena, arena_mem, sizeof(arena_mem));
	kp_reader_init(&r, body, w.kw_len, &arena);
	memset(&out, 0xa5, sizeof(out));
	rc = kp_response_body_decode(&r, ac->ac_key, v, &out);
	if (rc)
		fail_msg("%s v%d/%d response decode: %s", kp_api_name(ac->ac_key), v, variant,
			 kp_strerror(rc));
	ac->ac_check_resp(v, in, &out);
	assert_int_equal(kp_response_body_encode(&w2, ac->ac_key, v, &out), 0);
	assert_int_equal(w2.kw_len, w.kw_len);
	assert_memory_equal(w2.kw_buf, w.kw_buf, w.kw_len);
	maybe_write_seed(body, w.kw_len, "resp", ac->ac_key, v, variant);
	free(body);

	kp_writer_reset(&w);
	const struct kp_response_header h = {.correlation_id = 2000 + v, .tags = tags_two};
	assert_int_equal(kp_response_encode(&w, ac->ac_key, v, &h, in), 0);
	int32_t size = kp_frame_size(w.kw_buf, w.kw_len, INT32_MAX);
	assert_int_equal((size_t)size + KP_FRAME_PREFIX_BYTES, w.kw_len);
	uint8_t *frame = exact_copy(w.kw_buf + KP_FRAME_PREFIX_BYTES, (size_t)size);
	struct kp_response_header hg;
	kp_arena_init(&arena, arena_mem, sizeof(arena_mem));
	kp_reader_init(&r, frame, (size_t)size, &arena);
	memset(&out, 0x5a, sizeof(out));
	assert_int_equal(kp_response_decode(&r, ac->ac_key, v, &hg, &out), 0);
	EQ(hg.correlation_id, 2000 + v);
	eq_tags(hg.tags, kp_response_header_version(ac->ac_key, v) == 1 ? h.tags : KP_TAGS_EMPTY);
	ac->ac_check_resp(v, in, &out);
	corpus_add(frame, (size_t)size, false, ac->ac_key, v);
	free(frame);
	kp_writer_deinit(&w);
	kp_writer_deinit(&w2);
	stat_bodies++;
}

static void test_roundtrip_every_version(void **state)
{
	(void)state;
	size_t versions = 0;
	for (size_t c = 0; c < API_CASES; c++) {
		const struct api_case *ac = &api_cases[c];
		const struct kp_api_info *ai = kp_api_info(ac->ac_key);
		assert_non_null(ai);
		EQ(ai->ai_min_version, ac->ac_min);
		EQ(ai->ai_max_version, ac->ac_max);
		for (int16_t v = ai->ai_min_version; v <= ai->ai_max_version; v++) {
			int req_variants = 0, resp_variants = 0;
			for (int variant = 0; variant < MAX_VARIANTS; variant++) {
				union kp_request_body req;
				union kp_response_body resp;
				if (ac->ac_build_req(v, variant, &req)) {
					roundtrip_request(ac, v, variant, &req);
					req_variants++;
				}
				if (ac->ac_build_resp(v, variant, &resp)) {
					roundtrip_response(ac, v, variant, &resp);
					resp_variants++;
				}
			}
			assert_true(req_variants > 0 && resp_variants > 0);
			versions++;
		}
	}
	print_message("# %zu bodies round-tripped over %zu api versions\n", stat_bodies, versions);
}

/* ---------------------------------------------------- golden bytes */

/* Encode `in` and compare with the bytes written out by hand from the
 * schema; decode those bytes into *out and re-encode them to themselves.
 * Returns the copy *out's views point into, for the caller to free. */
static uint8_t *golden_request(int16_t key, int16_t v, const union kp_request_body *in,
			       const uint8_t *exp, size_t exp_len, union kp_request_body *out)
{
	struct kp_writer w;
	kp_writer_init(&w, WRITER_CAP);
	assert_int_equal(kp_request_body_encode(&w, key, v, in), 0);
	assert_int_equal(w.kw_len, exp_len);
	assert_memory_equal(w.kw_buf, exp, exp_len);
	uint8_t *copy = exact_copy(exp, exp_len);
	struct kp_arena arena;
	struct kp_reader r;
	kp_arena_init(&arena, arena_mem, sizeof(arena_mem));
	kp_reader_init(&r, copy, exp_len, &arena);
	assert_int_equal(kp_request_body_decode(&r, key, v, out), 0);
	kp_writer_reset(&w);
	assert_int_equal(kp_request_body_encode(&w, key, v, out), 0);
	assert_int_equal(w.kw_len, exp_len);
	assert_memory_equal(w.kw_buf, exp, exp_len);
	maybe_write_seed(exp, exp_len, "golden_req", key, v, 0);
	kp_writer_deinit(&w);
	return copy;
}

static void golden_response(int16_t key, int16_t v, const union kp_response_body *in,
			    const uint8_t *exp, size_t exp_len)
{
	struct kp_writer w;
	kp_writer_init(&w, WRITER_CAP);
	assert_int_equal(kp_response_body_encode(&w, key, v, in), 0);
	assert_int_equal(w.kw_len, exp_len);
	assert_memory_equal(w.kw_buf, exp, exp_len);
	uint8_t *copy = exact_copy(exp, exp_len);
	struct kp_arena arena;
	struct kp_reader r;
	union kp_response_body out;
	kp_arena_init(&arena, arena_mem, sizeof(arena_mem));
	kp_reader_init(&r, copy, exp_len, &arena);
	assert_int_equal(kp_response_body_decode(&r, key, v, &out), 0);
	kp_writer_reset(&w);
	assert_int_equal(kp_response_body_encode(&w, key, v, &out), 0);
	assert_int_equal(w.kw_len, exp_len);
	assert_memory_equal(w.kw_buf, exp, exp_len);
	maybe_write_seed(exp, exp_len, "golden_resp", key, v, 0);
	free(copy);
	kp_writer_deinit(&w);
}

static void test_golden_joingroup_v5(void **state)
{
	(void)state;
	/* JoinGroupRequest v5, classic: a static member's first join */
	static const uint8_t exp[] = {
		0x00, 0x04, 'g',  'r',	'p',  '1', /* group_id "grp1" */
		0x00, 0x00, 0xaf, 0xc8,		   /* session_timeout_ms 45000 */
		0x00, 0x04, 0x93, 0xe0,		   /* rebalance_timeout_ms 300000 */
		0x00, 0x00,			   /* member_id "" */
		0x00, 0x02, 'i',  '1',		   /* group_instance_id "i1" */
		0x00, 0x08, 'c',  'o',	'n',  's',  'u',  'm', 'e', 'r', /* protocol_type */
		0x00, 0x00, 0x00, 0x02,					 /* protocols: 2 */
		0x00, 0x05, 'r',  'a',	'n',  'g',  'e',		 /* name "range" */
		0x00, 0x00, 0x00, 0x03, 0x01, 0x02, 0x03,		 /* metadata 010203 */
		0x00, 0x0a, 'r',  'o',	'u',  'n',  'd',  'r', 'o', 'b',
		'i',  'n',  0x00, 0x00, 0x00, 0x00, /* metadata, empty */
	};
	struct kp_joingroup_protocol protocols[] = {
		{KP_STR("range"), BYTES("\x01\x02\x03")},
		{KP_STR("roundrobin"), BYTES("")},
	};
	union kp_request_body in = {.join_group = {KP_STR("grp1"), 45000, 300000, KP_STR(""),
						   KP_STR("i1"), KP_STR("consumer"), protocols, 2}};
	union kp_request_body out;
	uint8_t *copy = golden_request(KP_API_JOIN_GROUP, 5, &in, exp, sizeof(exp), &out);
	assert_true(kp_str_eq_cstr(out.join_group.group_instance_id, "i1"));
	EQ(out.join_group.protocols_count, 2);
	eq_bytes(out.join_group.protocols[0].metadata, BYTES("\x01\x02\x03"));
	eq_bytes(out.join_group.protocols[1].metadata, BYTES(""));
	free(copy);
	/* the same struct at v4 drops group_instance_id: 4 bytes fewer */
	struct kp_writer w;
	kp_writer_init(&w, WRITER_CAP);
	assert_int_equal(kp_joingroup_request_encode(&w, 4, &in.join_group), 0);
	assert_int_equal(w.kw_len, sizeof(exp) - 4);
	assert_memory_equal(w.kw_buf, exp, 16);
	assert_memory_equal(w.kw_buf + 16, exp + 20, sizeof(exp) - 20);
	kp_writer_deinit(&w);

	/* JoinGroupResponse v5: MEMBER_ID_REQUIRED with the id to rejoin with */
	static const uint8_t resp[] = {
		0x00, 0x00, 0x00, 0x00,			  /* throttle_time_ms */
		0x00, 0x4f,				  /* error 79 */
		0xff, 0xff, 0xff, 0xff,			  /* generation_id -1 */
		0x00, 0x00,				  /* protocol_name "" */
		0x00, 0x00,				  /* leader "" */
		0x00, 0x03, 'm',  '-',	'1',		  /* member_id */
		0x00, 0x00, 0x00, 0x01,			  /* members: 1 */
		0x00, 0x03, 'm',  '-',	'1',  0xff, 0xff, /* id, instance null */
		0x00, 0x00, 0x00, 0x01, 0x07,		  /* metadata 07 */
	};
	struct kp_joingroup_member m = {KP_STR("m-1"), KP_STR_NULL, BYTES("\x07")};
	union kp_response_body rin = {.join_group = {0, KP_ERR_MEMBER_ID_REQUIRED, -1, KP_STR(""),
						     KP_STR(""), KP_STR("m-1"), &m, 1}};
	golden_response(KP_API_JOIN_GROUP, 5, &rin, resp, sizeof(resp));
}

static void test_golden_offsetfetch_flexible(void **state)
{
	(void)state;
	/* OffsetFetchRequest v6: compact strings/arrays, tags after the
	 * topic and after the body */
	static const uint8_t req6[] = {
		0x02, 'g',			/* group_id "g" (len + 1) */
		0x02,				/* topics: 1 (count + 1) */
		0x02, 't',			/* name "t" */
		0x03, 0,   0, 0, 0, 0, 0, 0, 5, /* partition_indexes [0, 5] */
		0x00,				/* topic tags */
		0x00,				/* body tags */
	};
	/* v7 adds require_stable before the body tags */
	static const uint8_t req7[] = {
		0x02, 'g', 0x02, 0x02, 't', 0x03, 0,	0,
		0,    0,   0,	 0,    0,   5,	  0x00, 0x01, /* require_stable true */
		0x00,					      /* body tags */
	};
	/* v7 with null topics (all committed partitions) and one body tag */
	static const uint8_t req7_null[] = {
		0x02, 'g',  0x00,      /* group_id "g", topics: null */
		0x00,		       /* require_stable false */
		0x01, 0x00, 0x01, 'x', /* tags: 1 field, tag 0, size 1, "x" */
	};
	int32_t idx[] = {0, 5};
	struct kp_offsetfetch_topic t = {KP_STR("t"), idx, 2, KP_TAGS_EMPTY};
	union kp_request_body in = {.offset_fetch = {KP_STR("g"), &t, 1, true, KP_TAGS_EMPTY}};
	union kp_request_body out;
	/* require_stable is not carried by v6 */
	uint8_t *copy = golden_request(KP_API_OFFSET_FETCH, 6, &in, req6, sizeof(req6), &out);
	EQ(out.offset_fetch.require_stable, false);
	EQ(out.offset_fetch.topics_count, 1);
	assert_true(kp_str_eq_cstr(out.offset_fetch.topics[0].name, "t"));
	EQ(out.offset_fetch.topics[0].partition_indexes_count, 2);
	EQ(out.offset_fetch.topics[0].partition_indexes[1], 5);
	free(copy);
	copy = golden_request(KP_API_OFFSET_FETCH, 7, &in, req7, sizeof(req7), &out);
	EQ(out.offset_fetch.require_stable, true);
	free(copy);
	union kp_request_body in_null = {.offset_fetch = {KP_STR("g"), NULL, -1, false, tags_one}};
	copy = golden_request(KP_API_OFFSET_FETCH, 7, &in_null, req7_null, sizeof(req7_null), &out);
	EQ(out.offset_fetch.topics_count, -1);
	assert_null(out.offset_fetch.topics);
	eq_tags(out.offset_fetch.tags, tags_one);
	free(copy);

	/* OffsetFetchResponse v6 and v7 (same layout) */
	static const uint8_t resp[] = {
		0x00, 0x00, 0x00, 0x0a,				/* throttle_time_ms 10 */
		0x02,						/* topics: 1 */
		0x02, 't',					/* name */
		0x03,						/* partitions: 2 */
		0,    0,    0,	  0,				/* partition 0 */
		0,    0,    0,	  0,	0,    0,    0,	  0x2a, /* committed_offset 42 */
		0,    0,    0,	  3,				/* committed_leader_epoch 3 */
		0x01,						/* metadata "" */
		0x00, 0x00,					/* error_code */
		0x00,						/* partition tags */
		0,    0,    0,	  5,				/* partition 5 */
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* offset -1 */
		0xff, 0xff, 0xff, 0xff,				/* epoch -1 */
		0x00,						/* metadata null */
		0x00, 0x00,					/* error_code */
		0x00,						/* partition tags */
		0x00,						/* topic tags */
		0x00, 0x00,					/* error_code */
		0x01, 0x00, 0x01, 'x',				/* body tags: tag 0 = "x" */
	};
	struct kp_offsetfetch_partition parts[] = {
		{0, 42, 3, KP_STR(""), 0, KP_TAGS_EMPTY},
		{5, -1, -1, KP_STR_NULL, 0, KP_TAGS_EMPTY},
	};
	struct kp_offsetfetch_topic_result tr = {KP_STR("t"), parts, 2, KP_TAGS_EMPTY};
	union kp_response_body rin = {.offset_fetch = {10, &tr, 1, 0, tags_one}};
	golden_response(KP_API_OFFSET_FETCH, 6, &rin, resp, sizeof(resp));
	golden_response(KP_API_OFFSET_FETCH, 7, &rin, resp, sizeof(resp));

	/* the same answer at v5 (classic): int16 strings, int32 counts, no
	 * tags */
	static const uint8_t resp5[] = {
		0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't',  0x00,
		0x00, 0x00, 0x02, 0,	0,    0,    0,	  0,	0,    0,    0,	  0,
		0,    0,    0x2a, 0,	0,    0,    3,	  0x00, 0x00, 0x00, 0x00, 0,
		0,    0,    5,	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
	};
	rin.offset_fetch.tags = KP_TAGS_EMPTY;
	golden_response(KP_API_OFFSET_FETCH, 5, &rin, resp5, sizeof(resp5));
}

/* ------------------------------------------------- captured frames */

/* One request line of a capture log: the logged header fields and body
 * hex (body[:96], whole for every frame here but the JoinGroup v5 ones).
 * Source: shared/reference/captures/<log>.broker.log. */
struct capture {
	const char *c_log;
	int16_t c_key, c_version;
	int32_t c_corr;
	const char *c_client_id;
	int c_header_version;
	size_t c_len; /* len= in the log: the frame, size prefix included */
	const char *c_body_hex;
};

#define KCAT "rdkafka"
#define PY   "kafka-python-2.0.2"

static const struct capture captures[] = {
	{"kcatG", 10, 2, 3, KCAT, 1, 28, "00046772703100"},
	{"kcatG", 14, 3, 6, KCAT, 1, 111,
	 "0004677270310000000100146d656d6265722d31373935383232343134323232ffff0000000100146d656d62"
	 "65722d313739353832323431343232320000001a000000000001000673656564656400000001000000000000"
	 "0000"},
	{"kcatG", 12, 3, 7, KCAT, 1, 55,
	 "0004677270310000000100146d656d6265722d31373935383232343134323232ffff"},
	{"kcatG", 8, 7, 8, KCAT, 1, 89,
	 "0004677270310000000100146d656d6265722d31373935383232343134323232ffff00000001000673656564"
	 "656400000001000000000000000000000003ffffffff0000"},
	{"kcatG", 13, 1, 9, KCAT, 1, 49,
	 "00046772703100146d656d6265722d31373935383232343134323232"},
	{"kcatG2", 9, 7, 7, KCAT, 2, 43, "056772703202077365656465640200000000000100"},
	{"pyG", 10, 0, 3, PY, 1, 39, "00057079677270"},
	{"pyG", 11, 2, 1, PY, 1, 126,
	 "0005707967727000002710000493e000000008636f6e73756d657200000002000572616e6765000000120000"
	 "00000001000673656564656400000000000a726f756e64726f62696e00000012000000000001000673656564"
	 "656400000000"},
	{"pyG", 14, 1, 2, PY, 1, 81,
	 "000570796772700000000100086d656d6265722d310000000100086d656d6265722d310000000a0000000000"
	 "0000000000"},
	{"pyG", 14, 1, 4, PY, 1, 97,
	 "000570796772700000000200086d656d6265722d310000000100086d656d6265722d310000001a0000000000"
	 "010006736565646564000000010000000000000000"},
	{"pyG", 9, 1, 5, PY, 1, 59, "000570796772700000000100067365656465640000000100000000"},
	{"pyG", 12, 1, 6, PY, 1, 53, "000570796772700000000200086d656d6265722d31"},
	{"pyG", 8, 2, 7, PY, 1, 91,
	 "000570796772700000000200086d656d6265722d31ffffffffffffffff000000010006736565646564000000"
	 "010000000000000000000000030000"},
	{"pyG", 13, 1, 11, PY, 1, 49, "0005707967727000086d656d6265722d31"},
	/* kcatG corr 3, cut at 96 of 103 body bytes: the last 7 are the end
	 * of the second protocol's metadata, which the log gives as 22 bytes
	 * like the first (librdkafka sends one subscription per assignor);
	 * test_capture_joingroup_v5 checks the cut prefix and the length. */
	{"kcatG", 11, 5, 3, KCAT, 1, 124,
	 "0004677270310000afc8000493e00000ffff0008636f6e73756d657200000002000572616e67650000001600"
	 "010000000100067365656465640000000000000000000a726f756e64726f62696e0000001600010000000100"
	 "0673656564656400"
	 "00000000000000"},
};
#define CAPTURES (sizeof(captures) / sizeof(captures[0]))

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex);
	assert_true(n % 2 == 0 && n / 2 <= cap);
	for (size_t i = 0; i < n / 2; i++) {
		unsigned int b;
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &b), 1);
		out[i] = (uint8_t)b;
	}
	return n / 2;
}

/* The frame after its size prefix: header as logged, then the body. */
static size_t capture_frame(const struct capture *c, uint8_t *out, size_t cap)
{
	struct kp_writer w;
	kp_writer_init_fixed(&w, out, cap);
	kp_write_int16(&w, c->c_key);
	kp_write_int16(&w, c->c_version);
	kp_write_int32(&w, c->c_corr);
	kp_write_string(&w, kp_str_from_cstr(c->c_client_id));
	if (c->c_header_version == 2)
		kp_write_tags(&w, KP_TAGS_EMPTY);
	assert_int_equal(kp_writer_error(&w), 0);
	size_t n = w.kw_len + unhex(c->c_body_hex, out + w.kw_len, cap - w.kw_len);
	assert_int_equal(n + KP_FRAME_PREFIX_BYTES, c->c_len);
	return n;
}

struct decoded {
	struct kp_request_header d_hdr;
	union kp_request_body d_body;
	uint8_t *d_frame; /* views point here; free after checking */
};

/* collect: add the frame to the corpus and write it as a seed (once per
 * capture). */
static void decode_capture(const struct capture *c, struct decoded *d, bool collect)
{
	uint8_t raw[256];
	size_t len = capture_frame(c, raw, sizeof(raw));
	d->d_frame = exact_copy(raw, len);
	struct kp_arena arena;
	struct kp_reader r;
	kp_arena_init(&arena, arena_mem, sizeof(arena_mem));
	kp_reader_init(&r, d->d_frame, len, &arena);
	int rc = kp_request_decode(&r, &d->d_hdr, &d->d_body);
	if (rc)
		fail_msg("%s %s v%d corr %d: %s", c->c_log, kp_api_name(c->c_key), c->c_version,
			 c->c_corr, kp_strerror(rc));
	EQ(d->d_hdr.request_api_key, c->c_key);
	EQ(d->d_hdr.request_api_version, c->c_version);
	EQ(d->d_hdr.correlation_id, c->c_corr);
	EQ(d->d_hdr.header_version, c->c_header_version);
	assert_true(kp_str_eq_cstr(d->d_hdr.client_id, c->c_client_id));
	/* re-encodes to exactly the captured frame */
	struct kp_writer w;
	kp_writer_init(&w, WRITER_CAP);
	assert_int_equal(kp_request_encode(&w, &d->d_hdr, &d->d_body), 0);
	assert_int_equal(w.kw_len, c->c_len);
	assert_memory_equal(w.kw_buf + KP_FRAME_PREFIX_BYTES, raw, len);
	kp_writer_deinit(&w);
	if (!collect)
		return;
	corpus_add(raw, len, true, c->c_key, c->c_version);
	size_t hdr_len = len - (strlen(c->c_body_hex) / 2);
	maybe_write_seed(raw + hdr_len, len - hdr_len, "captured", c->c_key, c->c_version,
			 (int)c->c_corr);
}

/* Correlation ids are per connection: the api key tells them apart. */
static const struct capture *find_capture(const char *log, int16_t key, int32_t corr)
{
	for (size_t i = 0; i < CAPTURES; i++)
		if (strcmp(captures[i].c_log, log) == 0 && captures[i].c_key == key &&
		    captures[i].c_corr == corr)
			return &captures[i];
	fail_msg("no capture %s %s corr %d", log, kp_api_name(key), corr);
	return NULL;
}

#define MEMBER_KCAT "member-1795822414222"

static void test_capture_every_frame_decodes(void **state)
{
	(void)state;
	for (size_t i = 0; i < CAPTURES; i++) {
		struct decoded d;
		decode_capture(&captures[i], &d, true);
		free(d.d_frame);
	}
	print_message("# %zu captured group requests decoded and re-encoded\n", CAPTURES);
}

static void test_capture_kcat(void **state)
{
	(void)state;
	struct decoded d;

	/* FindCoordinator key='grp1' type=0 */
	decode_capture(find_capture("kcatG", KP_API_FIND_COORDINATOR, 3), &d, false);
	assert_true(kp_str_eq_cstr(d.d_body.find_coordinator.key, "grp1"));
	EQ(d.d_body.find_coordinator.key_type, KP_COORDINATOR_GROUP);
	free(d.d_frame);

	/* SyncGroup group='grp1' gen=1 member=... one assignment of 26 bytes */
	decode_capture(find_capture("kcatG", KP_API_SYNC_GROUP, 6), &d, false);
	const struct kp_syncgroup_request *sg = &d.d_body.sync_group;
	assert_true(kp_str_eq_cstr(sg->group_id, "grp1"));
	EQ(sg->generation_id, 1);
	assert_true(kp_str_eq_cstr(sg->member_id, MEMBER_KCAT));
	EQ(sg->group_instance_id.len, -1);
	EQ(sg->assignments_count, 1);
	assert_true(kp_str_eq_cstr(sg->assignments[0].member_id, MEMBER_KCAT));
	eq_bytes(sg->assignments[0].assignment, BYTES(assignment_a));
	free(d.d_frame);

	/* Heartbeat group='grp1' gen=1 */
	decode_capture(find_capture("kcatG", KP_API_HEARTBEAT, 7), &d, false);
	assert_true(kp_str_eq_cstr(d.d_body.heartbeat.group_id, "grp1"));
	EQ(d.d_body.heartbeat.generation_id, 1);
	assert_true(kp_str_eq_cstr(d.d_body.heartbeat.member_id, MEMBER_KCAT));
	EQ(d.d_body.heartbeat.group_instance_id.len, -1);
	free(d.d_frame);

	/* OffsetCommit v7: retention absent, topics=[('seeded', [(0, 3, '')])] */
	decode_capture(find_capture("kcatG", KP_API_OFFSET_COMMIT, 8), &d, false);
	const struct kp_offsetcommit_request *oc = &d.d_body.offset_commit;
	assert_true(kp_str_eq_cstr(oc->group_id, "grp1"));
	EQ(oc->generation_id, 1);
	EQ(oc->retention_time_ms, -1);
	EQ(oc->group_instance_id.len, -1);
	EQ(oc->topics_count, 1);
	assert_true(kp_str_eq_cstr(oc->topics[0].name, "seeded"));
	EQ(oc->topics[0].partitions_count, 1);
	EQ(oc->topics[0].partitions[0].partition_index, 0);
	EQ(oc->topics[0].partitions[0].committed_offset, 3);
	EQ(oc->topics[0].partitions[0].committed_leader_epoch, -1);
	eq_str(oc->topics[0].partitions[0].committed_metadata, KP_STR(""));
	free(d.d_frame);

	/* LeaveGroup v1 */
	decode_capture(find_capture("kcatG", KP_API_LEAVE_GROUP, 9), &d, false);
	assert_true(kp_str_eq_cstr(d.d_body.leave_group.group_id, "grp1"));
	assert_true(kp_str_eq_cstr(d.d_body.leave_group.member_id, MEMBER_KCAT));
	free(d.d_frame);

	/* OffsetFetch v7, flexible: group='grp2' topics=[('seeded', [0])],
	 * require_stable (librdkafka's read_committed default) */
	decode_capture(find_capture("kcatG2", KP_API_OFFSET_FETCH, 7), &d, false);
	const struct kp_offsetfetch_request *of = &d.d_body.offset_fetch;
	assert_true(kp_str_eq_cstr(of->group_id, "grp2"));
	EQ(of->topics_count, 1);
	assert_true(kp_str_eq_cstr(of->topics[0].name, "seeded"));
	EQ(of->topics[0].partition_indexes_count, 1);
	EQ(of->topics[0].partition_indexes[0], 0);
	EQ(of->topics[0].tags.len, 0);
	EQ(of->require_stable, true);
	EQ(of->tags.len, 0);
	free(d.d_frame);
}

static void test_capture_joingroup_v5(void **state)
{
	(void)state;
	const struct capture *c = find_capture("kcatG", KP_API_JOIN_GROUP, 3);
	EQ(c->c_version, 5);
	/* the logged prefix: 96 bytes = 192 hex digits, the rest rebuilt */
	static const char logged[] =
		"0004677270310000afc8000493e00000ffff0008636f6e73756d657200000002000572616e676500"
		"00001600010000000100067365656465640000000000000000000a726f756e64726f62696e00000016"
		"00"
		"0100000001000673656564656400";
	assert_int_equal(strlen(logged), 192);
	assert_memory_equal(c->c_body_hex, logged, 192);

	struct decoded d;
	decode_capture(c, &d, false);
	/* JoinGroup group='grp1' session=45000 rebalance=300000 member=''
	 * instance=None type='consumer' protocols=[('range', 22),
	 * ('roundrobin', 22)] */
	const struct kp_joingroup_request *jg = &d.d_body.join_group;
	assert_true(kp_str_eq_cstr(jg->group_id, "grp1"));
	EQ(jg->session_timeout_ms, 45000);
	EQ(jg->rebalance_timeout_ms, 300000);
	eq_str(jg->member_id, KP_STR(""));
	EQ(jg->group_instance_id.len, -1);
	assert_true(kp_str_eq_cstr(jg->protocol_type, "consumer"));
	EQ(jg->protocols_count, 2);
	assert_true(kp_str_eq_cstr(jg->protocols[0].name, "range"));
	assert_true(kp_str_eq_cstr(jg->protocols[1].name, "roundrobin"));
	EQ(jg->protocols[0].metadata.len, 22);
	eq_bytes(jg->protocols[0].metadata, BYTES(subscription));
	eq_bytes(jg->protocols[1].metadata, jg->protocols[0].metadata);
	free(d.d_frame);
}

static void test_capture_kafka_python(void **state)
{
	(void)state;
	struct decoded d;

	/* FindCoordinator v0: key only, key_type defaults to group */
	decode_capture(find_capture("pyG", KP_API_FIND_COORDINATOR, 3), &d, false);
	assert_true(kp_str_eq_cstr(d.d_body.find_coordinator.key, "pygrp"));
	EQ(d.d_body.find_coordinator.key_type, KP_COORDINATOR_GROUP);
	free(d.d_frame);

	/* JoinGroup v2: session=10000 rebalance=300000 member='' protocols of
	 * 18 bytes */
	decode_capture(find_capture("pyG", KP_API_JOIN_GROUP, 1), &d, false);
	const struct kp_joingroup_request *jg = &d.d_body.join_group;
	assert_true(kp_str_eq_cstr(jg->group_id, "pygrp"));
	EQ(jg->session_timeout_ms, 10000);
	EQ(jg->rebalance_timeout_ms, 300000);
	eq_str(jg->member_id, KP_STR(""));
	EQ(jg->group_instance_id.len, -1);
	EQ(jg->protocols_count, 2);
	assert_true(kp_str_eq_cstr(jg->protocols[0].name, "range"));
	EQ(jg->protocols[0].metadata.len, 18);
	assert_true(kp_str_eq_cstr(jg->protocols[1].name, "roundrobin"));
	EQ(jg->protocols[1].metadata.len, 18);
	free(d.d_frame);

	/* SyncGroup v1, generation 1: a 10-byte empty assignment */
	decode_capture(find_capture("pyG", KP_API_SYNC_GROUP, 2), &d, false);
	EQ(d.d_body.sync_group.generation_id, 1);
	EQ(d.d_body.sync_group.assignments_count, 1);
	assert_true(kp_str_eq_cstr(d.d_body.sync_group.assignments[0].member_id, "member-1"));
	EQ(d.d_body.sync_group.assignments[0].assignment.len, 10);
	free(d.d_frame);

	/* OffsetFetch v1: classic, topics=[('seeded', [0])] */
	decode_capture(find_capture("pyG", KP_API_OFFSET_FETCH, 5), &d, false);
	const struct kp_offsetfetch_request *of = &d.d_body.offset_fetch;
	assert_true(kp_str_eq_cstr(of->group_id, "pygrp"));
	EQ(of->topics_count, 1);
	EQ(of->topics[0].partition_indexes_count, 1);
	EQ(of->require_stable, false);
	free(d.d_frame);

	/* Heartbeat v1 gen=2 */
	decode_capture(find_capture("pyG", KP_API_HEARTBEAT, 6), &d, false);
	EQ(d.d_body.heartbeat.generation_id, 2);
	assert_true(kp_str_eq_cstr(d.d_body.heartbeat.member_id, "member-1"));
	free(d.d_frame);

	/* OffsetCommit v2: retention=-1 topics=[('seeded', [(0, 3, '')])] */
	decode_capture(find_capture("pyG", KP_API_OFFSET_COMMIT, 7), &d, false);
	const struct kp_offsetcommit_request *oc = &d.d_body.offset_commit;
	EQ(oc->generation_id, 2);
	EQ(oc->retention_time_ms, -1);
	EQ(oc->topics_count, 1);
	EQ(oc->topics[0].partitions[0].committed_offset, 3);
	EQ(oc->topics[0].partitions[0].committed_leader_epoch, -1);
	eq_str(oc->topics[0].partitions[0].committed_metadata, KP_STR(""));
	free(d.d_frame);

	/* LeaveGroup v1 */
	decode_capture(find_capture("pyG", KP_API_LEAVE_GROUP, 11), &d, false);
	assert_true(kp_str_eq_cstr(d.d_body.leave_group.member_id, "member-1"));
	free(d.d_frame);
}

/* --------------------------------------------- table, refusals, edges */

static void test_api_table_rows(void **state)
{
	(void)state;
	static const struct {
		int16_t key, first_flexible;
	} flex[] = {
		{KP_API_FIND_COORDINATOR, 3}, {KP_API_JOIN_GROUP, 6},  {KP_API_HEARTBEAT, 4},
		{KP_API_LEAVE_GROUP, 4},      {KP_API_SYNC_GROUP, 4},  {KP_API_OFFSET_COMMIT, 8},
		{KP_API_OFFSET_FETCH, 6},     {KP_API_LIST_GROUPS, 3}, {KP_API_DESCRIBE_GROUPS, 5},
		{KP_API_DELETE_GROUPS, 2},
	};
	for (size_t i = 0; i < sizeof(flex) / sizeof(flex[0]); i++) {
		const struct kp_api_info *ai = kp_api_info(flex[i].key);
		assert_non_null(ai);
		EQ(ai->ai_first_flexible, flex[i].first_flexible);
		/* only OffsetFetch reaches a flexible version */
		assert_true((ai->ai_max_version >= ai->ai_first_flexible) ==
			    (flex[i].key == KP_API_OFFSET_FETCH));
	}
	EQ(kp_request_header_version(KP_API_OFFSET_FETCH, 5), 1);
	EQ(kp_request_header_version(KP_API_OFFSET_FETCH, 6), 2);
	EQ(kp_response_header_version(KP_API_OFFSET_FETCH, 5), 0);
	EQ(kp_response_header_version(KP_API_OFFSET_FETCH, 7), 1);
	EQ(kp_response_header_version(KP_API_JOIN_GROUP, 5), 0);
	assert_string_equal(kp_api_name(KP_API_DESCRIBE_GROUPS), "DescribeGroups");
	assert_string_equal(kp_error_name(KP_ERR_MEMBER_ID_REQUIRED), "MEMBER_ID_REQUIRED");
	assert_string_equal(kp_error_name(KP_ERR_REBALANCE_IN_PROGRESS), "REBALANCE_IN_PROGRESS");
	/* every group api is in the list ApiVersions would be built from */
	const struct kp_api_info *rows[KP_API_KEY_COUNT];
	size_t n = kp_api_supported(rows, KP_API_KEY_COUNT);
	for (size_t k = 0; k < GROUP_KEYS; k++) {
		bool found = false;
		for (size_t i = 0; i < n; i++)
			found |= rows[i]->ai_api_key == group_keys[k];
		assert_true(found);
	}
}

static void test_versions_outside_range_refused(void **state)
{
	(void)state;
	uint8_t bytes[32] = {0};
	for (size_t c = 0; c < API_CASES; c++) {
		const struct api_case *ac = &api_cases[c];
		const int16_t outside[] = {(int16_t)(ac->ac_min - 1), (int16_t)(ac->ac_max + 1),
					   INT16_MAX};
		for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
			int16_t v = outside[i];
			union kp_request_body req;
			union kp_response_body resp;
			memset(&req, 0, sizeof(req));
			memset(&resp, 0, sizeof(resp));
			struct kp_reader r;
			kp_reader_init(&r, bytes, sizeof(bytes), NULL);
			EQ(kp_request_body_decode(&r, ac->ac_key, v, &req),
			   KP_EUNSUPPORTED_VERSION);
			kp_reader_init(&r, bytes, sizeof(bytes), NULL);
			EQ(kp_response_body_decode(&r, ac->ac_key, v, &resp),
			   KP_EUNSUPPORTED_VERSION);
			struct kp_writer w;
			kp_writer_init(&w, 1024);
			EQ(kp_request_body_encode(&w, ac->ac_key, v, &req),
			   KP_EUNSUPPORTED_VERSION);
			kp_writer_reset(&w);
			EQ(kp_response_body_encode(&w, ac->ac_key, v, &resp),
			   KP_EUNSUPPORTED_VERSION);
			kp_writer_deinit(&w);
		}
	}
}

static int decode_body(int16_t key, int16_t v, bool request, const uint8_t *bytes, size_t len)
{
	uint8_t *copy = exact_copy(bytes, len);
	struct kp_arena arena;
	struct kp_reader r;
	kp_arena_init(&arena, arena_mem, sizeof(arena_mem));
	kp_reader_init(&r, copy, len, &arena);
	union kp_request_body req;
	union kp_response_body resp;
	int rc = request ? kp_request_body_decode(&r, key, v, &req)
			 : kp_response_body_decode(&r, key, v, &resp);
	free(copy);
	return rc;
}

static void test_malformed_refused(void **state)
{
	(void)state;
	/* OffsetFetch v1 cannot carry null topics; v2 can */
	static const uint8_t null_topics[] = {0x00, 0x01, 'g', 0xff, 0xff, 0xff, 0xff};
	EQ(decode_body(KP_API_OFFSET_FETCH, 1, true, null_topics, sizeof(null_topics)),
	   KP_EMALFORMED);
	EQ(decode_body(KP_API_OFFSET_FETCH, 2, true, null_topics, sizeof(null_topics)), 0);
	/* a null group id (not nullable) */
	static const uint8_t null_group[] = {0xff, 0xff, 0, 0, 0, 1, 0, 0};
	EQ(decode_body(KP_API_HEARTBEAT, 0, true, null_group, sizeof(null_group)), KP_EMALFORMED);
	/* a string length below -1 */
	static const uint8_t neg_len[] = {0x00, 0x01, 'g', 0, 0, 0, 1, 0xff, 0xfe};
	EQ(decode_body(KP_API_HEARTBEAT, 0, true, neg_len, sizeof(neg_len)), KP_EMALFORMED);
	/* a null assignment (bytes, not nullable) in SyncGroup's response */
	static const uint8_t null_assign[] = {0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
	EQ(decode_body(KP_API_SYNC_GROUP, 1, false, null_assign, sizeof(null_assign)),
	   KP_EMALFORMED);
	/* a count larger than the frame could hold */
	static const uint8_t huge[] = {0x00, 0x00, 0x7f, 0xff, 0xff, 0xff};
	EQ(decode_body(KP_API_LIST_GROUPS, 0, false, huge, sizeof(huge)), KP_ETRUNCATED);
	/* flexible: tags out of order, an overlong varint */
	static const uint8_t bad_tags[] = {0x02, 'g', 0x00, 0x02, 0x05, 0x00, 0x01, 0x00};
	EQ(decode_body(KP_API_OFFSET_FETCH, 6, true, bad_tags, sizeof(bad_tags)), KP_EMALFORMED);
	static const uint8_t bad_varint[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
	EQ(decode_body(KP_API_OFFSET_FETCH, 7, true, bad_varint, sizeof(bad_varint)),
	   KP_EMALFORMED);
}

static void test_trailing_garbage_reported(void **state)
{
	(void)state;
	/* kafka-python's Heartbeat v1 body plus one stray byte */
	uint8_t body[] = {0, 5, 'p', 'y', 'g', 'r', 'p', 0,   0,   0,	2,
			  0, 8, 'm', 'e', 'm', 'b', 'e', 'r', '-', '1', 0x00};
	struct kp_arena arena;
	kp_arena_init(&arena, arena_mem, sizeof(arena_mem));
	struct kp_reader r;
	kp_reader_init(&r, body, sizeof(body), &arena);
	struct kp_heartbeat_request hb;
	assert_int_equal(kp_heartbeat_request_decode(&r, 1, &hb), KP_ETRAILING);
	assert_true(kp_str_eq_cstr(hb.member_id, "member-1"));
	EQ(hb.generation_id, 2);
	/* ListGroups' request has no body at all */
	assert_int_equal(decode_body(KP_API_LIST_GROUPS, 1, true, body, 1), KP_ETRAILING);
	assert_int_equal(decode_body(KP_API_LIST_GROUPS, 1, true, body, 0), 0);
}

static void test_encode_refuses_impossible(void **state)
{
	(void)state;
	struct kp_writer w;
	kp_writer_init(&w, 4096);
	/* null topics before OffsetFetch v2 */
	struct kp_offsetfetch_request of = {KP_STR("g"), NULL, -1, false, KP_TAGS_EMPTY};
	EQ(kp_offsetfetch_request_encode(&w, 1, &of), KP_EINVAL);
	kp_writer_reset(&w);
	EQ(kp_offsetfetch_request_encode(&w, 2, &of), 0);
	/* a count without elements */
	kp_writer_reset(&w);
	struct kp_syncgroup_request sg = {KP_STR("g"), 1, KP_STR("m"), KP_STR_NULL, NULL, 2};
	EQ(kp_syncgroup_request_encode(&w, 3, &sg), KP_EINVAL);
	/* a null member id */
	kp_writer_reset(&w);
	struct kp_leavegroup_request lg = {KP_STR("g"), KP_STR_NULL};
	EQ(kp_leavegroup_request_encode(&w, 1, &lg), KP_EINVAL);
	/* null bytes where bytes are not nullable */
	kp_writer_reset(&w);
	struct kp_syncgroup_response sr = {0, 0, KP_BYTES_NULL};
	EQ(kp_syncgroup_response_encode(&w, 1, &sr), KP_EINVAL);
	kp_writer_deinit(&w);
	/* the writer cap */
	kp_writer_init(&w, 8);
	union kp_response_body in;
	assert_true(build_dg_resp(2, 0, &in));
	EQ(kp_describegroups_response_encode(&w, 2, &in.describe_groups), KP_ETOO_LARGE);
	kp_writer_deinit(&w);
}

static void test_arena_exhaustion(void **state)
{
	(void)state;
	union kp_response_body in;
	assert_true(build_of_resp(7, 0, &in));
	struct kp_writer w;
	kp_writer_init(&w, WRITER_CAP);
	assert_int_equal(kp_offsetfetch_response_encode(&w, 7, &in.offset_fetch), 0);
	/* the topics array alone needs more than any of these */
	static uint8_t small[2 * sizeof(struct kp_offsetfetch_topic_result)];
	for (size_t size = 0; size < sizeof(small); size += 8) {
		struct kp_arena arena;
		kp_arena_init(&arena, small, size);
		struct kp_reader r;
		kp_reader_init(&r, w.kw_buf, w.kw_len, &arena);
		struct kp_offsetfetch_response m;
		assert_int_equal(kp_offsetfetch_response_decode(&r, 7, &m), KP_EARENA);
		assert_true(kp_arena_used(&arena) <= size);
	}
	kp_writer_deinit(&w);
}

/* ------------------------------------ truncations and random damage */

static int decode_frame(const struct frame *f, const uint8_t *bytes, size_t len)
{
	struct kp_arena arena;
	struct kp_reader r;
	uint8_t *buf = exact_copy(bytes, len);
	kp_arena_init(&arena, arena_mem, sizeof(arena_mem));
	kp_reader_init(&r, buf, len, &arena);
	int rc;
	struct kp_writer w1, w2;
	kp_writer_init(&w1, WRITER_CAP);
	kp_writer_init(&w2, WRITER_CAP);
	static uint8_t arena2_mem[ARENA_BYTES];
	struct kp_arena arena2;
	struct kp_reader r2;
	kp_arena_init(&arena2, arena2_mem, sizeof(arena2_mem));
	if (f->f_request) {
		struct kp_request_header h;
		union kp_request_body b;
		rc = kp_request_decode(&r, &h, &b);
		if (rc == 0) {
			/* re-encode, decode again, encode again: the same bytes */
			assert_int_equal(kp_request_encode(&w1, &h, &b), 0);
			kp_reader_init(&r2, w1.kw_buf + 4, w1.kw_len - 4, &arena2);
			assert_int_equal(kp_request_decode(&r2, &h, &b), 0);
			assert_int_equal(kp_request_encode(&w2, &h, &b), 0);
		}
	} else {
		struct kp_response_header h;
		union kp_response_body b;
		rc = kp_response_decode(&r, f->f_key, f->f_version, &h, &b);
		if (rc == 0) {
			assert_int_equal(kp_response_encode(&w1, f->f_key, f->f_version, &h, &b),
					 0);
			kp_reader_init(&r2, w1.kw_buf + 4, w1.kw_len - 4, &arena2);
			assert_int_equal(kp_response_decode(&r2, f->f_key, f->f_version, &h, &b),
					 0);
			assert_int_equal(kp_response_encode(&w2, f->f_key, f->f_version, &h, &b),
					 0);
		}
	}
	assert_int_equal(w1.kw_len, w2.kw_len);
	if (w1.kw_len)
		assert_memory_equal(w1.kw_buf, w2.kw_buf, w1.kw_len);
	kp_writer_deinit(&w1);
	kp_writer_deinit(&w2);
	free(buf);
	return rc;
}

static void test_every_truncation_refused(void **state)
{
	(void)state;
	assert_true(corpus_count > 100);
	size_t cuts = 0;
	for (size_t i = 0; i < corpus_count; i++) {
		const struct frame *f = &corpus[i];
		assert_int_equal(decode_frame(f, f->f_buf, f->f_len), 0);
		for (size_t len = 0; len < f->f_len; len++) {
			int rc = decode_frame(f, f->f_buf, len);
			if (rc != KP_ETRUNCATED)
				fail_msg("%s %s v%d cut at %zu of %zu: %s",
					 f->f_request ? "request" : "response",
					 kp_api_name(f->f_key), f->f_version, len, f->f_len,
					 kp_strerror(rc));
			cuts++;
		}
	}
	print_message("# %zu frames, %zu truncations refused\n", corpus_count, cuts);
}

static void test_random_flips_never_crash(void **state)
{
	(void)state;
	uint64_t seed = tu_seed(0x67727570);
	uint64_t s = seed;
	size_t iterations = 20000, decoded_ok = 0;
	for (size_t it = 0; it < iterations; it++) {
		const struct frame *f = &corpus[tu_rand(&s) % corpus_count];
		uint8_t *buf = exact_copy(f->f_buf, f->f_len);
		int flips = 1 + (int)(tu_rand(&s) % 4);
		for (int k = 0; k < flips && f->f_len; k++)
			buf[tu_rand(&s) % f->f_len] ^= (uint8_t)(1 + tu_rand(&s) % 255);
		size_t len = f->f_len;
		if (tu_rand(&s) % 8 == 0 && len)
			len = tu_rand(&s) % len;
		int rc = decode_frame(f, buf, len);
		assert_true(rc <= 0);
		if (rc == 0)
			decoded_ok++;
		free(buf);
	}
	print_message("# seed 0x%llx: %zu damaged frames, %zu still decoded (and re-encoded "
		      "stably)\n",
		      (unsigned long long)seed, iterations, decoded_ok);
}

static int teardown_corpus(void **state)
{
	(void)state;
	for (size_t i = 0; i < corpus_count; i++)
		free(corpus[i].f_buf);
	corpus_count = 0;
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_every_version),
		cmocka_unit_test(test_golden_joingroup_v5),
		cmocka_unit_test(test_golden_offsetfetch_flexible),
		cmocka_unit_test(test_capture_every_frame_decodes),
		cmocka_unit_test(test_capture_kcat),
		cmocka_unit_test(test_capture_joingroup_v5),
		cmocka_unit_test(test_capture_kafka_python),
		cmocka_unit_test(test_api_table_rows),
		cmocka_unit_test(test_versions_outside_range_refused),
		cmocka_unit_test(test_malformed_refused),
		cmocka_unit_test(test_trailing_garbage_reported),
		cmocka_unit_test(test_encode_refuses_impossible),
		cmocka_unit_test(test_arena_exhaustion),
		/* these two walk the frames the tests above collected */
		cmocka_unit_test(test_every_truncation_refused),
		cmocka_unit_test(test_random_flips_never_crash),
	};
	return cmocka_run_group_tests(tests, setup_fixtures, teardown_corpus);
}
