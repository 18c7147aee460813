/* Description: replog's private APIs (kp_replog, keys 10000-10006) round-trip, refuse every
 * truncation, keep unknown tags. */
/*
 * Every request and response of the seven private APIs is encoded with its
 * own codec and with the generic dispatch (the same bytes), decoded both
 * ways from an exact-size copy and compared field by field, then
 * re-encoded to the same bytes; then as a whole frame (header v2 / v1 with
 * tags) through kp_request_decode / kp_response_decode. Fixtures carry
 * unknown tagged fields at every struct level, nullable fields as null and
 * as empty, multi-byte varint lengths. Every truncation of every frame is
 * KP_ETRUNCATED; seeded random damage never crashes and what still decodes
 * re-encodes stably. The api table reports the keys as flexible v0 with
 * headers v2/v1 and keeps them out of the Kafka (ApiVersions) list.
 *
 * KP_WRITE_SEEDS=<dir> writes each request frame built here (after its
 * size prefix) into <dir>, as seeds for tests/fuzz/fuzz_request, and for
 * each response body a frame of request header + that body (the fuzz
 * target decodes every body as a request and as a response).
 */
#include "testutil.h"

#include "kp_api.h"
#include "kp_message.h"
#include "kp_replog.h"

#define ARENA_BYTES (256 * 1024)
#define WRITER_CAP  (1 << 20)

static uint8_t arena_mem[ARENA_BYTES];
static uint8_t arena2_mem[ARENA_BYTES];

static uint8_t *exact_copy(const uint8_t *bytes, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	if (len)
		memcpy(copy, bytes, len);
	return copy;
}

#define EQ(a, b) assert_true((int64_t)(a) == (int64_t)(b))

static void eq_str(struct kp_str got, struct kp_str exp)
{
	if (!kp_str_eq(got, exp))
		fail_msg("string \"%.*s\" (len %d) != \"%.*s\" (len %d)", got.len > 0 ? got.len : 0,
			 got.ptr ? got.ptr : "", got.len, exp.len > 0 ? exp.len : 0,
			 exp.ptr ? exp.ptr : "", exp.len);
}

static void eq_tags(struct kp_tags got, struct kp_tags exp)
{
	assert_true(kp_tags_eq(got, exp));
}

/* Counts equal (-1 = null included), then the elements. */
static void eq_i32s(const int32_t *got, int32_t got_count, const int32_t *exp, int32_t exp_count)
{
	EQ(got_count, exp_count);
	for (int32_t i = 0; i < exp_count; i++)
		EQ(got[i], exp[i]);
}

/* ------------------------------------------------------------ fixtures */

static uint8_t tag_bytes[3][64];
static struct kp_tags tags_one;	  /* one unknown field */
static struct kp_tags tags_two;	  /* two fields, one with a 2-byte tag */
static struct kp_tags tags_three; /* three fields, one of 20 bytes */

static char long_address[300]; /* a compact length of 2 bytes */

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
	static const uint8_t twenty[20] = {0xde, 0xad, 0xbe, 0xef};
	const struct kp_tag_field one[] = {{0, {x, 1}}};
	const struct kp_tag_field two[] = {{3, {x, 1}}, {1000, {yz, 3}}};
	const struct kp_tag_field three[] = {{1, {NULL, 0}}, {2, {twenty, 20}}, {70000, {x, 1}}};
	tags_one = build_tags(tag_bytes[0], sizeof(tag_bytes[0]), one, 1);
	tags_two = build_tags(tag_bytes[1], sizeof(tag_bytes[1]), two, 2);
	tags_three = build_tags(tag_bytes[2], sizeof(tag_bytes[2]), three, 3);
	memset(long_address, 'a', sizeof(long_address));
	memcpy(long_address + sizeof(long_address) - 5, ":9092", 5);
	return 0;
}

static const struct kp_uuid uuid_a = {{0x5f, 0x1c, 0x8e, 0x20, 0x7a, 0x44, 0x4b, 0x0e, 0x9d, 0x13,
				       0xa2, 0x61, 0xc0, 0xff, 0xee, 0x01}};
static const struct kp_uuid uuid_zero = {{0}};

/* ------------------------------------------------ ReplogBrokerRegister */

static bool build_register_request(int variant, union kp_request_body *b)
{
	struct kp_replog_register_request *q = &b->replog_broker_register;
	switch (variant) {
	case 0:
		*q = (struct kp_replog_register_request){3, uuid_a, KP_STR("broker-3.dc1:9092"),
							 true, tags_two};
		return true;
	case 1: /* empty address, zero uuid, no tags */
		*q = (struct kp_replog_register_request){0, uuid_zero, KP_STR(""), false,
							 KP_TAGS_EMPTY};
		return true;
	case 2: /* a 300-byte address and the largest id */
		*q = (struct kp_replog_register_request){
			INT32_MAX,
			uuid_a,
			{long_address, (int32_t)sizeof(long_address)},
			false,
			tags_three};
		return true;
	default:
		return false;
	}
}

static void check_register_request(const union kp_request_body *e_, const union kp_request_body *g_)
{
	const struct kp_replog_register_request *e = &e_->replog_broker_register;
	const struct kp_replog_register_request *g = &g_->replog_broker_register;
	EQ(g->broker_id, e->broker_id);
	assert_memory_equal(g->incarnation_id.bytes, e->incarnation_id.bytes, 16);
	eq_str(g->address, e->address);
	assert_true(g->clean_shutdown == e->clean_shutdown);
	eq_tags(g->tags, e->tags);
}

static bool build_register_response(int variant, union kp_response_body *b)
{
	struct kp_replog_register_response *p = &b->replog_broker_register;
	switch (variant) {
	case 0: /* accepted: no message (null) */
		*p = (struct kp_replog_register_response){KP_ERR_NONE, KP_STR_NULL,
							  INT64_C(0x100000007), 12, tags_one};
		return true;
	case 1:
		*p = (struct kp_replog_register_response){
			KP_ERR_DUPLICATE_BROKER_REGISTRATION,
			KP_STR("broker 3 is registered by incarnation 5f1c8e20"), -1, 12,
			KP_TAGS_EMPTY};
		return true;
	case 2: /* an empty message, not null */
		*p = (struct kp_replog_register_response){KP_ERR_NOT_CONTROLLER, KP_STR(""), -1, -1,
							  tags_two};
		return true;
	default:
		return false;
	}
}

static void check_register_response(const union kp_response_body *e_,
				    const union kp_response_body *g_)
{
	const struct kp_replog_register_response *e = &e_->replog_broker_register;
	const struct kp_replog_register_response *g = &g_->replog_broker_register;
	EQ(g->error_code, e->error_code);
	eq_str(g->error_message, e->error_message);
	EQ(g->broker_epoch, e->broker_epoch);
	EQ(g->controller_epoch, e->controller_epoch);
	eq_tags(g->tags, e->tags);
}

/* ----------------------------------------------- ReplogBrokerHeartbeat */

static bool build_heartbeat_request(int variant, union kp_request_body *b)
{
	struct kp_replog_heartbeat_request *q = &b->replog_broker_heartbeat;
	switch (variant) {
	case 0:
		*q = (struct kp_replog_heartbeat_request){3, 7, 1234, false, KP_TAGS_EMPTY};
		return true;
	case 1:
		*q = (struct kp_replog_heartbeat_request){2, INT64_MAX, -1, true, tags_three};
		return true;
	default:
		return false;
	}
}

static void check_heartbeat_request(const union kp_request_body *e_,
				    const union kp_request_body *g_)
{
	const struct kp_replog_heartbeat_request *e = &e_->replog_broker_heartbeat;
	const struct kp_replog_heartbeat_request *g = &g_->replog_broker_heartbeat;
	EQ(g->broker_id, e->broker_id);
	EQ(g->broker_epoch, e->broker_epoch);
	EQ(g->metadata_offset, e->metadata_offset);
	assert_true(g->want_shutdown == e->want_shutdown);
	eq_tags(g->tags, e->tags);
}

static bool build_heartbeat_response(int variant, union kp_response_body *b)
{
	struct kp_replog_heartbeat_response *p = &b->replog_broker_heartbeat;
	switch (variant) {
	case 0:
		*p = (struct kp_replog_heartbeat_response){KP_ERR_NONE, 6000, false,
							   false,	12,   tags_two};
		return true;
	case 1:
		*p = (struct kp_replog_heartbeat_response){KP_ERR_NONE, 0,  true,
							   true,	12, KP_TAGS_EMPTY};
		return true;
	case 2:
		*p = (struct kp_replog_heartbeat_response){
			KP_ERR_STALE_BROKER_EPOCH, 0, true, false, 13, tags_one};
		return true;
	default:
		return false;
	}
}

static void check_heartbeat_response(const union kp_response_body *e_,
				     const union kp_response_body *g_)
{
	const struct kp_replog_heartbeat_response *e = &e_->replog_broker_heartbeat;
	const struct kp_replog_heartbeat_response *g = &g_->replog_broker_heartbeat;
	EQ(g->error_code, e->error_code);
	EQ(g->lease_ms, e->lease_ms);
	assert_true(g->is_fenced == e->is_fenced);
	assert_true(g->shutdown_ready == e->shutdown_ready);
	EQ(g->controller_epoch, e->controller_epoch);
	eq_tags(g->tags, e->tags);
}

/* ------------------------------------------------ ReplogAlterPartition */

static int32_t isr_123[] = {1, 2, 3};
static int32_t isr_1[] = {1};
static int32_t elr_45[] = {4, 5};

static struct kp_replog_alter_partition ap_parts[4];
static struct kp_replog_alter_topic ap_topics[3];

static bool build_alter_request(int variant, union kp_request_body *b)
{
	ap_parts[0] = (struct kp_replog_alter_partition){0, 5, 17, isr_123, 3, tags_one};
	ap_parts[1] = (struct kp_replog_alter_partition){1, 5, 9, isr_1, 1, KP_TAGS_EMPTY};
	/* a shrink to nothing is refused by the controller, not the codec */
	ap_parts[2] = (struct kp_replog_alter_partition){7, 0, 0, NULL, 0, tags_two};
	ap_parts[3] =
		(struct kp_replog_alter_partition){2, INT32_MAX, -1, isr_123 + 1, 2, tags_three};
	ap_topics[0] = (struct kp_replog_alter_topic){KP_STR("orders"), ap_parts, 3, tags_two};
	ap_topics[1] = (struct kp_replog_alter_topic){KP_STR(""), NULL, 0, KP_TAGS_EMPTY};
	ap_topics[2] =
		(struct kp_replog_alter_topic){KP_STR("payments-eu"), ap_parts + 3, 1, tags_one};
	struct kp_replog_alter_request *q = &b->replog_alter_partition;
	switch (variant) {
	case 0:
		*q = (struct kp_replog_alter_request){1, 42, ap_topics, 3, tags_three};
		return true;
	case 1:
		*q = (struct kp_replog_alter_request){2, 0, NULL, 0, KP_TAGS_EMPTY};
		return true;
	default:
		return false;
	}
}

