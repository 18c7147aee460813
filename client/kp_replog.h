/*
 * kp_replog — replog's private inter-broker APIs, requests and responses:
 * what a broker says to the active controller and what operators' tools ask
 * a broker about its replicas. Prefix kp_replog_*.
 *
 *   10000 ReplogBrokerRegister    a starting broker joins; gets its epoch
 *   10001 ReplogBrokerHeartbeat   keeps the session and the leader lease
 *   10002 ReplogAlterPartition    a leader proposes new ISRs
 *   10003 ReplogDescribeReplicas  a broker's view of its replicas
 *   10004 ReplogListDiscarded     a broker's discarded writes (DESIGN.md §4)
 *   10005 ReplogRaft              one Raft message between metadata quorum members
 *   10006 ReplogDescribeQuorum    a broker's view of the metadata quorum
 *
 * Kafka's own controller RPCs (BrokerRegistration, AlterPartition, ...) are
 * not used: these carry what replog's design needs (clean shutdown for
 * eligibility, leases, flushed offsets, discarded writes) and nothing else.
 * All are version 0 only and flexible at v0: compact strings and arrays, a
 * tagged-field section at the end of every struct, request header v2 and
 * response header v1; framing as for every Kafka message (kp_message.h).
 * The byte layouts are in kp_replog.c.
 *
 * Field names are snake_case versions of the wire fields. Decoders fill the
 * caller's struct: strings are views into the frame, arrays come from the
 * reader's arena; both live as long as those do. Array counts of -1 mean
 * null and are only allowed where a field says "nullable". Every `tags`
 * member is that struct's tagged-field section, kept raw: no tags are
 * defined, unknown ones survive a decode/encode round trip byte for byte.
 * The codec checks encodings, not meanings: a role outside 0..2 or a
 * follower list on a non-leader is carried as is, for the caller to judge.
 *
 * Outcomes of every function here: 0; KP_EUNSUPPORTED_VERSION for a version
 * other than 0; for decoders KP_ETRUNCATED, KP_EMALFORMED, KP_EARENA, or
 * KP_ETRAILING when the body decoded but bytes follow it (the struct is then
 * complete); for encoders KP_EINVAL (a null where the field is not nullable,
 * a count > 0 without elements, a string above KP_STRING_MAX) or the
 * writer's KP_ETOO_LARGE / -ENOMEM.
 */
#ifndef REPLOG_KP_REPLOG_H
#define REPLOG_KP_REPLOG_H

#include <stdbool.h>
#include <stdint.h>

#include "kp_codec.h"

/* ------------------------------------------------ ReplogBrokerRegister */

/* Errors for the controller to answer with: NOT_CONTROLLER (ask the active
 * one), DUPLICATE_BROKER_REGISTRATION (the id is held by another live
 * incarnation). */
struct kp_replog_register_request {
	int32_t broker_id;
	struct kp_uuid incarnation_id; /* new at every process start */
	struct kp_str address;	       /* advertised "host:port" */
	bool clean_shutdown;	       /* every log was closed cleanly last time */
	struct kp_tags tags;
};

struct kp_replog_register_response {
	int16_t error_code;
	struct kp_str error_message; /* nullable */
	int64_t broker_epoch;	     /* the session's epoch; -1 on error */
	int32_t controller_epoch;
	struct kp_tags tags;
};

/* ----------------------------------------------- ReplogBrokerHeartbeat */

/* Errors for the controller to answer with: NOT_CONTROLLER,
 * STALE_BROKER_EPOCH, BROKER_ID_NOT_REGISTERED. */
struct kp_replog_heartbeat_request {
	int32_t broker_id;
	int64_t broker_epoch;
	int64_t metadata_offset; /* metadata log offset applied so far */
	bool want_shutdown;	 /* controlled shutdown: move my leaderships */
	struct kp_tags tags;
};

