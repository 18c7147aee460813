/*
 * quorum — the metadata log replicated by consensus (DESIGN.md §5).
 *
 * Every broker of cluster.brokers is a member of one Raft group: the ids in
 * cluster.controllers are voters, every other broker is a standby (it gets
 * every entry and votes on nothing). Consensus is canonical raft's core
 * (libraft, raft.h); its raft_io is implemented here on the broker's
 * reactor: a tick timer, messages over peer connections as the private API
 * ReplogRaft (raftmsg.h encodes them), storage in raftlog.h under
 * <data_dir>/__cluster_metadata-0.
 *
 * Entries. A command entry is one commit of the active controller: metadata
 * records (meta.h), one per line. Its metadata offset is its Raft index - 1,
 * and every record in it carries that offset (a broker's epoch is the
 * offset of the entry holding its registration). Raft's own entries
 * (configuration, barriers) take indexes too, so metadata offsets grow but
 * are not dense.
 *
 * Roles. The active controller is the Raft leader, and only once a barrier
 * it appended in its term has been applied: every entry committed before
 * is then in the image it starts from. ops.role(true) says so; ops.role
 * (false) comes as soon as this member is no longer leader of that term,
 * before anything else it proposed could be acknowledged.
 *
 * Snapshots: after `snapshot_entries` applied entries raft asks the image
 * for its records (ops.snapshot) and trims the log; a member far behind
 * gets the snapshot instead of the entries (ops.restore replaces its image).
 *
 * Bootstrap: a member whose storage is pristine writes the same first entry
 * as every other member — the configuration named by the YAML file — so
 * the group needs no join step. Afterwards the stored configuration rules:
 * changing cluster.controllers of a running cluster is not supported yet.
 *
 * Owned by the reactor thread.
 */
#ifndef REPLOG_QUORUM_H
#define REPLOG_QUORUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_message.h"

struct broker;
struct quorum;

struct qr_ops {
	void *ctx;
	/* A committed command entry, in order, exactly once per member (or
	 * folded into a snapshot). Returns 0, or -1 when it does not apply:
	 * the member stops (its image would diverge). */
	int (*apply)(void *ctx, int64_t offset, const char *recs, size_t len);
	/* The image as records, malloc'd into *out. */
	int (*snapshot)(void *ctx, char **out, size_t *len);
	/* Replace the image with a snapshot's records. */
	int (*restore)(void *ctx, const char *recs, size_t len);
	/* This member became (true) or stopped being (false) the active
	 * controller; term is the Raft term, the controller epoch. */
	void (*role)(void *ctx, bool active, uint64_t term);
};

/* Open the storage, bootstrap if pristine, start Raft. Returns 0 or -1
 * after logging why. */
int qr_start(struct broker *b, const struct qr_ops *ops, struct quorum **out);
void qr_stop(struct quorum *q);

/* Propose recs (len bytes, copied) as one command entry. done(ctx, 0) once
 * it is committed and applied here; done(ctx, KP_ERR_NOT_CONTROLLER) when
 * leadership was lost first (it may still commit later, under the next
 * leader). Returns 0, or a Kafka error (not the leader, no memory) without
 * calling done. */
typedef void (*qr_done_fn)(void *ctx, int err);
int qr_propose(struct quorum *q, const char *recs, size_t len, qr_done_fn done, void *ctx);

/* The metadata offset the next proposed entry will get. */
int64_t qr_next_offset(const struct quorum *q);
/* The Raft leader as this member knows it, -1 when none. */
int32_t qr_leader(const struct quorum *q);
bool qr_active(const struct quorum *q);
/* May the active controller grant leases now? Not when this process was
 * frozen or starved lately: a leader elected meanwhile deposes it within
 * two election timeouts, and until then it cannot tell. Besides, a Raft
 * leader cut off from a majority steps down within an election timeout
 * (at most 1/6 of the session), which the lease (2/3 of it) leaves room
 * for before a new controller acts (a full session after it starts). */
bool qr_lease_ok(const struct quorum *q);
uint64_t qr_term(const struct quorum *q);

/* This member is about to stop: if it leads, hand the leadership to
 * another voter now (Raft's TimeoutNow), so the cluster gets its next
 * controller in milliseconds instead of an election timeout. */
void qr_hand_over(struct quorum *q);
/* A hand-over is under way (until the next leader is heard from, or an
 * election timeout passed). */
bool qr_handing_over(const struct quorum *q);

/* A ReplogRaft request arrived: hand its message to Raft. Returns 0 or a
 * Kafka error code (malformed, unknown member). */
int qr_recv(struct quorum *q, const struct kp_replog_raft_request *req);

/* The quorum part of a ReplogDescribeQuorum answer (members from `alloc`,
 * which returns zeroed memory or NULL). */
void qr_describe(struct quorum *q, struct kp_replog_describe_quorum_response *r,
		 void *(*alloc)(void *actx, size_t n, size_t size), void *actx);

#endif
