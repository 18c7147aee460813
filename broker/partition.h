/*
 * partition — one replica of a topic-partition on this broker: its log
 * (log/plog), its replication state (isr/: role, leader epoch, ISR view,
 * high watermark, acks=all waiters), and who else is waiting on it
 * (produce requests waiting for their batches to be written or flushed,
 * fetch requests waiting for data). Role changes and the ISR protocol are
 * driven by replica.c; this module holds the state and the waiting.
 *
 * The HW (pt_hw, mirrored from pt_isr.ip_hw) only moves forward; consumers
 * read below it. A leader's own LEO for the HW is its durable end — the
 * flushed offset when the topic's acks_all_durability is `fsync` (the
 * default), the written offset when it is `replicated`.
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
#include "isr.h"
#include "metrics.h"
#include "plog.h"

struct topic;
struct partition;
struct fetcher;

/* A follower's replication state (fetcher.c). */
enum partition_fetch_state {
	PFS_NONE = 0, /* not following */
	PFS_TRUNCATE, /* finding where its log diverges from the leader's */
	PFS_FETCH,    /* fetching */
	PFS_FAILED,   /* refused to truncate committed data: stays out of sync */
};

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
	bool pt_storage_failed;		   /* replica_storage_failed ran */
	int64_t pt_alter_resend_ms;	   /* resend a pending ISR change then */
	int64_t pt_alter_quiet_until_ms;   /* after a refusal: no new proposal before */
	bool pt_flush_every_append;	   /* acks=1 waits for fsync */
	int pt_durability;		   /* enum config_durability */
	struct pwait_fifo pt_wait_written; /* acks=1 under a size/time flush policy */
	struct pwait_fifo pt_wait_flushed; /* acks=1 when every append is flushed */
	struct pwatch *pt_watchers;
	struct isr_partition pt_isr;
	bool pt_internal;	 /* __cluster_metadata: never in client Metadata */
	int64_t pt_written_seen; /* written end when watchers were last woken */
	int64_t pt_compacted_ms; /* cleaner.c: when its last cleaning began */
	/* follower (fetcher.c) */
	struct fetcher *pt_fetcher;
	struct partition *pt_fetch_next;
	int pt_fetch_state;	   /* enum partition_fetch_state */
	int32_t pt_truncate_query; /* epoch to ask the leader about next */
	bool pt_fetch_waiting;	   /* appended data not durable yet */
	struct pwait pt_fetch_wait;
	/* writes discarded by truncation, for DescribeReplicas and metrics */
	uint32_t pt_discard_events;
	int64_t pt_discard_records;
	struct mt_partition pt_metrics;
};

/* After plog progress: complete written/flushed waiters; wake watchers
 * when the written end moved (followers waiting for data). Returns true
 * when the log is fenced (the caller fails the partition). */
bool partition_progress(struct partition *p);

/* The offset that counts as this replica's LEO for the HW. */
int64_t partition_durable_end(const struct partition *p);

/* The HW moved (never backwards): record it, wake watchers. */
void partition_hw_moved(struct partition *p);

void partition_wait_written(struct partition *p, struct pwait *w);
void partition_wait_flushed(struct partition *p, struct pwait *w);
/* Take a waiter off its queue without calling it (no-op if not queued). */
void partition_cancel_wait(struct partition *p, struct pwait *w);

void partition_watch(struct partition *p, struct pwatch *w);
void partition_unwatch(struct pwatch *w);

/* The partition is going away (topic deleted, broker stopping): complete
 * every waiter with `err` and wake every watcher (they find it gone). */
void partition_fail_all(struct partition *p, int err);

/* Checkpoint the HW if it moved since the last checkpoint. */
int partition_checkpoint_hw(struct partition *p);

#endif
