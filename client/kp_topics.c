/*
 * kp_topics — CreateTopics v0-4 and DeleteTopics v0-3 (classic encodings;
 * CreateTopics is flexible from v5, DeleteTopics from v4). Layout, per
 * Kafka's CreateTopics* / DeleteTopics* .json:
 *
 * CreateTopics request
 *   topics         [name string, num_partitions int32, replication_factor int16,
 *                   assignments [partition_index int32, broker_ids [int32]],
 *                   configs [name string, value nullable string]]
 *   timeout_ms     int32
 *   validate_only  bool                                   v1+
 * CreateTopics response
 *   throttle_time_ms int32                                v2+
 *   topics         [name string, error_code int16,
 *                   error_message nullable string (v1+)]
 *
 * DeleteTopics request
 *   topic_names    [string]
 *   timeout_ms     int32
 * DeleteTopics response
 *   throttle_time_ms int32                                v1+
 *   responses      [name string, error_code int16]
 */
#include "kp_topics.h"

#include "kp_api.h"

#define MIN_CREATE_TOPIC 16 /* name, partitions, rf, two counts */
#define MIN_ASSIGNMENT	 8  /* index, broker count */
#define MIN_CONFIG	 4  /* name, value */
#define MIN_RESULT	 4  /* name, error_code */

/* ------------------------------------------------------- CreateTopics */

static void decode_create_topic(struct kp_reader *r, struct kp_createtopics_topic *t)
{
	t->name = kp_read_string(r);
	t->num_partitions = kp_read_int32(r);
	t->replication_factor = kp_read_int16(r);
	t->assignments = kp_read_struct_array(r, false, MIN_ASSIGNMENT, sizeof(*t->assignments),
					      &t->assignments_count);
	for (int32_t i = 0; i < t->assignments_count && !r->kr_err; i++) {
		struct kp_createtopics_assignment *a = &t->assignments[i];
		a->partition_index = kp_read_int32(r);
		a->broker_ids = kp_read_int32_array(r, false, &a->broker_ids_count);
	}
	t->configs =
		kp_read_struct_array(r, false, MIN_CONFIG, sizeof(*t->configs), &t->configs_count);
	for (int32_t i = 0; i < t->configs_count && !r->kr_err; i++) {
		t->configs[i].name = kp_read_string(r);
		t->configs[i].value = kp_read_nullable_string(r);
	}
}

int kp_createtopics_request_decode(struct kp_reader *r, int16_t version,
				   struct kp_createtopics_request *req)
{
	if (kp_api_begin_decode(r, KP_API_CREATE_TOPICS, version))
		return r->kr_err;
	req->topics = kp_read_struct_array(r, false, MIN_CREATE_TOPIC, sizeof(*req->topics),
					   &req->topics_count);
	for (int32_t i = 0; i < req->topics_count && !r->kr_err; i++)
		decode_create_topic(r, &req->topics[i]);
	req->timeout_ms = kp_read_int32(r);
	req->validate_only = version >= 1 ? kp_read_bool(r) : false;
	return kp_reader_finish(r);
}

static void encode_create_topic(struct kp_writer *w, const struct kp_createtopics_topic *t)
{
	kp_write_string(w, t->name);
	kp_write_int32(w, t->num_partitions);
	kp_write_int16(w, t->replication_factor);
	kp_write_array_begin(w, t->assignments, t->assignments_count, false);
	for (int32_t i = 0; i < t->assignments_count && !w->kw_err; i++) {
		kp_write_int32(w, t->assignments[i].partition_index);
		kp_write_int32_array(w, false, t->assignments[i].broker_ids,
				     t->assignments[i].broker_ids_count);
	}
	kp_write_array_begin(w, t->configs, t->configs_count, false);
	for (int32_t i = 0; i < t->configs_count && !w->kw_err; i++) {
		kp_write_string(w, t->configs[i].name);
		kp_write_nullable_string(w, t->configs[i].value);
	}
}

