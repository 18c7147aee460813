/*
 * kp_group — the consumer-group APIs, requests and responses, at the
 * versions the Debian clients send (KAFKA_PROTOCOL.md §0, §3) with the
 * recommended headroom:
 *
 *   10 FindCoordinator  v0-2   kp_findcoordinator_*
 *   11 JoinGroup        v2-5   kp_joingroup_*
 *   12 Heartbeat        v0-3   kp_heartbeat_*
 *   13 LeaveGroup       v0-1   kp_leavegroup_*
 *   14 SyncGroup        v0-3   kp_syncgroup_*
 *    8 OffsetCommit     v2-7   kp_offsetcommit_*
 *    9 OffsetFetch      v1-7   kp_offsetfetch_*   (v6-7 flexible)
 *   16 ListGroups       v0-2   kp_listgroups_*
 *   15 DescribeGroups   v0-2   kp_describegroups_*
 *
 * librdkafka 2.0.2 sends FindCoordinator v2, JoinGroup v5, SyncGroup v3,
 * Heartbeat v3, LeaveGroup v1, OffsetCommit v7 and OffsetFetch v7;
 * kafka-python 2.0.2 sends FindCoordinator v0, JoinGroup v2, SyncGroup,
 * Heartbeat and LeaveGroup v1, OffsetCommit v2 and OffsetFetch v1. Only
 * OffsetFetch v6-7 is flexible within these ranges: compact strings and
 * arrays, a tagged-field section after every struct (the `tags` members),
 * request header v2 and response header v1. Every other version here is
 * classic. The byte layouts are in kp_group.c.
 *
 * The broker relays the group protocol's metadata and assignment bytes
 * (the assignor runs in the clients), so those stay opaque kp_bytes views.
 *
 * Decoders fill the caller's struct: strings and bytes are views into the
 * frame, arrays come from the reader's arena; both live as long as those
 * do. Fields a version does not carry are not written by the encoders and
 * are set to Kafka's defaults by the decoders (noted per field). Counts of
 * -1 mean null and are allowed only where a field says "nullable".
 *
 * Outcomes of every function here: 0; KP_EUNSUPPORTED_VERSION outside the
 * range above; for decoders KP_ETRUNCATED, KP_EMALFORMED, KP_EARENA, or
 * KP_ETRAILING when the body decoded but bytes follow it (the struct is
 * then complete); for encoders KP_EINVAL (a null where the version cannot
 * carry one, a count > 0 without elements, a string above KP_STRING_MAX)
 * or the writer's KP_ETOO_LARGE / -ENOMEM.
 */
#ifndef REPLOG_KP_GROUP_H
#define REPLOG_KP_GROUP_H

#include <stdbool.h>
#include <stdint.h>

#include "kp_codec.h"

/* ----------------------------------------------------- FindCoordinator */

/* key_type values. */
#define KP_COORDINATOR_GROUP	   0
#define KP_COORDINATOR_TRANSACTION 1

struct kp_findcoordinator_request {
	struct kp_str key; /* the group id (or transactional id) */
	int8_t key_type;   /* v1+; default KP_COORDINATOR_GROUP */
};

/* Errors: COORDINATOR_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS. */
struct kp_findcoordinator_response {
	int32_t throttle_time_ms; /* v1+; default 0 */
	int16_t error_code;
	struct kp_str error_message; /* v1+, nullable; default null */
	int32_t node_id;
	struct kp_str host;
	int32_t port;
};

/* ----------------------------------------------------------- JoinGroup */

struct kp_joingroup_protocol {
	struct kp_str name;	  /* assignor: "range", "roundrobin", ... */
	struct kp_bytes metadata; /* the member's subscription, opaque */
};

struct kp_joingroup_request {
	struct kp_str group_id;
	int32_t session_timeout_ms;
	int32_t rebalance_timeout_ms;	 /* v1+ (always, in our range) */
	struct kp_str member_id;	 /* "" on the first join */
	struct kp_str group_instance_id; /* v5+, nullable; default null (dynamic member) */
	struct kp_str protocol_type;	 /* "consumer" */
	struct kp_joingroup_protocol *protocols;
	int32_t protocols_count;
};

