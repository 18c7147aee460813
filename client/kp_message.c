/*
 * kp_message — dispatch on the api key to the per-API codecs (kp_*.h) and
 * whole-frame encode/decode. Owns no format of its own: a frame is
 *
 *   size int32 (bytes after it) | header (kp_header.h) | body (kp_<api>.h)
 *
 * and every part is delegated. Adding an API = one case in each switch.
 * replog's private APIs (kp_replog.h) are dispatched like Kafka's: the api
 * table (kp_api.c) gives them header v2/v1 and flexible bodies.
 */
#include "kp_message.h"

#include "kp_api.h"

int kp_request_body_decode(struct kp_reader *r, int16_t api_key, int16_t version,
			   union kp_request_body *body)
{
	switch (api_key) {
	case KP_API_PRODUCE:
		return kp_produce_request_decode(r, version, &body->produce);
	case KP_API_FETCH:
		return kp_fetch_request_decode(r, version, &body->fetch);
	case KP_API_LIST_OFFSETS:
		return kp_listoffsets_request_decode(r, version, &body->list_offsets);
	case KP_API_METADATA:
		return kp_metadata_request_decode(r, version, &body->metadata);
	case KP_API_API_VERSIONS:
		return kp_apiversions_request_decode(r, version, &body->api_versions);
	case KP_API_CREATE_TOPICS:
		return kp_createtopics_request_decode(r, version, &body->create_topics);
	case KP_API_DELETE_TOPICS:
		return kp_deletetopics_request_decode(r, version, &body->delete_topics);
	case KP_API_INIT_PRODUCER_ID:
		return kp_initpid_request_decode(r, version, &body->init_producer_id);
	case KP_API_OFFSET_FOR_LEADER_EPOCH:
		return kp_epoch_request_decode(r, version, &body->offset_for_leader_epoch);
	case KP_API_FIND_COORDINATOR:
		return kp_findcoordinator_request_decode(r, version, &body->find_coordinator);
	case KP_API_JOIN_GROUP:
		return kp_joingroup_request_decode(r, version, &body->join_group);
	case KP_API_HEARTBEAT:
		return kp_heartbeat_request_decode(r, version, &body->heartbeat);
	case KP_API_LEAVE_GROUP:
		return kp_leavegroup_request_decode(r, version, &body->leave_group);
	case KP_API_SYNC_GROUP:
		return kp_syncgroup_request_decode(r, version, &body->sync_group);
	case KP_API_OFFSET_COMMIT:
		return kp_offsetcommit_request_decode(r, version, &body->offset_commit);
	case KP_API_OFFSET_FETCH:
		return kp_offsetfetch_request_decode(r, version, &body->offset_fetch);
	case KP_API_LIST_GROUPS:
		return kp_listgroups_request_decode(r, version, &body->list_groups);
	case KP_API_DESCRIBE_GROUPS:
		return kp_describegroups_request_decode(r, version, &body->describe_groups);
	case KP_API_DELETE_GROUPS:
		return kp_deletegroups_request_decode(r, version, &body->delete_groups);
	case KP_API_REPLOG_BROKER_REGISTER:
		return kp_replog_register_request_decode(r, version, &body->replog_broker_register);
	case KP_API_REPLOG_BROKER_HEARTBEAT:
		return kp_replog_heartbeat_request_decode(r, version,
							  &body->replog_broker_heartbeat);
	case KP_API_REPLOG_ALTER_PARTITION:
		return kp_replog_alter_request_decode(r, version, &body->replog_alter_partition);
	case KP_API_REPLOG_DESCRIBE_REPLICAS:
		return kp_replog_describe_request_decode(r, version,
							 &body->replog_describe_replicas);
	case KP_API_REPLOG_LIST_DISCARDED:
		return kp_replog_discarded_request_decode(r, version, &body->replog_list_discarded);
	case KP_API_REPLOG_RAFT:
		return kp_replog_raft_request_decode(r, version, &body->replog_raft);
	case KP_API_REPLOG_DESCRIBE_QUORUM:
		return kp_replog_quorum_request_decode(r, version, &body->replog_describe_quorum);
	default:
		return kp_reader_fail(r, KP_EUNSUPPORTED_API);
	}
}