struct kp_replog_heartbeat_response {
	int16_t error_code;
	/* The leader lease granted, counted from when the broker *sent* the
	 * request (not when the answer came), so the broker's lease always
	 * ends before the controller's view of it. 0 = no lease (one held
	 * ends now); -1 = no renewal (one held runs out as granted). */
	int32_t lease_ms;
	bool is_fenced;	     /* the broker may lead nothing */
	bool shutdown_ready; /* want_shutdown was granted: the broker may exit */
	int32_t controller_epoch;
	struct kp_tags tags;
};

/* ------------------------------------------------ ReplogAlterPartition */

struct kp_replog_alter_partition {
	int32_t partition_index;
	int32_t leader_epoch;	 /* the proposer's epoch as leader */
	int32_t partition_epoch; /* the state the proposal is based on */
	int32_t *new_isr;
	int32_t new_isr_count;
	struct kp_tags tags;
};

struct kp_replog_alter_topic {
	struct kp_str name;
	struct kp_replog_alter_partition *partitions;
	int32_t partitions_count;
	struct kp_tags tags;
};

struct kp_replog_alter_request {
	int32_t broker_id;
	int64_t broker_epoch;
	struct kp_replog_alter_topic *topics;
	int32_t topics_count;
	struct kp_tags tags;
};

/* Per-partition errors for the controller to answer with:
 * INVALID_UPDATE_VERSION (stale partition epoch),
 * FENCED_LEADER_EPOCH, NOT_LEADER_OR_FOLLOWER, INELIGIBLE_REPLICA,
 * NEW_LEADER_ELECTED, UNKNOWN_TOPIC_OR_PARTITION. The state fields are the
 * partition's state after the request (the current one if refused). */
struct kp_replog_alter_partition_result {
	int32_t partition_index;
	int16_t error_code;
	int32_t leader_id;
	int32_t leader_epoch;
	int32_t partition_epoch;
	int32_t *isr;
	int32_t isr_count;
	int32_t *elr; /* eligible leader replicas outside the ISR */
	int32_t elr_count;
	struct kp_tags tags;
};

struct kp_replog_alter_topic_result {
	struct kp_str name;
	struct kp_replog_alter_partition_result *partitions;
	int32_t partitions_count;
	struct kp_tags tags;
};

/* Top-level errors: NOT_CONTROLLER, STALE_BROKER_EPOCH. */
struct kp_replog_alter_response {
	int16_t error_code;
	struct kp_replog_alter_topic_result *topics;
	int32_t topics_count;
	struct kp_tags tags;
};

/* ---------------------------------------------- ReplogDescribeReplicas */

struct kp_replog_describe_topic {
	struct kp_str name;
	int32_t *partitions; /* nullable: count -1 = every partition */
	int32_t partitions_count;
	struct kp_tags tags;
};

struct kp_replog_describe_request {
	struct kp_replog_describe_topic *topics; /* nullable: count -1 = all */
	int32_t topics_count;
	struct kp_tags tags;
};

/* Values of kp_replog_replica.role. */
enum kp_replog_role {
	KP_REPLOG_ROLE_NONE = 0,
	KP_REPLOG_ROLE_LEADER = 1,
	KP_REPLOG_ROLE_FOLLOWER = 2,
};

/* "none", "leader", "follower", or "unknown". Static, never NULL. */
const char *kp_replog_role_name(int8_t role);

/* How far one follower is, as its leader sees it. */
struct kp_replog_follower {
	int32_t replica_id;
	int64_t log_end_offset;	  /* its last fetch offset */
	int64_t caught_up_ms_ago; /* since it last reached the leader's LEO */
	struct kp_tags tags;
};