static void check_alter_request(const union kp_request_body *e_, const union kp_request_body *g_)
{
	const struct kp_replog_alter_request *e = &e_->replog_alter_partition;
	const struct kp_replog_alter_request *g = &g_->replog_alter_partition;
	EQ(g->broker_id, e->broker_id);
	EQ(g->broker_epoch, e->broker_epoch);
	EQ(g->topics_count, e->topics_count);
	for (int32_t i = 0; i < e->topics_count; i++) {
		const struct kp_replog_alter_topic *et = &e->topics[i], *gt = &g->topics[i];
		eq_str(gt->name, et->name);
		EQ(gt->partitions_count, et->partitions_count);
		for (int32_t j = 0; j < et->partitions_count; j++) {
			const struct kp_replog_alter_partition *ep = &et->partitions[j];
			const struct kp_replog_alter_partition *gp = &gt->partitions[j];
			EQ(gp->partition_index, ep->partition_index);
			EQ(gp->leader_epoch, ep->leader_epoch);
			EQ(gp->partition_epoch, ep->partition_epoch);
			eq_i32s(gp->new_isr, gp->new_isr_count, ep->new_isr, ep->new_isr_count);
			eq_tags(gp->tags, ep->tags);
		}
		eq_tags(gt->tags, et->tags);
	}
	eq_tags(g->tags, e->tags);
}

static struct kp_replog_alter_partition_result ar_parts[3];
static struct kp_replog_alter_topic_result ar_topics[2];

static bool build_alter_response(int variant, union kp_response_body *b)
{
	ar_parts[0] = (struct kp_replog_alter_partition_result){
		0, KP_ERR_NONE, 1, 5, 18, isr_123, 3, NULL, 0, tags_two};
	ar_parts[1] = (struct kp_replog_alter_partition_result){
		1, KP_ERR_INELIGIBLE_REPLICA, 1, 5, 9, isr_1, 1, elr_45, 2, KP_TAGS_EMPTY};
	ar_parts[2] = (struct kp_replog_alter_partition_result){
		7, KP_ERR_INVALID_UPDATE_VERSION, -1, -1, 3, NULL, 0, elr_45 + 1, 1, tags_one};
	ar_topics[0] =
		(struct kp_replog_alter_topic_result){KP_STR("orders"), ar_parts, 3, tags_three};
	ar_topics[1] =
		(struct kp_replog_alter_topic_result){KP_STR("empty"), NULL, 0, KP_TAGS_EMPTY};
	struct kp_replog_alter_response *p = &b->replog_alter_partition;
	switch (variant) {
	case 0:
		*p = (struct kp_replog_alter_response){KP_ERR_NONE, ar_topics, 2, tags_one};
		return true;
	case 1:
		*p = (struct kp_replog_alter_response){KP_ERR_STALE_BROKER_EPOCH, NULL, 0,
						       KP_TAGS_EMPTY};
		return true;
	default:
		return false;
	}
}

static void check_alter_response(const union kp_response_body *e_, const union kp_response_body *g_)
{
	const struct kp_replog_alter_response *e = &e_->replog_alter_partition;
	const struct kp_replog_alter_response *g = &g_->replog_alter_partition;
	EQ(g->error_code, e->error_code);
	EQ(g->topics_count, e->topics_count);
	for (int32_t i = 0; i < e->topics_count; i++) {
		const struct kp_replog_alter_topic_result *et = &e->topics[i], *gt = &g->topics[i];
		eq_str(gt->name, et->name);
		EQ(gt->partitions_count, et->partitions_count);
		for (int32_t j = 0; j < et->partitions_count; j++) {
			const struct kp_replog_alter_partition_result *ep = &et->partitions[j];
			const struct kp_replog_alter_partition_result *gp = &gt->partitions[j];
			EQ(gp->partition_index, ep->partition_index);
			EQ(gp->error_code, ep->error_code);
			EQ(gp->leader_id, ep->leader_id);
			EQ(gp->leader_epoch, ep->leader_epoch);
			EQ(gp->partition_epoch, ep->partition_epoch);
			eq_i32s(gp->isr, gp->isr_count, ep->isr, ep->isr_count);
			eq_i32s(gp->elr, gp->elr_count, ep->elr, ep->elr_count);
			eq_tags(gp->tags, ep->tags);
		}
		eq_tags(gt->tags, et->tags);
	}
	eq_tags(g->tags, e->tags);
}

/* ---------------------------------------------- ReplogDescribeReplicas */

static int32_t parts_037[] = {0, 3, 7};
static struct kp_replog_describe_topic dr_topics[3];

/* variant 0: null topics (all); 1: empty list; 2: three topics whose
 * partition lists are null, empty and [0, 3, 7] */
static bool build_describe_request(int variant, union kp_request_body *b)
{
	dr_topics[0] = (struct kp_replog_describe_topic){KP_STR("orders"), NULL, -1, tags_one};
	dr_topics[1] = (struct kp_replog_describe_topic){KP_STR("audit"), NULL, 0, KP_TAGS_EMPTY};
	dr_topics[2] =
		(struct kp_replog_describe_topic){KP_STR("payments-eu"), parts_037, 3, tags_three};
	struct kp_replog_describe_request *q = &b->replog_describe_replicas;
	switch (variant) {
	case 0:
		*q = (struct kp_replog_describe_request){NULL, -1, KP_TAGS_EMPTY};
		return true;
	case 1:
		*q = (struct kp_replog_describe_request){NULL, 0, tags_two};
		return true;
	case 2:
		*q = (struct kp_replog_describe_request){dr_topics, 3, tags_one};
		return true;
	default:
		return false;
	}
}

static void check_describe_request(const union kp_request_body *e_, const union kp_request_body *g_)
{
	const struct kp_replog_describe_request *e = &e_->replog_describe_replicas;
	const struct kp_replog_describe_request *g = &g_->replog_describe_replicas;
	EQ(g->topics_count, e->topics_count);
	if (e->topics_count < 0)
		assert_null(g->topics);
	for (int32_t i = 0; i < e->topics_count; i++) {
		const struct kp_replog_describe_topic *et = &e->topics[i], *gt = &g->topics[i];
		eq_str(gt->name, et->name);
		eq_i32s(gt->partitions, gt->partitions_count, et->partitions, et->partitions_count);
		eq_tags(gt->tags, et->tags);
	}
	eq_tags(g->tags, e->tags);
}

static int32_t replicas_123[] = {1, 2, 3};
static struct kp_replog_follower dr_followers[2];
static struct kp_replog_replica dr_replicas[3];
static struct kp_replog_replica_topic dr_results[2];

static bool build_describe_response(int variant, union kp_response_body *b)
{
	dr_followers[0] = (struct kp_replog_follower){2, 1500, 12, tags_one};
	dr_followers[1] = (struct kp_replog_follower){3, 1200, 45000, KP_TAGS_EMPTY};
	dr_replicas[0] = (struct kp_replog_replica){
		.partition_index = 0,
		.role = KP_REPLOG_ROLE_LEADER,
		.leader_id = 1,
		.leader_epoch = 5,
		.partition_epoch = 17,
		.log_start_offset = 100,
		.log_end_offset = 1500,
		.flushed_offset = 1490,
		.high_watermark = 1200,
		.replicas = replicas_123,
		.replicas_count = 3,
		.isr = replicas_123,
		.isr_count = 2,
		.elr = replicas_123 + 2,
		.elr_count = 1,
		.followers = dr_followers,
		.followers_count = 2,
		.discarded_events = 1,
		.discarded_records = 42,
		.error_code = KP_ERR_NONE,
		.tags = tags_two,
	};
	dr_replicas[1] = (struct kp_replog_replica){
		.partition_index = 3,
		.role = KP_REPLOG_ROLE_FOLLOWER,
		.leader_id = 2,
		.leader_epoch = 8,
		.partition_epoch = 30,
		.log_start_offset = 0,
		.log_end_offset = INT64_MAX,
		.flushed_offset = 0,
		.high_watermark = -1,
		.replicas = replicas_123,
		.replicas_count = 3,
		.isr = replicas_123,
		.isr_count = 3,
		.tags = KP_TAGS_EMPTY,
	};
	dr_replicas[2] = (struct kp_replog_replica){
		.partition_index = 7,
		.role = KP_REPLOG_ROLE_NONE,
		.leader_id = -1,
		.leader_epoch = -1,
		.partition_epoch = -1,
		.log_start_offset = -1,
		.log_end_offset = -1,
		.flushed_offset = -1,
		.high_watermark = -1,
		.error_code = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION,
		.tags = tags_three,
	};
	dr_results[0] =
		(struct kp_replog_replica_topic){KP_STR("orders"), dr_replicas, 2, tags_one};
	dr_results[1] = (struct kp_replog_replica_topic){KP_STR("payments-eu"), dr_replicas + 2, 1,
							 KP_TAGS_EMPTY};
	struct kp_replog_describe_response *p = &b->replog_describe_replicas;
	switch (variant) {
	case 0:
		*p = (struct kp_replog_describe_response){KP_ERR_NONE, 1, dr_results, 2, tags_two};
		return true;
	case 1:
		*p = (struct kp_replog_describe_response){KP_ERR_KAFKA_STORAGE_ERROR, 4, NULL, 0,
							  KP_TAGS_EMPTY};
		return true;
	default:
		return false;
	}
}

static void check_replica(const struct kp_replog_replica *e, const struct kp_replog_replica *g)
{
	EQ(g->partition_index, e->partition_index);
	EQ(g->role, e->role);
	EQ(g->leader_id, e->leader_id);
	EQ(g->leader_epoch, e->leader_epoch);
	EQ(g->partition_epoch, e->partition_epoch);
	EQ(g->log_start_offset, e->log_start_offset);
	EQ(g->log_end_offset, e->log_end_offset);
	EQ(g->flushed_offset, e->flushed_offset);
	EQ(g->high_watermark, e->high_watermark);
	eq_i32s(g->replicas, g->replicas_count, e->replicas, e->replicas_count);
	eq_i32s(g->isr, g->isr_count, e->isr, e->isr_count);
	eq_i32s(g->elr, g->elr_count, e->elr, e->elr_count);
	EQ(g->followers_count, e->followers_count);
	for (int32_t k = 0; k < e->followers_count; k++) {
		EQ(g->followers[k].replica_id, e->followers[k].replica_id);
		EQ(g->followers[k].log_end_offset, e->followers[k].log_end_offset);
		EQ(g->followers[k].caught_up_ms_ago, e->followers[k].caught_up_ms_ago);
		eq_tags(g->followers[k].tags, e->followers[k].tags);
	}
	EQ(g->discarded_events, e->discarded_events);
	EQ(g->discarded_records, e->discarded_records);
	EQ(g->error_code, e->error_code);
	eq_tags(g->tags, e->tags);
}

static void check_describe_response(const union kp_response_body *e_,
				    const union kp_response_body *g_)
{
	const struct kp_replog_describe_response *e = &e_->replog_describe_replicas;
	const struct kp_replog_describe_response *g = &g_->replog_describe_replicas;
	EQ(g->error_code, e->error_code);
	EQ(g->broker_id, e->broker_id);
	EQ(g->topics_count, e->topics_count);
	for (int32_t i = 0; i < e->topics_count; i++) {
		eq_str(g->topics[i].name, e->topics[i].name);
		EQ(g->topics[i].partitions_count, e->topics[i].partitions_count);
		for (int32_t j = 0; j < e->topics[i].partitions_count; j++)
			check_replica(&e->topics[i].partitions[j], &g->topics[i].partitions[j]);
		eq_tags(g->topics[i].tags, e->topics[i].tags);
	}
	eq_tags(g->tags, e->tags);
}

/* ------------------------------------------------- ReplogListDiscarded */

static struct kp_str ld_topics[] = {KP_STR("orders"), KP_STR(""), KP_STR("payments-eu")};

