/*
 * fetcher — a follower's replication from one leader broker: one peer
 * connection per leader, carrying every partition this broker follows on
 * that leader.
 *
 * Per partition:
 *   1. truncate: ask the leader OffsetForLeaderEpoch about this replica's
 *      latest epoch (KIP-101/279: isr_truncation_point decides, asking again
 *      about older epochs as needed); cut the log where it stops agreeing
 *      with the leader's, preserving what is cut in discarded/ with a log
 *      line (writes_discarded). A cut below the local HW is refused (the
 *      replica stays out of sync, loudly) unless the leader was elected
 *      uncleanly;
 *   2. fetch: Fetch with replica_id = this broker and the current leader
 *      epoch, from the log end; append what comes back as a replica append
 *      (offsets and epochs checked); with acks_all_durability fsync, wait
 *      until it is fsynced before fetching again — the next fetch offset is
 *      what the leader counts as this replica's LEO, so it must be durable;
 *      learn the HW from the response (never lowering the local one).
 * Errors that mean the metadata moved (NOT_LEADER, FENCED_LEADER_EPOCH)
 * wait for the metadata; UNKNOWN_LEADER_EPOCH (the leader is behind) and
 * connection failures retry after a backoff.
 */
#ifndef REPLOG_FETCHER_H
#define REPLOG_FETCHER_H

#include <stdint.h>

struct broker;
struct partition;
struct fetcher;

/* Start following `leader` for p (from the truncation step). */
void fetcher_follow(struct broker *b, struct partition *p, int32_t leader);
/* Stop following (no-op when not following). */
void fetcher_unfollow(struct partition *p);
/* p's log made progress (its durable end may have reached what the fetcher
 * waits for). */
void fetcher_progress(struct partition *p);
/* Drop every fetcher (broker stopping). */
void fetcher_stop_all(struct broker *b);

#endif