struct kp_replog_replica {
	int32_t partition_index;
	int8_t role; /* enum kp_replog_role */
	int32_t leader_id;
	int32_t leader_epoch;
	int32_t partition_epoch;
	int64_t log_start_offset;
	int64_t log_end_offset;
	int64_t flushed_offset;
	int64_t high_watermark;
	int32_t *replicas;
	int32_t replicas_count;
	int32_t *isr;
	int32_t isr_count;
	int32_t *elr;
	int32_t elr_count;
	struct kp_replog_follower *followers; /* leader only; empty otherwise */
	int32_t followers_count;
	int32_t discarded_events; /* discards recorded (entries in discarded/) */
	int64_t discarded_records;
	int16_t error_code; /* e.g. UNKNOWN_TOPIC_OR_PARTITION, KAFKA_STORAGE_ERROR */
	struct kp_tags tags;
};

struct kp_replog_replica_topic {
	struct kp_str name;
	struct kp_replog_replica *partitions;
	int32_t partitions_count;
	struct kp_tags tags;
};

struct kp_replog_describe_response {
	int16_t error_code;
	int32_t broker_id; /* the broker answering */
	struct kp_replog_replica_topic *topics;
	int32_t topics_count;
	struct kp_tags tags;
};

/* ------------------------------------------------- ReplogListDiscarded */

struct kp_replog_discarded_request {
	struct kp_str *topics; /* nullable: count -1 = every topic */
	int32_t topics_count;
	struct kp_tags tags;
};

/* One committed discard of a partition: log/discard.h's struct
 * discard_info (its .meta file), plus where it happened. */
struct kp_replog_discarded_entry {
	struct kp_str topic;
	int32_t partition;
	struct kp_str name;   /* file name stem under discarded/ (di_name) */
	struct kp_str reason; /* truncate, torn-tail, corrupt, ... */
	struct kp_str detail; /* free text: the error, who asked */
	int64_t time_ms;
	int64_t first_offset; /* first offset removed, -1 unknown */
	int64_t next_offset;  /* offset after the last removed, -1 unknown */
	int32_t batches;      /* whole valid batches in the bytes */
	int64_t bytes;
	int32_t epoch_min; /* leader epochs of those batches, -1 if none */
	int32_t epoch_max;
	struct kp_tags tags;
};

struct kp_replog_discarded_response {
	int16_t error_code;
	int32_t broker_id;
	struct kp_replog_discarded_entry *entries;
	int32_t entries_count;
	struct kp_tags tags;
};

/* ---------------------------------------------------------- ReplogRaft */

/* One Raft message (broker/raftmsg.h encodes it) from member from_id. */
struct kp_replog_raft_request {
	int32_t from_id;
	struct kp_str from_address;
	struct kp_bytes message;
	struct kp_tags tags;
};

struct kp_replog_raft_response {
	int16_t error_code;
	struct kp_tags tags;
};

/* ------------------------------------------------ ReplogDescribeQuorum */

struct kp_replog_describe_quorum_request {
	struct kp_tags tags;
};

/* A member of the quorum as the broker answering sees it. match_index and
 * last_contact_ms_ago are known only on the leader (-1 elsewhere). */
struct kp_replog_quorum_member {
	int32_t id;
	int8_t role; /* 0 standby, 1 voter, 2 spare (raft.h's RAFT_STANDBY...) */
	int64_t match_index;
	int64_t last_contact_ms_ago;
	struct kp_tags tags;
};

/* A broker of the committed metadata, plus its session on the active
 * controller (session_ms_ago -1 when the answering broker is not it). */
struct kp_replog_quorum_broker {
	int32_t id;
	struct kp_str address;
	int64_t broker_epoch;
	bool registered;
	bool fenced;
	bool shutting_down;
	int64_t session_ms_ago;
	struct kp_tags tags;
};

struct kp_replog_describe_quorum_response {
	int16_t error_code;
	int32_t broker_id;
	int32_t leader_id; /* -1 unknown */
	int8_t state;	   /* 0 unavailable, 1 follower, 2 candidate, 3 leader */
	int64_t term;
	int64_t commit_index;
	int64_t last_applied;
	int64_t last_index;
	int64_t snapshot_index;
	int64_t metadata_offset; /* the broker's applied metadata (heartbeats) */
	struct kp_replog_quorum_member *members;
	int32_t members_count;
	struct kp_replog_quorum_broker *brokers;
	int32_t brokers_count;
	struct kp_tags tags;
};