int kp_createtopics_request_encode(struct kp_writer *w, int16_t version,
				   const struct kp_createtopics_request *req)
{
	if (kp_api_begin_encode(w, KP_API_CREATE_TOPICS, version))
		return w->kw_err;
	kp_write_array_begin(w, req->topics, req->topics_count, false);
	for (int32_t i = 0; i < req->topics_count && !w->kw_err; i++)
		encode_create_topic(w, &req->topics[i]);
	kp_write_int32(w, req->timeout_ms);
	if (version >= 1)
		kp_write_bool(w, req->validate_only);
	return w->kw_err;
}

int kp_createtopics_response_decode(struct kp_reader *r, int16_t version,
				    struct kp_createtopics_response *resp)
{
	if (kp_api_begin_decode(r, KP_API_CREATE_TOPICS, version))
		return r->kr_err;
	resp->throttle_time_ms = version >= 2 ? kp_read_int32(r) : 0;
	resp->topics = kp_read_struct_array(r, false, MIN_RESULT, sizeof(*resp->topics),
					    &resp->topics_count);
	for (int32_t i = 0; i < resp->topics_count && !r->kr_err; i++) {
		struct kp_createtopics_topic_result *t = &resp->topics[i];
		t->name = kp_read_string(r);
		t->error_code = kp_read_int16(r);
		t->error_message = version >= 1 ? kp_read_nullable_string(r) : KP_STR_NULL;
	}
	return kp_reader_finish(r);
}

int kp_createtopics_response_encode(struct kp_writer *w, int16_t version,
				    const struct kp_createtopics_response *resp)
{
	if (kp_api_begin_encode(w, KP_API_CREATE_TOPICS, version))
		return w->kw_err;
	if (version >= 2)
		kp_write_int32(w, resp->throttle_time_ms);
	kp_write_array_begin(w, resp->topics, resp->topics_count, false);
	for (int32_t i = 0; i < resp->topics_count && !w->kw_err; i++) {
		const struct kp_createtopics_topic_result *t = &resp->topics[i];
		kp_write_string(w, t->name);
		kp_write_int16(w, t->error_code);
		if (version >= 1)
			kp_write_nullable_string(w, t->error_message);
	}
	return w->kw_err;
}

/* ------------------------------------------------------- DeleteTopics */

int kp_deletetopics_request_decode(struct kp_reader *r, int16_t version,
				   struct kp_deletetopics_request *req)
{
	if (kp_api_begin_decode(r, KP_API_DELETE_TOPICS, version))
		return r->kr_err;
	req->topic_names = kp_read_string_array(r, false, &req->topic_names_count);
	req->timeout_ms = kp_read_int32(r);
	return kp_reader_finish(r);
}

int kp_deletetopics_request_encode(struct kp_writer *w, int16_t version,
				   const struct kp_deletetopics_request *req)
{
	if (kp_api_begin_encode(w, KP_API_DELETE_TOPICS, version))
		return w->kw_err;
	kp_write_string_array(w, false, req->topic_names, req->topic_names_count);
	kp_write_int32(w, req->timeout_ms);
	return w->kw_err;
}

int kp_deletetopics_response_decode(struct kp_reader *r, int16_t version,
				    struct kp_deletetopics_response *resp)
{
	if (kp_api_begin_decode(r, KP_API_DELETE_TOPICS, version))
		return r->kr_err;
	resp->throttle_time_ms = version >= 1 ? kp_read_int32(r) : 0;
	resp->responses = kp_read_struct_array(r, false, MIN_RESULT, sizeof(*resp->responses),
					       &resp->responses_count);
	for (int32_t i = 0; i < resp->responses_count && !r->kr_err; i++) {
		resp->responses[i].name = kp_read_string(r);
		resp->responses[i].error_code = kp_read_int16(r);
	}
	return kp_reader_finish(r);
}

int kp_deletetopics_response_encode(struct kp_writer *w, int16_t version,
				    const struct kp_deletetopics_response *resp)
{
	if (kp_api_begin_encode(w, KP_API_DELETE_TOPICS, version))
		return w->kw_err;
	if (version >= 1)
		kp_write_int32(w, resp->throttle_time_ms);
	kp_write_array_begin(w, resp->responses, resp->responses_count, false);
	for (int32_t i = 0; i < resp->responses_count && !w->kw_err; i++) {
		kp_write_string(w, resp->responses[i].name);
		kp_write_int16(w, resp->responses[i].error_code);
	}
	return w->kw_err;
}