struct kp_joingroup_member {
	struct kp_str member_id;
	struct kp_str group_instance_id; /* v5+, nullable; default null */
	struct kp_bytes metadata;
};

/* v4+: a first join with an empty member_id is answered with
 * MEMBER_ID_REQUIRED and the member id to rejoin with. members[] is filled
 * only in the leader's response. */
struct kp_joingroup_response {
	int32_t throttle_time_ms; /* v2+ (always, in our range) */
	int16_t error_code;
	int32_t generation_id;	     /* -1 with an error */
	struct kp_str protocol_name; /* not nullable before v7 */
	struct kp_str leader;
	struct kp_str member_id;
	struct kp_joingroup_member *members;
	int32_t members_count;
};

/* ----------------------------------------------------------- Heartbeat */

struct kp_heartbeat_request {
	struct kp_str group_id;
	int32_t generation_id;
	struct kp_str member_id;
	struct kp_str group_instance_id; /* v3+, nullable; default null */
};

/* REBALANCE_IN_PROGRESS tells the member to rejoin. */
struct kp_heartbeat_response {
	int32_t throttle_time_ms; /* v1+; default 0 */
	int16_t error_code;
};

/* ---------------------------------------------------------- LeaveGroup */

struct kp_leavegroup_request {
	struct kp_str group_id;
	struct kp_str member_id;
};

struct kp_leavegroup_response {
	int32_t throttle_time_ms; /* v1+; default 0 */
	int16_t error_code;
};

/* ----------------------------------------------------------- SyncGroup */

struct kp_syncgroup_assignment {
	struct kp_str member_id;
	struct kp_bytes assignment; /* opaque to the broker */
};

struct kp_syncgroup_request {
	struct kp_str group_id;
	int32_t generation_id;
	struct kp_str member_id;
	struct kp_str group_instance_id;	     /* v3+, nullable; default null */
	struct kp_syncgroup_assignment *assignments; /* only the leader sends any */
	int32_t assignments_count;
};

struct kp_syncgroup_response {
	int32_t throttle_time_ms; /* v1+; default 0 */
	int16_t error_code;
	struct kp_bytes assignment; /* this member's, from the leader */
};

/* -------------------------------------------------------- OffsetCommit */

struct kp_offsetcommit_partition {
	int32_t partition_index;
	int64_t committed_offset;
	int32_t committed_leader_epoch;	  /* v6+; default -1 */
	struct kp_str committed_metadata; /* nullable */
};

struct kp_offsetcommit_topic {
	struct kp_str name;
	struct kp_offsetcommit_partition *partitions;
	int32_t partitions_count;
};

/* generation_id -1 with an empty member_id is a "simple" commit from a
 * consumer outside any group (assign()). */
struct kp_offsetcommit_request {
	struct kp_str group_id;
	int32_t generation_id;
	struct kp_str member_id;
	struct kp_str group_instance_id; /* v7+, nullable; default null */
	int64_t retention_time_ms;	 /* v2-4; default -1 = the broker's */
	struct kp_offsetcommit_topic *topics;
	int32_t topics_count;
};

struct kp_offsetcommit_partition_result {
	int32_t partition_index;
	int16_t error_code;
};

struct kp_offsetcommit_topic_result {
	struct kp_str name;
	struct kp_offsetcommit_partition_result *partitions;
	int32_t partitions_count;
};

struct kp_offsetcommit_response {
	int32_t throttle_time_ms; /* v3+; default 0 */
	struct kp_offsetcommit_topic_result *topics;
	int32_t topics_count;
};

/* --------------------------------------------------------- OffsetFetch */

struct kp_offsetfetch_topic {
	struct kp_str name;
	int32_t *partition_indexes;
	int32_t partition_indexes_count;
	struct kp_tags tags; /* v6+ */
};

struct kp_offsetfetch_request {
	struct kp_str group_id;
	/* nullable v2+: -1 = every partition the group has committed */
	struct kp_offsetfetch_topic *topics;
	int32_t topics_count;
	bool require_stable; /* v7+; default false */
	struct kp_tags tags; /* v6+ */
};