/* variant 0: null (all topics); 1: empty; 2: three names */
static bool build_discarded_request(int variant, union kp_request_body *b)
{
	struct kp_replog_discarded_request *q = &b->replog_list_discarded;
	switch (variant) {
	case 0:
		*q = (struct kp_replog_discarded_request){NULL, -1, KP_TAGS_EMPTY};
		return true;
	case 1:
		*q = (struct kp_replog_discarded_request){NULL, 0, tags_one};
		return true;
	case 2:
		*q = (struct kp_replog_discarded_request){ld_topics, 3, tags_three};
		return true;
	default:
		return false;
	}
}

static void check_discarded_request(const union kp_request_body *e_,
				    const union kp_request_body *g_)
{
	const struct kp_replog_discarded_request *e = &e_->replog_list_discarded;
	const struct kp_replog_discarded_request *g = &g_->replog_list_discarded;
	EQ(g->topics_count, e->topics_count);
	if (e->topics_count < 0)
		assert_null(g->topics);
	for (int32_t i = 0; i < e->topics_count; i++)
		eq_str(g->topics[i], e->topics[i]);
	eq_tags(g->tags, e->tags);
}

static struct kp_replog_discarded_entry ld_entries[2];

static bool build_discarded_response(int variant, union kp_response_body *b)
{
	ld_entries[0] = (struct kp_replog_discarded_entry){
		.topic = KP_STR("orders"),
		.partition = 0,
		.name = KP_STR("00000000000000001200-1795822398067"),
		.reason = KP_STR("truncate"),
		.detail = KP_STR("new leader 2 epoch 6 diverges at 1200"),
		.time_ms = 1795822398067,
		.first_offset = 1200,
		.next_offset = 1500,
		.batches = 7,
		.bytes = 81920,
		.epoch_min = 5,
		.epoch_max = 5,
		.tags = tags_two,
	};
	ld_entries[1] = (struct kp_replog_discarded_entry){
		.topic = KP_STR("payments-eu"),
		.partition = 11,
		.name = KP_STR("00000000000000000000-1"),
		.reason = KP_STR("torn-tail"),
		.detail = KP_STR(""),
		.time_ms = 1,
		.first_offset = -1,
		.next_offset = -1,
		.batches = 0,
		.bytes = 13,
		.epoch_min = -1,
		.epoch_max = -1,
		.tags = KP_TAGS_EMPTY,
	};
	struct kp_replog_discarded_response *p = &b->replog_list_discarded;
	switch (variant) {
	case 0:
		*p = (struct kp_replog_discarded_response){KP_ERR_NONE, 2, ld_entries, 2, tags_one};
		return true;
	case 1:
		*p = (struct kp_replog_discarded_response){KP_ERR_NONE, 3, NULL, 0, KP_TAGS_EMPTY};
		return true;
	default:
		return false;
	}
}

static void check_discarded_response(const union kp_response_body *e_,
				     const union kp_response_body *g_)
{
	const struct kp_replog_discarded_response *e = &e_->replog_list_discarded;
	const struct kp_replog_discarded_response *g = &g_->replog_list_discarded;
	EQ(g->error_code, e->error_code);
	EQ(g->broker_id, e->broker_id);
	EQ(g->entries_count, e->entries_count);
	for (int32_t i = 0; i < e->entries_count; i++) {
		const struct kp_replog_discarded_entry *ee = &e->entries[i], *ge = &g->entries[i];
		eq_str(ge->topic, ee->topic);
		EQ(ge->partition, ee->partition);
		eq_str(ge->name, ee->name);
		eq_str(ge->reason, ee->reason);
		eq_str(ge->detail, ee->detail);
		EQ(ge->time_ms, ee->time_ms);
		EQ(ge->first_offset, ee->first_offset);
		EQ(ge->next_offset, ee->next_offset);
		EQ(ge->batches, ee->batches);
		EQ(ge->bytes, ee->bytes);
		EQ(ge->epoch_min, ee->epoch_min);
		EQ(ge->epoch_max, ee->epoch_max);
		eq_tags(ge->tags, ee->tags);
	}
	eq_tags(g->tags, e->tags);
}

/* ---------------------------------------------------------- ReplogRaft */

static uint8_t raft_msg_small[12] = {0x01, 0x00, 0x00, 0x00, 0x07, 0x00,
				     0x00, 0x00, 0x00, 0x00, 0x00, 0x2a};
static uint8_t raft_msg_127[127]; /* a compact length of exactly 2 bytes */
static uint8_t raft_msg_300[300];

/* variant 0: a small message; 1: an empty message (0 bytes, not null) from
 * an empty address; 2: 300 bytes from a 300-byte address; 3: 127 bytes
 * (uvarint 128, the first 2-byte length) */
static bool build_raft_request(int variant, union kp_request_body *b)
{
	for (size_t i = 0; i < sizeof(raft_msg_127); i++)
		raft_msg_127[i] = (uint8_t)(0x80 + i);
	for (size_t i = 0; i < sizeof(raft_msg_300); i++)
		raft_msg_300[i] = (uint8_t)(i * 7 + 3);
	struct kp_replog_raft_request *q = &b->replog_raft;
	switch (variant) {
	case 0:
		*q = (struct kp_replog_raft_request){1,
						     KP_STR("ctrl-1.dc1:9093"),
						     {raft_msg_small, sizeof(raft_msg_small)},
						     tags_one};
		return true;
	case 1:
		*q = (struct kp_replog_raft_request){
			0, KP_STR(""), {raft_msg_small, 0}, KP_TAGS_EMPTY};
		return true;
	case 2:
		*q = (struct kp_replog_raft_request){INT32_MAX,
						     {long_address, (int32_t)sizeof(long_address)},
						     {raft_msg_300, (int32_t)sizeof(raft_msg_300)},
						     tags_three};
		return true;
	case 3:
		*q = (struct kp_replog_raft_request){-1,
						     KP_STR("n3:9093"),
						     {raft_msg_127, (int32_t)sizeof(raft_msg_127)},
						     tags_two};
		return true;
	default:
		return false;
	}
}

static void check_raft_request(const union kp_request_body *e_, const union kp_request_body *g_)
{
	const struct kp_replog_raft_request *e = &e_->replog_raft;
	const struct kp_replog_raft_request *g = &g_->replog_raft;
	EQ(g->from_id, e->from_id);
	eq_str(g->from_address, e->from_address);
	assert_int_equal(g->message.len, e->message.len);
	assert_true(g->message.len >= 0);
	if (e->message.len > 0)
		assert_memory_equal(g->message.ptr, e->message.ptr, (size_t)e->message.len);
	assert_true(kp_bytes_eq(g->message, e->message));
	eq_tags(g->tags, e->tags);
}

static bool build_raft_response(int variant, union kp_response_body *b)
{
	struct kp_replog_raft_response *p = &b->replog_raft;
	switch (variant) {
	case 0:
		*p = (struct kp_replog_raft_response){KP_ERR_NONE, tags_two};
		return true;
	case 1:
		*p = (struct kp_replog_raft_response){KP_ERR_NOT_CONTROLLER, KP_TAGS_EMPTY};
		return true;
	case 2:
		*p = (struct kp_replog_raft_response){KP_ERR_UNKNOWN_SERVER_ERROR, tags_three};
		return true;
	default:
		return false;
	}
}

static void check_raft_response(const union kp_response_body *e_, const union kp_response_body *g_)
{
	const struct kp_replog_raft_response *e = &e_->replog_raft;
	const struct kp_replog_raft_response *g = &g_->replog_raft;
	EQ(g->error_code, e->error_code);
	eq_tags(g->tags, e->tags);
}

/* ------------------------------------------------ ReplogDescribeQuorum */

static bool build_quorum_request(int variant, union kp_request_body *b)
{
	struct kp_replog_describe_quorum_request *q = &b->replog_describe_quorum;
	switch (variant) {
	case 0:
		*q = (struct kp_replog_describe_quorum_request){KP_TAGS_EMPTY};
		return true;
	case 1:
		*q = (struct kp_replog_describe_quorum_request){tags_three};
		return true;
	case 2:
		*q = (struct kp_replog_describe_quorum_request){tags_one};
		return true;
	default:
		return false;
	}
}

static void check_quorum_request(const union kp_request_body *e_, const union kp_request_body *g_)
{
	eq_tags(g_->replog_describe_quorum.tags, e_->replog_describe_quorum.tags);
}

static struct kp_replog_quorum_member qm_members[5];
static struct kp_replog_quorum_broker qm_brokers[3];

/* variant 0: nothing known (no members, no brokers); 1: the leader's view,
 * 5 members and 3 brokers; 2: a follower's view, -1 where only the leader
 * knows */
static bool build_quorum_response(int variant, union kp_response_body *b)
{
	qm_members[0] = (struct kp_replog_quorum_member){1, 1, 1500, 0, tags_one};
	qm_members[1] = (struct kp_replog_quorum_member){2, 1, 1499, 12, KP_TAGS_EMPTY};
	qm_members[2] = (struct kp_replog_quorum_member){3, 1, -1, -1, tags_two};
	qm_members[3] = (struct kp_replog_quorum_member){4, 2, 0, INT64_MAX, KP_TAGS_EMPTY};
	qm_members[4] = (struct kp_replog_quorum_member){INT32_MAX, 0, INT64_MIN, -1, tags_three};
	qm_brokers[0] = (struct kp_replog_quorum_broker){
		1,	 KP_STR("broker-1.dc1:9092"), INT64_C(0x100000007), true, false, false, 250,
		tags_two};
	qm_brokers[1] = (struct kp_replog_quorum_broker){
		2,    {long_address, (int32_t)sizeof(long_address)},
		-1,   false,
		true, true,
		-1,   KP_TAGS_EMPTY};
	qm_brokers[2] = (struct kp_replog_quorum_broker){-1,   KP_STR(""), 0,	      true,
							 true, false,	   INT64_MAX, tags_one};
	struct kp_replog_describe_quorum_response *p = &b->replog_describe_quorum;
	switch (variant) {
	case 0:
		*p = (struct kp_replog_describe_quorum_response){
			.error_code = KP_ERR_NONE,
			.broker_id = 3,
			.leader_id = -1,
			.state = 0,
			.term = 0,
			.commit_index = -1,
			.last_applied = -1,
			.last_index = -1,
			.snapshot_index = -1,
			.metadata_offset = -1,
			.members = NULL,
			.members_count = 0,
			.brokers = NULL,
			.brokers_count = 0,
			.tags = KP_TAGS_EMPTY,
		};
		return true;
	case 1:
		*p = (struct kp_replog_describe_quorum_response){
			.error_code = KP_ERR_NONE,
			.broker_id = 1,
			.leader_id = 1,
			.state = 3,
			.term = 9,
			.commit_index = 1500,
			.last_applied = 1498,
			.last_index = 1501,
			.snapshot_index = 1024,
			.metadata_offset = INT64_MAX,
			.members = qm_members,
			.members_count = 5,
			.brokers = qm_brokers,
			.brokers_count = 3,
			.tags = tags_two,
		};
		return true;
	case 2:
		*p = (struct kp_replog_describe_quorum_response){
			.error_code = KP_ERR_NOT_CONTROLLER,
			.broker_id = INT32_MAX,
			.leader_id = 2,
			.state = 1,
			.term = INT64_MAX,
			.commit_index = 0,
			.last_applied = 0,
			.last_index = 0,
			.snapshot_index = 0,
			.metadata_offset = 0,
			.members = qm_members + 2,
			.members_count = 1,
			.brokers = qm_brokers + 1,
			.brokers_count = 2,
			.tags = tags_one,
		};
		return true;
	default:
		return false;
	}
}