/* ------------------------------------------------------------- codecs */

int kp_replog_register_request_decode(struct kp_reader *r, int16_t version,
				      struct kp_replog_register_request *req);
int kp_replog_register_request_encode(struct kp_writer *w, int16_t version,
				      const struct kp_replog_register_request *req);
int kp_replog_register_response_decode(struct kp_reader *r, int16_t version,
				       struct kp_replog_register_response *resp);
int kp_replog_register_response_encode(struct kp_writer *w, int16_t version,
				       const struct kp_replog_register_response *resp);

int kp_replog_heartbeat_request_decode(struct kp_reader *r, int16_t version,
				       struct kp_replog_heartbeat_request *req);
int kp_replog_heartbeat_request_encode(struct kp_writer *w, int16_t version,
				       const struct kp_replog_heartbeat_request *req);
int kp_replog_heartbeat_response_decode(struct kp_reader *r, int16_t version,
					struct kp_replog_heartbeat_response *resp);
int kp_replog_heartbeat_response_encode(struct kp_writer *w, int16_t version,
					const struct kp_replog_heartbeat_response *resp);

int kp_replog_alter_request_decode(struct kp_reader *r, int16_t version,
				   struct kp_replog_alter_request *req);
int kp_replog_alter_request_encode(struct kp_writer *w, int16_t version,
				   const struct kp_replog_alter_request *req);
int kp_replog_alter_response_decode(struct kp_reader *r, int16_t version,
				    struct kp_replog_alter_response *resp);
int kp_replog_alter_response_encode(struct kp_writer *w, int16_t version,
				    const struct kp_replog_alter_response *resp);

int kp_replog_describe_request_decode(struct kp_reader *r, int16_t version,
				      struct kp_replog_describe_request *req);
int kp_replog_describe_request_encode(struct kp_writer *w, int16_t version,
				      const struct kp_replog_describe_request *req);
int kp_replog_describe_response_decode(struct kp_reader *r, int16_t version,
				       struct kp_replog_describe_response *resp);
int kp_replog_describe_response_encode(struct kp_writer *w, int16_t version,
				       const struct kp_replog_describe_response *resp);

int kp_replog_discarded_request_decode(struct kp_reader *r, int16_t version,
				       struct kp_replog_discarded_request *req);
int kp_replog_discarded_request_encode(struct kp_writer *w, int16_t version,
				       const struct kp_replog_discarded_request *req);
int kp_replog_discarded_response_decode(struct kp_reader *r, int16_t version,
					struct kp_replog_discarded_response *resp);
int kp_replog_discarded_response_encode(struct kp_writer *w, int16_t version,
					const struct kp_replog_discarded_response *resp);

int kp_replog_raft_request_decode(struct kp_reader *r, int16_t version,
				  struct kp_replog_raft_request *req);
int kp_replog_raft_request_encode(struct kp_writer *w, int16_t version,
				  const struct kp_replog_raft_request *req);
int kp_replog_raft_response_decode(struct kp_reader *r, int16_t version,
				   struct kp_replog_raft_response *resp);
int kp_replog_raft_response_encode(struct kp_writer *w, int16_t version,
				   const struct kp_replog_raft_response *resp);
int kp_replog_quorum_request_decode(struct kp_reader *r, int16_t version,
				    struct kp_replog_describe_quorum_request *req);
int kp_replog_quorum_request_encode(struct kp_writer *w, int16_t version,
				    const struct kp_replog_describe_quorum_request *req);
int kp_replog_quorum_response_decode(struct kp_reader *r, int16_t version,
				     struct kp_replog_describe_quorum_response *resp);
int kp_replog_quorum_response_encode(struct kp_writer *w, int16_t version,
				     const struct kp_replog_describe_quorum_response *resp);

#endif
