/*
 * compact — log compaction ("cleanup_policy: compact", and the offsets
 * topic): keep only the latest record of every key in the closed segments
 * of a partition log, drop tombstones once they are old enough, and do it
 * on files, off the owner's thread, so appends never wait for it.
 *
 * The three steps and their threads:
 *
 *   compact_plan   any thread    list the segment files of a log directory,
 *                                minus the last one (the active segment).
 *   compact_run    any thread    read those files with plain pread, build
 *                                the key map, write <base>.log.cleaned (and
 *                                .index.cleaned, .timeindex.cleaned) for each
 *                                segment that changes, fsync them and the
 *                                directory. Never touches a struct plog.
 *   plog_swap_cleaned  the log's owner thread (plog.h): replace one segment by
 *                                its cleaned files, crash-safely, and swap
 *                                the in-memory segment.
 *
 * What is kept. The run scans the planned segments in order, stopping at
 * the first batch that reaches `upper_offset` (the caller passes the high
 * watermark, or the first unstable offset once transactions exist) and at
 * the first batch that fails validation. Every record with a key inserts
 * (digest(key) -> offset) into a bounded map (cc_max_keys entries of a
 * 128-bit keyed hash; a collision would drop a record, as with Kafka's MD5
 * map, which is why the hash is seeded). When the map is full the run stops
 * at the start of that segment: only the segments the map covers entirely
 * are cleaned (the partly scanned one only lends its later offsets, which
 * is correct: those records stay). In a cleaned segment a record is kept
 * when
 *   - its key is null (Kafka refuses null keys in compacted topics; we keep
 *     them rather than lose data a producer managed to write), or
 *   - it is the latest offset of its key in the scanned range, and it is
 *     not a tombstone (null value) whose segment's max timestamp is older
 *     than now - cc_delete_retention_ms.
 * Offsets are never renumbered. A batch all of whose records stay is copied
 * byte for byte; a batch with none left disappears; otherwise it is rebuilt
 * with the same header (baseOffset, partitionLeaderEpoch, attributes and
 * codec, lastOffsetDelta, timestamps, producer fields): the kept records'
 * bytes are copied unchanged (their offset and timestamp deltas are relative
 * to the unchanged base), zstd batches are decompressed and recompressed,
 * and recordsCount, batchLength and the CRC are recomputed. Batches keep
 * their order and epochs, so the leader-epoch cache stays valid (an epoch's
 * start offset may now name a removed record, which OffsetForLeaderEpoch
 * answers are unaffected by). Offset gaps appear inside segments: the log
 * must be opened with plog_config.allow_offset_gaps.
 *
 * Batches kept whole and never looked into ("opaque"): control batches,
 * transactional batches (an aborted record must not shadow a committed
 * one), codecs other than none/zstd (gzip, snappy, lz4 are stored but not
 * decoded here), and batches that decompress beyond cc_max_records_bytes.
 * Their keys do not enter the map, so they never make a record disappear;
 * and when the scanned range holds any, no tombstone is dropped in that run
 * (an older value inside an opaque batch would come back).
 * Empty batches left for idempotent-producer state (Kafka keeps them) are
 * not kept: replog has no producer state yet.
 *
 * The swap protocol, for the segment with base offset B (names are
 * <20-digit B><suffix>), each step one rename or fsync:
 *
 *   1. compact_run:  write B.log.cleaned, B.index.cleaned,
 *                    B.timeindex.cleaned; fdatasync each; fsync the dir.
 *   2. swap:         rename B.log.cleaned -> B.log.swap (the commit point:
 *                    once the name exists, recovery completes the swap);
 *                    fsync the dir (makes the commit durable).
 *   3. swap:         rename B.index.cleaned -> B.index,
 *                    B.timeindex.cleaned -> B.timeindex.
 *   4. swap:         rename B.log.swap -> B.log (atomically replaces the old
 *                    file); fsync the dir.
 *
 * Recovery (compact_recover_dir, called by plog_open before it lists the
 * segments): for every B.log.swap, the swap was committed: rename any
 * B.index.cleaned / B.timeindex.cleaned over the index files, then
 * B.log.swap over B.log. Then every remaining *.cleaned file belongs to an
 * uncommitted run and is deleted (the old segment is intact). So after a
 * crash at any point the directory holds either the old segment or the new
 * one, never a mix: the new index files only ever sit next to the old log
 * while B.log.swap exists, which recovery resolves towards the new log.
 * (Index files are hints anyway: open checks them and rebuilds bad ones.)
 *
 * Readers of the replaced segment: plog reads segment files with pread on
 * the segment's descriptor, and a slice (plog_read) holds a reference on the
 * segment. Renaming over B.log unlinks the old inode but leaves it open;
 * plog_swap_cleaned drops only the log's own reference, so a reader keeps
 * reading the old bytes until it releases its slice, when the descriptor
 * is closed and the space freed.
 *
 * Memory: the map (about 32 bytes per key of capacity, allocated once per
 * run), one read-ahead window, and three scratch buffers bounded by
 * cc_max_batch_bytes and cc_max_records_bytes. All allocated in compact_run
 * and freed before it returns.
 */
