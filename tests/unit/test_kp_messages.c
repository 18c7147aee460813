/* Description: Kafka messages (kp_*): every API and version round-trips; captured frames decode. */
/*
 * Every request and response of every supported version is encoded, decoded
 * and compared field by field (fields a version lacks must come back as
 * Kafka's defaults), then re-encoded to the same bytes, as a body and as a
 * whole frame. The frames kcat and kafka-python sent (data/kp_captures.h)
 * decode to what the capture logs say and re-encode byte for byte. Every
 * truncation of every frame is refused; seeded random damage never crashes.
 */
#include "testutil.h"

#include "batch.h"
#include "batch_builder.h"
#include "kp_api.h"
#include "kp_message.h"

#include "data/kp_captures.h"

#define ARENA_BYTES (256 * 1024)
#define WRITER_CAP  (1 << 20)

static uint8_t arena_mem[ARENA_BYTES];

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

static void eq_bytes(struct kp_bytes got, struct kp_bytes exp)
{
	assert_true(kp_bytes_eq(got, exp));
}

static void eq_tags(struct kp_tags got, struct kp_tags exp)
{
	assert_true(kp_tags_eq(got, exp));
}

static void eq_i32s(const int32_t *got, int32_t got_count, const int32_t *exp, int32_t exp_count)
{
	EQ(got_count, exp_count);
	for (int32_t i = 0; i < exp_count; i++)
		EQ(got[i], exp[i]);
}

/* ------------------------------------------------------------ fixtures */

static uint8_t tag_bytes[2][32];
static struct kp_tags tags_one; /* one unknown field */
static struct kp_tags tags_two; /* two fields, one with a 2-byte tag */

static uint8_t batch_a[256]; /* a 3-record batch */
static int32_t batch_a_len;
static uint8_t batch_b[256]; /* a keyed record with a header */
static int32_t batch_b_len;

static struct kp_tags build_tags(uint8_t *buf, size_t cap, const struct kp_tag_field *f, int n)
{
	struct kp_writer w;
	kp_writer_init_fixed(&w, buf, cap);
	kp_write_tag_fields(&w, f, n);
	assert_int_equal(kp_writer_error(&w), 0);
	return (struct kp_tags){buf, (int32_t)w.kw_len};
}

static int32_t build_batch(uint8_t *buf, size_t cap, int64_t ts, const char *const *values,
			   int count, const char *key, const struct batch_builder_header *hdr,
			   int hdr_count)
{
	struct batch_builder b;
	assert_int_equal(batch_builder_init(&b, buf, cap, BATCH_CODEC_NONE, ts, -1, -1, -1), 0);
	for (int i = 0; i < count; i++) {
		assert_int_equal(batch_builder_add(&b, ts, (const uint8_t *)key,
						   key ? (int32_t)strlen(key) : -1,
						   (const uint8_t *)values[i],
						   (int32_t)strlen(values[i]), hdr, hdr_count),
				 0);
	}
	int64_t n = batch_builder_finish(&b);
	assert_true(n > 0);
	return (int32_t)n;
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

	static const char *const abc[] = {"a", "b", "c"};
	batch_a_len = build_batch(batch_a, sizeof(batch_a), 1795822398067, abc, 3, NULL, NULL, 0);
	static const char *const pyval[] = {"pyval"};
	const struct batch_builder_header h1 = {(const uint8_t *)"h1", 2, (const uint8_t *)"v1", 2};
	batch_b_len =
		build_batch(batch_b, sizeof(batch_b), 1795822403062, pyval, 1, "pykey", &h1, 1);
	return 0;
}

/* -------------------------------------------------------- ApiVersions */

static bool build_apiversions_request(int16_t v, int variant, union kp_request_body *b)
{
	if (variant > 1)
		return false;
	b->api_versions = (struct kp_apiversions_request){
		.client_software_name = variant ? KP_STR("librdkafka") : KP_STR("replog"),
		.client_software_version = variant ? KP_STR("2.0.2") : KP_STR("0.1.0-dev"),
		.tags = variant ? KP_TAGS_EMPTY : tags_two,
	};
	return true;
}

static void check_apiversions_request(int16_t v, const union kp_request_body *e_,
				      const union kp_request_body *g_)
{
	const struct kp_apiversions_request *e = &e_->api_versions, *g = &g_->api_versions;
	eq_str(g->client_software_name, v >= 3 ? e->client_software_name : KP_STR(""));
	eq_str(g->client_software_version, v >= 3 ? e->client_software_version : KP_STR(""));
	eq_tags(g->tags, v >= 3 ? e->tags : KP_TAGS_EMPTY);
}

static struct kp_apiversions_api_version av_keys[KP_API_KEY_COUNT];

static bool build_apiversions_response(int16_t v, int variant, union kp_response_body *b)
{
	if (variant > 1)
		return false;
	size_t n = kp_apiversions_fill_supported(av_keys, KP_API_KEY_COUNT);
	av_keys[1].tags = tags_one;
	b->api_versions = (struct kp_apiversions_response){
		.error_code = variant ? KP_ERR_UNSUPPORTED_VERSION : KP_ERR_NONE,
		.api_keys = av_keys,
		.api_keys_count = variant ? 0 : (int32_t)n,
		.throttle_time_ms = 250,
		.tags = tags_two,
	};
	return true;
}

static void check_apiversions_response(int16_t v, const union kp_response_body *e_,
				       const union kp_response_body *g_)
{
	const struct kp_apiversions_response *e = &e_->api_versions, *g = &g_->api_versions;
	EQ(g->error_code, e->error_code);
	EQ(g->api_keys_count, e->api_keys_count);
	for (int32_t i = 0; i < e->api_keys_count; i++) {
		EQ(g->api_keys[i].api_key, e->api_keys[i].api_key);
		EQ(g->api_keys[i].min_version, e->api_keys[i].min_version);
		EQ(g->api_keys[i].max_version, e->api_keys[i].max_version);
		eq_tags(g->api_keys[i].tags, v >= 3 ? e->api_keys[i].tags : KP_TAGS_EMPTY);
	}
	EQ(g->throttle_time_ms, v >= 1 ? e->throttle_time_ms : 0);
	eq_tags(g->tags, v >= 3 ? e->tags : KP_TAGS_EMPTY);
}

/* ----------------------------------------------------------- Metadata */

static struct kp_metadata_request_topic md_req_topics[] = {
	{KP_STR("orders")}, {KP_STR("")}, {KP_STR("payments-eu")}};

/* variant 0: three topics; 1: empty list; 2: null list (v1+) */
static bool build_metadata_request(int16_t v, int variant, union kp_request_body *b)
{
	if (variant > 2 || (variant == 2 && v < 1))
		return false;
	b->metadata = (struct kp_metadata_request){
		.topics = variant == 0 ? md_req_topics : NULL,
		.topics_count = (int32_t[]){3, 0, -1}[variant],
		.allow_auto_topic_creation = false,
		.include_cluster_authorized_operations = true,
		.include_topic_authorized_operations = true,
	};
	return true;
}

static void check_metadata_request(int16_t v, const union kp_request_body *e_,
				   const union kp_request_body *g_)
{
	const struct kp_metadata_request *e = &e_->metadata, *g = &g_->metadata;
	EQ(g->topics_count, e->topics_count);
	for (int32_t i = 0; i < e->topics_count; i++)
		eq_str(g->topics[i].name, e->topics[i].name);
	EQ(g->allow_auto_topic_creation, v >= 4 ? e->allow_auto_topic_creation : true);
	EQ(g->include_cluster_authorized_operations,
	   v >= 8 ? e->include_cluster_authorized_operations : false);
	EQ(g->include_topic_authorized_operations,
	   v >= 8 ? e->include_topic_authorized_operations : false);
}

static struct kp_metadata_response_broker md_brokers[] = {
	{1, KP_STR("broker-1.local"), 9092, KP_STR_NULL},
	{2, KP_STR("10.0.0.2"), 9093, KP_STR("rack-b")},
};
static int32_t md_replicas[] = {1, 2, 3};
static int32_t md_isr[] = {1, 2};
static int32_t md_offline[] = {3};
static struct kp_metadata_response_partition md_parts[] = {
	{0, 0, 1, 7, md_replicas, 3, md_isr, 2, md_offline, 1},
	{KP_ERR_LEADER_NOT_AVAILABLE, 1, -1, 8, md_replicas, 3, NULL, 0, NULL, 0},
};
static struct kp_metadata_response_topic md_topics[] = {
	{0, KP_STR("orders"), false, md_parts, 2, 0x0f8},
	{KP_ERR_UNKNOWN_TOPIC_OR_PARTITION, KP_STR("gone"), true, NULL, 0, INT32_MIN},
};

/* variant 0: full; 1: no brokers, null cluster id, no topics */
static bool build_metadata_response(int16_t v, int variant, union kp_response_body *b)
{
	if (variant > 1)
		return false;
	b->metadata = (struct kp_metadata_response){
		.throttle_time_ms = 11,
		.brokers = variant ? NULL : md_brokers,
		.brokers_count = variant ? 0 : 2,
		.cluster_id = variant ? KP_STR_NULL : KP_STR("replog-cluster-A"),
		.controller_id = 2,
		.topics = variant ? NULL : md_topics,
		.topics_count = variant ? 0 : 2,
		.cluster_authorized_operations = 0x1f,
	};
	return true;
}