static void check_quorum_response(const union kp_response_body *e_,
				  const union kp_response_body *g_)
{
	const struct kp_replog_describe_quorum_response *e = &e_->replog_describe_quorum;
	const struct kp_replog_describe_quorum_response *g = &g_->replog_describe_quorum;
	EQ(g->error_code, e->error_code);
	EQ(g->broker_id, e->broker_id);
	EQ(g->leader_id, e->leader_id);
	EQ(g->state, e->state);
	EQ(g->term, e->term);
	EQ(g->commit_index, e->commit_index);
	EQ(g->last_applied, e->last_applied);
	EQ(g->last_index, e->last_index);
	EQ(g->snapshot_index, e->snapshot_index);
	EQ(g->metadata_offset, e->metadata_offset);
	EQ(g->members_count, e->members_count);
	for (int32_t i = 0; i < e->members_count; i++) {
		const struct kp_replog_quorum_member *em = &e->members[i], *gm = &g->members[i];
		EQ(gm->id, em->id);
		EQ(gm->role, em->role);
		EQ(gm->match_index, em->match_index);
		EQ(gm->last_contact_ms_ago, em->last_contact_ms_ago);
		eq_tags(gm->tags, em->tags);
	}
	EQ(g->brokers_count, e->brokers_count);
	for (int32_t i = 0; i < e->brokers_count; i++) {
		const struct kp_replog_quorum_broker *eb = &e->brokers[i], *gb = &g->brokers[i];
		EQ(gb->id, eb->id);
		eq_str(gb->address, eb->address);
		EQ(gb->broker_epoch, eb->broker_epoch);
		assert_true(gb->registered == eb->registered);
		assert_true(gb->fenced == eb->fenced);
		assert_true(gb->shutting_down == eb->shutting_down);
		EQ(gb->session_ms_ago, eb->session_ms_ago);
		eq_tags(gb->tags, eb->tags);
	}
	eq_tags(g->tags, e->tags);
}

/* ------------------------------------------------------- the API table */

/* Each API's own codec functions, behind the union, so a round trip can
 * use them and the dispatch side by side. */
#define DIRECT(prefix, member)                                                                     \
	static int prefix##_req_dec(struct kp_reader *r, union kp_request_body *b)                 \
	{                                                                                          \
		return kp_replog_##prefix##_request_decode(r, 0, &b->member);                      \
	}                                                                                          \
	static int prefix##_req_enc(struct kp_writer *w, const union kp_request_body *b)           \
	{                                                                                          \
		return kp_replog_##prefix##_request_encode(w, 0, &b->member);                      \
	}                                                                                          \
	static int prefix##_resp_dec(struct kp_reader *r, union kp_response_body *b)               \
	{                                                                                          \
		return kp_replog_##prefix##_response_decode(r, 0, &b->member);                     \
	}                                                                                          \
	static int prefix##_resp_enc(struct kp_writer *w, const union kp_response_body *b)         \
	{                                                                                          \
		return kp_replog_##prefix##_response_encode(w, 0, &b->member);                     \
	}

DIRECT(register, replog_broker_register)
DIRECT(heartbeat, replog_broker_heartbeat)
DIRECT(alter, replog_alter_partition)
DIRECT(describe, replog_describe_replicas)
DIRECT(discarded, replog_list_discarded)
DIRECT(raft, replog_raft)
DIRECT(quorum, replog_describe_quorum)
#undef DIRECT

struct api_case {
	int16_t ac_key;
	const char *ac_name;
	bool (*ac_build_req)(int variant, union kp_request_body *b);
	void (*ac_check_req)(const union kp_request_body *e, const union kp_request_body *g);
	int (*ac_req_dec)(struct kp_reader *r, union kp_request_body *b);
	int (*ac_req_enc)(struct kp_writer *w, const union kp_request_body *b);
	bool (*ac_build_resp)(int variant, union kp_response_body *b);
	void (*ac_check_resp)(const union kp_response_body *e, const union kp_response_body *g);
	int (*ac_resp_dec)(struct kp_reader *r, union kp_response_body *b);
	int (*ac_resp_enc)(struct kp_writer *w, const union kp_response_body *b);
};

#define CASE(key, name, p)                                                                         \
	{                                                                                          \
		key, name, build_##p##_request, check_##p##_request, p##_req_dec, p##_req_enc,     \
			build_##p##_response, check_##p##_response, p##_resp_dec, p##_resp_enc     \
	}

static const struct api_case api_cases[] = {
	CASE(KP_API_REPLOG_BROKER_REGISTER, "ReplogBrokerRegister", register),
	CASE(KP_API_REPLOG_BROKER_HEARTBEAT, "ReplogBrokerHeartbeat", heartbeat),
	CASE(KP_API_REPLOG_ALTER_PARTITION, "ReplogAlterPartition", alter),
	CASE(KP_API_REPLOG_DESCRIBE_REPLICAS, "ReplogDescribeReplicas", describe),
	CASE(KP_API_REPLOG_LIST_DISCARDED, "ReplogListDiscarded", discarded),
	CASE(KP_API_REPLOG_RAFT, "ReplogRaft", raft),
	CASE(KP_API_REPLOG_DESCRIBE_QUORUM, "ReplogDescribeQuorum", quorum),
};
#undef CASE
#define API_CASES    (sizeof(api_cases) / sizeof(api_cases[0]))
#define MAX_VARIANTS 4

/* ----------------------------------------------------- frame corpus */

struct frame {
	uint8_t *f_buf; /* after the size prefix */
	size_t f_len;
	bool f_request;
	int16_t f_key;
};

#define MAX_FRAMES 64
static struct frame corpus[MAX_FRAMES];
static size_t corpus_count;
static size_t stat_requests, stat_responses;

static void corpus_add(const uint8_t *frame, size_t len, bool request, int16_t key)
{
	assert_true(corpus_count < MAX_FRAMES);
	corpus[corpus_count++] = (struct frame){exact_copy(frame, len), len, request, key};
}

static void maybe_write_seed(const char *what, const uint8_t *frame, size_t len, int16_t key,
			     int variant)
{
	static int seq = 110; /* after test_kp_messages' seeds */
	const char *dir = getenv("KP_WRITE_SEEDS");
	if (!dir || !*dir)
		return;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s_%s_v0_%d_%03d.bin", dir, what, kp_api_name(key),
		 variant, seq++);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(frame, 1, len, f), len);
	fclose(f);
}

/* ------------------------------------------------------- round trips */

