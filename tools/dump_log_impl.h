/*
 * dump_log_impl — what the files of `replog dump-log` share and nothing
 * else sees: dump_log.c (the command line, the batch walk of a .log, the
 * reporting), dump_log_index.c (index files) and dump_log_part.c (partition
 * directories, checkpoints, discarded/). Nothing outside tools/dump_log*.c
 * includes this.
 *
 * Names: everything declared here carries the module's dump_log_ prefix;
 * the short dl_ prefix marks what stays static inside one of the files.
 */
#ifndef REPLOG_DUMP_LOG_IMPL_H
#define REPLOG_DUMP_LOG_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "batch.h"
#include "discard.h"
#include "dump_log.h"

#define DUMP_LOG_PREFIX "replog dump-log: "

/* Kinds of multi-line report whose title line is printed once per file. */
enum dump_log_said {
	DUMP_LOG_SAID_NONCONSEC = 1u << 0,
	DUMP_LOG_SAID_INDEX_MISMATCH = 1u << 1,
	DUMP_LOG_SAID_TS_MISMATCH = 1u << 2,
	DUMP_LOG_SAID_TS_ORDER = 1u << 3,
};

/* a + b wrapping around: the header fields of a damaged batch are
 * arbitrary, and adding them up must not be undefined behaviour. */
static inline int64_t dump_log_add(int64_t a, int64_t b)
{
	return (int64_t)((uint64_t)a + (uint64_t)b);
}

static inline int64_t dump_log_last_offset(const struct batch_header *h)
{
	return dump_log_add(h->bh_base_offset, h->bh_last_offset_delta);
}

/* First batch of each leader epoch seen in a directory's log, for the
 * cross-check with the leader-epoch checkpoint. */
struct dump_log_epoch_seen {
	int32_t es_epoch;
	int64_t es_offset;
	uint64_t es_position;
	int64_t es_segment;
};

/* What carries from one batch to the next, and across the segments of a
 * directory. */
struct dump_log_chain {
	bool dc_have_prev;
	int64_t dc_prev_last;	/* last offset of the previous batch */
	int32_t dc_prev_epoch;	/* its partitionLeaderEpoch (INT32_MIN: none) */
	int64_t dc_next_offset; /* offset after the last batch seen; -1 none */
	uint64_t dc_batches;
	bool dc_collect_epochs;
	bool dc_epochs_overflow;
	struct dump_log_epoch_seen *dc_epochs; /* owned, when collecting */
	uint32_t dc_epochs_count;
	uint32_t dc_epochs_cap;
};

/* What a .log dump learned, for the callers that compare it with metadata. */
struct dump_log_log_summary {
	bool ls_read; /* the file was read to its end */
	uint64_t ls_size;
	uint32_t ls_valid_prefix; /* valid batches before the first bad one */
	int64_t ls_prefix_next;	  /* offset after them, -1 none */
};

/* ---- reporting (dump_log.c) ---------------------------------------------- */

/* Each report flushes dl_out first, so that stdout and stderr interleave in
 * order when they go to the same place, and writes one line to dl_err. */

/* An integrity problem: one stderr line, counted for the exit code. */
__attribute__((format(printf, 2, 3))) void dump_log_problem(struct dump_log *dl, const char *fmt,
							    ...);

/* Something the broker repairs by itself: reported, not counted. */
__attribute__((format(printf, 2, 3))) void dump_log_warning(struct dump_log *dl, const char *fmt,
							    ...);

/* A problem under a title printed once per file ("Non-consecutive offsets
 * in F", "Mismatches in :F", ...), as Kafka's tool groups them. `said`
 * holds the enum dump_log_said titles already printed for that file. */
__attribute__((format(printf, 6, 7))) void dump_log_problem_in(struct dump_log *dl, unsigned *said,
							       unsigned kind, const char *title,
							       const char *file, const char *fmt,
							       ...);

/* A file that cannot be opened or read: exit code 3. `what` names what
 * failed ("open", "read", "list", ...). */
void dump_log_unreadable(struct dump_log *dl, const char *what, const char *path, int err);
void dump_log_read_error(struct dump_log *dl, const char *path, uint64_t pos, int err);

/* ---- file names (dump_log.c) --------------------------------------------- */

const char *dump_log_basename(const char *path);
bool dump_log_has_suffix(const char *s, const char *suffix);

/* The offset a file name starts with: SEGMENT_NAME_DIGITS digits followed
 * by '.' (segments, indexes) or '-' (discarded files). Returns 1 with
 * *base, or 0 when the name does not start that way. */
int dump_log_name_base(const char *name, int64_t *base);

/* Replace `path`'s suffix `from` with `to` into buf. Returns 0, or
 * -ENAMETOOLONG. */
int dump_log_swap_suffix(char *buf, size_t cap, const char *path, const char *from, const char *to);

/* Open a regular file O_RDONLY. Returns the descriptor with *size, or a
 * negative errno (-EINVAL when it is not a regular file). */
int dump_log_open_ro(const char *path, uint64_t *size);

/* ---- one .log file (dump_log.c) ------------------------------------------ */

/* The caller owns *c; init fills it in place (no batch seen yet), deinit
 * frees the epochs it collected (dc_collect_epochs). */
void dump_log_chain_init(struct dump_log_chain *c);
void dump_log_chain_deinit(struct dump_log_chain *c);

/* Dump a .log (a segment or a discarded file). `base_known`: the name gave
 * the base offset, so the first batch must start there. `verify`: check the
 * index files beside it. `meta` (may be NULL): the discard's metadata,
 * printed before the batches. Problems are reported and tallied; *sum
 * says what was learned. */
void dump_log_dump_log(struct dump_log *dl, const char *path, int64_t base, bool base_known,
		       bool verify, const struct discard_info *meta, struct dump_log_chain *c,
		       struct dump_log_log_summary *sum);

/* ---- index files (dump_log_index.c) -------------------------------------- */

/* --verify-index for one segment .log (open as log_fd, log_size bytes):
 * both index files beside it, checked against it. */
void dump_log_verify_indexes(struct dump_log *dl, const char *log_path, int log_fd,
			     uint64_t log_size, int64_t base);

/* Dump an .index or .timeindex given on the command line, checked against
 * the .log beside it when there is one. */
void dump_log_dump_index(struct dump_log *dl, const char *path, bool time_index);

#endif