static void check_metadata_response(int16_t v, const union kp_response_body *e_,
				    const union kp_response_body *g_)
{
	const struct kp_metadata_response *e = &e_->metadata, *g = &g_->metadata;
	EQ(g->throttle_time_ms, v >= 3 ? e->throttle_time_ms : 0);
	EQ(g->brokers_count, e->brokers_count);
	for (int32_t i = 0; i < e->brokers_count; i++) {
		EQ(g->brokers[i].node_id, e->brokers[i].node_id);
		eq_str(g->brokers[i].host, e->brokers[i].host);
		EQ(g->brokers[i].port, e->brokers[i].port);
		eq_str(g->brokers[i].rack, v >= 1 ? e->brokers[i].rack : KP_STR_NULL);
	}
	eq_str(g->cluster_id, v >= 2 ? e->cluster_id : KP_STR_NULL);
	EQ(g->controller_id, v >= 1 ? e->controller_id : -1);
	EQ(g->topics_count, e->topics_count);
	for (int32_t i = 0; i < e->topics_count; i++) {
		const struct kp_metadata_response_topic *et = &e->topics[i], *gt = &g->topics[i];
		EQ(gt->error_code, et->error_code);
		eq_str(gt->name, et->name);
		EQ(gt->is_internal, v >= 1 ? et->is_internal : false);
		EQ(gt->topic_authorized_operations,
		   v >= 8 ? et->topic_authorized_operations : INT32_MIN);
		EQ(gt->partitions_count, et->partitions_count);
		for (int32_t j = 0; j < et->partitions_count; j++) {
			const struct kp_metadata_response_partition *ep = &et->partitions[j];
			const struct kp_metadata_response_partition *gp = &gt->partitions[j];
			EQ(gp->error_code, ep->error_code);
			EQ(gp->partition_index, ep->partition_index);
			EQ(gp->leader_id, ep->leader_id);
			EQ(gp->leader_epoch, v >= 7 ? ep->leader_epoch : -1);
			eq_i32s(gp->replica_nodes, gp->replica_nodes_count, ep->replica_nodes,
				ep->replica_nodes_count);
			eq_i32s(gp->isr_nodes, gp->isr_nodes_count, ep->isr_nodes,
				ep->isr_nodes_count);
			if (v >= 5)
				eq_i32s(gp->offline_replicas, gp->offline_replicas_count,
					ep->offline_replicas, ep->offline_replicas_count);
			else
				EQ(gp->offline_replicas_count, 0);
		}
	}
	EQ(g->cluster_authorized_operations, v >= 8 ? e->cluster_authorized_operations : INT32_MIN);
}

/* ------------------------------------------------------------ Produce */

static struct kp_produce_partition_data pr_parts_a[2];
static struct kp_produce_partition_data pr_parts_b[1];
static struct kp_produce_topic_data pr_topics[2];

/* variant 0: idempotent-looking, two topics, null and empty record sets;
 * 1: transactional id set, one topic */
static bool build_produce_request(int16_t v, int variant, union kp_request_body *b)
{
	if (variant > 1)
		return false;
	pr_parts_a[0] = (struct kp_produce_partition_data){0, {batch_a, batch_a_len}};
	pr_parts_a[1] = (struct kp_produce_partition_data){1, KP_RECORDS_NULL};
	pr_parts_b[0] = (struct kp_produce_partition_data){7, {batch_b, 0}};
	pr_topics[0] = (struct kp_produce_topic_data){KP_STR("t1"), pr_parts_a, 2};
	pr_topics[1] = (struct kp_produce_topic_data){KP_STR("t-two"), pr_parts_b, 1};
	b->produce = (struct kp_produce_request){
		.transactional_id = variant ? KP_STR("txn-42") : KP_STR_NULL,
		.acks = variant ? 1 : -1,
		.timeout_ms = 30000,
		.topic_data = pr_topics,
		.topic_data_count = variant ? 1 : 2,
	};
	return true;
}

static void check_produce_request(int16_t v, const union kp_request_body *e_,
				  const union kp_request_body *g_)
{
	const struct kp_produce_request *e = &e_->produce, *g = &g_->produce;
	eq_str(g->transactional_id, e->transactional_id);
	EQ(g->acks, e->acks);
	EQ(g->timeout_ms, e->timeout_ms);
	EQ(g->topic_data_count, e->topic_data_count);
	for (int32_t i = 0; i < e->topic_data_count; i++) {
		const struct kp_produce_topic_data *et = &e->topic_data[i], *gt = &g->topic_data[i];
		eq_str(gt->name, et->name);
		EQ(gt->partition_data_count, et->partition_data_count);
		for (int32_t j = 0; j < et->partition_data_count; j++) {
			EQ(gt->partition_data[j].index, et->partition_data[j].index);
			struct kp_records er = et->partition_data[j].records;
			struct kp_records gr = gt->partition_data[j].records;
			eq_bytes((struct kp_bytes){gr.ptr, gr.len},
				 (struct kp_bytes){er.ptr, er.len});
		}
	}
}

static struct kp_produce_partition_response pr_resp_parts[] = {
	{0, 0, 1000, -1, 0},
	{1, KP_ERR_NOT_LEADER_OR_FOLLOWER, -1, -1, -1},
	{5, KP_ERR_NONE, 77, 1795822398067, 12},
};
static struct kp_produce_topic_response pr_resp_topics[] = {
	{KP_STR("t1"), pr_resp_parts, 2},
	{KP_STR("t-two"), pr_resp_parts + 2, 1},
	{KP_STR("empty"), NULL, 0},
};

static bool build_produce_response(int16_t v, int variant, union kp_response_body *b)
{
	if (variant > 0)
		return false;
	b->produce = (struct kp_produce_response){pr_resp_topics, 3, 9};
	return true;
}

static void check_produce_response(int16_t v, const union kp_response_body *e_,
				   const union kp_response_body *g_)
{
	const struct kp_produce_response *e = &e_->produce, *g = &g_->produce;
	EQ(g->responses_count, e->responses_count);
	for (int32_t i = 0; i < e->responses_count; i++) {
		const struct kp_produce_topic_response *et = &e->responses[i];
		const struct kp_produce_topic_response *gt = &g->responses[i];
		eq_str(gt->name, et->name);
		EQ(gt->partition_responses_count, et->partition_responses_count);
		for (int32_t j = 0; j < et->partition_responses_count; j++) {
			const struct kp_produce_partition_response *ep =
				&et->partition_responses[j];
			const struct kp_produce_partition_response *gp =
				&gt->partition_responses[j];
			EQ(gp->index, ep->index);
			EQ(gp->error_code, ep->error_code);
			EQ(gp->base_offset, ep->base_offset);
			EQ(gp->log_append_time_ms, ep->log_append_time_ms);
			EQ(gp->log_start_offset, v >= 5 ? ep->log_start_offset : -1);
		}
	}
	EQ(g->throttle_time_ms, e->throttle_time_ms);
}

/* -------------------------------------------------------------- Fetch */

static struct kp_fetch_partition fe_parts[] = {
	{0, 5, 0, 0, 1048576},
	{1, 5, 123456789012, 100, 65536},
	{9, -1, 3, -1, 1},
};
static struct kp_fetch_topic fe_topics[] = {
	{KP_STR("orders"), fe_parts, 2},
	{KP_STR("seeded"), fe_parts + 2, 1},
};
static int32_t fe_forgot_parts[] = {1, 2};
static struct kp_fetch_forgotten_topic fe_forgot[] = {
	{KP_STR("old"), fe_forgot_parts, 2},
	{KP_STR("older"), NULL, 0},
};

/* variant 0: a follower's fetch; 1: a consumer's with nothing to fetch */
static bool build_fetch_request(int16_t v, int variant, union kp_request_body *b)
{
	if (variant > 1)
		return false;
	b->fetch = (struct kp_fetch_request){
		.replica_id = variant ? -1 : 2,
		.max_wait_ms = 500,
		.min_bytes = 1,
		.max_bytes = 52428800,
		.isolation_level = variant ? 1 : 0,
		.session_id = 42,
		.session_epoch = 7,
		.topics = variant ? NULL : fe_topics,
		.topics_count = variant ? 0 : 2,
		.forgotten_topics_data = variant ? NULL : fe_forgot,
		.forgotten_topics_data_count = variant ? 0 : 2,
		.rack_id = variant ? KP_STR("") : KP_STR("rack-a"),
	};
	return true;
}

static void check_fetch_request(int16_t v, const union kp_request_body *e_,
				const union kp_request_body *g_)
{
	const struct kp_fetch_request *e = &e_->fetch, *g = &g_->fetch;
	EQ(g->replica_id, e->replica_id);
	EQ(g->max_wait_ms, e->max_wait_ms);
	EQ(g->min_bytes, e->min_bytes);
	EQ(g->max_bytes, e->max_bytes);
	EQ(g->isolation_level, e->isolation_level);
	EQ(g->session_id, v >= 7 ? e->session_id : 0);
	EQ(g->session_epoch, v >= 7 ? e->session_epoch : -1);
	EQ(g->topics_count, e->topics_count);
	for (int32_t i = 0; i < e->topics_count; i++) {
		eq_str(g->topics[i].topic, e->topics[i].topic);
		EQ(g->topics[i].partitions_count, e->topics[i].partitions_count);
		for (int32_t j = 0; j < e->topics[i].partitions_count; j++) {
			const struct kp_fetch_partition *ep = &e->topics[i].partitions[j];
			const struct kp_fetch_partition *gp = &g->topics[i].partitions[j];
			EQ(gp->partition, ep->partition);
			EQ(gp->current_leader_epoch, v >= 9 ? ep->current_leader_epoch : -1);
			EQ(gp->fetch_offset, ep->fetch_offset);
			EQ(gp->log_start_offset, v >= 5 ? ep->log_start_offset : -1);
			EQ(gp->partition_max_bytes, ep->partition_max_bytes);
		}
	}
	if (v >= 7) {
		EQ(g->forgotten_topics_data_count, e->forgotten_topics_data_count);
		for (int32_t i = 0; i < e->forgotten_topics_data_count; i++) {
			eq_str(g->forgotten_topics_data[i].topic,
			       e->forgotten_topics_data[i].topic);
			eq_i32s(g->forgotten_topics_data[i].partitions,
				g->forgotten_topics_data[i].partitions_count,
				e->forgotten_topics_data[i].partitions,
				e->forgotten_topics_data[i].partitions_count);
		}
	} else {
		EQ(g->forgotten_topics_data_count, 0);
	}
	eq_str(g->rack_id, v >= 11 ? e->rack_id : KP_STR(""));
}

static struct kp_fetch_aborted_transaction fe_aborted[] = {{1001, 5}, {1002, 9}};
static struct kp_fetch_partition_data fe_pdata[3];
static struct kp_fetch_topic_response fe_resp_topics[2];

static bool build_fetch_response(int16_t v, int variant, union kp_response_body *b)
{
	if (variant > 1)
		return false;
	fe_pdata[0] = (struct kp_fetch_partition_data){
		0, 0, 3, 3, 0, NULL, -1, -1, {batch_a, batch_a_len}};
	fe_pdata[1] = (struct kp_fetch_partition_data){
		1, KP_ERR_OFFSET_OUT_OF_RANGE, 10, 8, 2, fe_aborted, 2, 2, KP_BYTES_NULL};
	fe_pdata[2] = (struct kp_fetch_partition_data){
		4, KP_ERR_FENCED_LEADER_EPOCH, -1, -1, -1, NULL, 0, -1, {batch_b, 0}};
	fe_resp_topics[0] = (struct kp_fetch_topic_response){KP_STR("seeded"), fe_pdata, 2};
	fe_resp_topics[1] = (struct kp_fetch_topic_response){KP_STR("x"), fe_pdata + 2, 1};
	b->fetch = (struct kp_fetch_response){
		.throttle_time_ms = 3,
		.error_code = variant ? KP_ERR_FETCH_SESSION_ID_NOT_FOUND : 0,
		.session_id = 42,
		.responses = variant ? NULL : fe_resp_topics,
		.responses_count = variant ? 0 : 2,
	};
	return true;
}

