/*
 * kp_listoffsets — ListOffsets (api key 2), versions 0-2: request and
 * response. kafka-python sends v1, librdkafka 2.0.2 v2 (with
 * isolation_level 1). Timestamps -2 = earliest, -1 = latest (the high
 * watermark, or the last stable offset for read_committed).
 *
 * Conventions and outcomes as in kp_metadata.h.
 */
#ifndef REPLOG_KP_LISTOFFSETS_H
#define REPLOG_KP_LISTOFFSETS_H

#include <stdint.h>

#include "kp_codec.h"

#define KP_LISTOFFSETS_EARLIEST_TIMESTAMP (-2)
#define KP_LISTOFFSETS_LATEST_TIMESTAMP	  (-1)

struct kp_listoffsets_partition {
	int32_t partition_index;
	int64_t timestamp;
	int32_t max_num_offsets; /* v0 only; default 1 */
};

struct kp_listoffsets_topic {
	struct kp_str name;
	struct kp_listoffsets_partition *partitions;
	int32_t partitions_count;
};

struct kp_listoffsets_request {
	int32_t replica_id;
	int8_t isolation_level; /* v2+; default 0 */
	struct kp_listoffsets_topic *topics;
	int32_t topics_count;
};

struct kp_listoffsets_partition_response {
	int32_t partition_index;
	int16_t error_code;
	int64_t *old_style_offsets; /* v0 only; default empty */
	int32_t old_style_offsets_count;
	int64_t timestamp; /* v1+; default -1 */
	int64_t offset;	   /* v1+; default -1 */
};

struct kp_listoffsets_topic_response {
	struct kp_str name;
	struct kp_listoffsets_partition_response *partitions;
	int32_t partitions_count;
};

struct kp_listoffsets_response {
	int32_t throttle_time_ms; /* v2+; default 0 */
	struct kp_listoffsets_topic_response *topics;
	int32_t topics_count;
};

int kp_listoffsets_request_decode(struct kp_reader *r, int16_t version,
				  struct kp_listoffsets_request *req);
int kp_listoffsets_request_encode(struct kp_writer *w, int16_t version,
				  const struct kp_listoffsets_request *req);
int kp_listoffsets_response_decode(struct kp_reader *r, int16_t version,
				   struct kp_listoffsets_response *resp);
int kp_listoffsets_response_encode(struct kp_writer *w, int16_t version,
				   const struct kp_listoffsets_response *resp);

#endif