#ifndef REPLOG_COMPACT_H
#define REPLOG_COMPACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COMPACT_CLEANED_SUFFIX ".cleaned"
#define COMPACT_SWAP_SUFFIX    ".swap"

struct compact_config {
	uint32_t cc_max_keys;		/* map capacity: distinct keys per run */
	int64_t cc_delete_retention_ms; /* tombstones live this long past their
					 * segment's max timestamp; < 0 forever */
	int64_t cc_now_ms;		/* the clock for that horizon */
	uint64_t cc_hash_seed;		/* key digest seed: pick one per process */
	uint32_t cc_index_interval_bytes;
	uint32_t cc_max_batch_bytes;   /* largest batch read (segment_bytes) */
	uint32_t cc_max_records_bytes; /* largest decompressed records region */
	int cc_zstd_level;	       /* recompression level (3 = librdkafka's) */
};

/* Defaults: 1M keys, 24 h delete retention, clock 0 (set it), index every
 * 4 KiB, 1 GiB batches, 64 MiB decompressed, zstd level 3. */
void compact_config_default(struct compact_config *cfg);

/* One segment of a plan and, after compact_run, what happened to it. */
struct compact_segment {
	int64_t cs_base_offset;
	uint64_t cs_size; /* bytes of the file the run reads (size at plan time) */
	/* Filled by compact_run: */
	int64_t cs_next_offset;	  /* offset after the last batch */
	int64_t cs_max_timestamp; /* largest batch maxTimestamp; -1 empty */
	bool cs_cleaned;	  /* fully covered by the map and below upper */
	bool cs_rewritten;	  /* cleaned files written: swap them in */
	uint64_t cs_new_size;	  /* size of B.log.cleaned */
	uint32_t cs_records_dropped;
	uint32_t cs_tombstones_dropped;
};

struct compact_plan {
	struct compact_segment *cp_segs; /* owned; in base offset order */
	uint32_t cp_count;
	int64_t cp_upper_offset; /* clean only batches ending below this */
};

struct compact_result {
	uint32_t cr_segments_cleaned;	/* cs_cleaned set */
	uint32_t cr_segments_rewritten; /* cs_rewritten set */
	int64_t cr_cleaned_end;		/* offset below which the log is clean */
	int64_t cr_scanned_end;		/* offset the map covers up to */
	uint64_t cr_bytes_before;	/* of the cleaned segments */
	uint64_t cr_bytes_after;
	uint64_t cr_records_kept;
	uint64_t cr_records_dropped;
	uint64_t cr_tombstones_dropped;
	uint32_t cr_keys; /* distinct keys in the map */
	uint32_t cr_opaque_batches;
	bool cr_map_full; /* the map stopped the run early */
};

/* List the segments of the log directory `dir` that are closed (every
 * segment file but the one with the highest base offset), with their sizes.
 * Any thread; the log may be running. Returns the number of segments
 * planned (0: nothing to do) or -errno. Free with compact_plan_free. */
int compact_plan(const char *dir, int64_t upper_offset, struct compact_plan *plan);
void compact_plan_free(struct compact_plan *plan);

/* Clean the planned segments of `dir` (see the top of this file): fills
 * each compact_segment and *res, and leaves <base>.*.cleaned files for every
 * segment with cs_rewritten. Any thread, no struct plog involved; plain
 * blocking I/O. Returns 0, or -errno / RL_E* with every .cleaned file it
 * created removed. A segment file that vanished (retention) is skipped. */
int compact_run(const char *dir, struct compact_plan *plan, const struct compact_config *cfg,
		struct compact_result *res);

/* Remove the cleaned files of segment `base` (a swap that will not happen).
 * Returns 0 or -errno (missing files are fine). */
int compact_discard_cleaned(int dir_fd, int64_t base);

/* Steps 2-4 of the swap protocol on the files of segment `base`, stopping
 * after `max_steps` renames/fsyncs (INT32_MAX: all; tests use smaller
 * values to leave what a crash would). Returns 0 or -errno; *committed
 * (may be NULL) tells whether the commit rename was done (from then on the
 * swap must be completed, never undone). */
int compact_swap_files(int dir_fd, int64_t base, int max_steps, bool *committed);

/* Finish committed swaps and delete uncommitted cleaned files in a log
 * directory (called by plog_open). Returns the number of swaps completed,
 * or -errno. */
int compact_recover_dir(int dir_fd);

#endif