struct kp_offsetfetch_partition {
	int32_t partition_index;
	int64_t committed_offset;	/* -1 = nothing committed */
	int32_t committed_leader_epoch; /* v5+; default -1 */
	struct kp_str metadata;		/* nullable */
	int16_t error_code;
	struct kp_tags tags; /* v6+ */
};

struct kp_offsetfetch_topic_result {
	struct kp_str name;
	struct kp_offsetfetch_partition *partitions;
	int32_t partitions_count;
	struct kp_tags tags; /* v6+ */
};

/* Errors per partition, and for the whole request in error_code (v2+);
 * UNSTABLE_OFFSET_COMMIT when require_stable meets a pending transaction. */
struct kp_offsetfetch_response {
	int32_t throttle_time_ms; /* v3+; default 0 */
	struct kp_offsetfetch_topic_result *topics;
	int32_t topics_count;
	int16_t error_code;  /* v2+; default 0 */
	struct kp_tags tags; /* v6+ */
};

/* ---------------------------------------------------------- ListGroups */

/* The request has no fields in v0-2. */
struct kp_listgroups_request {
	int32_t lg_unused; /* keeps the struct non-empty (ISO C) */
};

struct kp_listgroups_group {
	struct kp_str group_id;
	struct kp_str protocol_type; /* "consumer", or "" */
};

struct kp_listgroups_response {
	int32_t throttle_time_ms; /* v1+; default 0 */
	int16_t error_code;
	struct kp_listgroups_group *groups;
	int32_t groups_count;
};

/* ------------------------------------------------------ DescribeGroups */

struct kp_describegroups_request {
	struct kp_str *groups;
	int32_t groups_count;
};

struct kp_describegroups_member {
	struct kp_str member_id;
	struct kp_str client_id;
	struct kp_str client_host;
	struct kp_bytes member_metadata;   /* only in the Stable state, else empty */
	struct kp_bytes member_assignment; /* only in the Stable state, else empty */
};

struct kp_describegroups_group {
	int16_t error_code;
	struct kp_str group_id;
	struct kp_str group_state;   /* "Stable", "PreparingRebalance", ..., or "" */
	struct kp_str protocol_type; /* or "" */
	struct kp_str protocol_data; /* the chosen assignor when Stable, or "" */
	struct kp_describegroups_member *members;
	int32_t members_count;
};

struct kp_describegroups_response {
	int32_t throttle_time_ms; /* v1+; default 0 */
	struct kp_describegroups_group *groups;
	int32_t groups_count;
};

/* -------------------------------------------------------- DeleteGroups */

/* Errors per group: NON_EMPTY_GROUP (members remain), GROUP_ID_NOT_FOUND,
 * NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE. */
struct kp_deletegroups_request {
	struct kp_str *groups_names;
	int32_t groups_names_count;
};

struct kp_deletegroups_result {
	struct kp_str group_id;
	int16_t error_code;
};

struct kp_deletegroups_response {
	int32_t throttle_time_ms;
	struct kp_deletegroups_result *results;
	int32_t results_count;
};

/* ------------------------------------------------------------- codecs */

int kp_findcoordinator_request_decode(struct kp_reader *r, int16_t version,
				      struct kp_findcoordinator_request *req);
int kp_findcoordinator_request_encode(struct kp_writer *w, int16_t version,
				      const struct kp_findcoordinator_request *req);
int kp_findcoordinator_response_decode(struct kp_reader *r, int16_t version,
				       struct kp_findcoordinator_response *resp);
int kp_findcoordinator_response_encode(struct kp_writer *w, int16_t version,
				       const struct kp_findcoordinator_response *resp);

int kp_joingroup_request_decode(struct kp_reader *r, int16_t version,
				struct kp_joingroup_request *req);
int kp_joingroup_request_encode(struct kp_writer *w, int16_t version,
				const struct kp_joingroup_request *req);
int kp_joingroup_response_decode(struct kp_reader *r, int16_t version,
				 struct kp_joingroup_response *resp);
int kp_joingroup_response_encode(struct kp_writer *w, int16_t version,
				 const struct kp_joingroup_response *resp);