int kp_request_body_encode(struct kp_writer *w, int16_t api_key, int16_t version,
			   const union kp_request_body *body)
{
	switch (api_key) {
	case KP_API_PRODUCE:
		return kp_produce_request_encode(w, version, &body->produce);
	case KP_API_FETCH:
		return kp_fetch_request_encode(w, version, &body->fetch);
	case KP_API_LIST_OFFSETS:
		return kp_listoffsets_request_encode(w, version, &body->list_offsets);
	case KP_API_METADATA:
		return kp_metadata_request_encode(w, version, &body->metadata);
	case KP_API_API_VERSIONS:
		return kp_apiversions_request_encode(w, version, &body->api_versions);
	case KP_API_CREATE_TOPICS:
		return kp_createtopics_request_encode(w, version, &body->create_topics);
	case KP_API_DELETE_TOPICS:
		return kp_deletetopics_request_encode(w, version, &body->delete_topics);
	case KP_API_INIT_PRODUCER_ID:
		return kp_initpid_request_encode(w, version, &body->init_producer_id);
	case KP_API_OFFSET_FOR_LEADER_EPOCH:
		return kp_epoch_request_encode(w, version, &body->offset_for_leader_epoch);
	case KP_API_FIND_COORDINATOR:
		return kp_findcoordinator_request_encode(w, version, &body->find_coordinator);
	case KP_API_JOIN_GROUP:
		return kp_joingroup_request_encode(w, version, &body->join_group);
	case KP_API_HEARTBEAT:
		return kp_heartbeat_request_encode(w, version, &body->heartbeat);
	case KP_API_LEAVE_GROUP:
		return kp_leavegroup_request_encode(w, version, &body->leave_group);
	case KP_API_SYNC_GROUP:
		return kp_syncgroup_request_encode(w, version, &body->sync_group);
	case KP_API_OFFSET_COMMIT:
		return kp_offsetcommit_request_encode(w, version, &body->offset_commit);
	case KP_API_OFFSET_FETCH:
		return kp_offsetfetch_request_encode(w, version, &body->offset_fetch);
	case KP_API_LIST_GROUPS:
		return kp_listgroups_request_encode(w, version, &body->list_groups);
	case KP_API_DESCRIBE_GROUPS:
		return kp_describegroups_request_encode(w, version, &body->describe_groups);
	case KP_API_DELETE_GROUPS:
		return kp_deletegroups_request_encode(w, version, &body->delete_groups);
	case KP_API_REPLOG_BROKER_REGISTER:
		return kp_replog_register_request_encode(w, version, &body->replog_broker_register);
	case KP_API_REPLOG_BROKER_HEARTBEAT:
		return kp_replog_heartbeat_request_encode(w, version,
							  &body->replog_broker_heartbeat);
	case KP_API_REPLOG_ALTER_PARTITION:
		return kp_replog_alter_request_encode(w, version, &body->replog_alter_partition);
	case KP_API_REPLOG_DESCRIBE_REPLICAS:
		return kp_replog_describe_request_encode(w, version,
							 &body->replog_describe_replicas);
	case KP_API_REPLOG_LIST_DISCARDED:
		return kp_replog_discarded_request_encode(w, version, &body->replog_list_discarded);
	case KP_API_REPLOG_RAFT:
		return kp_replog_raft_request_encode(w, version, &body->replog_raft);
	case KP_API_REPLOG_DESCRIBE_QUORUM:
		return kp_replog_quorum_request_encode(w, version, &body->replog_describe_quorum);
	default:
		return kp_writer_fail(w, KP_EUNSUPPORTED_API);
	}
}

