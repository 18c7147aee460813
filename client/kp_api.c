/*
 * kp_api — the api table and the wire error names (see kp_api.h).
 *
 * The Kafka table has one row per api key 0..37. Version ranges are what this
 * codec implements, chosen from what the Debian clients send (see
 * shared/reference/KAFKA_PROTOCOL.md §0 and §3): kcat/librdkafka 2.0.2,
 * kafka-python 2.0.2 (including its admin client, hence Metadata up to 8),
 * their group consumers (FindCoordinator .. OffsetFetch, kp_group.h; of
 * those only OffsetFetch v6-7 is flexible), ListGroups/DescribeGroups v0-2
 * for admin tools, and the broker's own replication (OffsetForLeaderEpoch).
 * A codec here is not an offer: the broker advertises and serves only the
 * APIs it has a handler for (broker/api.c). First-flexible
 * versions are Kafka's schema facts (validVersions/flexibleVersions in
 * clients/src/main/resources/common/message/<Api>*.json), recorded for every API
 * DESIGN.md §3 names; other keys are only named.
 *
 * replog's private APIs (kp_replog.h) live in a second, small table for
 * keys KP_API_REPLOG_FIRST.. (10000..), so the Kafka table stays dense and
 * kp_api_info() is still one bounds check and an index for either range;
 * any key in neither range has no row. kp_api_supported() lists only the
 * Kafka table (it feeds ApiVersions for clients);
 * kp_api_private_supported() lists the other.
 *
 * Invariants: row k describes api key k (designated initialisers, checked
 * in debug builds); min <= max for every supported API (asserted). Within
 * a supported range the body codecs follow ai_first_flexible, so the table
 * is the one place that decides compact vs classic for a version.
 */
#include "kp_api.h"

#include "rlassert.h"

#define ROW(key, name, min, max, flex) [key] = {key, name, min, max, flex}
#define NONE			       KP_VERSION_NONE
#define UNKNOWN			       KP_FLEXIBLE_UNKNOWN

static const struct kp_api_info kp_apis[KP_API_KEY_COUNT] = {
	ROW(KP_API_PRODUCE, "Produce", 3, 7, 9),
	ROW(KP_API_FETCH, "Fetch", 4, 11, 12),
	ROW(KP_API_LIST_OFFSETS, "ListOffsets", 0, 2, 6),
	ROW(KP_API_METADATA, "Metadata", 0, 8, 9),
	ROW(KP_API_LEADER_AND_ISR, "LeaderAndIsr", NONE, NONE, UNKNOWN),
	ROW(KP_API_STOP_REPLICA, "StopReplica", NONE, NONE, UNKNOWN),
	ROW(KP_API_UPDATE_METADATA, "UpdateMetadata", NONE, NONE, UNKNOWN),
	ROW(KP_API_CONTROLLED_SHUTDOWN, "ControlledShutdown", NONE, NONE, UNKNOWN),
	ROW(KP_API_OFFSET_COMMIT, "OffsetCommit", 2, 7, 8),
	ROW(KP_API_OFFSET_FETCH, "OffsetFetch", 1, 7, 6),
	ROW(KP_API_FIND_COORDINATOR, "FindCoordinator", 0, 2, 3),
	ROW(KP_API_JOIN_GROUP, "JoinGroup", 2, 5, 6),
	ROW(KP_API_HEARTBEAT, "Heartbeat", 0, 3, 4),
	ROW(KP_API_LEAVE_GROUP, "LeaveGroup", 0, 1, 4),
	ROW(KP_API_SYNC_GROUP, "SyncGroup", 0, 3, 4),
	ROW(KP_API_DESCRIBE_GROUPS, "DescribeGroups", 0, 2, 5),
	ROW(KP_API_LIST_GROUPS, "ListGroups", 0, 2, 3),
	ROW(KP_API_SASL_HANDSHAKE, "SaslHandshake", NONE, NONE, UNKNOWN),
	ROW(KP_API_API_VERSIONS, "ApiVersions", 0, 3, 3),
	ROW(KP_API_CREATE_TOPICS, "CreateTopics", 0, 4, 5),
	ROW(KP_API_DELETE_TOPICS, "DeleteTopics", 0, 3, 4),
	ROW(KP_API_DELETE_RECORDS, "DeleteRecords", NONE, NONE, UNKNOWN),
	ROW(KP_API_INIT_PRODUCER_ID, "InitProducerId", 0, 4, 2),
	ROW(KP_API_OFFSET_FOR_LEADER_EPOCH, "OffsetForLeaderEpoch", 0, 3, 4),
	ROW(KP_API_ADD_PARTITIONS_TO_TXN, "AddPartitionsToTxn", NONE, NONE, UNKNOWN),
	ROW(KP_API_ADD_OFFSETS_TO_TXN, "AddOffsetsToTxn", NONE, NONE, UNKNOWN),
	ROW(KP_API_END_TXN, "EndTxn", NONE, NONE, UNKNOWN),
	ROW(KP_API_WRITE_TXN_MARKERS, "WriteTxnMarkers", NONE, NONE, UNKNOWN),
	ROW(KP_API_TXN_OFFSET_COMMIT, "TxnOffsetCommit", NONE, NONE, UNKNOWN),
	ROW(KP_API_DESCRIBE_ACLS, "DescribeAcls", NONE, NONE, UNKNOWN),
	ROW(KP_API_CREATE_ACLS, "CreateAcls", NONE, NONE, UNKNOWN),
	ROW(KP_API_DELETE_ACLS, "DeleteAcls", NONE, NONE, UNKNOWN),
	ROW(KP_API_DESCRIBE_CONFIGS, "DescribeConfigs", NONE, NONE, 4),
	ROW(KP_API_ALTER_CONFIGS, "AlterConfigs", NONE, NONE, UNKNOWN),
	ROW(KP_API_ALTER_REPLICA_LOG_DIRS, "AlterReplicaLogDirs", NONE, NONE, UNKNOWN),
	ROW(KP_API_DESCRIBE_LOG_DIRS, "DescribeLogDirs", NONE, NONE, UNKNOWN),
	ROW(KP_API_SASL_AUTHENTICATE, "SaslAuthenticate", NONE, NONE, UNKNOWN),
	ROW(KP_API_CREATE_PARTITIONS, "CreatePartitions", NONE, NONE, UNKNOWN),
	ROW(KP_API_CREATE_DELEGATION_TOKEN, "CreateDelegationToken", NONE, NONE, UNKNOWN),
	ROW(KP_API_RENEW_DELEGATION_TOKEN, "RenewDelegationToken", NONE, NONE, UNKNOWN),
	ROW(KP_API_EXPIRE_DELEGATION_TOKEN, "ExpireDelegationToken", NONE, NONE, UNKNOWN),
	ROW(KP_API_DESCRIBE_DELEGATION_TOKEN, "DescribeDelegationToken", NONE, NONE, UNKNOWN),
	ROW(KP_API_DELETE_GROUPS, "DeleteGroups", 0, 1, 2),
};

