/*
 * kp_epoch — OffsetForLeaderEpoch (api key 23), versions 0-3: request and
 * response. Prefix kp_epoch_*.
 *
 * "What is the end offset of leader epoch E?": the start offset of the
 * first epoch above E, or the log end offset if E is the current epoch.
 * A follower asks its new leader this after a leader change and truncates
 * its log where the answer and its own history diverge (KIP-101/279);
 * consumers use it to detect truncation (KIP-320). DESIGN.md §4's replication
 * uses v3 (replica_id) between brokers.
 *
 * Conventions and outcomes as in kp_metadata.h.
 */
#ifndef REPLOG_KP_EPOCH_H
#define REPLOG_KP_EPOCH_H

#include <stdint.h>

#include "kp_codec.h"

/* replica_id values other than a broker id. */
#define KP_EPOCH_REPLICA_CONSUMER (-1)
#define KP_EPOCH_REPLICA_DEBUG	  (-2) /* Kafka's default before v3 */

struct kp_epoch_partition {
	int32_t partition;
	int32_t current_leader_epoch; /* v2+; default -1 = not checked */
	int32_t leader_epoch;	      /* the epoch whose end offset is asked for */
};

struct kp_epoch_topic {
	struct kp_str topic;
	struct kp_epoch_partition *partitions;
	int32_t partitions_count;
};

struct kp_epoch_request {
	int32_t replica_id; /* v3+; default KP_EPOCH_REPLICA_DEBUG */
	struct kp_epoch_topic *topics;
	int32_t topics_count;
};

struct kp_epoch_end_offset {
	int16_t error_code;
	int32_t partition;
	int32_t leader_epoch; /* v1+; default -1 */
	int64_t end_offset;   /* -1 when unknown */
};

struct kp_epoch_topic_result {
	struct kp_str topic;
	struct kp_epoch_end_offset *partitions;
	int32_t partitions_count;
};

struct kp_epoch_response {
	int32_t throttle_time_ms; /* v2+; default 0 */
	struct kp_epoch_topic_result *topics;
	int32_t topics_count;
};

int kp_epoch_request_decode(struct kp_reader *r, int16_t version, struct kp_epoch_request *req);
int kp_epoch_request_encode(struct kp_writer *w, int16_t version,
			    const struct kp_epoch_request *req);
int kp_epoch_response_decode(struct kp_reader *r, int16_t version, struct kp_epoch_response *resp);
int kp_epoch_response_encode(struct kp_writer *w, int16_t version,
			     const struct kp_epoch_response *resp);

#endif