int kp_response_body_decode(struct kp_reader *r, int16_t api_key, int16_t version,
			    union kp_response_body *body)
{
	switch (api_key) {
	case KP_API_PRODUCE:
		return kp_produce_response_decode(r, version, &body->produce);
	case KP_API_FETCH:
		return kp_fetch_response_decode(r, version, &body->fetch);
	case KP_API_LIST_OFFSETS:
		return kp_listoffsets_response_decode(r, version, &body->list_offsets);
	case KP_API_METADATA:
		return kp_metadata_response_decode(r, version, &body->metadata);
	case KP_API_API_VERSIONS:
		return kp_apiversions_response_decode(r, version, &body->api_versions);
	case KP_API_CREATE_TOPICS:
		return kp_createtopics_response_decode(r, version, &body->create_topics);
	case KP_API_DELETE_TOPICS:
		return kp_deletetopics_response_decode(r, version, &body->delete_topics);
	case KP_API_INIT_PRODUCER_ID:
		return kp_initpid_response_decode(r, version, &body->init_producer_id);
	case KP_API_OFFSET_FOR_LEADER_EPOCH:
		return kp_epoch_response_decode(r, version, &body->offset_for_leader_epoch);
	case KP_API_FIND_COORDINATOR:
		return kp_findcoordinator_response_decode(r, version, &body->find_coordinator);
	case KP_API_JOIN_GROUP:
		return kp_joingroup_response_decode(r, version, &body->join_group);
	case KP_API_HEARTBEAT:
		return kp_heartbeat_response_decode(r, version, &body->heartbeat);
	case KP_API_LEAVE_GROUP:
		return kp_leavegroup_response_decode(r, version, &body->leave_group);
	case KP_API_SYNC_GROUP:
		return kp_syncgroup_response_decode(r, version, &body->sync_group);
	case KP_API_OFFSET_COMMIT:
		return kp_offsetcommit_response_decode(r, version, &body->offset_commit);
	case KP_API_OFFSET_FETCH:
		return kp_offsetfetch_response_decode(r, version, &body->offset_fetch);
	case KP_API_LIST_GROUPS:
		return kp_listgroups_response_decode(r, version, &body->list_groups);
	case KP_API_DESCRIBE_GROUPS:
		return kp_describegroups_response_decode(r, version, &body->describe_groups);
	case KP_API_DELETE_GROUPS:
		return kp_deletegroups_response_decode(r, version, &body->delete_groups);
	case KP_API_REPLOG_BROKER_REGISTER:
		return kp_replog_register_response_decode(r, version,
							  &body->replog_broker_register);
	case KP_API_REPLOG_BROKER_HEARTBEAT:
		return kp_replog_heartbeat_response_decode(r, version,
							   &body->replog_broker_heartbeat);
	case KP_API_REPLOG_ALTER_PARTITION:
		return kp_replog_alter_response_decode(r, version, &body->replog_alter_partition);
	case KP_API_REPLOG_DESCRIBE_REPLICAS:
		return kp_replog_describe_response_decode(r, version,
							  &body->replog_describe_replicas);
	case KP_API_REPLOG_LIST_DISCARDED:
		return kp_replog_discarded_response_decode(r, version,
							   &body->replog_list_discarded);
	case KP_API_REPLOG_RAFT:
		return kp_replog_raft_response_decode(r, version, &body->replog_raft);
	case KP_API_REPLOG_DESCRIBE_QUORUM:
		return kp_replog_quorum_response_decode(r, version, &body->replog_describe_quorum);
	default:
		return kp_reader_fail(r, KP_EUNSUPPORTED_API);
	}
}