/* replog's private keys, row k - KP_API_REPLOG_FIRST. All flexible from v0
 * (kp_replog.h). */
#define PRIVATE_ROW(key, name) [(key)-KP_API_REPLOG_FIRST] = {key, name, 0, 0, 0}

static const struct kp_api_info kp_private_apis[KP_API_REPLOG_COUNT] = {
	PRIVATE_ROW(KP_API_REPLOG_BROKER_REGISTER, "ReplogBrokerRegister"),
	PRIVATE_ROW(KP_API_REPLOG_BROKER_HEARTBEAT, "ReplogBrokerHeartbeat"),
	PRIVATE_ROW(KP_API_REPLOG_ALTER_PARTITION, "ReplogAlterPartition"),
	PRIVATE_ROW(KP_API_REPLOG_DESCRIBE_REPLICAS, "ReplogDescribeReplicas"),
	PRIVATE_ROW(KP_API_REPLOG_LIST_DISCARDED, "ReplogListDiscarded"),
	PRIVATE_ROW(KP_API_REPLOG_RAFT, "ReplogRaft"),
	PRIVATE_ROW(KP_API_REPLOG_DESCRIBE_QUORUM, "ReplogDescribeQuorum"),
};

#undef ROW
#undef PRIVATE_ROW
#undef NONE
#undef UNKNOWN

/* The two ranges must stay apart and fit an int16 api key. */
_Static_assert(KP_API_KEY_COUNT <= KP_API_REPLOG_FIRST, "private keys overlap Kafka's");
_Static_assert(KP_API_REPLOG_END - 1 <= INT16_MAX, "private keys fit an int16");

bool kp_api_private(int16_t api_key)
{
	return api_key >= KP_API_REPLOG_FIRST && api_key < KP_API_REPLOG_END;
}

const struct kp_api_info *kp_api_info(int16_t api_key)
{
	const struct kp_api_info *ai;
	if (api_key >= 0 && api_key < KP_API_KEY_COUNT)
		ai = &kp_apis[api_key];
	else if (kp_api_private(api_key))
		ai = &kp_private_apis[api_key - KP_API_REPLOG_FIRST];
	else
		return NULL;
	RL_DEBUG_ASSERT(ai->ai_api_key == api_key && ai->ai_name != NULL);
	return ai;
}