static void roundtrip_request(const struct api_case *ac, int variant,
			      const union kp_request_body *in)
{
	struct kp_writer w, w2;
	kp_writer_init(&w, WRITER_CAP);
	kp_writer_init(&w2, WRITER_CAP);
	struct kp_arena arena;
	struct kp_reader r;
	union kp_request_body out;

	/* body: the API's codec and the dispatch write the same bytes */
	int rc = ac->ac_req_enc(&w, in);
	if (rc)
		fail_msg("%s/%d request encode: %s", ac->ac_name, variant, kp_strerror(rc));
	assert_int_equal(kp_request_body_encode(&w2, ac->ac_key, 0, in), 0);
	assert_int_equal(w2.kw_len, w.kw_len);
	assert_memory_equal(w2.kw_buf, w.kw_buf, w.kw_len);

	/* decode an exact-size copy both ways; re-encode to the same bytes */
	uint8_t *body = exact_copy(w.kw_buf, w.kw_len);
	kp_arena_init(&arena, arena_mem, sizeof(arena_mem));
	kp_reader_init(&r, body, w.kw_len, &arena);
	memset(&out, 0xa5, sizeof(out));
	rc = ac->ac_req_dec(&r, &out);
	if (rc)
		fail_msg("%s/%d request decode: %s", ac->ac_name, variant, kp_strerror(rc));
	ac->ac_check_req(in, &out);
	kp_arena_init(&arena, arena_mem, sizeof(arena_mem));
	kp_reader_init(&r, body, w.kw_len, &arena);
	memset(&out, 0x5a, sizeof(out));
	assert_int_equal(kp_request_body_decode(&r, ac->ac_key, 0, &out), 0);
	assert_true(r.kr_flexible);
	ac->ac_check_req(in, &out);
	kp_writer_reset(&w2);
	assert_int_equal(kp_request_body_encode(&w2, ac->ac_key, 0, &out), 0);
	assert_int_equal(w2.kw_len, w.kw_len);
	assert_memory_equal(w2.kw_buf, w.kw_buf, w.kw_len);
	free(body);

	/* whole frame: size prefix, header v2 (tags kept), body */
	kp_writer_reset(&w);
	const struct kp_request_header h = {
		.request_api_key = ac->ac_key,
		.request_api_version = 0,
		.correlation_id = 3000 + variant,
		.client_id = variant == 1 ? KP_STR_NULL : KP_STR("replogd-3"),
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
	EQ(hg.request_api_version, 0);
	EQ(hg.correlation_id, 3000 + variant);
	eq_str(hg.client_id, h.client_id);
	EQ(hg.header_version, 2);
	eq_tags(hg.tags, h.tags);
	ac->ac_check_req(in, &out);
	corpus_add(frame, (size_t)size, true, ac->ac_key);
	maybe_write_seed("built", frame, (size_t)size, ac->ac_key, variant);
	free(frame);
	kp_writer_deinit(&w);
	kp_writer_deinit(&w2);
	stat_requests++;
}

static void roundtrip_response(const struct api_case *ac, int variant,
			       const union kp_response_body *in)
{
	struct kp_writer w, w2;
	kp_writer_init(&w, WRITER_CAP);
	kp_writer_init(&w2, WRITER_CAP);
	struct kp_arena arena;
	struct kp_reader r;
	union kp_response_body out;

	int rc = ac->ac_resp_enc(&w, in);
	if (rc)
		fail_msg("%s/%d response encode: %s", ac->ac_name, variant, kp_strerror(rc));
	assert_int_equal(kp_response_body_encode(&w2, ac->ac_key, 0, in), 0);
	assert_int_equal(w2.kw_len, w.kw_len);
	assert_memory_equal(w2.kw_buf, w.kw_buf, w.kw_len);

	uint8_t *body = exact_copy(w.kw_buf, w.kw_len);
	kp_arena_init(&arena, arena_mem, sizeof(arena_mem));
	kp_reader_init(&r, body, w.kw_len, &arena);
	memset(&out, 0xa5, sizeof(out));
	rc = ac->ac_resp_dec(&r, &out);
	if (rc)
		fail_msg("%s/%d response decode: %s", ac->ac_name, variant, kp_strerror(rc));
	ac->ac_check_resp(in, &out);
	kp_arena_init(&arena, arena_mem, sizeof(arena_mem));
	kp_reader_init(&r, body, w.kw_len, &arena);
	memset(&out, 0x5a, sizeof(out));
	assert_int_equal(kp_response_body_decode(&r, ac->ac_key, 0, &out), 0);
	ac->ac_check_resp(in, &out);
	kp_writer_reset(&w2);
	assert_int_equal(kp_response_body_encode(&w2, ac->ac_key, 0, &out), 0);
	assert_int_equal(w2.kw_len, w.kw_len);
	assert_memory_equal(w2.kw_buf, w.kw_buf, w.kw_len);
	/* fuzz_request also decodes a request's body as that API's response:
	 * a seed with a request header and this response body reaches the
	 * response decoders with valid input */
	kp_writer_reset(&w2);
	const struct kp_request_header sh = {ac->ac_key,    0, 5000 + variant, KP_STR("seed"),
					     KP_TAGS_EMPTY, 0};
	assert_int_equal(kp_request_header_encode(&w2, &sh), 0);
	kp_write_raw(&w2, w.kw_buf, w.kw_len);
	assert_int_equal(kp_writer_error(&w2), 0);
	maybe_write_seed("respbody", w2.kw_buf, w2.kw_len, ac->ac_key, variant);
	free(body);

	/* whole frame: response header v1, its tags kept */
	kp_writer_reset(&w);
	const struct kp_response_header h = {.correlation_id = 4000 + variant,
					     .tags = variant ? KP_TAGS_EMPTY : tags_two};
	assert_int_equal(kp_response_encode(&w, ac->ac_key, 0, &h, in), 0);
	int32_t size = kp_frame_size(w.kw_buf, w.kw_len, INT32_MAX);
	assert_int_equal((size_t)size + KP_FRAME_PREFIX_BYTES, w.kw_len);
	uint8_t *frame = exact_copy(w.kw_buf + KP_FRAME_PREFIX_BYTES, (size_t)size);
	struct kp_response_header hg;
	kp_arena_init(&arena, arena_mem, sizeof(arena_mem));
	kp_reader_init(&r, frame, (size_t)size, &arena);
	memset(&out, 0x5a, sizeof(out));
	assert_int_equal(kp_response_decode(&r, ac->ac_key, 0, &hg, &out), 0);
	EQ(hg.correlation_id, 4000 + variant);
	eq_tags(hg.tags, h.tags);
	ac->ac_check_resp(in, &out);
	corpus_add(frame, (size_t)size, false, ac->ac_key);
	free(frame);
	kp_writer_deinit(&w);
	kp_writer_deinit(&w2);
	stat_responses++;
}

static void test_roundtrip_every_message(void **state)
{
	(void)state;
	for (size_t c = 0; c < API_CASES; c++) {
		const struct api_case *ac = &api_cases[c];
		int req_variants = 0, resp_variants = 0;
		for (int variant = 0; variant < MAX_VARIANTS; variant++) {
			union kp_request_body req;
			union kp_response_body resp;
			if (ac->ac_build_req(variant, &req)) {
				roundtrip_request(ac, variant, &req);
				req_variants++;
			}
			if (ac->ac_build_resp(variant, &resp)) {
				roundtrip_response(ac, variant, &resp);
				resp_variants++;
			}
		}
		assert_true(req_variants >= 2 && resp_variants >= 2);
	}
	print_message("# %zu requests and %zu responses round-tripped\n", stat_requests,
		      stat_responses);
}

/* ------------------------------------------------- exact byte layouts */

/* The heartbeat in kp_replog.c's header comment, byte for byte, as a whole
 * frame: header v2 with client id "b3" and no tags. */
static void test_heartbeat_bytes(void **state)
{
	(void)state;
	/* string literals: sizeof counts their NUL */
	static const uint8_t expect[] = "\x27\x11\x00\x00\x00\x00\x00\x09" /* key, v0, corr */
					"\x00\x02\x62\x33\x00" /* client id "b3", tags */
					"\x00\x00\x00\x03"     /* broker_id */
					"\x00\x00\x00\x00\x00\x00\x00\x07" /* broker_epoch */
					"\x00\x00\x00\x00\x00\x00\x04\xd2" /* metadata_offset */
					"\x00"				   /* want_shutdown */
					"\x00";				   /* tags */
	const size_t expect_len = sizeof(expect) - 1;
	const struct kp_request_header h = {
		KP_API_REPLOG_BROKER_HEARTBEAT, 0, 9, KP_STR("b3"), KP_TAGS_EMPTY, 0};
	const union kp_request_body b = {
		.replog_broker_heartbeat = {3, 7, 1234, false, KP_TAGS_EMPTY}};
	struct kp_writer w;
	kp_writer_init(&w, 256);
	assert_int_equal(kp_request_encode(&w, &h, &b), 0);
	assert_int_equal(w.kw_len, KP_FRAME_PREFIX_BYTES + expect_len);
	assert_memory_equal(w.kw_buf + KP_FRAME_PREFIX_BYTES, expect, expect_len);
	assert_int_equal(expect_len - 13, 22);
	kp_writer_deinit(&w);

	/* any non-zero bool byte decodes as true (as in Kafka) */
	uint8_t body[22];
	memcpy(body, expect + 13, sizeof(body));
	body[20] = 0x7f;
	struct kp_reader r;
	kp_reader_init(&r, body, sizeof(body), NULL);
	struct kp_replog_heartbeat_request q;
	assert_int_equal(kp_replog_heartbeat_request_decode(&r, 0, &q), 0);
	assert_true(q.want_shutdown);
	EQ(q.metadata_offset, 1234);

	/* a register response, by hand: error 0, null message, epoch, epoch */
	uint8_t reg[] = {0, 0, 0x00, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 2, 0x00};
	kp_reader_init(&r, reg, sizeof(reg), NULL);
	struct kp_replog_register_response rr;
	assert_int_equal(kp_replog_register_response_decode(&r, 0, &rr), 0);
	assert_int_equal(rr.error_message.len, -1);
	EQ(rr.broker_epoch, 5);
	EQ(rr.controller_epoch, 2);
}

/* A ReplogRaft request by hand from kp_replog.c's layout: from_id int32,
 * from_address compact string, message compact bytes, tags; as a whole
 * frame after header v2 with client id "n2" and no header tags. */
static void test_raft_bytes(void **state)
{
	(void)state;
	static const uint8_t msg[] = {0xde, 0xad, 0xbe};
	static const uint8_t expect[] = {
		0x27, 0x15, 0x00, 0x00,			     /* key 10005, v0 */
		0x00, 0x00, 0x00, 0x0b,			     /* correlation 11 */
		0x00, 0x02, 'n',  '2',	0x00,		     /* client id "n2", tags */
		0x00, 0x00, 0x00, 0x02,			     /* from_id 2 */
		0x08, 'n',  '2',  ':',	'9',  '0', '9', '3', /* from_address, uvarint(7 + 1) */
		0x04, 0xde, 0xad, 0xbe,			     /* message, uvarint(3 + 1) */
		0x01, 0x00, 0x01, 'x',			     /* tags {0: "x"} */
	};
	const struct kp_request_header h = {KP_API_REPLOG_RAFT, 0, 11, KP_STR("n2"),
					    KP_TAGS_EMPTY,	0};
	const union kp_request_body b = {
		.replog_raft = {2, KP_STR("n2:9093"), {msg, sizeof(msg)}, tags_one}};
	struct kp_writer w;
	kp_writer_init(&w, 256);
	assert_int_equal(kp_request_encode(&w, &h, &b), 0);
	assert_int_equal(w.kw_len, KP_FRAME_PREFIX_BYTES + sizeof(expect));
	assert_memory_equal(w.kw_buf + KP_FRAME_PREFIX_BYTES, expect, sizeof(expect));
	/* the body alone, through the API's own encoder: 20 bytes */
	kp_writer_reset(&w);
	assert_int_equal(kp_replog_raft_request_encode(&w, 0, &b.replog_raft), 0);
	assert_int_equal(w.kw_len, 20);
	assert_memory_equal(w.kw_buf, expect + 13, 20);
	kp_writer_deinit(&w);

	/* and back, from the frame */
	uint8_t *copy = exact_copy(expect, sizeof(expect));
	struct kp_arena arena;
	struct kp_reader r;
	kp_arena_init(&arena, arena_mem, sizeof(arena_mem));
	kp_reader_init(&r, copy, sizeof(expect), &arena);
	struct kp_request_header hg;
	union kp_request_body g;
	assert_int_equal(kp_request_decode(&r, &hg, &g), 0);
	EQ(hg.request_api_key, KP_API_REPLOG_RAFT);
	EQ(hg.correlation_id, 11);
	check_raft_request(&b, &g);
	free(copy);

	/* a 200-byte message: uvarint(201) = c9 01; an empty address */
	uint8_t big[4 + 1 + 2 + 200 + 1] = {0x00, 0x00, 0x00, 0x05, 0x01, 0xc9, 0x01};
	for (int i = 0; i < 200; i++)
		big[7 + i] = (uint8_t)i;
	big[sizeof(big) - 1] = 0x00;
	kp_reader_init(&r, big, sizeof(big), NULL);
	struct kp_replog_raft_request q;
	assert_int_equal(kp_replog_raft_request_decode(&r, 0, &q), 0);
	EQ(q.from_id, 5);
	assert_int_equal(q.from_address.len, 0);
	assert_int_equal(q.message.len, 200);
	assert_int_equal(q.message.ptr[199], 199);
	assert_true(q.message.ptr == big + 7);
	kp_writer_init(&w, 256);
	assert_int_equal(kp_replog_raft_request_encode(&w, 0, &q), 0);
	assert_int_equal(w.kw_len, sizeof(big));
	assert_memory_equal(w.kw_buf, big, sizeof(big));
	kp_writer_deinit(&w);

	/* an empty message is 0x01; one byte short of the length is truncated */
	uint8_t empty[] = {0x00, 0x00, 0x00, 0x01, 0x02, 'a', 0x01, 0x00};
	kp_reader_init(&r, empty, sizeof(empty), NULL);
	assert_int_equal(kp_replog_raft_request_decode(&r, 0, &q), 0);
	assert_int_equal(q.message.len, 0);
	assert_true(kp_str_eq_cstr(q.from_address, "a"));
	uint8_t short_msg[] = {0x00, 0x00, 0x00, 0x01, 0x01, 0x04, 0xaa, 0xbb, 0x00};
	kp_reader_init(&r, short_msg, sizeof(short_msg), NULL);
	assert_int_equal(kp_replog_raft_request_decode(&r, 0, &q), KP_ETRUNCATED);

	/* the response: error_code 41, no tags */
	uint8_t resp[] = {0x00, 0x29, 0x00};
	kp_reader_init(&r, resp, sizeof(resp), NULL);
	struct kp_replog_raft_response p;
	assert_int_equal(kp_replog_raft_response_decode(&r, 0, &p), 0);
	EQ(p.error_code, KP_ERR_NOT_CONTROLLER);
	assert_int_equal(p.tags.len, 0); /* an empty section is KP_TAGS_EMPTY */

	/* DescribeQuorum by hand: the request is its tags alone; a response
	 * with nobody known is 59 fixed bytes, two empty arrays, tags */
	uint8_t qreq[] = {0x00};
	kp_reader_init(&r, qreq, sizeof(qreq), NULL);
	struct kp_replog_describe_quorum_request qq;
	assert_int_equal(kp_replog_quorum_request_decode(&r, 0, &qq), 0);
	uint8_t qresp[62] = {
		0x00,
		0x00, /* error_code */
		0x00,
		0x00,
		0x00,
		0x03, /* broker_id 3 */
		0xff,
		0xff,
		0xff,
		0xff,		 /* leader_id -1 */
		0x02,		 /* state candidate */
		[11 + 7] = 0x04, /* term 4 */
		[59] = 0x01,	 /* no members */
		[60] = 0x01,	 /* no brokers */
		[61] = 0x00,	 /* tags */
	};
	memset(qresp + 19, 0xff, 40); /* five int64 -1 */
	kp_arena_init(&arena, arena_mem, sizeof(arena_mem));
	kp_reader_init(&r, qresp, sizeof(qresp), &arena);
	struct kp_replog_describe_quorum_response qp;
	assert_int_equal(kp_replog_quorum_response_decode(&r, 0, &qp), 0);
	EQ(qp.broker_id, 3);
	EQ(qp.leader_id, -1);
	EQ(qp.state, 2);
	EQ(qp.term, 4);
	EQ(qp.commit_index, -1);
	EQ(qp.metadata_offset, -1);
	EQ(qp.members_count, 0);
	EQ(qp.brokers_count, 0);
	kp_writer_init(&w, 256);
	assert_int_equal(kp_replog_quorum_response_encode(&w, 0, &qp), 0);
	assert_int_equal(w.kw_len, sizeof(qresp));
	assert_memory_equal(w.kw_buf, qresp, sizeof(qresp));
	kp_writer_deinit(&w);
}

/* ------------------------------------------------ null versus empty */

static void expect_body(int16_t key, const union kp_request_body *b, const uint8_t *bytes,
			size_t len)
{
	struct kp_writer w;
	kp_writer_init(&w, 256);
	assert_int_equal(kp_request_body_encode(&w, key, 0, b), 0);
	assert_int_equal(w.kw_len, len);
	assert_memory_equal(w.kw_buf, bytes, len);
	kp_writer_deinit(&w);
}

static int decode_body(int16_t key, bool request, const uint8_t *bytes, size_t len,
		       union kp_request_body *req, union kp_response_body *resp)
{
	uint8_t *copy = exact_copy(bytes, len);
	struct kp_arena arena;
	struct kp_reader r;
	kp_arena_init(&arena, arena_mem, sizeof(arena_mem));
	kp_reader_init(&r, copy, len, &arena);
	int rc = request ? kp_request_body_decode(&r, key, 0, req)
			 : kp_response_body_decode(&r, key, 0, resp);
	free(copy); /* the tests below look at counts only */
	return rc;
}

static void test_null_versus_empty(void **state)
{
	(void)state;
	union kp_request_body b, g;
	union kp_response_body rb;

	/* DescribeReplicas: null topics = all, empty = none */
	b.replog_describe_replicas = (struct kp_replog_describe_request){NULL, -1, KP_TAGS_EMPTY};
	expect_body(KP_API_REPLOG_DESCRIBE_REPLICAS, &b, (const uint8_t[]){0x00, 0x00}, 2);
	b.replog_describe_replicas.topics_count = 0;
	expect_body(KP_API_REPLOG_DESCRIBE_REPLICAS, &b, (const uint8_t[]){0x01, 0x00}, 2);
	assert_int_equal(decode_body(KP_API_REPLOG_DESCRIBE_REPLICAS, true,
				     (const uint8_t[]){0x00, 0x00}, 2, &g, NULL),
			 0);
	EQ(g.replog_describe_replicas.topics_count, -1);
	assert_int_equal(decode_body(KP_API_REPLOG_DESCRIBE_REPLICAS, true,
				     (const uint8_t[]){0x01, 0x00}, 2, &g, NULL),
			 0);
	EQ(g.replog_describe_replicas.topics_count, 0);
	/* ... and per topic: partitions null (all) or empty */
	static const uint8_t part_null[] = {0x02, 0x03, 'o', 'p', 0x00, 0x00, 0x00};
	static const uint8_t part_empty[] = {0x02, 0x03, 'o', 'p', 0x01, 0x00, 0x00};
	struct kp_replog_describe_topic t = {KP_STR("op"), NULL, -1, KP_TAGS_EMPTY};
	b.replog_describe_replicas = (struct kp_replog_describe_request){&t, 1, KP_TAGS_EMPTY};
	expect_body(KP_API_REPLOG_DESCRIBE_REPLICAS, &b, part_null, sizeof(part_null));
	t.partitions_count = 0;
	expect_body(KP_API_REPLOG_DESCRIBE_REPLICAS, &b, part_empty, sizeof(part_empty));
	assert_int_equal(decode_body(KP_API_REPLOG_DESCRIBE_REPLICAS, true, part_null,
				     sizeof(part_null), &g, NULL),
			 0);
	EQ(g.replog_describe_replicas.topics[0].partitions_count, -1);

	/* ListDiscarded: the same for its string list */
	b.replog_list_discarded = (struct kp_replog_discarded_request){NULL, -1, KP_TAGS_EMPTY};
	expect_body(KP_API_REPLOG_LIST_DISCARDED, &b, (const uint8_t[]){0x00, 0x00}, 2);
	b.replog_list_discarded.topics_count = 0;
	expect_body(KP_API_REPLOG_LIST_DISCARDED, &b, (const uint8_t[]){0x01, 0x00}, 2);
	assert_int_equal(decode_body(KP_API_REPLOG_LIST_DISCARDED, true,
				     (const uint8_t[]){0x00, 0x00}, 2, &g, NULL),
			 0);
	EQ(g.replog_list_discarded.topics_count, -1);

	/* Register response: a null message is 0x00, an empty one 0x01 */
	struct kp_writer w;
	kp_writer_init(&w, 256);
	rb.replog_broker_register =
		(struct kp_replog_register_response){0, KP_STR_NULL, 1, 1, KP_TAGS_EMPTY};
	assert_int_equal(kp_response_body_encode(&w, KP_API_REPLOG_BROKER_REGISTER, 0, &rb), 0);
	assert_int_equal(w.kw_buf[2], 0x00);
	kp_writer_reset(&w);
	rb.replog_broker_register.error_message = KP_STR("");
	assert_int_equal(kp_response_body_encode(&w, KP_API_REPLOG_BROKER_REGISTER, 0, &rb), 0);
	assert_int_equal(w.kw_buf[2], 0x01);
	kp_writer_deinit(&w);

	/* a null where the field is not nullable: refused both ways */
	static const struct {
		int16_t key;
		bool request;
		uint8_t bytes[96];
		size_t len;
	} nulls[] = {
		/* AlterPartition request: null topics */
		{KP_API_REPLOG_ALTER_PARTITION,
		 true,
		 {0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x00, 0},
		 14},
		/* AlterPartition request: one partition (all fields 0), new_isr null */
		{KP_API_REPLOG_ALTER_PARTITION,
		 true,
		 {0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x02, 0x01, 0x02, [27] = 0x00, 0, 0, 0},
		 31},
		/* Register request: null address */
		{KP_API_REPLOG_BROKER_REGISTER, true, {0, 0, 0, 1, [20] = 0x00, 0, 0}, 23},
		/* ListDiscarded request: a null topic name */
		{KP_API_REPLOG_LIST_DISCARDED, true, {0x02, 0x00, 0x00}, 3},
		/* DescribeReplicas response: null topics */
		{KP_API_REPLOG_DESCRIBE_REPLICAS, false, {0, 0, 0, 0, 0, 1, 0x00, 0x00}, 8},
		/* ListDiscarded response: null entries */
		{KP_API_REPLOG_LIST_DISCARDED, false, {0, 0, 0, 0, 0, 1, 0x00, 0x00}, 8},
		/* Raft request: null from_address */
		{KP_API_REPLOG_RAFT, true, {0, 0, 0, 1, 0x00, 0x01, 0x00}, 7},
		/* Raft request: null message */
		{KP_API_REPLOG_RAFT, true, {0, 0, 0, 1, 0x01, 0x00, 0x00}, 7},
		/* DescribeQuorum response (59 fixed bytes of 0): null members */
		{KP_API_REPLOG_DESCRIBE_QUORUM, false, {[59] = 0x00, 0x01, 0x00}, 62},
		/* DescribeQuorum response: null brokers */
		{KP_API_REPLOG_DESCRIBE_QUORUM, false, {[59] = 0x01, 0x00, 0x00}, 62},
		/* DescribeQuorum response: one broker (all fields 0), address null */
		{KP_API_REPLOG_DESCRIBE_QUORUM,
		 false,
		 {[59] = 0x01, 0x02, [65] = 0x00, [86] = 0},
		 87},
	};
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++) {
		union kp_response_body rg;
		int rc = decode_body(nulls[i].key, nulls[i].request, nulls[i].bytes, nulls[i].len,
				     &g, &rg);
		if (rc != KP_EMALFORMED)
			fail_msg("null case %zu: %s", i, kp_strerror(rc));
	}
	kp_writer_init(&w, 256);
	b.replog_alter_partition = (struct kp_replog_alter_request){1, 0, NULL, -1, KP_TAGS_EMPTY};
	assert_int_equal(kp_request_body_encode(&w, KP_API_REPLOG_ALTER_PARTITION, 0, &b),
			 KP_EINVAL);
	kp_writer_reset(&w);
	b.replog_broker_register =
		(struct kp_replog_register_request){1, uuid_a, KP_STR_NULL, true, KP_TAGS_EMPTY};
	assert_int_equal(kp_request_body_encode(&w, KP_API_REPLOG_BROKER_REGISTER, 0, &b),
			 KP_EINVAL);
	kp_writer_reset(&w);
	rb.replog_list_discarded =
		(struct kp_replog_discarded_response){0, 1, NULL, -1, KP_TAGS_EMPTY};
	assert_int_equal(kp_response_body_encode(&w, KP_API_REPLOG_LIST_DISCARDED, 0, &rb),
			 KP_EINVAL);
	kp_writer_reset(&w);
	b.replog_raft =
		(struct kp_replog_raft_request){1, KP_STR("a"), KP_BYTES_NULL, KP_TAGS_EMPTY};
	assert_int_equal(kp_request_body_encode(&w, KP_API_REPLOG_RAFT, 0, &b), KP_EINVAL);
	kp_writer_reset(&w);
	b.replog_raft = (struct kp_replog_raft_request){1, KP_STR_NULL, {NULL, 0}, KP_TAGS_EMPTY};
	assert_int_equal(kp_request_body_encode(&w, KP_API_REPLOG_RAFT, 0, &b), KP_EINVAL);
	kp_writer_reset(&w);
	/* an empty message, even without a pointer, is 0x01 */
	b.replog_raft.from_address = KP_STR("");
	assert_int_equal(kp_request_body_encode(&w, KP_API_REPLOG_RAFT, 0, &b), 0);
	assert_int_equal(w.kw_len, 7);
	assert_int_equal(w.kw_buf[5], 0x01);
	kp_writer_reset(&w);
	rb.replog_describe_quorum =
		(struct kp_replog_describe_quorum_response){.members_count = -1};
	assert_int_equal(kp_response_body_encode(&w, KP_API_REPLOG_DESCRIBE_QUORUM, 0, &rb),
			 KP_EINVAL);
	kp_writer_reset(&w);
	rb.replog_describe_quorum =
		(struct kp_replog_describe_quorum_response){.brokers_count = -1};
	assert_int_equal(kp_response_body_encode(&w, KP_API_REPLOG_DESCRIBE_QUORUM, 0, &rb),
			 KP_EINVAL);
	kp_writer_deinit(&w);
}

