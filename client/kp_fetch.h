/*
 * kp_fetch — Fetch (api key 1), versions 4-11: request and response.
 *
 * Consumers send replica_id -1; followers send their broker id (replog's
 * replication uses the same request, with current_leader_epoch for
 * fencing). v4 is the first version of the RecordBatch v2 era (and adds
 * isolation_level); v11 is what librdkafka 2.0.2 sends, v4 what
 * kafka-python 2.0.2 sends. The response's record set is a read-only view
 * of the frame (raw log bytes: whole batches, the last possibly cut short).
 *
 * Conventions and outcomes as in kp_metadata.h.
 */
#ifndef REPLOG_KP_FETCH_H
#define REPLOG_KP_FETCH_H

#include <stdint.h>

#include "kp_codec.h"

struct kp_fetch_partition {
	int32_t partition;
	int32_t current_leader_epoch; /* v9+; default -1 = not checked */
	int64_t fetch_offset;
	int64_t log_start_offset; /* v5+; default -1 (followers only) */
	int32_t partition_max_bytes;
};

struct kp_fetch_topic {
	struct kp_str topic;
	struct kp_fetch_partition *partitions;
	int32_t partitions_count;
};

struct kp_fetch_forgotten_topic {
	struct kp_str topic;
	int32_t *partitions;
	int32_t partitions_count;
};

struct kp_fetch_request {
	int32_t replica_id; /* -1 = consumer, >= 0 = follower broker id */
	int32_t max_wait_ms;
	int32_t min_bytes;
	int32_t max_bytes;	/* v3+ (all versions here) */
	int8_t isolation_level; /* 0 read_uncommitted, 1 read_committed */
	int32_t session_id;	/* v7+; default 0 */
	int32_t session_epoch;	/* v7+; default -1 */
	struct kp_fetch_topic *topics;
	int32_t topics_count;
	struct kp_fetch_forgotten_topic *forgotten_topics_data; /* v7+; default empty */
	int32_t forgotten_topics_data_count;
	struct kp_str rack_id; /* v11+; default "" */
};

struct kp_fetch_aborted_transaction {
	int64_t producer_id;
	int64_t first_offset;
};

struct kp_fetch_partition_data {
	int32_t partition_index;
	int16_t error_code;
	int64_t high_watermark;
	int64_t last_stable_offset; /* v4+ (all versions here) */
	int64_t log_start_offset;   /* v5+; default -1 */
	/* v4+, nullable: -1 = null */
	struct kp_fetch_aborted_transaction *aborted_transactions;
	int32_t aborted_transactions_count;
	int32_t preferred_read_replica; /* v11+; default -1 */
	struct kp_bytes records;	/* nullable */
};

struct kp_fetch_topic_response {
	struct kp_str topic;
	struct kp_fetch_partition_data *partitions;
	int32_t partitions_count;
};

struct kp_fetch_response {
	int32_t throttle_time_ms; /* v1+ (all versions here) */
	int16_t error_code;	  /* v7+; default 0 */
	int32_t session_id;	  /* v7+; default 0 */
	struct kp_fetch_topic_response *responses;
	int32_t responses_count;
};

int kp_fetch_request_decode(struct kp_reader *r, int16_t version, struct kp_fetch_request *req);
int kp_fetch_request_encode(struct kp_writer *w, int16_t version,
			    const struct kp_fetch_request *req);
int kp_fetch_response_decode(struct kp_reader *r, int16_t version, struct kp_fetch_response *resp);
int kp_fetch_response_encode(struct kp_writer *w, int16_t version,
			     const struct kp_fetch_response *resp);

#endif
