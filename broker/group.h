/*
 * group — one consumer group's membership, as the group coordinator keeps
 * it: the classic rebalance protocol (JoinGroup, SyncGroup, Heartbeat,
 * LeaveGroup) as pure logic. No I/O and no clock (callers pass now_ms);
 * answers to requests that must wait (a JoinGroup until every member has
 * rejoined, a SyncGroup until the leader sends the assignment) are parked
 * as the caller's opaque `waiter` and handed back through struct grp_ops
 * when the group moves on. Prefix grp_.
 *
 * States (Kafka's GroupMetadata):
 *   EMPTY       no members; committed offsets may still exist
 *   PREPARING   a rebalance: waiting for the members to (re)join, until all
 *               have or the rebalance timeout passes (members that did not
 *               rejoin are removed); a new group first waits
 *               initial_delay_ms so that members starting together land in
 *               one generation
 *   COMPLETING  joined: the generation is bumped and the leader (one member)
 *               got every member's subscription; waiting for its SyncGroup
 *               with the assignment
 *   STABLE      every member has its assignment; heartbeats keep members in
 *   DEAD        the coordinator gave the group up (it moved); every waiter
 *               was answered NOT_COORDINATOR
 *
 * Invariants:
 *  - generation only grows; a request carrying another generation gets
 *    ILLEGAL_GENERATION, so a member that missed a rebalance cannot commit
 *    or sync with stale state (the fencing the issue asks for);
 *  - every parked waiter is answered exactly once: by the step that
 *    completes it, by a rebalance (sync waiters: REBALANCE_IN_PROGRESS),
 *    by its member's removal (UNKNOWN_MEMBER_ID) or by grp_give_up();
 *  - a member whose session times out (no heartbeat, join or sync within
 *    session_timeout_ms) is removed and a rebalance starts; a member
 *    waiting in a JoinGroup is not expired, the rebalance timeout bounds it.
 */
#ifndef REPLOG_GROUP_H
#define REPLOG_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum grp_state { GRP_EMPTY, GRP_PREPARING, GRP_COMPLETING, GRP_STABLE, GRP_DEAD };

struct grp_config {
	int32_t min_session_timeout_ms; /* smaller: INVALID_SESSION_TIMEOUT */
	int32_t max_session_timeout_ms; /* larger: INVALID_SESSION_TIMEOUT */
	int32_t initial_delay_ms;	/* a new group waits this for more members */
	int32_t max_members;		/* more: GROUP_MAX_SIZE_REACHED */
};

struct grp_protocol {
	const char *name; /* NUL-terminated */
	const uint8_t *metadata;
	int32_t metadata_len;
};

/* A JoinGroup as the coordinator needs it; strings NUL-terminated,
 * borrowed for the call (the group copies what it keeps). */
struct grp_join_req {
	const char *member_id; /* "" for a new member */
	const char *client_id;
	const char *client_host;
	int32_t session_timeout_ms;
	int32_t rebalance_timeout_ms; /* v0 has none: pass the session timeout */
	const char *protocol_type;    /* "consumer" */
	const struct grp_protocol *protocols;
	int32_t nprotocols;
	bool require_known_member_id; /* JoinGroup v4+: answer MEMBER_ID_REQUIRED first */
	uint64_t id_nonce;	      /* randomness for a new member id */
};

struct grp_join_member {
	const char *member_id;
	const uint8_t *metadata; /* the chosen protocol's */
	int32_t metadata_len;
};

/* What a JoinGroup gets; valid during the callback only. */
struct grp_join_result {
	int16_t error_code;
	int32_t generation;
	const char *protocol_name; /* "" on error */
	const char *leader;
	const char *member_id;
	const struct grp_join_member *members; /* only for the leader */
	int32_t nmembers;
};

struct grp_ops {
	void (*join_done)(void *waiter, const struct grp_join_result *r);
	/* assignment NULL/0 with an error */
	void (*sync_done)(void *waiter, int16_t error_code, const uint8_t *assignment,
			  int32_t assignment_len);
};

struct grp_assignment {
	const char *member_id;
	const uint8_t *assignment;
	int32_t assignment_len;
};

struct grp_member;

struct grp_group {
	char *id;
	enum grp_state state;
	int32_t generation;
	char *protocol_type; /* of the members; NULL when empty */
	char *protocol;	     /* chosen in the last completed join; NULL before */
	char *leader;	     /* member id; NULL when none */
	struct grp_member **members;
	int32_t nmembers, members_cap;
	int64_t rebalance_deadline_ms; /* PREPARING: complete the join by then */
	int64_t initial_deadline_ms;   /* PREPARING of a new group: not before then */
	uint64_t id_counter;
};

/* A new, EMPTY group (id copied). NULL when out of memory. */
struct grp_group *grp_new(const char *id);
void grp_free(struct grp_group *g);

/* Handle a JoinGroup. The answer comes through ops->join_done(waiter, ...),
 * at once (errors, MEMBER_ID_REQUIRED, or when this join completes the
 * rebalance) or from a later grp_join/grp_tick/grp_leave. */
void grp_join(struct grp_group *g, const struct grp_config *cfg, const struct grp_join_req *req,
	      void *waiter, int64_t now_ms, const struct grp_ops *ops);

/* Handle a SyncGroup; the leader's carries the assignments. The answer
 * comes through ops->sync_done(waiter, ...), at once or when the leader's
 * sync arrives. */
void grp_sync(struct grp_group *g, const char *member_id, int32_t generation,
	      const struct grp_assignment *assignments, int32_t nassignments, void *waiter,
	      int64_t now_ms, const struct grp_ops *ops);

/* Handle a Heartbeat: the Kafka error code to answer (0,
 * REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID). */
int16_t grp_heartbeat(struct grp_group *g, const char *member_id, int32_t generation,
		      int64_t now_ms);

/* Handle a LeaveGroup: 0 or UNKNOWN_MEMBER_ID. The others rebalance. */
int16_t grp_leave(struct grp_group *g, const char *member_id, int64_t now_ms,
		  const struct grp_ops *ops);

/* May an OffsetCommit with this member and generation be written? 0;
 * ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS. A commit
 * with generation -1 and an empty member id (a consumer that assigns its
 * own partitions) is allowed only while the group has no members. */
int16_t grp_commit_allowed(const struct grp_group *g, const char *member_id, int32_t generation);

/* Expire sessions, end a rebalance whose time is up. Returns the next time
 * it needs to be called (INT64_MAX when nothing is pending). */
int64_t grp_tick(struct grp_group *g, int64_t now_ms, const struct grp_ops *ops);

/* The coordinator moved: answer every waiter NOT_COORDINATOR; the group is
 * DEAD (free it). */
void grp_give_up(struct grp_group *g, const struct grp_ops *ops);

/* "Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead"
 * (DescribeGroups' names). */
const char *grp_state_name(enum grp_state s);

/* Read access for DescribeGroups and `replog groups describe`. */
int32_t grp_member_count(const struct grp_group *g);
const char *grp_member_id(const struct grp_group *g, int32_t i);
const char *grp_member_client_id(const struct grp_group *g, int32_t i);
const char *grp_member_client_host(const struct grp_group *g, int32_t i);
/* The member's assignment bytes (NULL/0 before one). */
const uint8_t *grp_member_assignment(const struct grp_group *g, int32_t i, int32_t *len);
/* The member's metadata for the chosen protocol (NULL/0 when none). */
const uint8_t *grp_member_metadata(const struct grp_group *g, int32_t i, int32_t *len);

#endif