/* ------------------------------------------------------ unknown tags */

/* Tags nobody defines, at three levels of an AlterPartition request
 * written by hand, decode to raw sections and re-encode byte for byte. */
static void test_unknown_tags_preserved(void **state)
{
	(void)state;
	static const uint8_t body[] = "\x00\x00\x00\x04"		     /* broker_id */
				      "\x00\x00\x00\x00\x00\x00\x00\x09"     /* broker_epoch */
				      "\x02"				     /* 1 topic */
				      "\x02\x74"			     /* name "t" */
				      "\x02"				     /* 1 partition */
				      "\x00\x00\x00\x01"		     /* partition_index */
				      "\x00\x00\x00\x02"		     /* leader_epoch */
				      "\x00\x00\x00\x03"		     /* partition_epoch */
				      "\x03\x00\x00\x00\x04\x00\x00\x00\x05" /* new_isr [4, 5] */
				      "\x01\x05\x02\xaa\xbb"		     /* tags {5: aabb} */
				      "\x02\x00\x00\x80\x01\x01\xcc" /* tags {0: -}, {128: cc} */
				      "\x01\xff\xff\x03\x00";	     /* tags {65535: -} */
	const size_t body_len = sizeof(body) - 1;
	uint8_t *copy = exact_copy(body, body_len);
	struct kp_arena arena;
	struct kp_reader r;
	kp_arena_init(&arena, arena_mem, sizeof(arena_mem));
	kp_reader_init(&r, copy, body_len, &arena);
	union kp_request_body b;
	assert_int_equal(kp_request_body_decode(&r, KP_API_REPLOG_ALTER_PARTITION, 0, &b), 0);
	const struct kp_replog_alter_request *q = &b.replog_alter_partition;
	EQ(q->topics_count, 1);
	EQ(q->topics[0].partitions_count, 1);
	eq_i32s(q->topics[0].partitions[0].new_isr, q->topics[0].partitions[0].new_isr_count,
		(const int32_t[]){4, 5}, 2);

	struct kp_tags_iter it;
	struct kp_tag_field f;
	kp_tags_iter_init(&it, q->topics[0].partitions[0].tags);
	assert_int_equal(kp_tags_next(&it, &f), 1);
	EQ(f.tag, 5);
	assert_int_equal(f.data.len, 2);
	assert_int_equal(f.data.ptr[1], 0xbb);
	assert_int_equal(kp_tags_next(&it, &f), 0);
	kp_tags_iter_init(&it, q->topics[0].tags);
	assert_int_equal(kp_tags_next(&it, &f), 1);
	EQ(f.tag, 0);
	assert_int_equal(f.data.len, 0);
	assert_int_equal(kp_tags_next(&it, &f), 1);
	EQ(f.tag, 128);
	assert_int_equal(kp_tags_next(&it, &f), 0);
	kp_tags_iter_init(&it, q->tags);
	assert_int_equal(kp_tags_next(&it, &f), 1);
	EQ(f.tag, 65535);

	struct kp_writer w;
	kp_writer_init(&w, 256);
	assert_int_equal(kp_request_body_encode(&w, KP_API_REPLOG_ALTER_PARTITION, 0, &b), 0);
	assert_int_equal(w.kw_len, body_len);
	assert_memory_equal(w.kw_buf, body, body_len);
	kp_writer_deinit(&w);

	free(copy);

	/* tags not strictly increasing are malformed (ListDiscarded, empty list) */
	static const uint8_t down[] = {0x01, 0x02, 0x05, 0x00, 0x03, 0x00};
	static const uint8_t same[] = {0x01, 0x02, 0x03, 0x00, 0x03, 0x00};
	static const uint8_t up[] = {0x01, 0x02, 0x03, 0x00, 0x05, 0x00};
	assert_int_equal(
		decode_body(KP_API_REPLOG_LIST_DISCARDED, true, down, sizeof(down), &b, NULL),
		KP_EMALFORMED);
	assert_int_equal(
		decode_body(KP_API_REPLOG_LIST_DISCARDED, true, same, sizeof(same), &b, NULL),
		KP_EMALFORMED);
	assert_int_equal(decode_body(KP_API_REPLOG_LIST_DISCARDED, true, up, sizeof(up), &b, NULL),
			 0);
}

