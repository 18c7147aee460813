/*
 * segment — one log segment: `<base>.log` holding RecordBatch v2 bytes
 * exactly as on the wire, plus its sparse `<base>.index` and
 * `<base>.timeindex` (formats in index.h), where <base> is the segment's
 * base offset as 20 decimal digits.
 *
 * A segment knows its files, its in-memory index and how far its bytes got:
 *
 *   sg_synced <= sg_written <= sg_size
 *   synced:  covered by a completed fdatasync (survives power loss)
 *   written: the write completed (in the page cache; readable)
 *   size:    appended, write possibly in flight
 *
 * Readers only see [0, sg_written). Writing and syncing are driven by the
 * partition log (plog), which owns the segment list; this module does the
 * per-file work: create/open, scan and validate batches, find the batch
 * holding an offset, truncate, persist the index, unlink.
 *
 * Lifetime: a segment is reference counted. The log holds one reference;
 * a reader holding a slice holds another, so retention or truncation can
 * unlink the files while a read is in progress — the descriptor stays valid
 * until the last reference goes.
 */
#ifndef REPLOG_SEGMENT_H
#define REPLOG_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "index.h"
#include "io.h"

#define SEGMENT_NAME_DIGITS 20
#define SEGMENT_NAME_MAX    40

struct segment {
	int64_t sg_base_offset;
	int64_t sg_next_offset;	  /* offset after the last appended batch */
	uint64_t sg_size;	  /* bytes appended */
	uint64_t sg_written;	  /* bytes whose write completed */
	uint64_t sg_synced;	  /* bytes covered by a completed fdatasync */
	int64_t sg_max_timestamp; /* largest batch maxTimestamp; -1 when empty */
	int64_t sg_created_ms;	  /* for segment_ms rolls */
	uint64_t sg_index_pos;	  /* position of the last indexed batch */
	int32_t sg_last_epoch;	  /* partitionLeaderEpoch of the last batch; -1 */
	int sg_fd;		  /* the .log file, read-write */
	int sg_dir_fd;		  /* borrowed from the owning log */
	struct seg_index sg_index;
	uint32_t sg_refs;
	bool sg_index_dirty; /* the index files lag the in-memory index */
	bool sg_unlinked;
	/* The partition log's fdatasync of this file; one in flight at most. */
	struct io_op sg_sync_op;
	void *sg_owner;		 /* borrowed: the partition log syncing it */
	uint64_t sg_sync_target; /* sg_written when that fdatasync was issued */
	bool sg_sync_inflight;
};

/* A read-ahead window over a segment file, reused across scans so recovery
 * and lookups do not read batch by batch. Owned by its user. The window is
 * keyed by file descriptor number: after closing, truncating or deleting a
 * file the user must call seg_reader_forget(), or a reused descriptor
 * number would serve stale bytes. sr_max_batch_bytes bounds the largest
 * single read (one batch); the window itself is at least 1 MiB. */
struct seg_reader {
	uint8_t *sr_buf;
	size_t sr_cap;
	uint64_t sr_pos;	   /* file position of sr_buf[0] */
	size_t sr_len;		   /* valid bytes in sr_buf */
	int sr_fd;		   /* the file the window holds; -1 none */
	size_t sr_max_batch_bytes; /* refuse to buffer a batch larger than this */
};

void seg_reader_init(struct seg_reader *r, size_t max_batch_bytes);
void seg_reader_deinit(struct seg_reader *r);
/* Make [pos, pos+need) available (clipped at end); *p points at pos.
 * Returns the bytes available at *p (may be < need at end of file), or a
 * negative errno / RL_ETOO_LARGE if need exceeds sr_max_batch_bytes. */
int64_t seg_reader_get(struct seg_reader *r, int fd, uint64_t pos, size_t need, uint64_t end,
		       const uint8_t **p);
void seg_reader_forget(struct seg_reader *r);

/* "<20-digit base><suffix>" into buf (SEGMENT_NAME_MAX bytes). */
void segment_name(char *buf, int64_t base_offset, const char *suffix);
/* Parse "<20 digits>.log"; returns 1 and *base, or 0 if not a segment name. */
int segment_parse_name(const char *name, int64_t *base_offset);

/* Create empty files for a new segment. Returns 0 or -errno. */
int segment_create(int dir_fd, int64_t base_offset, int64_t now_ms, uint32_t max_index_entries,
		   struct segment **out);

/* Open an existing segment; its size is the file size, and its index is
 * loaded from the index files when they pass index_load()'s checks.
 * *index_ok (may be NULL) tells whether that happened. The caller must then
 * scan (segment_scan) at least from the last index entry to learn
 * sg_next_offset and sg_max_timestamp. Returns 0 or -errno. */
