/*
 * kp_topics — the topic admin APIs: CreateTopics (api key 19, versions 0-4)
 * and DeleteTopics (api key 20, versions 0-3), requests and responses.
 * Prefixes: kp_createtopics_*, kp_deletetopics_*.
 *
 * librdkafka's admin API sends CreateTopics up to v4 and DeleteTopics up to
 * v1; kafka-python's KafkaAdminClient negotiates up to v3 of both. Per-topic
 * configs (CreateTopics configs[]) are name/value pairs, value nullable.
 *
 * Conventions and outcomes as in kp_metadata.h.
 */
#ifndef REPLOG_KP_TOPICS_H
#define REPLOG_KP_TOPICS_H

#include <stdbool.h>
#include <stdint.h>

#include "kp_codec.h"

struct kp_createtopics_assignment {
	int32_t partition_index;
	int32_t *broker_ids;
	int32_t broker_ids_count;
};

struct kp_createtopics_config {
	struct kp_str name;
	struct kp_str value; /* nullable */
};

struct kp_createtopics_topic {
	struct kp_str name;
	int32_t num_partitions;	    /* -1 = broker default (v4+), or with assignments */
	int16_t replication_factor; /* -1 = broker default (v4+), or with assignments */
	struct kp_createtopics_assignment *assignments;
	int32_t assignments_count;
	struct kp_createtopics_config *configs;
	int32_t configs_count;
};

struct kp_createtopics_request {
	struct kp_createtopics_topic *topics;
	int32_t topics_count;
	int32_t timeout_ms;
	bool validate_only; /* v1+; default false */
};

struct kp_createtopics_topic_result {
	struct kp_str name;
	int16_t error_code;
	struct kp_str error_message; /* v1+, nullable; default null */
};

struct kp_createtopics_response {
	int32_t throttle_time_ms; /* v2+; default 0 */
	struct kp_createtopics_topic_result *topics;
	int32_t topics_count;
};

struct kp_deletetopics_request {
	struct kp_str *topic_names;
	int32_t topic_names_count;
	int32_t timeout_ms;
};

struct kp_deletetopics_topic_result {
	struct kp_str name;
	int16_t error_code;
};

struct kp_deletetopics_response {
	int32_t throttle_time_ms; /* v1+; default 0 */
	struct kp_deletetopics_topic_result *responses;
	int32_t responses_count;
};

int kp_createtopics_request_decode(struct kp_reader *r, int16_t version,
				   struct kp_createtopics_request *req);
int kp_createtopics_request_encode(struct kp_writer *w, int16_t version,
				   const struct kp_createtopics_request *req);
int kp_createtopics_response_decode(struct kp_reader *r, int16_t version,
				    struct kp_createtopics_response *resp);
int kp_createtopics_response_encode(struct kp_writer *w, int16_t version,
				    const struct kp_createtopics_response *resp);

int kp_deletetopics_request_decode(struct kp_reader *r, int16_t version,
				   struct kp_deletetopics_request *req);
int kp_deletetopics_request_encode(struct kp_writer *w, int16_t version,
				   const struct kp_deletetopics_request *req);
int kp_deletetopics_response_decode(struct kp_reader *r, int16_t version,
				    struct kp_deletetopics_response *resp);
int kp_deletetopics_response_encode(struct kp_writer *w, int16_t version,
				    const struct kp_deletetopics_response *resp);

#endif