static void check_fetch_response(int16_t v, const union kp_response_body *e_,
				 const union kp_response_body *g_)
{
	const struct kp_fetch_response *e = &e_->fetch, *g = &g_->fetch;
	EQ(g->throttle_time_ms, e->throttle_time_ms);
	EQ(g->error_code, v >= 7 ? e->error_code : 0);
	EQ(g->session_id, v >= 7 ? e->session_id : 0);
	EQ(g->responses_count, e->responses_count);
	for (int32_t i = 0; i < e->responses_count; i++) {
		eq_str(g->responses[i].topic, e->responses[i].topic);
		EQ(g->responses[i].partitions_count, e->responses[i].partitions_count);
		for (int32_t j = 0; j < e->responses[i].partitions_count; j++) {
			const struct kp_fetch_partition_data *ep = &e->responses[i].partitions[j];
			const struct kp_fetch_partition_data *gp = &g->responses[i].partitions[j];
			EQ(gp->partition_index, ep->partition_index);
			EQ(gp->error_code, ep->error_code);
			EQ(gp->high_watermark, ep->high_watermark);
			EQ(gp->last_stable_offset, ep->last_stable_offset);
			EQ(gp->log_start_offset, v >= 5 ? ep->log_start_offset : -1);
			EQ(gp->aborted_transactions_count, ep->aborted_transactions_count);
			for (int32_t k = 0; k < ep->aborted_transactions_count; k++) {
				EQ(gp->aborted_transactions[k].producer_id,
				   ep->aborted_transactions[k].producer_id);
				EQ(gp->aborted_transactions[k].first_offset,
				   ep->aborted_transactions[k].first_offset);
			}
			EQ(gp->preferred_read_replica, v >= 11 ? ep->preferred_read_replica : -1);
			eq_bytes(gp->records, ep->records);
		}
	}
}

/* -------------------------------------------------------- ListOffsets */

static struct kp_listoffsets_partition lo_parts[] = {
	{0, KP_LISTOFFSETS_EARLIEST_TIMESTAMP, 1},
	{1, KP_LISTOFFSETS_LATEST_TIMESTAMP, 5},
	{2, 1795822398067, 1},
};
static struct kp_listoffsets_topic lo_topics[] = {
	{KP_STR("seeded"), lo_parts, 2},
	{KP_STR("by-time"), lo_parts + 2, 1},
};

static bool build_listoffsets_request(int16_t v, int variant, union kp_request_body *b)
{
	if (variant > 0)
		return false;
	b->list_offsets = (struct kp_listoffsets_request){-1, 1, lo_topics, 2};
	return true;
}

static void check_listoffsets_request(int16_t v, const union kp_request_body *e_,
				      const union kp_request_body *g_)
{
	const struct kp_listoffsets_request *e = &e_->list_offsets, *g = &g_->list_offsets;
	EQ(g->replica_id, e->replica_id);
	EQ(g->isolation_level, v >= 2 ? e->isolation_level : 0);
	EQ(g->topics_count, e->topics_count);
	for (int32_t i = 0; i < e->topics_count; i++) {
		eq_str(g->topics[i].name, e->topics[i].name);
		EQ(g->topics[i].partitions_count, e->topics[i].partitions_count);
		for (int32_t j = 0; j < e->topics[i].partitions_count; j++) {
			const struct kp_listoffsets_partition *ep = &e->topics[i].partitions[j];
			const struct kp_listoffsets_partition *gp = &g->topics[i].partitions[j];
			EQ(gp->partition_index, ep->partition_index);
			EQ(gp->timestamp, ep->timestamp);
			EQ(gp->max_num_offsets, v == 0 ? ep->max_num_offsets : 1);
		}
	}
}

static int64_t lo_old_offsets[] = {100, 0};
static struct kp_listoffsets_partition_response lo_resp_parts[] = {
	{0, 0, lo_old_offsets, 2, 1795822398067, 100},
	{1, KP_ERR_NOT_LEADER_OR_FOLLOWER, NULL, 0, -1, -1},
};
static struct kp_listoffsets_topic_response lo_resp_topics[] = {
	{KP_STR("seeded"), lo_resp_parts, 2},
};

static bool build_listoffsets_response(int16_t v, int variant, union kp_response_body *b)
{
	if (variant > 0)
		return false;
	b->list_offsets = (struct kp_listoffsets_response){4, lo_resp_topics, 1};
	return true;
}

static void check_listoffsets_response(int16_t v, const union kp_response_body *e_,
				       const union kp_response_body *g_)
{
	const struct kp_listoffsets_response *e = &e_->list_offsets, *g = &g_->list_offsets;
	EQ(g->throttle_time_ms, v >= 2 ? e->throttle_time_ms : 0);
	EQ(g->topics_count, e->topics_count);
	for (int32_t i = 0; i < e->topics_count; i++) {
		eq_str(g->topics[i].name, e->topics[i].name);
		EQ(g->topics[i].partitions_count, e->topics[i].partitions_count);
		for (int32_t j = 0; j < e->topics[i].partitions_count; j++) {
			const struct kp_listoffsets_partition_response *ep =
				&e->topics[i].partitions[j];
			const struct kp_listoffsets_partition_response *gp =
				&g->topics[i].partitions[j];
			EQ(gp->partition_index, ep->partition_index);
			EQ(gp->error_code, ep->error_code);
			if (v == 0) {
				EQ(gp->old_style_offsets_count, ep->old_style_offsets_count);
				for (int32_t k = 0; k < ep->old_style_offsets_count; k++)
					EQ(gp->old_style_offsets[k], ep->old_style_offsets[k]);
			} else {
				EQ(gp->old_style_offsets_count, 0);
			}
			EQ(gp->timestamp, v >= 1 ? ep->timestamp : -1);
			EQ(gp->offset, v >= 1 ? ep->offset : -1);
		}
	}
}

/* ------------------------------------------------------- CreateTopics */

static int32_t ct_brokers_0[] = {1, 2};
static int32_t ct_brokers_1[] = {2, 3};
static struct kp_createtopics_assignment ct_assign[] = {
	{0, ct_brokers_0, 2},
	{1, ct_brokers_1, 2},
	{2, NULL, 0},
};
static struct kp_createtopics_config ct_configs[] = {
	{KP_STR("cleanup.policy"), KP_STR("compact")},
	{KP_STR("retention.ms"), KP_STR_NULL},
	{KP_STR("min.insync.replicas"), KP_STR("")},
};
static struct kp_createtopics_topic ct_topics[] = {
	{KP_STR("new-a"), 3, 2, NULL, 0, ct_configs, 3},
	{KP_STR("new-b"), -1, -1, ct_assign, 3, NULL, 0},
};

static bool build_createtopics_request(int16_t v, int variant, union kp_request_body *b)
{
	if (variant > 0)
		return false;
	b->create_topics = (struct kp_createtopics_request){ct_topics, 2, 60000, true};
	return true;
}

static void check_createtopics_request(int16_t v, const union kp_request_body *e_,
				       const union kp_request_body *g_)
{
	const struct kp_createtopics_request *e = &e_->create_topics, *g = &g_->create_topics;
	EQ(g->topics_count, e->topics_count);
	for (int32_t i = 0; i < e->topics_count; i++) {
		const struct kp_createtopics_topic *et = &e->topics[i], *gt = &g->topics[i];
		eq_str(gt->name, et->name);
		EQ(gt->num_partitions, et->num_partitions);
		EQ(gt->replication_factor, et->replication_factor);
		EQ(gt->assignments_count, et->assignments_count);
		for (int32_t j = 0; j < et->assignments_count; j++) {
			EQ(gt->assignments[j].partition_index, et->assignments[j].partition_index);
			eq_i32s(gt->assignments[j].broker_ids, gt->assignments[j].broker_ids_count,
				et->assignments[j].broker_ids, et->assignments[j].broker_ids_count);
		}
		EQ(gt->configs_count, et->configs_count);
		for (int32_t j = 0; j < et->configs_count; j++) {
			eq_str(gt->configs[j].name, et->configs[j].name);
			eq_str(gt->configs[j].value, et->configs[j].value);
		}
	}
	EQ(g->timeout_ms, e->timeout_ms);
	EQ(g->validate_only, v >= 1 ? e->validate_only : false);
}

static struct kp_createtopics_topic_result ct_results[] = {
	{KP_STR("new-a"), 0, KP_STR_NULL},
	{KP_STR("new-b"), KP_ERR_TOPIC_ALREADY_EXISTS, KP_STR("Topic 'new-b' already exists.")},
};

static bool build_createtopics_response(int16_t v, int variant, union kp_response_body *b)
{
	if (variant > 0)
		return false;
	b->create_topics = (struct kp_createtopics_response){5, ct_results, 2};
	return true;
}

static void check_createtopics_response(int16_t v, const union kp_response_body *e_,
					const union kp_response_body *g_)
{
	const struct kp_createtopics_response *e = &e_->create_topics, *g = &g_->create_topics;
	EQ(g->throttle_time_ms, v >= 2 ? e->throttle_time_ms : 0);
	EQ(g->topics_count, e->topics_count);
	for (int32_t i = 0; i < e->topics_count; i++) {
		eq_str(g->topics[i].name, e->topics[i].name);
		EQ(g->topics[i].error_code, e->topics[i].error_code);
		eq_str(g->topics[i].error_message,
		       v >= 1 ? e->topics[i].error_message : KP_STR_NULL);
	}
}

/* ------------------------------------------------------- DeleteTopics */

static struct kp_str dt_names[] = {KP_STR("a"), KP_STR("b-c"), KP_STR("")};

static bool build_deletetopics_request(int16_t v, int variant, union kp_request_body *b)
{
	if (variant > 1)
		return false;
	b->delete_topics =
		(struct kp_deletetopics_request){variant ? NULL : dt_names, variant ? 0 : 3, 30000};
	return true;
}