const char *kp_api_name(int16_t api_key)
{
	const struct kp_api_info *ai = kp_api_info(api_key);
	return ai ? ai->ai_name : "Unknown";
}

bool kp_api_version_supported(int16_t api_key, int16_t version)
{
	const struct kp_api_info *ai = kp_api_info(api_key);
	return ai && ai->ai_min_version != KP_VERSION_NONE && version >= ai->ai_min_version &&
	       version <= ai->ai_max_version;
}

bool kp_api_flexible(int16_t api_key, int16_t version)
{
	const struct kp_api_info *ai = kp_api_info(api_key);
	return ai && ai->ai_first_flexible != KP_FLEXIBLE_UNKNOWN && version >= 0 &&
	       version >= ai->ai_first_flexible;
}

int kp_request_header_version(int16_t api_key, int16_t version)
{
	return kp_api_flexible(api_key, version) ? 2 : 1;
}

int kp_response_header_version(int16_t api_key, int16_t version)
{
	if (api_key == KP_API_API_VERSIONS)
		return 0;
	return kp_api_flexible(api_key, version) ? 1 : 0;
}

size_t kp_api_supported(const struct kp_api_info **out, size_t cap)
{
	size_t n = 0;
	for (int16_t k = 0; k < KP_API_KEY_COUNT; k++) {
		if (kp_apis[k].ai_min_version == KP_VERSION_NONE)
			continue;
		RL_ASSERT(kp_apis[k].ai_min_version <= kp_apis[k].ai_max_version);
		if (n < cap)
			out[n] = &kp_apis[k];
		n++;
	}
	return n;
}

size_t kp_api_private_supported(const struct kp_api_info **out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < KP_API_REPLOG_COUNT; i++) {
		RL_ASSERT(kp_private_apis[i].ai_min_version != KP_VERSION_NONE &&
			  kp_private_apis[i].ai_min_version <= kp_private_apis[i].ai_max_version);
		if (n < cap)
			out[n] = &kp_private_apis[i];
		n++;
	}
	return n;
}

int kp_api_begin_decode(struct kp_reader *r, int16_t api_key, int16_t version)
{
	if (!kp_api_version_supported(api_key, version))
		return kp_reader_fail(r, KP_EUNSUPPORTED_VERSION);
	r->kr_flexible = kp_api_flexible(api_key, version);
	return r->kr_err;
}

int kp_api_begin_encode(struct kp_writer *w, int16_t api_key, int16_t version)
{
	if (!kp_api_version_supported(api_key, version))
		return kp_writer_fail(w, KP_EUNSUPPORTED_VERSION);
	w->kw_flexible = kp_api_flexible(api_key, version);
	return w->kw_err;
}

/* ------------------------------------------------------ error names */

