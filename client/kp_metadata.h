/*
 * kp_metadata — Metadata (api key 3), versions 0-8: request and response.
 *
 * Decoders fill the caller's struct: strings are views into the frame,
 * arrays come from the reader's arena; both live as long as those do.
 * Fields a version does not carry are not written by the encoders and are
 * set to Kafka's defaults by the decoders (noted per field).
 *
 * Outcomes of every function here: 0; KP_EUNSUPPORTED_VERSION; for decoders
 * KP_ETRUNCATED, KP_EMALFORMED, KP_EARENA, or KP_ETRAILING when the body
 * decoded but bytes follow it (the struct is then complete); for encoders
 * KP_EINVAL (e.g. a null topic list in v0) or the writer's KP_ETOO_LARGE /
 * -ENOMEM.
 */
#ifndef REPLOG_KP_METADATA_H
#define REPLOG_KP_METADATA_H

#include <stdbool.h>
#include <stdint.h>

#include "kp_codec.h"

struct kp_metadata_request_topic {
	struct kp_str name;
};

struct kp_metadata_request {
	/* -1 = null = all topics (v1+ only). In v0 the array is not nullable
	 * and an empty one means all topics: see kp_metadata_wants_all_topics(). */
	struct kp_metadata_request_topic *topics;
	int32_t topics_count;
	bool allow_auto_topic_creation;		    /* v4+; default true */
	bool include_cluster_authorized_operations; /* v8+; default false */
	bool include_topic_authorized_operations;   /* v8+; default false */
};

struct kp_metadata_response_broker {
	int32_t node_id;
	struct kp_str host;
	int32_t port;
	struct kp_str rack; /* v1+, nullable; default null */
};

struct kp_metadata_response_partition {
	int16_t error_code;
	int32_t partition_index;
	int32_t leader_id;    /* -1 = no leader */
	int32_t leader_epoch; /* v7+; default -1 */
	int32_t *replica_nodes;
	int32_t replica_nodes_count;
	int32_t *isr_nodes;
	int32_t isr_nodes_count;
	int32_t *offline_replicas; /* v5+; default empty */
	int32_t offline_replicas_count;
};

struct kp_metadata_response_topic {
	int16_t error_code;
	struct kp_str name;
	bool is_internal; /* v1+; default false */
	struct kp_metadata_response_partition *partitions;
	int32_t partitions_count;
	int32_t topic_authorized_operations; /* v8+; default INT32_MIN */
};

struct kp_metadata_response {
	int32_t throttle_time_ms; /* v3+; default 0 */
	struct kp_metadata_response_broker *brokers;
	int32_t brokers_count;
	struct kp_str cluster_id; /* v2+, nullable; default null */
	int32_t controller_id;	  /* v1+; default -1 */
	struct kp_metadata_response_topic *topics;
	int32_t topics_count;
	int32_t cluster_authorized_operations; /* v8+; default INT32_MIN */
};

int kp_metadata_request_decode(struct kp_reader *r, int16_t version,
			       struct kp_metadata_request *req);
int kp_metadata_request_encode(struct kp_writer *w, int16_t version,
			       const struct kp_metadata_request *req);
int kp_metadata_response_decode(struct kp_reader *r, int16_t version,
				struct kp_metadata_response *resp);
int kp_metadata_response_encode(struct kp_writer *w, int16_t version,
				const struct kp_metadata_response *resp);

/* True when the request asks for every topic: a null list (v1+), or an
 * empty one in v0. */
bool kp_metadata_wants_all_topics(int16_t version, const struct kp_metadata_request *req);

#endif
