/*
 * kp_api — the facts about Kafka APIs that the codec needs: api keys, the
 * version range this codec implements per API, which versions are flexible
 * (and so which request/response header version they use), and Kafka's
 * wire error codes.
 *
 * Header version rules (KIP-482, KIP-511):
 *   request header   v1 for a non-flexible request version, v2 for a
 *                    flexible one (v0, without client_id, is only used by
 *                    ControlledShutdown v0, which we never accept);
 *   response header  v0 for a non-flexible version, v1 for a flexible one,
 *                    except ApiVersions: always v0, so a client can read the
 *                    correlation id before it knows what the broker speaks.
 * "Flexible from" is Kafka's schema fact (the first version with compact
 * encodings and tagged fields) and is kept even for versions above our
 * range, so the header of a request we will refuse is still read right.
 * replog's private APIs (keys 10000..10006, kp_replog.h) are flexible from
 * v0: request header v2, response header v1, always.
 */
#ifndef REPLOG_KP_API_H
#define REPLOG_KP_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_codec.h"

/* Kafka's ApiKeys, with Kafka's names. */
enum kp_api_key {
	KP_API_PRODUCE = 0,
	KP_API_FETCH = 1,
	KP_API_LIST_OFFSETS = 2,
	KP_API_METADATA = 3,
	KP_API_LEADER_AND_ISR = 4,
	KP_API_STOP_REPLICA = 5,
	KP_API_UPDATE_METADATA = 6,
	KP_API_CONTROLLED_SHUTDOWN = 7,
	KP_API_OFFSET_COMMIT = 8,
	KP_API_OFFSET_FETCH = 9,
	KP_API_FIND_COORDINATOR = 10,
	KP_API_JOIN_GROUP = 11,
	KP_API_HEARTBEAT = 12,
	KP_API_LEAVE_GROUP = 13,
	KP_API_SYNC_GROUP = 14,
	KP_API_DESCRIBE_GROUPS = 15,
	KP_API_LIST_GROUPS = 16,
	KP_API_SASL_HANDSHAKE = 17,
	KP_API_API_VERSIONS = 18,
	KP_API_CREATE_TOPICS = 19,
	KP_API_DELETE_TOPICS = 20,
	KP_API_DELETE_RECORDS = 21,
	KP_API_INIT_PRODUCER_ID = 22,
	KP_API_OFFSET_FOR_LEADER_EPOCH = 23,
	KP_API_ADD_PARTITIONS_TO_TXN = 24,
	KP_API_ADD_OFFSETS_TO_TXN = 25,
	KP_API_END_TXN = 26,
	KP_API_WRITE_TXN_MARKERS = 27,
	KP_API_TXN_OFFSET_COMMIT = 28,
	KP_API_DESCRIBE_ACLS = 29,
	KP_API_CREATE_ACLS = 30,
	KP_API_DELETE_ACLS = 31,
	KP_API_DESCRIBE_CONFIGS = 32,
	KP_API_ALTER_CONFIGS = 33,
	KP_API_ALTER_REPLICA_LOG_DIRS = 34,
	KP_API_DESCRIBE_LOG_DIRS = 35,
	KP_API_SASL_AUTHENTICATE = 36,
	KP_API_CREATE_PARTITIONS = 37,
	KP_API_CREATE_DELEGATION_TOKEN = 38,
	KP_API_RENEW_DELEGATION_TOKEN = 39,
	KP_API_EXPIRE_DELEGATION_TOKEN = 40,
	KP_API_DESCRIBE_DELEGATION_TOKEN = 41,
	KP_API_DELETE_GROUPS = 42,
	KP_API_KEY_COUNT = 43, /* keys 0..42 are named here */

	/* replog's private inter-broker APIs (kp_replog.h): broker <->
	 * controller traffic, in a range Kafka does not use. Version 0 only,
	 * flexible at v0. Never advertised to Kafka clients. */
	KP_API_REPLOG_FIRST = 10000,
	KP_API_REPLOG_BROKER_REGISTER = 10000,
	KP_API_REPLOG_BROKER_HEARTBEAT = 10001,
	KP_API_REPLOG_ALTER_PARTITION = 10002,
	KP_API_REPLOG_DESCRIBE_REPLICAS = 10003,
	KP_API_REPLOG_LIST_DISCARDED = 10004,
	KP_API_REPLOG_RAFT = 10005,
	KP_API_REPLOG_DESCRIBE_QUORUM = 10006,
	KP_API_REPLOG_END = 10007, /* one past the last private key */
};

#define KP_API_REPLOG_COUNT (KP_API_REPLOG_END - KP_API_REPLOG_FIRST)

#define KP_VERSION_NONE	    (-1) /* no codec here for this API */
#define KP_FLEXIBLE_UNKNOWN (-1) /* not recorded: only named, never decoded */

struct kp_api_info {
	int16_t ai_api_key;
	const char *ai_name;	/* Kafka's message name: "Produce", "ApiVersions" */
	int16_t ai_min_version; /* this codec's range, KP_VERSION_NONE if none */
	int16_t ai_max_version;
	int16_t ai_first_flexible; /* Kafka's schema, or KP_FLEXIBLE_UNKNOWN */
};

