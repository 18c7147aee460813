/*
 * discard — where removed log bytes go so that nothing disappears silently.
 *
 * Whenever replog removes bytes from a partition log that a client may have
 * been told about — a follower truncating to its new leader, recovery
 * cutting a torn or corrupt tail, an unclean election — the bytes are first
 * written here, fsynced, and only then removed from the log:
 *
 *   <partition dir>/discarded/<first offset, 20 digits>-<time ms>.log
 *       the removed bytes exactly as they were in the segment (whole
 *       RecordBatch v2 batches for truncations, so `replog dump-log` decodes
 *       them; possibly damaged bytes for a corrupt or torn tail)
 *   <same name>.meta
 *       key=value lines: reason, time_ms, first_offset, next_offset,
 *       batches, bytes, epoch_min, epoch_max, segment, position, detail
 *
 * The .meta file is written last; a .log without one is an interrupted
 * discard, and the log it came from was not yet truncated.
 */
#ifndef REPLOG_DISCARD_H
#define REPLOG_DISCARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DISCARD_DIR	 "discarded"
#define DISCARD_NAME_MAX 64
#define DISCARD_TEXT_MAX 128

struct discard_info {
	char di_name[DISCARD_NAME_MAX];	  /* file name stem, without .log/.meta */
	char di_reason[32];		  /* truncate, torn-tail, corrupt, ... */
	char di_detail[DISCARD_TEXT_MAX]; /* free text: the error, who asked */
	int64_t di_time_ms;
	int64_t di_first_offset; /* first offset removed (-1 unknown) */
	int64_t di_next_offset;	 /* offset after the last removed (-1) */
	uint32_t di_batches;	 /* whole valid batches in the bytes */
	uint64_t di_bytes;
	int32_t di_epoch_min; /* leader epochs of those batches; -1 */
	int32_t di_epoch_max;
	int64_t di_segment;   /* base offset of the source segment */
	uint64_t di_position; /* position there of the first byte */
};

struct batch_header;

struct discard_writer {
	int dw_parent_fd; /* borrowed: the partition directory */
	int dw_dir_fd;	  /* discarded/ */
	int dw_fd;	  /* the .log being written */
	struct discard_info dw_info;
};

/* Start a discard in `part_dir_fd`/discarded/ (created if needed). first
 * offset, segment and position describe where the bytes come from. Returns
 * 0 or -errno. */
int discard_begin(struct discard_writer *dw, int part_dir_fd, const char *reason,
		  const char *detail, int64_t time_ms, int64_t first_offset, int64_t segment,
		  uint64_t position);

/* Append bytes. `h` describes them when they are exactly one valid batch
 * (counted in batches, offsets and epochs); NULL for raw bytes. */
int discard_add(struct discard_writer *dw, const uint8_t *bytes, size_t len,
		const struct batch_header *h);

/* fsync the bytes, write and fsync the .meta, fsync the directory. Only
 * after this returns 0 may the caller remove the bytes from the log. *info
 * (may be NULL) receives the summary. */
int discard_commit(struct discard_writer *dw, struct discard_info *info);

/* Give up: remove what was written. */
void discard_abort(struct discard_writer *dw);

/* Call fn for every committed discard in part_dir_fd/discarded/, oldest
 * first (by time, then offset). Returns the number listed, or -errno; fn returning
 * non-zero stops the walk. */
int discard_list(int part_dir_fd, int (*fn)(void *ctx, const struct discard_info *info), void *ctx);

/* Parse a .meta file's text. Returns 0 or RL_ECORRUPT. */
int discard_parse_meta(const char *text, struct discard_info *info);

#endif