int kp_heartbeat_request_decode(struct kp_reader *r, int16_t version,
				struct kp_heartbeat_request *req);
int kp_heartbeat_request_encode(struct kp_writer *w, int16_t version,
				const struct kp_heartbeat_request *req);
int kp_heartbeat_response_decode(struct kp_reader *r, int16_t version,
				 struct kp_heartbeat_response *resp);
int kp_heartbeat_response_encode(struct kp_writer *w, int16_t version,
				 const struct kp_heartbeat_response *resp);

int kp_leavegroup_request_decode(struct kp_reader *r, int16_t version,
				 struct kp_leavegroup_request *req);
int kp_leavegroup_request_encode(struct kp_writer *w, int16_t version,
				 const struct kp_leavegroup_request *req);
int kp_leavegroup_response_decode(struct kp_reader *r, int16_t version,
				  struct kp_leavegroup_response *resp);
int kp_leavegroup_response_encode(struct kp_writer *w, int16_t version,
				  const struct kp_leavegroup_response *resp);

int kp_syncgroup_request_decode(struct kp_reader *r, int16_t version,
				struct kp_syncgroup_request *req);
int kp_syncgroup_request_encode(struct kp_writer *w, int16_t version,
				const struct kp_syncgroup_request *req);
int kp_syncgroup_response_decode(struct kp_reader *r, int16_t version,
				 struct kp_syncgroup_response *resp);
int kp_syncgroup_response_encode(struct kp_writer *w, int16_t version,
				 const struct kp_syncgroup_response *resp);

int kp_offsetcommit_request_decode(struct kp_reader *r, int16_t version,
				   struct kp_offsetcommit_request *req);
int kp_offsetcommit_request_encode(struct kp_writer *w, int16_t version,
				   const struct kp_offsetcommit_request *req);
int kp_offsetcommit_response_decode(struct kp_reader *r, int16_t version,
				    struct kp_offsetcommit_response *resp);
int kp_offsetcommit_response_encode(struct kp_writer *w, int16_t version,
				    const struct kp_offsetcommit_response *resp);

int kp_offsetfetch_request_decode(struct kp_reader *r, int16_t version,
				  struct kp_offsetfetch_request *req);
int kp_offsetfetch_request_encode(struct kp_writer *w, int16_t version,
				  const struct kp_offsetfetch_request *req);
int kp_offsetfetch_response_decode(struct kp_reader *r, int16_t version,
				   struct kp_offsetfetch_response *resp);
int kp_offsetfetch_response_encode(struct kp_writer *w, int16_t version,
				   const struct kp_offsetfetch_response *resp);

int kp_listgroups_request_decode(struct kp_reader *r, int16_t version,
				 struct kp_listgroups_request *req);
int kp_listgroups_request_encode(struct kp_writer *w, int16_t version,
				 const struct kp_listgroups_request *req);
int kp_listgroups_response_decode(struct kp_reader *r, int16_t version,
				  struct kp_listgroups_response *resp);
int kp_listgroups_response_encode(struct kp_writer *w, int16_t version,
				  const struct kp_listgroups_response *resp);

int kp_describegroups_request_decode(struct kp_reader *r, int16_t version,
				     struct kp_describegroups_request *req);
int kp_describegroups_request_encode(struct kp_writer *w, int16_t version,
				     const struct kp_describegroups_request *req);
int kp_describegroups_response_decode(struct kp_reader *r, int16_t version,
				      struct kp_describegroups_response *resp);
int kp_describegroups_response_encode(struct kp_writer *w, int16_t version,
				      const struct kp_describegroups_response *resp);

int kp_deletegroups_request_decode(struct kp_reader *r, int16_t version,
				   struct kp_deletegroups_request *req);
int kp_deletegroups_request_encode(struct kp_writer *w, int16_t version,
				   const struct kp_deletegroups_request *req);
int kp_deletegroups_response_decode(struct kp_reader *r, int16_t version,
				    struct kp_deletegroups_response *resp);
int kp_deletegroups_response_encode(struct kp_writer *w, int16_t version,
				    const struct kp_deletegroups_response *resp);

#endif
