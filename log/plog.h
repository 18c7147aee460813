/*
 * plog — the log of one topic-partition: a directory of segments
 * (<data_dir>/<topic>-<partition>/) plus its leader-epoch checkpoint, its
 * high-watermark checkpoint and its discarded/ folder.
 *
 * Offsets, in the order they can be equal or increase:
 *
 *   start <= flushed <= written <= end (LEO)
 *
 *   start    first offset still in the log (retention moves it)
 *   flushed  every batch below it is fsynced: it survives power loss
 *   written  every batch below it is in the page cache: readable
 *   end      the next offset to assign (log end offset, LEO)
 *
 * Appends are asynchronous. plog_append_leader/_replica validate the
 * batches, assign or check offsets, update the index, and queue the bytes;
 * the log keeps at most one writev in flight, coalescing everything queued
 * behind it into the next one, so completions arrive in offset order. The
 * caller's buffer is written from in place (no copy) and must stay valid
 * until the append's pa_done runs.
 *
 * Flushing is group commit: one fdatasync round in flight at a time covers
 * every write completed before it was issued. When a round is due depends
 * on the flush policy (struct plog_config); after every round, and after
 * every completed write, cfg.on_progress runs so the owner can answer
 * acks=1 and advance acks=all waiters.
 *
 * Failure policy (one for the whole durability path): a failed write or
 * fdatasync fences the log with a sticky error. Queued appends complete with
 * that error, new appends get RL_EFENCED, `flushed` never moves again, and
 * nothing after the failure is reported durable. Reopening the log is the
 * only way out (recovery then decides what is on disk).
 *
 * Recovery on open validates every batch from the last index entry of each
 * segment (the whole last segment after an unclean shutdown, any segment
 * whose index is missing or inconsistent), with CRCs. The first bad batch
 * and everything after it — a torn tail or corruption — is moved to
 * discarded/ and reported in struct plog_recovery; nothing is skipped over.
 * What was fsynced before a crash is never cut, because a crash cannot tear
 * it; only damage to the medium can, and that is reported as corruption.
 *
 * Threading: a plog, its engine and its callbacks belong to one thread.
 */
#ifndef REPLOG_PLOG_H
#define REPLOG_PLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "discard.h"
#include "epoch_cache.h"
#include "io.h"
#include "segment.h"

#define PLOG_CLEAN_SHUTDOWN_FILE ".clean-shutdown"

struct plog;

struct plog_config {
	uint64_t segment_bytes;	       /* roll before the active segment exceeds it */
	int64_t segment_ms;	       /* roll an active segment this old (age from the
					* file's creation, also across restarts); <= 0 never */
	uint32_t index_interval_bytes; /* bytes between sparse index entries */
	uint32_t max_append_bytes;     /* largest single append accepted */
	/* Flush policy. 0 disables a trigger; when both are 0, every append is
	 * flushed (group-committed). `flush_never` (benchmarks only) disables
	 * flushing except at roll and close. */
	int64_t flush_interval_ms; /* fsync once unflushed data is this old */
	int64_t flush_bytes;	   /* fsync once this many bytes are unflushed */
	bool flush_never;
	/* Recovery: refuse to open (RL_ECORRUPT, nothing changed) when a
	 * complete batch is corrupt, instead of cutting it to discarded/. Torn
	 * tails are always cut. */
	bool refuse_corrupt;
	/* Offsets may skip between batches (compacted topics); otherwise each
	 * batch must start where the previous one ended. */
	bool allow_offset_gaps;
	uint32_t max_write_iov;		/* batches per coalesced writev (<= 1024) */
	int64_t (*clock_ms)(void *ctx); /* NULL = wall clock */
	void *clock_ctx;
	/* Runs after written or flushed advanced (and after a fence). */
	void (*on_progress)(void *ctx, struct plog *log);
	void *progress_ctx;
	/* Runs when a segment's fdatasync completes, with its duration in
	 * microseconds (for metrics); may be NULL. */
	void (*on_fsync)(void *ctx, int64_t usec);
	void *fsync_ctx;
};

/* Defaults: 1 GiB segments, 7-day segment age, 4 KiB index interval,
 * 16 MiB max append, flush every append, 64 batches per writev. */
void plog_config_default(struct plog_config *cfg);

struct plog_append {
	void (*pa_done)(struct plog_append *pa, int res); /* may be NULL; res 0 = written */
	void *pa_ctx;
	int64_t pa_base_offset; /* set by plog_append_*: first offset assigned */
	int64_t pa_last_offset; /* last offset assigned */
	/* private to plog */
	struct segment *pa_seg;
	uint64_t pa_pos;
	uint8_t *pa_bytes;
	size_t pa_len;
	struct plog_append *pa_next;
};