static void check_deletetopics_request(int16_t v, const union kp_request_body *e_,
				       const union kp_request_body *g_)
{
	const struct kp_deletetopics_request *e = &e_->delete_topics, *g = &g_->delete_topics;
	EQ(g->topic_names_count, e->topic_names_count);
	for (int32_t i = 0; i < e->topic_names_count; i++)
		eq_str(g->topic_names[i], e->topic_names[i]);
	EQ(g->timeout_ms, e->timeout_ms);
}

static struct kp_deletetopics_topic_result dt_results[] = {
	{KP_STR("a"), 0},
	{KP_STR("b-c"), KP_ERR_UNKNOWN_TOPIC_OR_PARTITION},
};

static bool build_deletetopics_response(int16_t v, int variant, union kp_response_body *b)
{
	if (variant > 0)
		return false;
	b->delete_topics = (struct kp_deletetopics_response){1, dt_results, 2};
	return true;
}

static void check_deletetopics_response(int16_t v, const union kp_response_body *e_,
					const union kp_response_body *g_)
{
	const struct kp_deletetopics_response *e = &e_->delete_topics, *g = &g_->delete_topics;
	EQ(g->throttle_time_ms, v >= 1 ? e->throttle_time_ms : 0);
	EQ(g->responses_count, e->responses_count);
	for (int32_t i = 0; i < e->responses_count; i++) {
		eq_str(g->responses[i].name, e->responses[i].name);
		EQ(g->responses[i].error_code, e->responses[i].error_code);
	}
}

/* ------------------------------------------------------ InitProducerId */

static bool build_initpid_request(int16_t v, int variant, union kp_request_body *b)
{
	if (variant > 1)
		return false;
	b->init_producer_id = (struct kp_initpid_request){
		.transactional_id = variant ? KP_STR_NULL : KP_STR("txn-x"),
		.transaction_timeout_ms = variant ? -1 : 60000,
		.producer_id = variant ? -1 : 1001,
		.producer_epoch = variant ? -1 : 3,
		.tags = variant ? KP_TAGS_EMPTY : tags_one,
	};
	return true;
}

static void check_initpid_request(int16_t v, const union kp_request_body *e_,
				  const union kp_request_body *g_)
{
	const struct kp_initpid_request *e = &e_->init_producer_id, *g = &g_->init_producer_id;
	eq_str(g->transactional_id, e->transactional_id);
	EQ(g->transaction_timeout_ms, e->transaction_timeout_ms);
	EQ(g->producer_id, v >= 3 ? e->producer_id : -1);
	EQ(g->producer_epoch, v >= 3 ? e->producer_epoch : -1);
	eq_tags(g->tags, v >= 2 ? e->tags : KP_TAGS_EMPTY);
}

static bool build_initpid_response(int16_t v, int variant, union kp_response_body *b)
{
	if (variant > 0)
		return false;
	b->init_producer_id = (struct kp_initpid_response){0, 0, 1001, 4, tags_two};
	return true;
}

static void check_initpid_response(int16_t v, const union kp_response_body *e_,
				   const union kp_response_body *g_)
{
	const struct kp_initpid_response *e = &e_->init_producer_id, *g = &g_->init_producer_id;
	EQ(g->throttle_time_ms, e->throttle_time_ms);
	EQ(g->error_code, e->error_code);
	EQ(g->producer_id, e->producer_id);
	EQ(g->producer_epoch, e->producer_epoch);
	eq_tags(g->tags, v >= 2 ? e->tags : KP_TAGS_EMPTY);
}

/* ------------------------------------------------ OffsetForLeaderEpoch */

static struct kp_epoch_partition ep_parts[] = {{0, 5, 4}, {1, 5, 3}, {2, -1, 0}};
static struct kp_epoch_topic ep_topics[] = {
	{KP_STR("orders"), ep_parts, 2},
	{KP_STR("seeded"), ep_parts + 2, 1},
};

static bool build_epoch_request(int16_t v, int variant, union kp_request_body *b)
{
	if (variant > 0)
		return false;
	b->offset_for_leader_epoch = (struct kp_epoch_request){2, ep_topics, 2};
	return true;
}

static void check_epoch_request(int16_t v, const union kp_request_body *e_,
				const union kp_request_body *g_)
{
	const struct kp_epoch_request *e = &e_->offset_for_leader_epoch;
	const struct kp_epoch_request *g = &g_->offset_for_leader_epoch;
	EQ(g->replica_id, v >= 3 ? e->replica_id : KP_EPOCH_REPLICA_DEBUG);
	EQ(g->topics_count, e->topics_count);
	for (int32_t i = 0; i < e->topics_count; i++) {
		eq_str(g->topics[i].topic, e->topics[i].topic);
		EQ(g->topics[i].partitions_count, e->topics[i].partitions_count);
		for (int32_t j = 0; j < e->topics[i].partitions_count; j++) {
			const struct kp_epoch_partition *ep = &e->topics[i].partitions[j];
			const struct kp_epoch_partition *gp = &g->topics[i].partitions[j];
			EQ(gp->partition, ep->partition);
			EQ(gp->current_leader_epoch, v >= 2 ? ep->current_leader_epoch : -1);
			EQ(gp->leader_epoch, ep->leader_epoch);
		}
	}
}

static struct kp_epoch_end_offset ep_ends[] = {
	{0, 0, 4, 100},
	{KP_ERR_FENCED_LEADER_EPOCH, 1, -1, -1},
	{0, 2, 0, 0},
};
static struct kp_epoch_topic_result ep_results[] = {
	{KP_STR("orders"), ep_ends, 2},
	{KP_STR("seeded"), ep_ends + 2, 1},
};

static bool build_epoch_response(int16_t v, int variant, union kp_response_body *b)
{
	if (variant > 0)
		return false;
	b->offset_for_leader_epoch = (struct kp_epoch_response){6, ep_results, 2};
	return true;
}

static void check_epoch_response(int16_t v, const union kp_response_body *e_,
				 const union kp_response_body *g_)
{
	const struct kp_epoch_response *e = &e_->offset_for_leader_epoch;
	const struct kp_epoch_response *g = &g_->offset_for_leader_epoch;
	EQ(g->throttle_time_ms, v >= 2 ? e->throttle_time_ms : 0);
	EQ(g->topics_count, e->topics_count);
	for (int32_t i = 0; i < e->topics_count; i++) {
		eq_str(g->topics[i].topic, e->topics[i].topic);
		EQ(g->topics[i].partitions_count, e->topics[i].partitions_count);
		for (int32_t j = 0; j < e->topics[i].partitions_count; j++) {
			const struct kp_epoch_end_offset *ep = &e->topics[i].partitions[j];
			const struct kp_epoch_end_offset *gp = &g->topics[i].partitions[j];
			EQ(gp->error_code, ep->error_code);
			EQ(gp->partition, ep->partition);
			EQ(gp->leader_epoch, v >= 1 ? ep->leader_epoch : -1);
			EQ(gp->end_offset, ep->end_offset);
		}
	}
}

/* ------------------------------------------------------- the API table */

typedef bool (*build_req_fn)(int16_t v, int variant, union kp_request_body *b);
typedef void (*check_req_fn)(int16_t v, const union kp_request_body *e,
			     const union kp_request_body *g);
typedef bool (*build_resp_fn)(int16_t v, int variant, union kp_response_body *b);
typedef void (*check_resp_fn)(int16_t v, const union kp_response_body *e,
			      const union kp_response_body *g);

struct api_case {
	int16_t ac_key;
	build_req_fn ac_build_req;
	check_req_fn ac_check_req;
	build_resp_fn ac_build_resp;
	check_resp_fn ac_check_resp;
};

static const struct api_case api_cases[] = {
	{KP_API_PRODUCE, build_produce_request, check_produce_request, build_produce_response,
	 check_produce_response},
	{KP_API_FETCH, build_fetch_request, check_fetch_request, build_fetch_response,
	 check_fetch_response},
	{KP_API_LIST_OFFSETS, build_listoffsets_request, check_listoffsets_request,
	 build_listoffsets_response, check_listoffsets_response},
	{KP_API_METADATA, build_metadata_request, check_metadata_request, build_metadata_response,
	 check_metadata_response},
	{KP_API_API_VERSIONS, build_apiversions_request, check_apiversions_request,
	 build_apiversions_response, check_apiversions_response},
	{KP_API_CREATE_TOPICS, build_createtopics_request, check_createtopics_request,
	 build_createtopics_response, check_createtopics_response},
	{KP_API_DELETE_TOPICS, build_deletetopics_request, check_deletetopics_request,
	 build_deletetopics_response, check_deletetopics_response},
	{KP_API_INIT_PRODUCER_ID, build_initpid_request, check_initpid_request,
	 build_initpid_response, check_initpid_response},
	{KP_API_OFFSET_FOR_LEADER_EPOCH, build_epoch_request, check_epoch_request,
	 build_epoch_response, check_epoch_response},
};
#define API_CASES    (sizeof(api_cases) / sizeof(api_cases[0]))
#define MAX_VARIANTS 4

/* ----------------------------------------------------- frame corpus */

/* Every valid frame the tests build or capture, after its size prefix,
 * for the truncation and bit-flip tests. */
struct frame {
	uint8_t *f_buf;
	size_t f_len;
	bool f_request;
	int16_t f_key; /* responses: what the frame answers */
	int16_t f_version;
};

#define MAX_FRAMES 512
static struct frame corpus[MAX_FRAMES];
static size_t corpus_count;
static size_t stat_bodies, stat_request_versions, stat_response_versions;

static void corpus_add(const uint8_t *frame, size_t len, bool request, int16_t key, int16_t v)
{
	assert_true(corpus_count < MAX_FRAMES);
	corpus[corpus_count++] = (struct frame){exact_copy(frame, len), len, request, key, v};
}

/* Seeds for fuzz_request: set KP_WRITE_SEEDS=<dir> to write each request
 * frame built or captured here (after the size prefix) into that dir. */
static void maybe_write_seed(const uint8_t *frame, size_t len, const char *what, int16_t key,
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
	assert_int_equal(fwrite(frame, 1, len, f), len);
	fclose(f);
}

/* ------------------------------------------------------- round trips */