/* ---------------------------------------------------- the api table */

static void test_api_table(void **state)
{
	(void)state;
	static const struct {
		int16_t key;
		const char *name;
	} keys[] = {
		{10000, "ReplogBrokerRegister"}, {10001, "ReplogBrokerHeartbeat"},
		{10002, "ReplogAlterPartition"}, {10003, "ReplogDescribeReplicas"},
		{10004, "ReplogListDiscarded"},	 {10005, "ReplogRaft"},
		{10006, "ReplogDescribeQuorum"},
	};
	assert_int_equal(KP_API_REPLOG_COUNT, sizeof(keys) / sizeof(keys[0]));
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		int16_t k = keys[i].key;
		const struct kp_api_info *ai = kp_api_info(k);
		assert_non_null(ai);
		EQ(ai->ai_api_key, k);
		assert_string_equal(ai->ai_name, keys[i].name);
		assert_string_equal(kp_api_name(k), keys[i].name);
		EQ(ai->ai_min_version, 0);
		EQ(ai->ai_max_version, 0);
		EQ(ai->ai_first_flexible, 0);
		assert_true(kp_api_private(k));
		assert_true(kp_api_version_supported(k, 0));
		assert_false(kp_api_version_supported(k, 1));
		assert_false(kp_api_version_supported(k, -1));
		assert_true(kp_api_flexible(k, 0));
		EQ(kp_request_header_version(k, 0), 2);
		EQ(kp_response_header_version(k, 0), 1);
		/* a version we do not have still reads the flexible header */
		EQ(kp_request_header_version(k, 1), 2);
	}
	/* around the private range */
	static const int16_t outside[] = {KP_API_KEY_COUNT, 9999, 10007, 10100, INT16_MAX, -1};
	for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
		assert_null(kp_api_info(outside[i]));
		assert_string_equal(kp_api_name(outside[i]), "Unknown");
		assert_false(kp_api_version_supported(outside[i], 0));
		EQ(kp_request_header_version(outside[i], 0), 1);
	}
	assert_false(kp_api_private(9999));
	assert_false(kp_api_private(10007));
	/* Kafka's keys are still where they were */
	assert_string_equal(kp_api_name(KP_API_PRODUCE), "Produce");
	assert_string_equal(kp_api_name(KP_API_CREATE_PARTITIONS), "CreatePartitions");
	assert_false(kp_api_private(KP_API_FETCH));

	/* ApiVersions for clients lists none of them; the private list all */
	const struct kp_api_info *rows[KP_API_KEY_COUNT + KP_API_REPLOG_COUNT];
	size_t n = kp_api_supported(rows, KP_API_KEY_COUNT);
	assert_true(n > 0 && n <= KP_API_KEY_COUNT);
	for (size_t i = 0; i < n; i++)
		assert_false(kp_api_private(rows[i]->ai_api_key));
	struct kp_apiversions_api_version av[KP_API_KEY_COUNT];
	assert_int_equal(kp_apiversions_fill_supported(av, KP_API_KEY_COUNT), n);
	n = kp_api_private_supported(rows, KP_API_REPLOG_COUNT);
	assert_int_equal(n, KP_API_REPLOG_COUNT);
	for (size_t i = 0; i < n; i++) {
		EQ(rows[i]->ai_api_key, keys[i].key);
		assert_true(rows[i] == kp_api_info(keys[i].key));
	}
	assert_int_equal(kp_api_private_supported(rows, 2), KP_API_REPLOG_COUNT);

	/* error codes these APIs answer with */
	assert_string_equal(kp_error_name(KP_ERR_NOT_CONTROLLER), "NOT_CONTROLLER");
	assert_string_equal(kp_error_name(41), "NOT_CONTROLLER");
	assert_string_equal(kp_error_name(77), "STALE_BROKER_EPOCH");
	assert_string_equal(kp_error_name(95), "INVALID_UPDATE_VERSION");
	assert_string_equal(kp_error_name(101), "DUPLICATE_BROKER_REGISTRATION");
	assert_string_equal(kp_error_name(102), "BROKER_ID_NOT_REGISTERED");
	assert_string_equal(kp_error_name(107), "INELIGIBLE_REPLICA");
	assert_string_equal(kp_error_name(108), "NEW_LEADER_ELECTED");
	assert_string_equal(kp_error_name(11), "STALE_CONTROLLER_EPOCH");
	assert_string_equal(kp_error_name(96), "UNKNOWN_ERROR_CODE");

	assert_string_equal(kp_replog_role_name(KP_REPLOG_ROLE_NONE), "none");
	assert_string_equal(kp_replog_role_name(KP_REPLOG_ROLE_LEADER), "leader");
	assert_string_equal(kp_replog_role_name(KP_REPLOG_ROLE_FOLLOWER), "follower");
	assert_string_equal(kp_replog_role_name(3), "unknown");
	assert_string_equal(kp_replog_role_name(-1), "unknown");
}

/* The header decoder names these keys, and refuses other versions. */
static void test_headers(void **state)
{
	(void)state;
	struct kp_request_header h;
	struct kp_reader r;
	/* AlterPartition v1: header v2 read (client id, tag), then refused */
	uint8_t v1[] = {0x27, 0x12, 0, 1, 0, 0, 0, 5, 0, 1, 'c', 0x01, 0x00, 0x00, 0xee};
	kp_reader_init(&r, v1, sizeof(v1), NULL);
	assert_int_equal(kp_request_header_decode(&r, &h), KP_EUNSUPPORTED_VERSION);
	EQ(h.request_api_key, KP_API_REPLOG_ALTER_PARTITION);
	EQ(h.header_version, 2);
	assert_true(kp_str_eq_cstr(h.client_id, "c"));
	assert_int_equal(h.tags.len, 3);
	assert_int_equal(kp_reader_remaining(&r), 1);
	/* 10007: not ours; header v1 */
	uint8_t unknown[] = {0x27, 0x17, 0, 0, 0, 0, 0, 6, 0xff, 0xff, 0x00};
	kp_reader_init(&r, unknown, sizeof(unknown), NULL);
	assert_int_equal(kp_request_header_decode(&r, &h), KP_EUNSUPPORTED_API);
	EQ(h.header_version, 1);
	EQ(h.correlation_id, 6);
	/* the response header of a private API carries tags (v1) */
	uint8_t out[16];
	struct kp_writer w;
	kp_writer_init_fixed(&w, out, sizeof(out));
	const struct kp_response_header rh = {77, KP_TAGS_EMPTY};
	kp_response_header_encode(&w, KP_API_REPLOG_BROKER_HEARTBEAT, 0, &rh);
	assert_int_equal(w.kw_len, 5);

	/* body codecs refuse version 1, both ways, by dispatch and directly */
	uint8_t bytes[32] = {0};
	for (size_t c = 0; c < API_CASES; c++) {
		int16_t key = api_cases[c].ac_key;
		union kp_request_body req;
		union kp_response_body resp;
		memset(&req, 0, sizeof(req));
		memset(&resp, 0, sizeof(resp));
		kp_reader_init(&r, bytes, sizeof(bytes), NULL);
		assert_int_equal(kp_request_body_decode(&r, key, 1, &req), KP_EUNSUPPORTED_VERSION);
		kp_reader_init(&r, bytes, sizeof(bytes), NULL);
		assert_int_equal(kp_response_body_decode(&r, key, 1, &resp),
				 KP_EUNSUPPORTED_VERSION);
		kp_writer_init(&w, 64);
		assert_int_equal(kp_request_body_encode(&w, key, -1, &req),
				 KP_EUNSUPPORTED_VERSION);
		kp_writer_reset(&w);
		assert_int_equal(kp_response_body_encode(&w, key, 1, &resp),
				 KP_EUNSUPPORTED_VERSION);
		kp_writer_deinit(&w);
	}
	struct kp_replog_describe_request dq;
	kp_reader_init(&r, bytes, sizeof(bytes), NULL);
	assert_int_equal(kp_replog_describe_request_decode(&r, 1, &dq), KP_EUNSUPPORTED_VERSION);
}

/* ------------------------------------------------ bounds and refusals */