struct plog_recovery {
	bool pr_clean;	      /* the previous close was clean */
	uint32_t pr_segments; /* segments opened */
	uint32_t pr_indexes_rebuilt;
	uint64_t pr_bytes_scanned;
	int pr_stop;		      /* enum segment_scan_stop; SCAN_END = intact */
	int pr_error;		      /* RL_E* code of the first bad batch */
	int64_t pr_segment_base;      /* segment where recovery cut */
	uint64_t pr_position;	      /* file position of the cut */
	int64_t pr_offset;	      /* log end after the cut: first offset dropped */
	int64_t pr_bad_offset;	      /* baseOffset field of the bad batch, -1 unreadable */
	uint64_t pr_bytes_dropped;    /* moved to discarded/ */
	uint32_t pr_segments_dropped; /* whole later segments moved with it */
	char pr_discard_name[DISCARD_NAME_MAX];
};

/* One line describing the recovery, for the log and for tools. */
int plog_recovery_describe(const struct plog_recovery *rec, char *buf, size_t cap);

/* Open (creating `dir` if missing; its parent must exist) and recover.
 * `io` is borrowed and must outlive the log. rec may be NULL. Returns 0, or
 * -errno, RL_ECORRUPT (refuse_corrupt, or checkpoint files damaged),
 * RL_ECONFIG. */
int plog_open(const char *dir, struct io_engine *io, const struct plog_config *cfg,
	      struct plog **out, struct plog_recovery *rec);

/* Wait for in-flight I/O, fsync everything, persist indexes, mark the
 * shutdown clean, free. Returns 0 or the first error (the log is freed in
 * any case; an error means the next open recovers as after a crash). */
int plog_close(struct plog *log);

/* Free without flushing or marking clean: what a crash leaves behind, for
 * tests. In-flight I/O is waited for first (the kernel would finish it). */
void plog_close_unclean(struct plog *log);

/* Append one or more whole batches as leader: offsets are assigned from the
 * log end and every batch is stamped with `leader_epoch`. A new epoch is
 * recorded (and fsynced) in the epoch cache first. Validates every batch
 * before changing anything. Returns 0 with pa_base_offset/pa_last_offset
 * set, or RL_EFENCED, RL_ETOO_LARGE, RL_EORDER (epoch older than the
 * latest), a batch validation error, -errno. */
int plog_append_leader(struct plog *log, struct plog_append *pa, uint8_t *bytes, size_t len,
		       int32_t leader_epoch);

/* Append batches copied from a leader: offsets must continue the log end
 * exactly and epochs never decrease; new epochs go to the epoch cache
 * first. Errors as above, plus RL_EORDER for an offset mismatch. */
int plog_append_replica(struct plog *log, struct plog_append *pa, uint8_t *bytes, size_t len);

/* This replica becomes leader in `leader_epoch`: record (and fsync) that
 * the epoch starts at the log end, before any batch of it is appended, so
 * the leader can answer OffsetForLeaderEpoch for it at once (KIP-279).
 * Returns 0, RL_EORDER for an epoch older than the latest, or -errno. */
int plog_begin_epoch(struct plog *log, int32_t leader_epoch);

/* A readable range of whole batches inside one segment. */
struct plog_slice {
	struct segment *ps_seg; /* referenced; release with plog_slice_release */
	int ps_fd;
	uint64_t ps_pos;
	uint32_t ps_len;	 /* 0 when the first batch alone exceeds max_bytes */
	int64_t ps_first_offset; /* base offset of the first batch */
	int64_t ps_next_offset;	 /* offset after the last batch */
	uint32_t ps_first_size;	 /* size of the first batch */
};

/* Whole batches starting with the one containing `offset`, inside one
 * segment, at most `max_bytes` (at least one batch when min_one is set), and
 * only batches that end below `max_offset` (the high watermark for
 * consumers; plog_end_offset() for replicas). Returns 1 with a slice, 0 when
 * nothing is readable yet (offset at max_offset or at the written end), or
 * RL_ERANGE when offset < start or > end. */
int plog_read(struct plog *log, int64_t offset, uint32_t max_bytes, int64_t max_offset,
	      bool min_one, struct plog_slice *out);
/* Copy a slice's bytes (at most cap). Returns bytes copied or -errno. */
int64_t plog_slice_copy(const struct plog_slice *s, void *buf, size_t cap);
void plog_slice_release(struct plog_slice *s);

/* Hand-off of removed bytes during truncation: called with each removed
 * batch in order before anything is removed; returning non-zero aborts the
 * truncation with that value and leaves the log unchanged. */