/* The row for api_key: Kafka's keys 0..KP_API_KEY_COUNT-1 and replog's
 * private keys KP_API_REPLOG_FIRST..KP_API_REPLOG_END-1; NULL for any other. */
const struct kp_api_info *kp_api_info(int16_t api_key);
/* True for a key in replog's private range (whether or not it has a row). */
bool kp_api_private(int16_t api_key);
/* Kafka's name, or "Unknown". */
const char *kp_api_name(int16_t api_key);
/* True when this codec encodes and decodes that version of that API. */
bool kp_api_version_supported(int16_t api_key, int16_t version);
/* True when the version uses compact encodings and tagged fields. Versions
 * of APIs whose flexible version is unknown count as not flexible. */
bool kp_api_flexible(int16_t api_key, int16_t version);
/* 1 or 2 (see the rules above). */
int kp_request_header_version(int16_t api_key, int16_t version);
/* 0 or 1; 0 for every ApiVersions response. */
int kp_response_header_version(int16_t api_key, int16_t version);
/* Every Kafka api key with a codec, for building an ApiVersions response:
 * fills up to cap rows with pointers into the static table, returns how
 * many such APIs there are. The private keys are not among them: clients
 * must not be offered the controller's APIs. */
size_t kp_api_supported(const struct kp_api_info **out, size_t cap);
/* The same for replog's private keys (all have a codec), in key order. */
size_t kp_api_private_supported(const struct kp_api_info **out, size_t cap);

/* The first step of every body codec: refuse a version outside the range
 * (KP_EUNSUPPORTED_VERSION, recorded as the reader's or writer's error) and
 * set the flexible flag for the version. Return 0 or the error. */
int kp_api_begin_decode(struct kp_reader *r, int16_t api_key, int16_t version);
int kp_api_begin_encode(struct kp_writer *w, int16_t api_key, int16_t version);

/* Kafka's wire error codes (Errors.java), with Kafka's names. Positive,
 * except UNKNOWN_SERVER_ERROR. These travel in messages; they are never
 * function return codes (those are the negative KP_E* codes). */