static void roundtrip_request(const struct api_case *ac, int16_t v, int variant,
			      const union kp_request_body *in)
{
	struct kp_writer w, w2;
	kp_writer_init(&w, WRITER_CAP);
	kp_writer_init(&w2, WRITER_CAP);
	struct kp_arena arena;
	struct kp_reader r;
	union kp_request_body out;

	/* body: encode, decode a heap copy of exactly its size, compare,
	 * re-encode to the same bytes */
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
	free(body);

	/* whole frame: size prefix, header, body */
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
	maybe_write_seed(frame, (size_t)size, "built", ac->ac_key, v, variant);
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
	for (size_t c = 0; c < API_CASES; c++) {
		const struct api_case *ac = &api_cases[c];
		const struct kp_api_info *ai = kp_api_info(ac->ac_key);
		assert_non_null(ai);
		assert_true(ai->ai_min_version >= 0);
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
			stat_request_versions++;
			stat_response_versions++;
		}
	}
	print_message("# %zu bodies round-tripped: %zu request and %zu response versions\n",
		      stat_bodies, stat_request_versions, stat_response_versions);
}

/* ------------------------------------------------- captured frames */

struct decoded {
	struct kp_arena d_arena;
	struct kp_reader d_reader;
	struct kp_request_header d_hdr;
	union kp_request_body d_body;
	uint8_t *d_frame;
	size_t d_len;
	int d_rc;
};

/* Decode a captured frame (size prefix included) the way the broker will,
 * and check it re-encodes to exactly the captured bytes. */
static void decode_capture(const uint8_t *cap, size_t cap_len, struct decoded *d)
{
	int32_t size = kp_frame_size(cap, cap_len, 100 * 1024 * 1024);
	assert_int_equal((size_t)size + KP_FRAME_PREFIX_BYTES, cap_len);
	d->d_len = (size_t)size;
	d->d_frame = exact_copy(cap + KP_FRAME_PREFIX_BYTES, d->d_len);
	kp_arena_init(&d->d_arena, arena_mem, sizeof(arena_mem));
	kp_reader_init(&d->d_reader, d->d_frame, d->d_len, &d->d_arena);
	d->d_rc = kp_request_decode(&d->d_reader, &d->d_hdr, &d->d_body);
	maybe_write_seed(d->d_frame, d->d_len, "captured", d->d_hdr.request_api_key,
			 d->d_hdr.request_api_version, (int)d->d_hdr.correlation_id);
	if (d->d_rc == 0) {
		struct kp_writer w;
		kp_writer_init(&w, WRITER_CAP);
		assert_int_equal(kp_request_encode(&w, &d->d_hdr, &d->d_body), 0);
		assert_int_equal(w.kw_len, cap_len);
		assert_memory_equal(w.kw_buf, cap, cap_len);
		kp_writer_deinit(&w);
		corpus_add(d->d_frame, d->d_len, true, d->d_hdr.request_api_key,
			   d->d_hdr.request_api_version);
	}
}

static void check_header(const struct decoded *d, int16_t key, int16_t v, int32_t corr,
			 const char *client_id, int header_version)
{
	EQ(d->d_hdr.request_api_key, key);
	EQ(d->d_hdr.request_api_version, v);
	EQ(d->d_hdr.correlation_id, corr);
	assert_true(kp_str_eq_cstr(d->d_hdr.client_id, client_id));
	EQ(d->d_hdr.header_version, header_version);
}

#define DECODE(cap, d) decode_capture((cap), sizeof(cap), (d))

static void test_capture_apiversions(void **state)
{
	(void)state;
	struct decoded d;
	/* kcat: v3, header v2, client software as compact strings */
	DECODE(cap_kcat_apiversions_v3, &d);
	assert_int_equal(d.d_rc, 0);
	check_header(&d, KP_API_API_VERSIONS, 3, 1, "rdkafka", 2);
	const struct kp_apiversions_request *av = &d.d_body.api_versions;
	assert_true(kp_str_eq_cstr(av->client_software_name, "librdkafka"));
	assert_true(kp_str_eq_cstr(av->client_software_version, "2.0.2"));
	assert_int_equal(av->tags.len, 0);
	assert_true(kp_apiversions_software_valid(av->client_software_name));
	assert_true(kp_apiversions_software_valid(av->client_software_version));
	free(d.d_frame);
	/* kafka-python: v0, empty body */
	DECODE(cap_py_apiversions_v0, &d);
	assert_int_equal(d.d_rc, 0);
	check_header(&d, KP_API_API_VERSIONS, 0, 1, "kafka-python-2.0.2", 1);
	assert_int_equal(d.d_len, 28);
	free(d.d_frame);

	assert_false(kp_apiversions_software_valid(KP_STR("")));
	assert_false(kp_apiversions_software_valid(KP_STR("-lead")));
	assert_false(kp_apiversions_software_valid(KP_STR("trail.")));
	assert_false(kp_apiversions_software_valid(KP_STR("sp ace")));
	assert_true(kp_apiversions_software_valid(KP_STR("a")));
	assert_true(kp_apiversions_software_valid(KP_STR("confluent-kafka-python")));
}

static void test_capture_metadata(void **state)
{
	(void)state;
	struct decoded d;
	const struct kp_metadata_request *m = &d.d_body.metadata;

	DECODE(cap_kcat_metadata_v4_empty, &d); /* kcat -L: brokers only */
	assert_int_equal(d.d_rc, 0);
	check_header(&d, KP_API_METADATA, 4, 2, "rdkafka", 1);
	assert_int_equal(m->topics_count, 0);
	assert_false(m->allow_auto_topic_creation);
	assert_false(kp_metadata_wants_all_topics(4, m));
	free(d.d_frame);

	DECODE(cap_kcat_metadata_v4_null, &d); /* kcat -L: all topics */
	assert_int_equal(d.d_rc, 0);
	check_header(&d, KP_API_METADATA, 4, 3, "rdkafka", 1);
	assert_int_equal(m->topics_count, -1);
	assert_null(m->topics);
	assert_true(m->allow_auto_topic_creation);
	assert_true(kp_metadata_wants_all_topics(4, m));
	free(d.d_frame);

	DECODE(cap_kcat_metadata_v4_seeded, &d); /* consumer: no auto-create */
	assert_int_equal(d.d_rc, 0);
	assert_int_equal(m->topics_count, 1);
	assert_true(kp_str_eq_cstr(m->topics[0].name, "seeded"));
	assert_false(m->allow_auto_topic_creation);
	free(d.d_frame);

	DECODE(cap_kcat_metadata_v4_t1, &d); /* producer: auto-create */
	assert_int_equal(d.d_rc, 0);
	assert_int_equal(m->topics_count, 1);
	assert_true(kp_str_eq_cstr(m->topics[0].name, "t1"));
	assert_true(m->allow_auto_topic_creation);
	free(d.d_frame);

	DECODE(cap_py_metadata_v0_empty, &d); /* the probe: v0 empty = all */
	assert_int_equal(d.d_rc, 0);
	check_header(&d, KP_API_METADATA, 0, 2, "kafka-python-2.0.2", 1);
	assert_int_equal(m->topics_count, 0);
	assert_true(m->allow_auto_topic_creation); /* v0 default */
	assert_true(kp_metadata_wants_all_topics(0, m));
	free(d.d_frame);

	DECODE(cap_py_metadata_v1_seeded, &d);
	assert_int_equal(d.d_rc, 0);
	check_header(&d, KP_API_METADATA, 1, 3, "kafka-python-2.0.2", 1);
	assert_int_equal(m->topics_count, 1);
	assert_true(kp_str_eq_cstr(m->topics[0].name, "seeded"));
	assert_false(kp_metadata_wants_all_topics(1, m));
	free(d.d_frame);

	DECODE(cap_py_metadata_v1_null, &d);
	assert_int_equal(d.d_rc, 0);
	check_header(&d, KP_API_METADATA, 1, 3, "kafka-python-producer-1", 1);
	assert_int_equal(m->topics_count, -1);
	assert_true(kp_metadata_wants_all_topics(1, m));
	free(d.d_frame);
}

static void check_one_listoffsets(const struct kp_listoffsets_request *lo)
{
	assert_int_equal(lo->replica_id, -1);
	assert_int_equal(lo->topics_count, 1);
	assert_true(kp_str_eq_cstr(lo->topics[0].name, "seeded"));
	assert_int_equal(lo->topics[0].partitions_count, 1);
	assert_int_equal(lo->topics[0].partitions[0].partition_index, 0);
	assert_true(lo->topics[0].partitions[0].timestamp == KP_LISTOFFSETS_EARLIEST_TIMESTAMP);
	assert_int_equal(lo->topics[0].partitions[0].max_num_offsets, 1);
}

static void test_capture_listoffsets(void **state)
{
	(void)state;
	struct decoded d;
	DECODE(cap_kcat_listoffsets_v2, &d);
	assert_int_equal(d.d_rc, 0);
	check_header(&d, KP_API_LIST_OFFSETS, 2, 4, "rdkafka", 1);
	check_one_listoffsets(&d.d_body.list_offsets);
	assert_int_equal(d.d_body.list_offsets.isolation_level, 1); /* read_committed */
	free(d.d_frame);

	DECODE(cap_py_listoffsets_v1, &d);
	assert_int_equal(d.d_rc, 0);
	check_header(&d, KP_API_LIST_OFFSETS, 1, 1, "kafka-python-2.0.2", 1);
	check_one_listoffsets(&d.d_body.list_offsets);
	assert_int_equal(d.d_body.list_offsets.isolation_level, 0); /* not in v1 */
	free(d.d_frame);
}