#define ERR(name) [KP_ERR_##name + 1] = #name
static const char *const kp_error_names[] = {
	ERR(UNKNOWN_SERVER_ERROR),
	ERR(NONE),
	ERR(OFFSET_OUT_OF_RANGE),
	ERR(CORRUPT_MESSAGE),
	ERR(UNKNOWN_TOPIC_OR_PARTITION),
	ERR(INVALID_FETCH_SIZE),
	ERR(LEADER_NOT_AVAILABLE),
	ERR(NOT_LEADER_OR_FOLLOWER),
	ERR(REQUEST_TIMED_OUT),
	ERR(BROKER_NOT_AVAILABLE),
	ERR(REPLICA_NOT_AVAILABLE),
	ERR(MESSAGE_TOO_LARGE),
	ERR(STALE_CONTROLLER_EPOCH),
	ERR(OFFSET_METADATA_TOO_LARGE),
	ERR(NETWORK_EXCEPTION),
	ERR(COORDINATOR_LOAD_IN_PROGRESS),
	ERR(COORDINATOR_NOT_AVAILABLE),
	ERR(NOT_COORDINATOR),
	ERR(INVALID_TOPIC_EXCEPTION),
	ERR(RECORD_LIST_TOO_LARGE),
	ERR(NOT_ENOUGH_REPLICAS),
	ERR(NOT_ENOUGH_REPLICAS_AFTER_APPEND),
	ERR(INVALID_REQUIRED_ACKS),
	ERR(ILLEGAL_GENERATION),
	ERR(INCONSISTENT_GROUP_PROTOCOL),
	ERR(INVALID_GROUP_ID),
	ERR(UNKNOWN_MEMBER_ID),
	ERR(INVALID_SESSION_TIMEOUT),
	ERR(REBALANCE_IN_PROGRESS),
	ERR(INVALID_COMMIT_OFFSET_SIZE),
	ERR(TOPIC_AUTHORIZATION_FAILED),
	ERR(GROUP_AUTHORIZATION_FAILED),
	ERR(CLUSTER_AUTHORIZATION_FAILED),
	ERR(INVALID_TIMESTAMP),
	ERR(UNSUPPORTED_SASL_MECHANISM),
	ERR(ILLEGAL_SASL_STATE),
	ERR(UNSUPPORTED_VERSION),
	ERR(TOPIC_ALREADY_EXISTS),
	ERR(INVALID_PARTITIONS),
	ERR(INVALID_REPLICATION_FACTOR),
	ERR(INVALID_REPLICA_ASSIGNMENT),
	ERR(INVALID_CONFIG),
	ERR(NOT_CONTROLLER),
	ERR(INVALID_REQUEST),
	ERR(UNSUPPORTED_FOR_MESSAGE_FORMAT),
	ERR(POLICY_VIOLATION),
	ERR(OUT_OF_ORDER_SEQUENCE_NUMBER),
	ERR(DUPLICATE_SEQUENCE_NUMBER),
	ERR(INVALID_PRODUCER_EPOCH),
	ERR(INVALID_TXN_STATE),
	ERR(INVALID_PRODUCER_ID_MAPPING),
	ERR(INVALID_TRANSACTION_TIMEOUT),
	ERR(CONCURRENT_TRANSACTIONS),
	ERR(TRANSACTION_COORDINATOR_FENCED),
	ERR(TRANSACTIONAL_ID_AUTHORIZATION_FAILED),
	ERR(SECURITY_DISABLED),
	ERR(OPERATION_NOT_ATTEMPTED),
	ERR(KAFKA_STORAGE_ERROR),
	ERR(LOG_DIR_NOT_FOUND),
	ERR(SASL_AUTHENTICATION_FAILED),
	ERR(UNKNOWN_PRODUCER_ID),
	ERR(REASSIGNMENT_IN_PROGRESS),
	ERR(DELEGATION_TOKEN_AUTH_DISABLED),
	ERR(DELEGATION_TOKEN_NOT_FOUND),
	ERR(DELEGATION_TOKEN_OWNER_MISMATCH),
	ERR(DELEGATION_TOKEN_REQUEST_NOT_ALLOWED),
	ERR(DELEGATION_TOKEN_AUTHORIZATION_FAILED),
	ERR(DELEGATION_TOKEN_EXPIRED),
	ERR(INVALID_PRINCIPAL_TYPE),
	ERR(NON_EMPTY_GROUP),
	ERR(GROUP_ID_NOT_FOUND),
	ERR(FETCH_SESSION_ID_NOT_FOUND),
	ERR(INVALID_FETCH_SESSION_EPOCH),
	ERR(LISTENER_NOT_FOUND),
	ERR(TOPIC_DELETION_DISABLED),
	ERR(FENCED_LEADER_EPOCH),
	ERR(UNKNOWN_LEADER_EPOCH),
	ERR(UNSUPPORTED_COMPRESSION_TYPE),
	ERR(STALE_BROKER_EPOCH),
	ERR(OFFSET_NOT_AVAILABLE),
	ERR(MEMBER_ID_REQUIRED),
	ERR(PREFERRED_LEADER_NOT_AVAILABLE),
	ERR(GROUP_MAX_SIZE_REACHED),
	ERR(FENCED_INSTANCE_ID),
	ERR(ELIGIBLE_LEADERS_NOT_AVAILABLE),
	ERR(ELECTION_NOT_NEEDED),
	ERR(NO_REASSIGNMENT_IN_PROGRESS),
	ERR(GROUP_SUBSCRIBED_TO_TOPIC),
	ERR(INVALID_RECORD),
	ERR(UNSTABLE_OFFSET_COMMIT),
	ERR(THROTTLING_QUOTA_EXCEEDED),
	ERR(PRODUCER_FENCED),
	ERR(INVALID_UPDATE_VERSION),
	ERR(UNKNOWN_TOPIC_ID),
	ERR(DUPLICATE_BROKER_REGISTRATION),
	ERR(BROKER_ID_NOT_REGISTERED),
	ERR(INCONSISTENT_CLUSTER_ID),
	ERR(INELIGIBLE_REPLICA),
	ERR(NEW_LEADER_ELECTED),
	ERR(OFFSET_MOVED_TO_TIERED_STORAGE),
};
#undef ERR

const char *kp_error_name(int16_t code)
{
	int idx = code + 1;
	if (idx < 0 || (size_t)idx >= sizeof(kp_error_names) / sizeof(kp_error_names[0]) ||
	    !kp_error_names[idx])
		return "UNKNOWN_ERROR_CODE";
	return kp_error_names[idx];
}
