/*
 * replica — what this broker does with a partition it holds a replica of:
 * become leader or follower when the metadata says so, feed the ISR state
 * machine (isr/) with its own progress and its followers' fetches, carry
 * out what the state machine answers (move the HW, release or fail acks=all
 * waiters, propose ISR changes to the controller).
 *
 * Becoming leader: the new epoch is recorded in the log's epoch history
 * before anything is appended in it (KIP-279), the HW is kept (never
 * lowered), followers start with unknown positions. Becoming follower:
 * produce requests waiting on this replica fail with NOT_LEADER_OR_FOLLOWER,
 * and the fetcher for the new leader takes the partition, starting with the
 * truncation handshake.
 */
#ifndef REPLOG_REPLICA_H
#define REPLOG_REPLICA_H

#include <stdbool.h>
#include <stdint.h>

#include "meta.h"
#include "partition.h"

struct broker;

/* p's storage failed (its log fenced, or a log call returned a storage
 * error): the replica leaves every role, what waits on it fails with
 * KAFKA_STORAGE_ERROR, and the broker crash-stops (broker_storage_failed).
 * op names the failed operation, NULL to take it from the I/O engine. */
void replica_storage_failed(struct broker *b, struct partition *p, const char *op, int err);

/* The partition's log made progress (topics_env.te_on_progress). */
void replica_on_progress(void *ctx, struct partition *p);

/* Apply a committed partition state (this broker is one of its replicas;
 * the log is open). */
void replica_apply(struct broker *b, struct partition *p, const struct meta_topic *t,
		   const struct meta_partition *mp);

/* The replica leaves every role (topic deleted, broker stopping): waiters
 * fail with err, the fetcher lets go. */
void replica_stop(struct broker *b, struct partition *p, int err);

/* A follower fetched from this leader: check and record it. Returns 0 or
 * a Kafka error code for that partition. */
int replica_follower_fetch(struct broker *b, struct partition *p, int32_t replica,
			   int32_t current_leader_epoch, int64_t fetch_offset);

/* Leader-side periodic checks (ISR shrink/expand). */
void replica_tick(struct broker *b, struct partition *p);

/* Act on ISR_* bits from an isr call. */
void replica_after_isr(struct broker *b, struct partition *p, int flags);

static inline bool replica_is_leader(const struct partition *p)
{
	return p->pt_isr.ip_role == ISR_ROLE_LEADER;
}

#endif