static void test_capture_fetch(void **state)
{
	(void)state;
	struct decoded d;
	const struct kp_fetch_request *f = &d.d_body.fetch;

	/* kcat: replica -1, maxWait 500, minBytes 1, maxBytes 52428800, iso 1,
	 * session 0/-1, rack '', seeded[0]: cle -1, off 3, lso -1, pmb 1048576 */
	DECODE(cap_kcat_fetch_v11, &d);
	assert_int_equal(d.d_rc, 0);
	check_header(&d, KP_API_FETCH, 11, 6, "rdkafka", 1);
	assert_int_equal(f->replica_id, -1);
	assert_int_equal(f->max_wait_ms, 500);
	assert_int_equal(f->min_bytes, 1);
	assert_int_equal(f->max_bytes, 52428800);
	assert_int_equal(f->isolation_level, 1);
	assert_int_equal(f->session_id, 0);
	assert_int_equal(f->session_epoch, -1);
	assert_int_equal(f->topics_count, 1);
	assert_true(kp_str_eq_cstr(f->topics[0].topic, "seeded"));
	assert_int_equal(f->topics[0].partitions_count, 1);
	const struct kp_fetch_partition *p = &f->topics[0].partitions[0];
	assert_int_equal(p->partition, 0);
	assert_int_equal(p->current_leader_epoch, -1);
	assert_true(p->fetch_offset == 3);
	assert_true(p->log_start_offset == -1);
	assert_int_equal(p->partition_max_bytes, 1048576);
	assert_int_equal(f->forgotten_topics_data_count, 0);
	assert_true(kp_str_eq_cstr(f->rack_id, ""));
	free(d.d_frame);

	/* kafka-python: v4, iso 0, no session/rack/epochs in the version */
	DECODE(cap_py_fetch_v4, &d);
	assert_int_equal(d.d_rc, 0);
	check_header(&d, KP_API_FETCH, 4, 2, "kafka-python-2.0.2", 1);
	assert_int_equal(f->replica_id, -1);
	assert_int_equal(f->max_wait_ms, 500);
	assert_int_equal(f->min_bytes, 1);
	assert_int_equal(f->max_bytes, 52428800);
	assert_int_equal(f->isolation_level, 0);
	assert_int_equal(f->session_id, 0);
	assert_int_equal(f->session_epoch, -1);
	assert_int_equal(f->topics_count, 1);
	assert_true(kp_str_eq_cstr(f->topics[0].topic, "seeded"));
	p = &f->topics[0].partitions[0];
	assert_int_equal(p->partition, 0);
	assert_int_equal(p->current_leader_epoch, -1);
	assert_true(p->fetch_offset == 0);
	assert_true(p->log_start_offset == -1);
	assert_int_equal(p->partition_max_bytes, 1048576);
	free(d.d_frame);
}

static void test_capture_initpid(void **state)
{
	(void)state;
	struct decoded d;
	/* kcat idempotent producer: txn None, timeout -1, pid -1, epoch -1 */
	DECODE(cap_kcat_initpid_v4, &d);
	assert_int_equal(d.d_rc, 0);
	check_header(&d, KP_API_INIT_PRODUCER_ID, 4, 3, "rdkafka", 2);
	const struct kp_initpid_request *ip = &d.d_body.init_producer_id;
	assert_int_equal(ip->transactional_id.len, -1);
	assert_int_equal(ip->transaction_timeout_ms, -1);
	assert_true(ip->producer_id == -1);
	assert_int_equal(ip->producer_epoch, -1);
	assert_int_equal(ip->tags.len, 0);
	EQ(kp_response_header_version(KP_API_INIT_PRODUCER_ID, 4), 1);
	free(d.d_frame);
}

/* The group APIs have codecs (kp_group.h; their own tests are in
 * test_kp_group.c): the captured frames decode whole, headers included,
 * and re-encode byte for byte (decode_capture). */
static void test_capture_group_apis(void **state)
{
	(void)state;
	struct decoded d;
	DECODE(cap_kcat_findcoordinator_v2, &d);
	assert_int_equal(d.d_rc, 0);
	check_header(&d, KP_API_FIND_COORDINATOR, 2, 3, "rdkafka", 1);
	assert_true(kp_str_eq_cstr(d.d_body.find_coordinator.key, "grp1"));
	free(d.d_frame);

	DECODE(cap_py_findcoordinator_v0, &d);
	assert_int_equal(d.d_rc, 0);
	check_header(&d, KP_API_FIND_COORDINATOR, 0, 3, "kafka-python-2.0.2", 1);
	free(d.d_frame);

	DECODE(cap_kcat_heartbeat_v3, &d);
	assert_int_equal(d.d_rc, 0);
	check_header(&d, KP_API_HEARTBEAT, 3, 7, "rdkafka", 1);
	assert_int_equal(d.d_body.heartbeat.generation_id, 1);
	free(d.d_frame);

	/* flexible (OffsetFetch v6+): header v2, compact body */
	DECODE(cap_kcat_offsetfetch_v7, &d);
	assert_int_equal(d.d_rc, 0);
	check_header(&d, KP_API_OFFSET_FETCH, 7, 7, "rdkafka", 2);
	assert_true(d.d_reader.kr_flexible);
	assert_true(d.d_body.offset_fetch.require_stable);
	free(d.d_frame);
}

/* Produce bodies were cut at 96 bytes in the capture: rebuild the whole
 * frame around a batch from log/batch_builder and check (1) the rebuilt
 * frame has the captured length and starts with the captured 96 bytes,
 * CRC included, (2) it decodes to what the log says, (3) the broker can
 * stamp the batch in place through the decoded view. */
static void check_produce_capture(const char *client_id, int32_t corr, int16_t acks,
				  const uint8_t *batch, int32_t batch_len, const uint8_t *prefix96,
				  size_t frame_len, uint32_t crc, int32_t records_count)
{
	uint8_t batch_copy[256];
	memcpy(batch_copy, batch, (size_t)batch_len);
	struct kp_produce_partition_data pd = {0, {batch_copy, batch_len}};
	struct kp_produce_topic_data td = {KP_STR("t1"), &pd, 1};
	union kp_request_body body = {.produce = {KP_STR_NULL, acks, 30000, &td, 1}};
	struct kp_request_header h = {0, 7, corr, kp_str_from_cstr(client_id), KP_TAGS_EMPTY, 1};
	struct kp_writer w;
	kp_writer_init(&w, WRITER_CAP);
	assert_int_equal(kp_request_encode(&w, &h, &body), 0);
	assert_int_equal(w.kw_len, frame_len);
	size_t body_off = KP_FRAME_PREFIX_BYTES + 10 + strlen(client_id);
	assert_memory_equal(w.kw_buf + body_off, prefix96, 96);

	struct decoded d;
	decode_capture(w.kw_buf, w.kw_len, &d);
	assert_int_equal(d.d_rc, 0);
	check_header(&d, KP_API_PRODUCE, 7, corr, client_id, 1);
	const struct kp_produce_request *pr = &d.d_body.produce;
	assert_int_equal(pr->transactional_id.len, -1);
	assert_int_equal(pr->acks, acks);
	assert_int_equal(pr->timeout_ms, 30000);
	assert_int_equal(pr->topic_data_count, 1);
	assert_true(kp_str_eq_cstr(pr->topic_data[0].name, "t1"));
	assert_int_equal(pr->topic_data[0].partition_data_count, 1);
	assert_int_equal(pr->topic_data[0].partition_data[0].index, 0);
	struct kp_records rec = pr->topic_data[0].partition_data[0].records;
	assert_int_equal(rec.len, batch_len);
	struct batch_header bh;
	assert_true(batch_validate(rec.ptr, (size_t)rec.len, &bh) == batch_len);
	assert_true(bh.bh_crc == crc);
	assert_int_equal(bh.bh_records_count, records_count);
	assert_true(bh.bh_producer_id == -1);
	assert_int_equal(bh.bh_partition_leader_epoch, 0);
	/* stamp in place, through the view, inside the frame buffer */
	assert_true(rec.ptr >= d.d_frame && rec.ptr + rec.len <= d.d_frame + d.d_len);
	batch_set_base_offset(rec.ptr, 4242);
	batch_set_leader_epoch(rec.ptr, 7);
	assert_true(batch_validate(rec.ptr, (size_t)rec.len, &bh) == batch_len);
	assert_true(bh.bh_base_offset == 4242);
	assert_int_equal(bh.bh_partition_leader_epoch, 7);
	free(d.d_frame);
	kp_writer_deinit(&w);
}

static void test_capture_produce(void **state)
{
	(void)state;
	/* kcatP: acks=-1 timeout=30000, t1[0] 85 bytes crc f76d1e65, 3 records */
	assert_int_equal(batch_a_len, 85);
	check_produce_capture("rdkafka", 3, -1, batch_a, batch_a_len, cap_kcat_produce_v7_body96,
			      134, 0xf76d1e65, 3);
	/* pyP: acks=1 timeout=30000, t1[0] 84 bytes crc 65433fb8, 1 record */
	assert_int_equal(batch_b_len, 84);
	check_produce_capture("kafka-python-producer-1", 2, 1, batch_b, batch_b_len,
			      cap_py_produce_v7_body96, 149, 0x65433fb8, 1);
}

/* ------------------------------------------------- headers and table */

/* The decoded client id is a view into the copy, so the copy lives until
 * the next call (or header_bytes_done). */
static uint8_t *header_copy;

static void header_bytes_done(void)
{
	free(header_copy);
	header_copy = NULL;
}

static int decode_header_bytes(const uint8_t *bytes, size_t len, struct kp_request_header *h,
			       size_t *remaining)
{
	header_bytes_done();
	header_copy = exact_copy(bytes, len);
	struct kp_reader r;
	kp_reader_init(&r, header_copy, len, NULL);
	int rc = kp_request_header_decode(&r, h);
	*remaining = kp_reader_remaining(&r);
	return rc;
}