int kp_response_body_encode(struct kp_writer *w, int16_t api_key, int16_t version,
			    const union kp_response_body *body)
{
	switch (api_key) {
	case KP_API_PRODUCE:
		return kp_produce_response_encode(w, version, &body->produce);
	case KP_API_FETCH:
		return kp_fetch_response_encode(w, version, &body->fetch);
	case KP_API_LIST_OFFSETS:
		return kp_listoffsets_response_encode(w, version, &body->list_offsets);
	case KP_API_METADATA:
		return kp_metadata_response_encode(w, version, &body->metadata);
	case KP_API_API_VERSIONS:
		return kp_apiversions_response_encode(w, version, &body->api_versions);
	case KP_API_CREATE_TOPICS:
		return kp_createtopics_response_encode(w, version, &body->create_topics);
	case KP_API_DELETE_TOPICS:
		return kp_deletetopics_response_encode(w, version, &body->delete_topics);
	case KP_API_INIT_PRODUCER_ID:
		return kp_initpid_response_encode(w, version, &body->init_producer_id);
	case KP_API_OFFSET_FOR_LEADER_EPOCH:
		return kp_epoch_response_encode(w, version, &body->offset_for_leader_epoch);
	case KP_API_FIND_COORDINATOR:
		return kp_findcoordinator_response_encode(w, version, &body->find_coordinator);
	case KP_API_JOIN_GROUP:
		return kp_joingroup_response_encode(w, version, &body->join_group);
	case KP_API_HEARTBEAT:
		return kp_heartbeat_response_encode(w, version, &body->heartbeat);
	case KP_API_LEAVE_GROUP:
		return kp_leavegroup_response_encode(w, version, &body->leave_group);
	case KP_API_SYNC_GROUP:
		return kp_syncgroup_response_encode(w, version, &body->sync_group);
	case KP_API_OFFSET_COMMIT:
		return kp_offsetcommit_response_encode(w, version, &body->offset_commit);
	case KP_API_OFFSET_FETCH:
		return kp_offsetfetch_response_encode(w, version, &body->offset_fetch);
	case KP_API_LIST_GROUPS:
		return kp_listgroups_response_encode(w, version, &body->list_groups);
	case KP_API_DESCRIBE_GROUPS:
		return kp_describegroups_response_encode(w, version, &body->describe_groups);
	case KP_API_DELETE_GROUPS:
		return kp_deletegroups_response_encode(w, version, &body->delete_groups);
	case KP_API_REPLOG_BROKER_REGISTER:
		return kp_replog_register_response_encode(w, version,
							  &body->replog_broker_register);
	case KP_API_REPLOG_BROKER_HEARTBEAT:
		return kp_replog_heartbeat_response_encode(w, version,
							   &body->replog_broker_heartbeat);
	case KP_API_REPLOG_ALTER_PARTITION:
		return kp_replog_alter_response_encode(w, version, &body->replog_alter_partition);
	case KP_API_REPLOG_DESCRIBE_REPLICAS:
		return kp_replog_describe_response_encode(w, version,
							  &body->replog_describe_replicas);
	case KP_API_REPLOG_LIST_DISCARDED:
		return kp_replog_discarded_response_encode(w, version,
							   &body->replog_list_discarded);
	case KP_API_REPLOG_RAFT:
		return kp_replog_raft_response_encode(w, version, &body->replog_raft);
	case KP_API_REPLOG_DESCRIBE_QUORUM:
		return kp_replog_quorum_response_encode(w, version, &body->replog_describe_quorum);
	default:
		return kp_writer_fail(w, KP_EUNSUPPORTED_API);
	}
}

int kp_request_decode(struct kp_reader *r, struct kp_request_header *h, union kp_request_body *body)
{
	int rc = kp_request_header_decode(r, h);
	if (rc)
		return rc;
	return kp_request_body_decode(r, h->request_api_key, h->request_api_version, body);
}

int kp_request_encode(struct kp_writer *w, const struct kp_request_header *h,
		      const union kp_request_body *body)
{
	size_t mark = kp_write_frame_begin(w);
	kp_request_header_encode(w, h);
	kp_request_body_encode(w, h->request_api_key, h->request_api_version, body);
	kp_write_frame_end(w, mark);
	return w->kw_err;
}

int kp_response_decode(struct kp_reader *r, int16_t api_key, int16_t version,
		       struct kp_response_header *h, union kp_response_body *body)
{
	if (kp_response_header_decode(r, api_key, version, h))
		return r->kr_err;
	return kp_response_body_decode(r, api_key, version, body);
}

int kp_response_encode(struct kp_writer *w, int16_t api_key, int16_t version,
		       const struct kp_response_header *h, const union kp_response_body *body)
{
	size_t mark = kp_write_frame_begin(w);
	kp_response_header_encode(w, api_key, version, h);
	kp_response_body_encode(w, api_key, version, body);
	kp_write_frame_end(w, mark);
	return w->kw_err;
}