enum kp_error_code {
	KP_ERR_UNKNOWN_SERVER_ERROR = -1,
	KP_ERR_NONE = 0,
	KP_ERR_OFFSET_OUT_OF_RANGE = 1,
	KP_ERR_CORRUPT_MESSAGE = 2,
	KP_ERR_UNKNOWN_TOPIC_OR_PARTITION = 3,
	KP_ERR_INVALID_FETCH_SIZE = 4,
	KP_ERR_LEADER_NOT_AVAILABLE = 5,
	KP_ERR_NOT_LEADER_OR_FOLLOWER = 6,
	KP_ERR_REQUEST_TIMED_OUT = 7,
	KP_ERR_BROKER_NOT_AVAILABLE = 8,
	KP_ERR_REPLICA_NOT_AVAILABLE = 9,
	KP_ERR_MESSAGE_TOO_LARGE = 10,
	KP_ERR_STALE_CONTROLLER_EPOCH = 11,
	KP_ERR_OFFSET_METADATA_TOO_LARGE = 12,
	KP_ERR_NETWORK_EXCEPTION = 13,
	KP_ERR_COORDINATOR_LOAD_IN_PROGRESS = 14,
	KP_ERR_COORDINATOR_NOT_AVAILABLE = 15,
	KP_ERR_NOT_COORDINATOR = 16,
	KP_ERR_INVALID_TOPIC_EXCEPTION = 17,
	KP_ERR_RECORD_LIST_TOO_LARGE = 18,
	KP_ERR_NOT_ENOUGH_REPLICAS = 19,
	KP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND = 20,
	KP_ERR_INVALID_REQUIRED_ACKS = 21,
	KP_ERR_ILLEGAL_GENERATION = 22,
	KP_ERR_INCONSISTENT_GROUP_PROTOCOL = 23,
	KP_ERR_INVALID_GROUP_ID = 24,
	KP_ERR_UNKNOWN_MEMBER_ID = 25,
	KP_ERR_INVALID_SESSION_TIMEOUT = 26,
	KP_ERR_REBALANCE_IN_PROGRESS = 27,
	KP_ERR_INVALID_COMMIT_OFFSET_SIZE = 28,
	KP_ERR_TOPIC_AUTHORIZATION_FAILED = 29,
	KP_ERR_GROUP_AUTHORIZATION_FAILED = 30,
	KP_ERR_CLUSTER_AUTHORIZATION_FAILED = 31,
	KP_ERR_INVALID_TIMESTAMP = 32,
	KP_ERR_UNSUPPORTED_SASL_MECHANISM = 33,
	KP_ERR_ILLEGAL_SASL_STATE = 34,
	KP_ERR_UNSUPPORTED_VERSION = 35,
	KP_ERR_TOPIC_ALREADY_EXISTS = 36,
	KP_ERR_INVALID_PARTITIONS = 37,
	KP_ERR_INVALID_REPLICATION_FACTOR = 38,
	KP_ERR_INVALID_REPLICA_ASSIGNMENT = 39,
	KP_ERR_INVALID_CONFIG = 40,
	KP_ERR_NOT_CONTROLLER = 41,
	KP_ERR_INVALID_REQUEST = 42,
	KP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT = 43,
	KP_ERR_POLICY_VIOLATION = 44,
	KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER = 45,
	KP_ERR_DUPLICATE_SEQUENCE_NUMBER = 46,
	KP_ERR_INVALID_PRODUCER_EPOCH = 47,
	KP_ERR_INVALID_TXN_STATE = 48,
	KP_ERR_INVALID_PRODUCER_ID_MAPPING = 49,
	KP_ERR_INVALID_TRANSACTION_TIMEOUT = 50,
	KP_ERR_CONCURRENT_TRANSACTIONS = 51,
	KP_ERR_TRANSACTION_COORDINATOR_FENCED = 52,
	KP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53,
	KP_ERR_SECURITY_DISABLED = 54,
	KP_ERR_OPERATION_NOT_ATTEMPTED = 55,
	KP_ERR_KAFKA_STORAGE_ERROR = 56,
	KP_ERR_LOG_DIR_NOT_FOUND = 57,
	KP_ERR_SASL_AUTHENTICATION_FAILED = 58,
	KP_ERR_UNKNOWN_PRODUCER_ID = 59,
	KP_ERR_REASSIGNMENT_IN_PROGRESS = 60,
	KP_ERR_DELEGATION_TOKEN_AUTH_DISABLED = 61,
	KP_ERR_DELEGATION_TOKEN_NOT_FOUND = 62,
	KP_ERR_DELEGATION_TOKEN_OWNER_MISMATCH = 63,
	KP_ERR_DELEGATION_TOKEN_REQUEST_NOT_ALLOWED = 64,
	KP_ERR_DELEGATION_TOKEN_AUTHORIZATION_FAILED = 65,
	KP_ERR_DELEGATION_TOKEN_EXPIRED = 66,
	KP_ERR_INVALID_PRINCIPAL_TYPE = 67,
	KP_ERR_NON_EMPTY_GROUP = 68,
	KP_ERR_GROUP_ID_NOT_FOUND = 69,
	KP_ERR_FETCH_SESSION_ID_NOT_FOUND = 70,
	KP_ERR_INVALID_FETCH_SESSION_EPOCH = 71,
	KP_ERR_LISTENER_NOT_FOUND = 72,
	KP_ERR_TOPIC_DELETION_DISABLED = 73,
	KP_ERR_FENCED_LEADER_EPOCH = 74,
	KP_ERR_UNKNOWN_LEADER_EPOCH = 75,
	KP_ERR_UNSUPPORTED_COMPRESSION_TYPE = 76,
	KP_ERR_STALE_BROKER_EPOCH = 77,
	KP_ERR_OFFSET_NOT_AVAILABLE = 78,
	KP_ERR_MEMBER_ID_REQUIRED = 79,
	KP_ERR_PREFERRED_LEADER_NOT_AVAILABLE = 80,
	KP_ERR_GROUP_MAX_SIZE_REACHED = 81,
	KP_ERR_FENCED_INSTANCE_ID = 82,
	KP_ERR_ELIGIBLE_LEADERS_NOT_AVAILABLE = 83,
	KP_ERR_ELECTION_NOT_NEEDED = 84,
	KP_ERR_NO_REASSIGNMENT_IN_PROGRESS = 85,
	KP_ERR_GROUP_SUBSCRIBED_TO_TOPIC = 86,
	KP_ERR_INVALID_RECORD = 87,
	KP_ERR_UNSTABLE_OFFSET_COMMIT = 88,
	KP_ERR_THROTTLING_QUOTA_EXCEEDED = 89,
	KP_ERR_PRODUCER_FENCED = 90,
	KP_ERR_INVALID_UPDATE_VERSION = 95, /* AlterPartition: stale partition epoch */
	KP_ERR_UNKNOWN_TOPIC_ID = 100,
	KP_ERR_DUPLICATE_BROKER_REGISTRATION = 101,
	KP_ERR_BROKER_ID_NOT_REGISTERED = 102,
	KP_ERR_INCONSISTENT_CLUSTER_ID = 104,
	KP_ERR_INELIGIBLE_REPLICA = 107, /* AlterPartition: a new ISR member may not join */
	KP_ERR_NEW_LEADER_ELECTED = 108, /* AlterPartition applied, but leadership moved */
	KP_ERR_OFFSET_MOVED_TO_TIERED_STORAGE = 109,
};

/* Kafka's name of a wire error code ("NOT_LEADER_OR_FOLLOWER"), or
 * "UNKNOWN_ERROR_CODE" for a code not in the enum. Static, never NULL. */
const char *kp_error_name(int16_t code);

#endif