static void test_header_unsupported(void **state)
{
	(void)state;
	struct kp_request_header h;
	size_t rem;
	/* an api key Kafka does not have (99), with a client id and 1 body byte */
	static const uint8_t unknown[] = {0, 99, 0, 1, 0, 0, 0, 5, 0, 1, 'c', 0xee};
	assert_int_equal(decode_header_bytes(unknown, sizeof(unknown), &h, &rem),
			 KP_EUNSUPPORTED_API);
	EQ(h.request_api_key, 99);
	EQ(h.request_api_version, 1);
	EQ(h.correlation_id, 5);
	assert_true(kp_str_eq_cstr(h.client_id, "c"));
	assert_int_equal(rem, 1);
	/* a negative api key */
	static const uint8_t negative[] = {0xff, 0xff, 0, 0, 0, 0, 0, 6, 0xff, 0xff};
	assert_int_equal(decode_header_bytes(negative, sizeof(negative), &h, &rem),
			 KP_EUNSUPPORTED_API);
	EQ(h.request_api_key, -1);
	EQ(h.correlation_id, 6);
	assert_int_equal(h.client_id.len, -1);
	/* ApiVersions v4 (newer client): header v2, answered with error 35 */
	static const uint8_t av4[] = {0, 18, 0, 4, 0, 0, 0, 1, 0, 1, 'x', 0, 2, 'a', 2, 'b', 0};
	assert_int_equal(decode_header_bytes(av4, sizeof(av4), &h, &rem), KP_EUNSUPPORTED_VERSION);
	EQ(h.request_api_version, 4);
	EQ(h.header_version, 2);
	assert_int_equal(rem, 5);
	/* Fetch v12 (flexible, above our range): header v2 with a tag */
	static const uint8_t fetch12[] = {0, 1, 0, 12, 0, 0, 0, 9, 0, 0, 1, 0, 1, 7, 0xaa};
	assert_int_equal(decode_header_bytes(fetch12, sizeof(fetch12), &h, &rem),
			 KP_EUNSUPPORTED_VERSION);
	EQ(h.header_version, 2);
	assert_int_equal(h.tags.len, 4);
	assert_int_equal(rem, 1);
	/* Produce v2 (magic 0/1 era): header v1 */
	static const uint8_t produce2[] = {0, 0, 0, 2, 0, 0, 0, 9, 0xff, 0xff};
	assert_int_equal(decode_header_bytes(produce2, sizeof(produce2), &h, &rem),
			 KP_EUNSUPPORTED_VERSION);
	EQ(h.header_version, 1);
	/* shorter than 8 bytes: nothing to answer */
	for (size_t len = 0; len < 8; len++)
		assert_int_equal(decode_header_bytes(produce2, len, &h, &rem), KP_ETRUNCATED);
	/* 8 bytes but no client id: truncated, yet key/version/corr are known */
	assert_int_equal(decode_header_bytes(produce2, 8, &h, &rem), KP_ETRUNCATED);
	EQ(h.request_api_key, 0);
	EQ(h.correlation_id, 9);
	/* a client id length below -1 */
	static const uint8_t bad_cid[] = {0, 3, 0, 1, 0, 0, 0, 9, 0xff, 0xfe};
	assert_int_equal(decode_header_bytes(bad_cid, sizeof(bad_cid), &h, &rem), KP_EMALFORMED);
	EQ(h.request_api_key, 3);
	EQ(h.correlation_id, 9);
	header_bytes_done();
}

static void test_response_headers(void **state)
{
	(void)state;
	uint8_t out[32];
	struct kp_writer w;
	const struct kp_response_header h = {77, KP_TAGS_EMPTY};
	/* ApiVersions v3: v0 header (no tag byte) */
	kp_writer_init_fixed(&w, out, sizeof(out));
	kp_response_header_encode(&w, KP_API_API_VERSIONS, 3, &h);
	assert_int_equal(w.kw_len, 4);
	/* InitProducerId v4: v1 header (tag byte) */
	kp_writer_reset(&w);
	kp_response_header_encode(&w, KP_API_INIT_PRODUCER_ID, 4, &h);
	assert_int_equal(w.kw_len, 5);
	/* Metadata v8: v0 */
	kp_writer_reset(&w);
	kp_response_header_encode(&w, KP_API_METADATA, 8, &h);
	assert_int_equal(w.kw_len, 4);
	/* request header encode picks v2 for flexible versions */
	const struct kp_request_header rh = {KP_API_INIT_PRODUCER_ID, 2, 1, KP_STR("c"),
					     KP_TAGS_EMPTY,	      0};
	kp_writer_reset(&w);
	kp_request_header_encode(&w, &rh);
	static const uint8_t expect[] = {0, 22, 0, 2, 0, 0, 0, 1, 0, 1, 'c', 0};
	assert_int_equal(w.kw_len, sizeof(expect));
	assert_memory_equal(out, expect, sizeof(expect));
}

static void test_api_table(void **state)
{
	(void)state;
	/* the version matrix */
	static const struct {
		int16_t key, min, max;
	} matrix[] = {
		{KP_API_PRODUCE, 3, 7},		 {KP_API_FETCH, 4, 11},
		{KP_API_LIST_OFFSETS, 0, 2},	 {KP_API_METADATA, 0, 8},
		{KP_API_OFFSET_COMMIT, 2, 7},	 {KP_API_OFFSET_FETCH, 1, 7},
		{KP_API_FIND_COORDINATOR, 0, 2}, {KP_API_JOIN_GROUP, 2, 5},
		{KP_API_HEARTBEAT, 0, 3},	 {KP_API_LEAVE_GROUP, 0, 1},
		{KP_API_SYNC_GROUP, 0, 3},	 {KP_API_DESCRIBE_GROUPS, 0, 2},
		{KP_API_LIST_GROUPS, 0, 2},	 {KP_API_API_VERSIONS, 0, 3},
		{KP_API_CREATE_TOPICS, 0, 4},	 {KP_API_DELETE_TOPICS, 0, 3},
		{KP_API_INIT_PRODUCER_ID, 0, 4}, {KP_API_OFFSET_FOR_LEADER_EPOCH, 0, 3},
		{KP_API_DELETE_GROUPS, 0, 1},
	};
	for (size_t i = 0; i < sizeof(matrix) / sizeof(matrix[0]); i++) {
		assert_false(kp_api_version_supported(matrix[i].key, matrix[i].min - 1));
		assert_true(kp_api_version_supported(matrix[i].key, matrix[i].min));
		assert_true(kp_api_version_supported(matrix[i].key, matrix[i].max));
		assert_false(kp_api_version_supported(matrix[i].key, matrix[i].max + 1));
	}
	const struct kp_api_info *rows[KP_API_KEY_COUNT];
	assert_int_equal(kp_api_supported(rows, KP_API_KEY_COUNT),
			 sizeof(matrix) / sizeof(matrix[0]));
	/* flexible versions are implemented only where the codec does them */
	for (size_t i = 0; i < sizeof(matrix) / sizeof(matrix[0]); i++) {
		const struct kp_api_info *ai = rows[i];
		bool has_flexible = ai->ai_max_version >= ai->ai_first_flexible;
		assert_true(!has_flexible || ai->ai_api_key == KP_API_API_VERSIONS ||
			    ai->ai_api_key == KP_API_INIT_PRODUCER_ID ||
			    ai->ai_api_key == KP_API_OFFSET_FETCH);
	}
	/* header rules */
	EQ(kp_request_header_version(KP_API_API_VERSIONS, 2), 1);
	EQ(kp_request_header_version(KP_API_API_VERSIONS, 3), 2);
	EQ(kp_response_header_version(KP_API_API_VERSIONS, 3), 0);
	EQ(kp_request_header_version(KP_API_INIT_PRODUCER_ID, 1), 1);
	EQ(kp_request_header_version(KP_API_INIT_PRODUCER_ID, 2), 2);
	EQ(kp_response_header_version(KP_API_INIT_PRODUCER_ID, 2), 1);
	EQ(kp_request_header_version(KP_API_FETCH, 11), 1);
	EQ(kp_request_header_version(KP_API_FETCH, 12), 2);
	EQ(kp_request_header_version(KP_API_OFFSET_FETCH, 6), 2);
	EQ(kp_request_header_version(KP_API_SASL_HANDSHAKE, 1), 1);
	EQ(kp_request_header_version(999, 5), 1);
	assert_string_equal(kp_api_name(KP_API_OFFSET_FOR_LEADER_EPOCH), "OffsetForLeaderEpoch");
	assert_string_equal(kp_api_name(999), "Unknown");
	assert_string_equal(kp_api_name(-1), "Unknown");
	/* error names */
	assert_string_equal(kp_error_name(KP_ERR_NONE), "NONE");
	assert_string_equal(kp_error_name(-1), "UNKNOWN_SERVER_ERROR");
	assert_string_equal(kp_error_name(35), "UNSUPPORTED_VERSION");
	assert_string_equal(kp_error_name(6), "NOT_LEADER_OR_FOLLOWER");
	assert_string_equal(kp_error_name(74), "FENCED_LEADER_EPOCH");
	assert_string_equal(kp_error_name(90), "PRODUCER_FENCED");
	assert_string_equal(kp_error_name(109), "OFFSET_MOVED_TO_TIERED_STORAGE");
	assert_string_equal(kp_error_name(91), "UNKNOWN_ERROR_CODE");
	assert_string_equal(kp_error_name(-2), "UNKNOWN_ERROR_CODE");
	assert_string_equal(kp_error_name(32767), "UNKNOWN_ERROR_CODE");
	for (int16_t c = -1; c <= 90; c++)
		assert_string_not_equal(kp_error_name(c), "UNKNOWN_ERROR_CODE");
	/* ApiVersions rows for the broker */
	struct kp_apiversions_api_version av[KP_API_KEY_COUNT];
	size_t n = kp_apiversions_fill_supported(av, KP_API_KEY_COUNT);
	assert_int_equal(n, sizeof(matrix) / sizeof(matrix[0]));
	for (size_t i = 0; i < n; i++) {
		EQ(av[i].api_key, matrix[i].key);
		EQ(av[i].min_version, matrix[i].min);
		EQ(av[i].max_version, matrix[i].max);
	}
	assert_int_equal(kp_apiversions_fill_supported(av, 2), n);
}

/* --------------------------------------------- refusals, edge cases */

static void test_versions_outside_range_refused(void **state)
{
	(void)state;
	static const struct {
		int16_t key, version;
	} outside[] = {
		{KP_API_PRODUCE, 2},
		{KP_API_PRODUCE, 8},
		{KP_API_FETCH, 3},
		{KP_API_FETCH, 12},
		{KP_API_LIST_OFFSETS, 3},
		{KP_API_METADATA, 9},
		{KP_API_METADATA, -1},
		{KP_API_API_VERSIONS, 4},
		{KP_API_CREATE_TOPICS, 5},
		{KP_API_DELETE_TOPICS, 4},
		{KP_API_INIT_PRODUCER_ID, 5},
		{KP_API_OFFSET_FOR_LEADER_EPOCH, 4},
	};
	uint8_t bytes[16] = {0};
	for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
		union kp_request_body req;
		union kp_response_body resp;
		memset(&req, 0, sizeof(req));
		memset(&resp, 0, sizeof(resp));
		struct kp_reader r;
		kp_reader_init(&r, bytes, sizeof(bytes), NULL);
		assert_int_equal(
			kp_request_body_decode(&r, outside[i].key, outside[i].version, &req),
			KP_EUNSUPPORTED_VERSION);
		kp_reader_init(&r, bytes, sizeof(bytes), NULL);
		assert_int_equal(
			kp_response_body_decode(&r, outside[i].key, outside[i].version, &resp),
			KP_EUNSUPPORTED_VERSION);
		struct kp_writer w;
		kp_writer_init(&w, 1024);
		assert_int_equal(
			kp_request_body_encode(&w, outside[i].key, outside[i].version, &req),
			KP_EUNSUPPORTED_VERSION);
		kp_writer_reset(&w);
		assert_int_equal(
			kp_response_body_encode(&w, outside[i].key, outside[i].version, &resp),
			KP_EUNSUPPORTED_VERSION);
		kp_writer_deinit(&w);
	}
	struct kp_reader r;
	kp_reader_init(&r, bytes, sizeof(bytes), NULL);
	union kp_request_body req;
	assert_int_equal(kp_request_body_decode(&r, KP_API_SASL_HANDSHAKE, 1, &req),
			 KP_EUNSUPPORTED_API);
}