int segment_open(int dir_fd, int64_t base_offset, int64_t now_ms, uint32_t max_index_entries,
		 struct segment **out, bool *index_ok);

void segment_ref(struct segment *s);
/* Drop a reference; at zero, close the file and free. */
void segment_unref(struct segment *s);

/* Why a scan stopped before the end of the file. */
enum segment_scan_stop {
	SCAN_END = 0,	   /* reached the end cleanly */
	SCAN_TORN,	   /* the last batch runs past the end of the file */
	SCAN_CORRUPT,	   /* a complete batch fails validation (CRC, magic, ...) */
	SCAN_NONMONOTONIC, /* offsets or epochs go backwards */
};

struct segment_scan {
	uint64_t ss_from_pos;	/* where the scan started */
	uint64_t ss_valid_end;	/* end of the last valid batch */
	int64_t ss_next_offset; /* offset after the last valid batch */
	int64_t ss_max_timestamp;
	int32_t ss_last_epoch;
	uint32_t ss_batches;   /* valid batches scanned */
	int ss_stop;	       /* enum segment_scan_stop */
	int ss_error;	       /* the RL_E* code of the bad batch, 0 at SCAN_END */
	int64_t ss_bad_offset; /* baseOffset field of the bad batch, -1 if unreadable */
};

/* Per-batch hook for scans (may be NULL): return 0 to go on, negative to stop
 * the scan with that error. */
typedef int (*segment_batch_fn)(void *ctx, const struct batch_header *h, uint64_t pos,
				const uint8_t *batch, size_t size);

#define SCAN_F_REBUILD_INDEX 0x1 /* add index entries for scanned batches */
#define SCAN_F_GAPS_OK	     0x2 /* offsets may skip (compacted logs) */

/* Validate batches from `pos` (a batch boundary; `expect_offset` and
 * `last_epoch` describe what precedes it) to the end of the file, with CRCs.
 * Each batch must start exactly at the expected offset (or later, with
 * SCAN_F_GAPS_OK): baseOffset is outside the CRC, so continuity is what
 * catches a damaged one. With SCAN_F_REBUILD_INDEX, index entries are added
 * for the scanned batches every `index_interval_bytes`. Updates sg_next_offset,
 * sg_max_timestamp, sg_last_epoch and the sizes to the valid prefix (the
 * file itself is not changed; the caller truncates). Returns 0 (check
 * res->ss_stop) or a negative errno on a read failure. */
int segment_scan(struct segment *s, struct seg_reader *r, uint64_t pos, int64_t expect_offset,
		 int32_t last_epoch, unsigned flags, uint32_t index_interval_bytes,
		 segment_batch_fn fn, void *ctx, struct segment_scan *res);

/* Note a batch appended at `position` in the in-memory index (and sizes,
 * next offset, max timestamp, last epoch). Returns 0 or RL_EFULL/-ENOMEM
 * from the index. */
int segment_note_append(struct segment *s, const struct batch_header *h, uint64_t position,
			size_t size, uint32_t index_interval_bytes);

/* Find the batch containing `offset` among the written bytes: 1 with *pos
 * and *h (h may be NULL) set, 0 when offset >= the segment's written end,
 * or a negative error (read failure, RL_ECORRUPT). Starts from the index. */
int segment_find(struct segment *s, struct seg_reader *r, int64_t offset, uint64_t *pos,
		 struct batch_header *h);

/* Cut the segment at `pos` (a batch boundary) whose first removed batch has
 * base offset `offset`: the file is truncated, the index trimmed and both
 * index files rewritten and synced, so no stale entry survives a crash.
 * Returns 0 or -errno. */
int segment_truncate(struct segment *s, uint64_t pos, int64_t offset);

/* Write both index files from memory; with `sync`, fdatasync them too.
 * Without it the files may be lost or partial after a power failure, which
 * is safe: open checks them and rebuilds or extends them from the log.
 * Returns 0 or -errno. */
int segment_persist_index(struct segment *s, bool sync);

/* Recompute sg_next_offset, sg_max_timestamp and sg_last_epoch after the
 * in-memory index was trimmed: from the last index entry, scan the bytes
 * to the end of the file. Returns 0, RL_ECORRUPT if those bytes do not
 * scan cleanly, or -errno. */
int segment_restat(struct segment *s, struct seg_reader *r, unsigned flags);

/* Remove the three files (the descriptor stays valid for readers). */
int segment_unlink(struct segment *s);

/* pread exactly len bytes unless EOF; returns bytes read or -errno. */
int64_t segment_pread(const struct segment *s, void *buf, size_t len, uint64_t pos);

#endif