static void test_bounds(void **state)
{
	(void)state;
	union kp_response_body in;
	assert_true(build_describe_response(0, &in));
	struct kp_writer w;
	kp_writer_init(&w, WRITER_CAP);
	assert_int_equal(kp_response_body_encode(&w, KP_API_REPLOG_DESCRIBE_REPLICAS, 0, &in), 0);
	/* an arena too small for the nested arrays: KP_EARENA, never past it */
	static uint8_t small[4096];
	size_t need = 0;
	for (size_t size = 0; size <= sizeof(small); size += 8) {
		struct kp_arena arena;
		kp_arena_init(&arena, small, size);
		struct kp_reader r;
		kp_reader_init(&r, w.kw_buf, w.kw_len, &arena);
		union kp_response_body out;
		int rc = kp_response_body_decode(&r, KP_API_REPLOG_DESCRIBE_REPLICAS, 0, &out);
		assert_true(kp_arena_used(&arena) <= size);
		if (rc == 0) {
			need = size;
			break;
		}
		assert_int_equal(rc, KP_EARENA);
	}
	assert_true(need > 0);

	/* a count the bytes left cannot hold is truncated, before any
	 * allocation: 1000 replicas of >= 68 bytes in a 12-byte body */
	uint8_t many[] = {0, 0, 0, 0, 0, 1, 0x02, 0x02, 't', 0x8f, 0x07, 0x00};
	struct kp_arena arena;
	kp_arena_init(&arena, arena_mem, sizeof(arena_mem));
	struct kp_reader r;
	kp_reader_init(&r, many, sizeof(many), &arena);
	union kp_response_body out;
	assert_int_equal(kp_response_body_decode(&r, KP_API_REPLOG_DESCRIBE_REPLICAS, 0, &out),
			 KP_ETRUNCATED);
	assert_true(kp_arena_used(&arena) <= sizeof(struct kp_replog_replica_topic) + 8);

	/* the worst case of arena bytes per frame byte is 16 (kp_replog.c):
	 * 2000 empty topics, and 5000 empty strings, decode in 16x + 8 */
	static uint8_t worst[6100];
	memcpy(worst, "\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01", 12); /* id, epoch */
	size_t n = 12;
	worst[n++] = 0xd1; /* uvarint 2001: 2000 topics */
	worst[n++] = 0x0f;
	for (int i = 0; i < 2000; i++) {
		worst[n++] = 0x01; /* name "" */
		worst[n++] = 0x01; /* no partitions */
		worst[n++] = 0x00; /* tags */
	}
	worst[n++] = 0x00;
	static uint8_t worst_arena[16 * sizeof(worst) + 8];
	kp_arena_init(&arena, worst_arena, 16 * n + 8);
	kp_reader_init(&r, worst, n, &arena);
	union kp_request_body wq;
	assert_int_equal(kp_request_body_decode(&r, KP_API_REPLOG_ALTER_PARTITION, 0, &wq), 0);
	EQ(wq.replog_alter_partition.topics_count, 2000);
	n = 0;
	worst[n++] = 0x89; /* uvarint 5001: 5000 strings */
	worst[n++] = 0x27;
	memset(worst + n, 0x01, 5000);
	n += 5000;
	worst[n++] = 0x00;
	kp_arena_init(&arena, worst_arena, 16 * n + 8);
	kp_reader_init(&r, worst, n, &arena);
	assert_int_equal(kp_request_body_decode(&r, KP_API_REPLOG_LIST_DISCARDED, 0, &wq), 0);
	EQ(wq.replog_list_discarded.topics_count, 5000);

	/* DescribeQuorum: an arena too small for members and brokers */
	union kp_response_body qin;
	assert_true(build_quorum_response(1, &qin));
	kp_writer_reset(&w);
	assert_int_equal(kp_response_body_encode(&w, KP_API_REPLOG_DESCRIBE_QUORUM, 0, &qin), 0);
	need = 0;
	for (size_t size = 0; size <= sizeof(small); size += 8) {
		kp_arena_init(&arena, small, size);
		kp_reader_init(&r, w.kw_buf, w.kw_len, &arena);
		int rc = kp_response_body_decode(&r, KP_API_REPLOG_DESCRIBE_QUORUM, 0, &out);
		assert_true(kp_arena_used(&arena) <= size);
		if (rc == 0) {
			need = size;
			break;
		}
		assert_int_equal(rc, KP_EARENA);
	}
	assert_true(need >= 5 * sizeof(struct kp_replog_quorum_member) +
				    3 * sizeof(struct kp_replog_quorum_broker));
	check_quorum_response(&qin, &out);

	/* ... and counts the bytes left cannot hold, refused before any
	 * allocation: 5 members of >= 22 bytes in 109 */
	static uint8_t qbody[59 + 2 + 4 * 25 + 1];
	memset(qbody, 0, sizeof(qbody));
	qbody[59] = 0x06;
	kp_arena_init(&arena, arena_mem, sizeof(arena_mem));
	kp_reader_init(&r, qbody, 59 + 1 + 109, &arena);
	assert_int_equal(kp_response_body_decode(&r, KP_API_REPLOG_DESCRIBE_QUORUM, 0, &out),
			 KP_ETRUNCATED);
	assert_int_equal(kp_arena_used(&arena), 0);
	/* 4 brokers of >= 25 bytes (int32, "", int64, 3 bools, int64, tags):
	 * they decode in 100 bytes plus the response's tags, not in 99 */
	qbody[59] = 0x01;
	qbody[60] = 0x05;
	for (int i = 0; i < 4; i++) {
		uint8_t *bp = qbody + 61 + 25 * i;
		bp[3] = (uint8_t)(i + 1); /* id */
		bp[4] = 0x01;		  /* address "" */
		bp[24] = 0x00;		  /* tags */
	}
	qbody[sizeof(qbody) - 1] = 0x00;
	kp_arena_init(&arena, arena_mem, sizeof(arena_mem));
	kp_reader_init(&r, qbody, sizeof(qbody), &arena);
	assert_int_equal(kp_response_body_decode(&r, KP_API_REPLOG_DESCRIBE_QUORUM, 0, &out), 0);
	EQ(out.replog_describe_quorum.brokers_count, 4);
	EQ(out.replog_describe_quorum.brokers[3].id, 4);
	for (size_t len = 61 + 96; len < 61 + 100; len++) {
		kp_arena_init(&arena, arena_mem, sizeof(arena_mem));
		kp_reader_init(&r, qbody, len, &arena);
		assert_int_equal(
			kp_response_body_decode(&r, KP_API_REPLOG_DESCRIBE_QUORUM, 0, &out),
			KP_ETRUNCATED);
		if (kp_arena_used(&arena) != 0)
			fail_msg("%zu bytes left for 4 brokers: %zu arena bytes used", len - 61,
				 kp_arena_used(&arena));
	}

	/* trailing bytes: reported, the struct complete */
	uint8_t hb[] = {0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0xee};
	kp_reader_init(&r, hb, sizeof(hb), NULL);
	union kp_request_body q;
	assert_int_equal(kp_request_body_decode(&r, KP_API_REPLOG_BROKER_HEARTBEAT, 0, &q),
			 KP_ETRAILING);
	EQ(q.replog_broker_heartbeat.broker_epoch, 7);
	assert_true(q.replog_broker_heartbeat.want_shutdown);

	/* encoders: a count without elements, an int32 list without elements,
	 * the writer's cap */
	kp_writer_reset(&w);
	union kp_request_body bad;
	bad.replog_alter_partition = (struct kp_replog_alter_request){1, 1, NULL, 2, KP_TAGS_EMPTY};
	assert_int_equal(kp_request_body_encode(&w, KP_API_REPLOG_ALTER_PARTITION, 0, &bad),
			 KP_EINVAL);
	kp_writer_reset(&w);
	struct kp_replog_describe_topic t = {KP_STR("x"), NULL, 3, KP_TAGS_EMPTY};
	bad.replog_describe_replicas = (struct kp_replog_describe_request){&t, 1, KP_TAGS_EMPTY};
	assert_int_equal(kp_request_body_encode(&w, KP_API_REPLOG_DESCRIBE_REPLICAS, 0, &bad),
			 KP_EINVAL);
	kp_writer_deinit(&w);
	kp_writer_init(&w, 40);
	assert_int_equal(kp_response_body_encode(&w, KP_API_REPLOG_DESCRIBE_REPLICAS, 0, &in),
			 KP_ETOO_LARGE);
	kp_writer_deinit(&w);
}

/* ------------------------------------ truncations and random damage */

/* Decode a frame as its side would; if it decodes, re-encode, decode and
 * encode again and demand the same bytes. */
static int decode_frame(const struct frame *f, const uint8_t *bytes, size_t len)
{
	struct kp_arena arena, arena2;
	struct kp_reader r, r2;
	struct kp_writer w1, w2;
	uint8_t *buf = exact_copy(bytes, len);
	kp_arena_init(&arena, arena_mem, sizeof(arena_mem));
	kp_arena_init(&arena2, arena2_mem, sizeof(arena2_mem));
	kp_reader_init(&r, buf, len, &arena);
	kp_writer_init(&w1, WRITER_CAP);
	kp_writer_init(&w2, WRITER_CAP);
	int rc;
	if (f->f_request) {
		struct kp_request_header h;
		union kp_request_body b;
		rc = kp_request_decode(&r, &h, &b);
		if (rc == 0) {
			assert_int_equal(kp_request_encode(&w1, &h, &b), 0);
			kp_reader_init(&r2, w1.kw_buf + 4, w1.kw_len - 4, &arena2);
			assert_int_equal(kp_request_decode(&r2, &h, &b), 0);
			assert_int_equal(kp_request_encode(&w2, &h, &b), 0);
		}
	} else {
		struct kp_response_header h;
		union kp_response_body b;
		rc = kp_response_decode(&r, f->f_key, 0, &h, &b);
		if (rc == 0) {
			assert_int_equal(kp_response_encode(&w1, f->f_key, 0, &h, &b), 0);
			kp_reader_init(&r2, w1.kw_buf + 4, w1.kw_len - 4, &arena2);
			assert_int_equal(kp_response_decode(&r2, f->f_key, 0, &h, &b), 0);
			assert_int_equal(kp_response_encode(&w2, f->f_key, 0, &h, &b), 0);
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
	assert_true(corpus_count >= 2 * API_CASES * 2);
	size_t cuts = 0;
	for (size_t i = 0; i < corpus_count; i++) {
		const struct frame *f = &corpus[i];
		assert_int_equal(decode_frame(f, f->f_buf, f->f_len), 0);
		for (size_t len = 0; len < f->f_len; len++) {
			int rc = decode_frame(f, f->f_buf, len);
			if (rc != KP_ETRUNCATED)
				fail_msg("%s %s cut at %zu of %zu: %s",
					 f->f_request ? "request" : "response",
					 kp_api_name(f->f_key), len, f->f_len, kp_strerror(rc));
			cuts++;
		}
	}
	print_message("# %zu frames, %zu truncations refused\n", corpus_count, cuts);
}

static void test_random_flips_never_crash(void **state)
{
	(void)state;
	uint64_t seed = tu_seed(0x72706c67);
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
		cmocka_unit_test(test_roundtrip_every_message),
		cmocka_unit_test(test_heartbeat_bytes),
		cmocka_unit_test(test_raft_bytes),
		cmocka_unit_test(test_null_versus_empty),
		cmocka_unit_test(test_unknown_tags_preserved),
		cmocka_unit_test(test_api_table),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_bounds),
		/* these two use the frames collected by the first test */
		cmocka_unit_test(test_every_truncation_refused),
		cmocka_unit_test(test_random_flips_never_crash),
	};
	return cmocka_run_group_tests(tests, setup_fixtures, teardown_corpus);
}