static void test_null_vs_empty_metadata(void **state)
{
	(void)state;
	struct kp_writer w;
	kp_writer_init(&w, 1024);
	/* v0 cannot carry null: refused on encode and decode */
	struct kp_metadata_request null_topics = {NULL, -1, true, false, false};
	assert_int_equal(kp_metadata_request_encode(&w, 0, &null_topics), KP_EINVAL);
	uint8_t null_v0[] = {0xff, 0xff, 0xff, 0xff};
	struct kp_reader r;
	struct kp_metadata_request m;
	kp_reader_init(&r, null_v0, sizeof(null_v0), NULL);
	assert_int_equal(kp_metadata_request_decode(&r, 0, &m), KP_EMALFORMED);
	/* v1: the same bytes are "all topics" */
	kp_reader_init(&r, null_v0, sizeof(null_v0), NULL);
	assert_int_equal(kp_metadata_request_decode(&r, 1, &m), 0);
	assert_int_equal(m.topics_count, -1);
	/* null and empty encode differently in v1 */
	kp_writer_reset(&w);
	assert_int_equal(kp_metadata_request_encode(&w, 1, &null_topics), 0);
	struct kp_metadata_request empty = {NULL, 0, true, false, false};
	assert_int_equal(kp_metadata_request_encode(&w, 1, &empty), 0);
	static const uint8_t expect[] = {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0};
	assert_int_equal(w.kw_len, sizeof(expect));
	assert_memory_equal(w.kw_buf, expect, sizeof(expect));
	assert_true(kp_metadata_wants_all_topics(0, &empty));
	assert_false(kp_metadata_wants_all_topics(1, &empty));
	kp_writer_deinit(&w);
}

static void test_trailing_garbage_reported(void **state)
{
	(void)state;
	/* kafka-python's Metadata v1 body plus one stray byte */
	uint8_t body[] = {0, 0, 0, 1, 0, 6, 's', 'e', 'e', 'd', 'e', 'd', 0x00};
	struct kp_arena arena;
	kp_arena_init(&arena, arena_mem, sizeof(arena_mem));
	struct kp_reader r;
	kp_reader_init(&r, body, sizeof(body), &arena);
	struct kp_metadata_request m;
	assert_int_equal(kp_metadata_request_decode(&r, 1, &m), KP_ETRAILING);
	/* the struct is complete all the same */
	assert_int_equal(m.topics_count, 1);
	assert_true(kp_str_eq_cstr(m.topics[0].name, "seeded"));
}

static void test_message_arena_exhaustion(void **state)
{
	(void)state;
	union kp_response_body in;
	assert_true(build_metadata_response(8, 0, &in));
	struct kp_writer w;
	kp_writer_init(&w, WRITER_CAP);
	assert_int_equal(kp_metadata_response_encode(&w, 8, &in.metadata), 0);
	/* too small an arena for the brokers and topics arrays */
	static uint8_t small[96];
	for (size_t size = 0; size <= sizeof(small); size += 8) {
		struct kp_arena arena;
		kp_arena_init(&arena, small, size);
		struct kp_reader r;
		kp_reader_init(&r, w.kw_buf, w.kw_len, &arena);
		struct kp_metadata_response m;
		assert_int_equal(kp_metadata_response_decode(&r, 8, &m), KP_EARENA);
		assert_true(kp_arena_used(&arena) <= size);
	}
	kp_writer_deinit(&w);
}

static void test_encode_refuses_impossible(void **state)
{
	(void)state;
	struct kp_writer w;
	kp_writer_init(&w, 4096);
	/* a count without elements */
	struct kp_produce_request pr = {KP_STR_NULL, 1, 100, NULL, 2};
	assert_int_equal(kp_produce_request_encode(&w, 7, &pr), KP_EINVAL);
	/* a null non-nullable string (topic name) */
	kp_writer_reset(&w);
	struct kp_deletetopics_request dt = {(struct kp_str[]){KP_STR_NULL}, 1, 100};
	assert_int_equal(kp_deletetopics_request_encode(&w, 1, &dt), KP_EINVAL);
	/* a non-nullable array given as null */
	kp_writer_reset(&w);
	struct kp_fetch_request fr = {0};
	fr.topics_count = -1;
	assert_int_equal(kp_fetch_request_encode(&w, 4, &fr), KP_EINVAL);
	/* the writer cap */
	kp_writer_deinit(&w);
	kp_writer_init(&w, 10);
	union kp_response_body in;
	assert_true(build_metadata_response(8, 0, &in));
	assert_int_equal(kp_metadata_response_encode(&w, 8, &in.metadata), KP_ETOO_LARGE);
	kp_writer_deinit(&w);
}

/* ------------------------------------ truncations and random damage */

static int decode_frame(const struct frame *f, const uint8_t *bytes, size_t len, uint8_t **keep)
{
	static struct kp_arena arena;
	struct kp_reader r;
	uint8_t *buf = exact_copy(bytes, len);
	kp_arena_init(&arena, arena_mem, sizeof(arena_mem));
	kp_reader_init(&r, buf, len, &arena);
	int rc;
	if (f->f_request) {
		struct kp_request_header h;
		union kp_request_body b;
		rc = kp_request_decode(&r, &h, &b);
		if (rc == 0) {
			/* re-encode, decode again, encode again: the same bytes */
			struct kp_writer w1, w2;
			kp_writer_init(&w1, WRITER_CAP);
			kp_writer_init(&w2, WRITER_CAP);
			assert_int_equal(kp_request_encode(&w1, &h, &b), 0);
			static uint8_t arena2_mem[ARENA_BYTES];
			struct kp_arena arena2;
			kp_arena_init(&arena2, arena2_mem, sizeof(arena2_mem));
			struct kp_reader r2;
			kp_reader_init(&r2, w1.kw_buf + 4, w1.kw_len - 4, &arena2);
			assert_int_equal(kp_request_decode(&r2, &h, &b), 0);
			assert_int_equal(kp_request_encode(&w2, &h, &b), 0);
			assert_int_equal(w1.kw_len, w2.kw_len);
			assert_memory_equal(w1.kw_buf, w2.kw_buf, w1.kw_len);
			kp_writer_deinit(&w1);
			kp_writer_deinit(&w2);
		}
	} else {
		struct kp_response_header h;
		union kp_response_body b;
		rc = kp_response_decode(&r, f->f_key, f->f_version, &h, &b);
		if (rc == 0) {
			struct kp_writer w1, w2;
			kp_writer_init(&w1, WRITER_CAP);
			kp_writer_init(&w2, WRITER_CAP);
			assert_int_equal(kp_response_encode(&w1, f->f_key, f->f_version, &h, &b),
					 0);
			static uint8_t arena2_mem[ARENA_BYTES];
			struct kp_arena arena2;
			kp_arena_init(&arena2, arena2_mem, sizeof(arena2_mem));
			struct kp_reader r2;
			kp_reader_init(&r2, w1.kw_buf + 4, w1.kw_len - 4, &arena2);
			assert_int_equal(kp_response_decode(&r2, f->f_key, f->f_version, &h, &b),
					 0);
			assert_int_equal(kp_response_encode(&w2, f->f_key, f->f_version, &h, &b),
					 0);
			assert_int_equal(w1.kw_len, w2.kw_len);
			assert_memory_equal(w1.kw_buf, w2.kw_buf, w1.kw_len);
			kp_writer_deinit(&w1);
			kp_writer_deinit(&w2);
		}
	}
	if (keep)
		*keep = buf;
	else
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
		assert_int_equal(decode_frame(f, f->f_buf, f->f_len, NULL), 0);
		for (size_t len = 0; len < f->f_len; len++) {
			int rc = decode_frame(f, f->f_buf, len, NULL);
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
	uint64_t seed = tu_seed(0x6b70f1a5);
	uint64_t s = seed;
	size_t iterations = 20000, decoded_ok = 0;
	for (size_t it = 0; it < iterations; it++) {
		const struct frame *f = &corpus[tu_rand(&s) % corpus_count];
		uint8_t *buf = exact_copy(f->f_buf, f->f_len);
		int flips = 1 + (int)(tu_rand(&s) % 4);
		for (int k = 0; k < flips && f->f_len; k++)
			buf[tu_rand(&s) % f->f_len] ^= (uint8_t)(1 + tu_rand(&s) % 255);
		/* sometimes cut or extend too */
		size_t len = f->f_len;
		if (tu_rand(&s) % 8 == 0 && len)
			len = tu_rand(&s) % len;
		int rc = decode_frame(f, buf, len, NULL);
		assert_true(rc <= 0);
		if (rc == 0)
			decoded_ok++;
		free(buf);
	}
	print_message("# seed 0x%llx: %zu damaged frames, %zu still decoded (and re-encoded "
		      "stably)\n",
		      (unsigned long long)seed, iterations, decoded_ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_every_version),
		cmocka_unit_test(test_capture_apiversions),
		cmocka_unit_test(test_capture_metadata),
		cmocka_unit_test(test_capture_listoffsets),
		cmocka_unit_test(test_capture_fetch),
		cmocka_unit_test(test_capture_initpid),
		cmocka_unit_test(test_capture_group_apis),
		cmocka_unit_test(test_capture_produce),
		cmocka_unit_test(test_header_unsupported),
		cmocka_unit_test(test_response_headers),
		cmocka_unit_test(test_api_table),
		cmocka_unit_test(test_versions_outside_range_refused),
		cmocka_unit_test(test_null_vs_empty_metadata),
		cmocka_unit_test(test_trailing_garbage_reported),
		cmocka_unit_test(test_message_arena_exhaustion),
		cmocka_unit_test(test_encode_refuses_impossible),
		/* these two use the frames collected by the tests above */
		cmocka_unit_test(test_every_truncation_refused),
		cmocka_unit_test(test_random_flips_never_crash),
	};
	return cmocka_run_group_tests(tests, setup_fixtures, NULL);
}
