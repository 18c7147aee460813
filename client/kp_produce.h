/*
 * kp_produce — Produce (api key 0), versions 3-7: request and response.
 *
 * v3 is the first version that carries RecordBatch v2 (magic 2) only, which
 * is all replog stores; v0-2 (magic 0/1 MessageSets) are not offered. The
 * record set is kept as a writable view into the request frame: the broker
 * validates the batches (log/batch.h) and stamps baseOffset and
 * partitionLeaderEpoch in place, then appends the same bytes.
 *
 * Conventions and outcomes as in kp_metadata.h.
 */
#ifndef REPLOG_KP_PRODUCE_H
#define REPLOG_KP_PRODUCE_H

#include <stdint.h>

#include "kp_codec.h"

struct kp_produce_partition_data {
	int32_t index;
	struct kp_records records; /* nullable; batches back to back */
};

struct kp_produce_topic_data {
	struct kp_str name;
	struct kp_produce_partition_data *partition_data;
	int32_t partition_data_count;
};

struct kp_produce_request {
	struct kp_str transactional_id; /* nullable */
	int16_t acks;			/* 0, 1 or -1 (all ISR); 0 gets no response */
	int32_t timeout_ms;
	struct kp_produce_topic_data *topic_data;
	int32_t topic_data_count;
};

struct kp_produce_partition_response {
	int32_t index;
	int16_t error_code;
	int64_t base_offset;
	int64_t log_append_time_ms; /* -1 unless the topic uses LogAppendTime */
	int64_t log_start_offset;   /* v5+; default -1 */
};

struct kp_produce_topic_response {
	struct kp_str name;
	struct kp_produce_partition_response *partition_responses;
	int32_t partition_responses_count;
};

struct kp_produce_response {
	struct kp_produce_topic_response *responses;
	int32_t responses_count;
	int32_t throttle_time_ms; /* last field, not first */
};

/* The request decoder needs r over a writable frame (it always is). */
int kp_produce_request_decode(struct kp_reader *r, int16_t version, struct kp_produce_request *req);
int kp_produce_request_encode(struct kp_writer *w, int16_t version,
			      const struct kp_produce_request *req);
int kp_produce_response_decode(struct kp_reader *r, int16_t version,
			       struct kp_produce_response *resp);
int kp_produce_response_encode(struct kp_writer *w, int16_t version,
			       const struct kp_produce_response *resp);

#endif
