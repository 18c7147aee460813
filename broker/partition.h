/*
 * partition — one topic-partition as the broker serves it: its log
 * (log/plog), its leader epoch, its high watermark, and who is waiting on
 * it (produce requests waiting for their batches to be written or durable,
 * fetch requests waiting for data).
 *
 * High watermark on a single replica: the leader is the whole ISR, so the
 * HW is the leader's own durable end — the flushed offset when the topic's
 * acks_all_durability is `fsync` (the default), the written offset when it
 * is `replicated`. The HW only moves forward; consumers read below it.
 *
 * Waiters are intrusive FIFOs. Appends complete in offset order, so each
 * FIFO is sorted by target offset and progress pops from its head.
 *
 * Owned by one reactor thread; nothing here locks.
 */
#ifndef REPLOG_PARTITION_H
#define REPLOG_PARTITION_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "plog.h"

struct topic;
struct partition;

/* A produce (or anything) waiting until an offset is written / durable. */
struct pwait {
	int64_t pw_target;			   /* done when the tracked offset reaches it */
	void (*pw_done)(struct pwait *w, int err); /* err: 0 or a Kafka error code */
	void *pw_ctx;
	struct pwait *pw_next;
};

/* A fetch watching for the HW to move (or the partition to go away). */
struct pwatch {
	void (*pwt_wake)(struct pwatch *w);
	void *pwt_ctx;
	struct partition *pwt_part; /* NULL when not linked */
	struct pwatch *pwt_prev, *pwt_next;
};

struct pwait_fifo {
	struct pwait *pf_head, *pf_tail;
};

struct partition {
	struct topic *pt_topic; /* borrowed: the owner */
	int32_t pt_index;
	struct plog *pt_log; /* owned */
	int32_t pt_leader_epoch;
	int64_t pt_hw;
	int64_t pt_hw_checkpointed;
	int pt_storage_error;		   /* sticky: the log was fenced */
	bool pt_flush_every_append;	   /* acks=1 waits for fsync */
	int pt_durability;		   /* enum config_durability */
	struct pwait_fifo pt_wait_written; /* acks=1 under a size/time flush policy */
	struct pwait_fifo pt_wait_flushed; /* acks=1 when every append is flushed */
	struct pwait_fifo pt_wait_durable; /* the HW: acks=all */
	struct pwatch *pt_watchers;
};

/* Called from plog's on_progress: advance the HW, complete waiters, wake
 * fetches. */
void partition_progress(struct partition *p);

/* The offset the HW follows for this partition's durability. */
int64_t partition_durable_end(const struct partition *p);

void partition_wait_written(struct partition *p, struct pwait *w);
void partition_wait_flushed(struct partition *p, struct pwait *w);
void partition_wait_durable(struct partition *p, struct pwait *w);

void partition_watch(struct partition *p, struct pwatch *w);
void partition_unwatch(struct pwatch *w);

/* The partition is going away (topic deleted, broker stopping): complete
 * every waiter with `err` and wake every watcher (they find it gone). */
void partition_fail_all(struct partition *p, int err);

/* Checkpoint the HW if it moved since the last checkpoint. */
int partition_checkpoint_hw(struct partition *p);

#endif
