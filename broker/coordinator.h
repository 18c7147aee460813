/*
 * coordinator — the group coordinator: consumer groups (group.h) and their
 * committed offsets (offsets.h), kept by the leader of each partition of
 * the internal topic __consumer_offsets. Prefix coord_.
 *
 * Which broker coordinates a group: the leader of partition
 * ofs_partition_for(group, COORD_PARTITIONS) of __consumer_offsets
 * (FindCoordinator answers it; the topic is created, compacted, replicated
 * like any other, on the first FindCoordinator). When that leadership
 * moves, the group moves with it: the old coordinator answers
 * NOT_COORDINATOR (and every parked JoinGroup/SyncGroup is answered so),
 * the new one rebuilds the committed offsets by reading the partition from
 * its start before it answers anything for it. Group membership is not
 * written down: after a move, members rejoin (their heartbeats get
 * UNKNOWN_MEMBER_ID) and commit again under the new generation.
 *
 * A commit is appended to the group's partition as one batch (one record
 * per partition committed, Kafka's record layout) and answered only when
 * the partition's high watermark passes it (acks=all), then it is visible
 * to OffsetFetch. So an acknowledged commit survives what the topic
 * survives.
 *
 * Owned by the reactor thread.
 */
#ifndef REPLOG_COORDINATOR_H
#define REPLOG_COORDINATOR_H

#include <stdint.h>

struct broker;
struct kreq;

#define COORD_PARTITIONS 16

int coord_init(struct broker *b);
void coord_deinit(struct broker *b);
/* Periodic: sessions, rebalance deadlines, leaderships lost. */
void coord_tick(struct broker *b);

void findcoordinator_handle(struct broker *b, struct kreq *rq);
void joingroup_handle(struct broker *b, struct kreq *rq);
void syncgroup_handle(struct broker *b, struct kreq *rq);
void heartbeat_handle(struct broker *b, struct kreq *rq);
void leavegroup_handle(struct broker *b, struct kreq *rq);
void offsetcommit_handle(struct broker *b, struct kreq *rq);
void offsetfetch_handle(struct broker *b, struct kreq *rq);
void listgroups_handle(struct broker *b, struct kreq *rq);
void describegroups_handle(struct broker *b, struct kreq *rq);
/* Delete groups that have no members: their offsets get tombstones in
 * __consumer_offsets (acks=all) and are forgotten. */
void deletegroups_handle(struct broker *b, struct kreq *rq);

#endif
