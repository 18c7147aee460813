/*
 * kp_message — one entry point for every request and response this codec
 * knows: a union of the body structs and functions that dispatch on the
 * api key, plus whole-frame helpers (size prefix + header + body).
 *
 * The broker's read path is: kp_frame_size() on the first 4 bytes, read
 * the frame, kp_request_decode() on the bytes after the prefix, handle,
 * then kp_response_encode() into the connection's writer. The client
 * library does the mirror image with kp_request_encode() and
 * kp_response_decode().
 */
#ifndef REPLOG_KP_MESSAGE_H
#define REPLOG_KP_MESSAGE_H

#include <stdint.h>

#include "kp_apiversions.h"
#include "kp_codec.h"
#include "kp_epoch.h"
#include "kp_fetch.h"
#include "kp_group.h"
#include "kp_header.h"
#include "kp_initpid.h"
#include "kp_listoffsets.h"
#include "kp_metadata.h"
#include "kp_produce.h"
#include "kp_replog.h"
#include "kp_topics.h"

/* The member to use is the one named after the api key. */
union kp_request_body {
	struct kp_produce_request produce;
	struct kp_fetch_request fetch;
	struct kp_listoffsets_request list_offsets;
	struct kp_metadata_request metadata;
	struct kp_apiversions_request api_versions;
	struct kp_createtopics_request create_topics;
	struct kp_deletetopics_request delete_topics;
	struct kp_initpid_request init_producer_id;
	struct kp_epoch_request offset_for_leader_epoch;
	struct kp_findcoordinator_request find_coordinator;
	struct kp_joingroup_request join_group;
	struct kp_heartbeat_request heartbeat;
	struct kp_leavegroup_request leave_group;
	struct kp_syncgroup_request sync_group;
	struct kp_offsetcommit_request offset_commit;
	struct kp_offsetfetch_request offset_fetch;
	struct kp_listgroups_request list_groups;
	struct kp_describegroups_request describe_groups;
	struct kp_deletegroups_request delete_groups;
	struct kp_replog_register_request replog_broker_register;
	struct kp_replog_heartbeat_request replog_broker_heartbeat;
	struct kp_replog_alter_request replog_alter_partition;
	struct kp_replog_describe_request replog_describe_replicas;
	struct kp_replog_discarded_request replog_list_discarded;
	struct kp_replog_raft_request replog_raft;
	struct kp_replog_describe_quorum_request replog_describe_quorum;
};

union kp_response_body {
	struct kp_produce_response produce;
	struct kp_fetch_response fetch;
	struct kp_listoffsets_response list_offsets;
	struct kp_metadata_response metadata;
	struct kp_apiversions_response api_versions;
	struct kp_createtopics_response create_topics;
	struct kp_deletetopics_response delete_topics;
	struct kp_initpid_response init_producer_id;
	struct kp_epoch_response offset_for_leader_epoch;
	struct kp_findcoordinator_response find_coordinator;
	struct kp_joingroup_response join_group;
	struct kp_heartbeat_response heartbeat;
	struct kp_leavegroup_response leave_group;
	struct kp_syncgroup_response sync_group;
	struct kp_offsetcommit_response offset_commit;
	struct kp_offsetfetch_response offset_fetch;
	struct kp_listgroups_response list_groups;
	struct kp_describegroups_response describe_groups;
	struct kp_deletegroups_response delete_groups;
	struct kp_replog_register_response replog_broker_register;
	struct kp_replog_heartbeat_response replog_broker_heartbeat;
	struct kp_replog_alter_response replog_alter_partition;
	struct kp_replog_describe_response replog_describe_replicas;
	struct kp_replog_discarded_response replog_list_discarded;
	struct kp_replog_raft_response replog_raft;
	struct kp_replog_describe_quorum_response replog_describe_quorum;
};

/* Body codecs by api key. Outcomes as for the per-API functions, plus
 * KP_EUNSUPPORTED_API for a key without a codec. */
int kp_request_body_decode(struct kp_reader *r, int16_t api_key, int16_t version,
			   union kp_request_body *body);
int kp_request_body_encode(struct kp_writer *w, int16_t api_key, int16_t version,
			   const union kp_request_body *body);
int kp_response_body_decode(struct kp_reader *r, int16_t api_key, int16_t version,
			    union kp_response_body *body);
int kp_response_body_encode(struct kp_writer *w, int16_t api_key, int16_t version,
			    const union kp_response_body *body);

/* A request frame after its size prefix: header, then body. Outcomes as
 * kp_request_header_decode() (the body is not read unless the header
 * decoded and the api/version is supported), then as the body decoder. */
int kp_request_decode(struct kp_reader *r, struct kp_request_header *h,
		      union kp_request_body *body);

/* A whole request frame, size prefix included. */
int kp_request_encode(struct kp_writer *w, const struct kp_request_header *h,
		      const union kp_request_body *body);

/* A response frame after its size prefix, to a request (api_key, version). */
int kp_response_decode(struct kp_reader *r, int16_t api_key, int16_t version,
		       struct kp_response_header *h, union kp_response_body *body);

/* A whole response frame, size prefix included. */
int kp_response_encode(struct kp_writer *w, int16_t api_key, int16_t version,
		       const struct kp_response_header *h, const union kp_response_body *body);

#endif