typedef int (*plog_keep_fn)(void *ctx, const uint8_t *batch, size_t len,
			    const struct batch_header *h, int64_t segment, uint64_t position);

struct plog_truncation {
	int64_t pt_new_end; /* log end after: base offset of the first removed batch */
	int64_t pt_old_end;
	uint64_t pt_bytes; /* bytes removed */
	uint32_t pt_batches;
	uint32_t pt_segments_deleted;
};

/* Remove every batch whose last offset is >= `offset` (a batch containing
 * `offset` goes whole, so the new end may be below `offset`). The epoch
 * cache is truncated to the new end. Requires no I/O in flight (RL_EBUSY;
 * see plog_wait_idle). keep may be NULL. Returns 0 or an error with the log
 * unchanged. */
int plog_truncate(struct plog *log, int64_t offset, plog_keep_fn keep, void *ctx,
		  struct plog_truncation *out);

/* A keep function that writes the removed batches to discarded/ with
 * `reason` — use with plog_truncate_preserving(). */
int plog_truncate_preserving(struct plog *log, int64_t offset, const char *reason,
			     const char *detail, struct plog_truncation *out,
			     struct discard_info *info);

/* Delete whole closed segments that are past retention: all of whose
 * batches are older than now - retention_ms (< 0: no time limit), or while
 * the log exceeds retention_bytes by at least the oldest segment
 * (< 0: no size limit). Never the active segment, never a segment reaching
 * max_offset or beyond (pass the high watermark). Returns segments deleted
 * or a negative error. */
int plog_retain(struct plog *log, int64_t retention_ms, int64_t retention_bytes,
		int64_t max_offset);

/* Replace closed segment `base_offset` by the cleaned files compact_run
 * left for it (<base>.log.cleaned and its indexes; protocol in compact.h).
 * `old_size` is the segment's size the run read (compact_segment.cs_size).
 * Owner's thread only; synchronous renames and directory fsyncs, plus a
 * scan of the new file from its last index entry. Never touches the active
 * segment. Readers holding a slice of the old segment keep reading the old
 * bytes through its descriptor until they release it.
 * Returns 0; -ENOENT when the segment is gone (retention, truncation) and
 * -ESTALE when it changed since the run, both with the cleaned files
 * removed; RL_EBUSY while an fdatasync of it is in flight (retry later);
 * RL_ECONFIG unless the log allows offset gaps; RL_EFENCED. A failure after
 * the commit point fences the log (reopen: recovery completes the swap). */
int plog_swap_cleaned(struct plog *log, int64_t base_offset, uint64_t old_size);

/* First offset whose record timestamp is >= ts, below max_offset: 1 with
 * *offset and *timestamp, 0 when none. Exact for uncompressed batches; for
 * compressed batches the batch's base offset and maxTimestamp. */
int plog_offset_for_timestamp(struct plog *log, int64_t ts, int64_t max_offset, int64_t *offset,
			      int64_t *timestamp);

/* Start a flush round now, whatever the policy (no-op if one is running or
 * nothing is unflushed). Returns 0 or RL_EFENCED. */
int plog_flush(struct plog *log);
/* Let time-based flushing happen; call on a timer. */
void plog_tick(struct plog *log);
/* When plog_tick next has work (ms on the log's clock), or -1. */
int64_t plog_next_deadline(const struct plog *log);

/* Drive the engine until this log has no I/O in flight. For tools, tests and
 * shutdown; the broker's reactor does this itself. Returns 0 or an engine
 * error. */
int plog_wait_idle(struct plog *log);
/* plog_flush + wait: everything appended so far is fsynced, or the sticky
 * error is returned. */
int plog_sync(struct plog *log);

/* Persist the high watermark (clamped to the log end). Returns 0 or -errno. */
int plog_checkpoint_hw(struct plog *log, int64_t hw);
/* The HW read at open (clamped to [start, end]), or -1 if none was saved. */
int64_t plog_recovered_hw(const struct plog *log);

int64_t plog_start_offset(const struct plog *log);
int64_t plog_end_offset(const struct plog *log);
int64_t plog_written_offset(const struct plog *log);
int64_t plog_flushed_offset(const struct plog *log);
int plog_error(const struct plog *log);		  /* sticky error, 0 if none */
uint64_t plog_size_bytes(const struct plog *log); /* sum of segment sizes */
uint32_t plog_segment_count(const struct plog *log);
int64_t plog_segment_base(const struct plog *log, uint32_t idx);
const struct epoch_cache *plog_epochs(const struct plog *log);
int plog_dir_fd(const struct plog *log);
const char *plog_dir(const struct plog *log);
bool plog_io_idle(const struct plog *log);

#endif
