/*
 * dump_log_index — the index files in `replog dump-log`: listing an .index
 * or a .timeindex entry by entry, and checking both against the .log they
 * belong to (--verify-index, partition directories, index files named on
 * the command line). Part of the dump_log module (dump_log_impl.h); read
 * only, like the rest of the tool.
 *
 * The checks (index.h has the formats), streamed entry by entry against a
 * header-only walk of the log, so memory stays bounded whatever the sizes:
 *   .index      entries strictly increase in offset and position, each
 *               position < the log size and exactly the start of a batch
 *               whose baseOffset is the entry's offset;
 *   .timeindex  timestamps strictly increase, offsets never decrease, and
 *               each (T, O) has T == the largest batch maxTimestamp from
 *               the start of the segment up to and including the batch
 *               holding O.
 * A missing or empty index is a warning: the broker rebuilds it on open.
 *
 * Entries are read DL_INDEX_CHUNK_BYTES at a time, and the log through the
 * tool's seg_reader window, bounded by --max-batch-bytes.
 */
#include "dump_log_impl.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "batch.h"
#include "index.h"
#include "rlassert.h"
#include "segment.h"

/* Index entries are read in chunks this big: a whole number of both entry
 * sizes (8 and 12 bytes). */
#define DL_INDEX_CHUNK_BYTES 49152
_Static_assert(DL_INDEX_CHUNK_BYTES % INDEX_OFFSET_ENTRY_BYTES == 0, "whole offset entries");
_Static_assert(DL_INDEX_CHUNK_BYTES % INDEX_TIME_ENTRY_BYTES == 0, "whole time entries");

/* ---- index files --------------------------------------------------------- */

/* Index entries read a chunk at a time. */
struct dl_entries {
	const char *de_path; /* borrowed */
	int de_fd;
	size_t de_entry_bytes;
	uint64_t de_count;    /* whole entries in the file */
	uint64_t de_trailing; /* bytes after the last whole entry */
	uint8_t *de_buf;      /* owned: DL_INDEX_CHUNK_BYTES */
	uint64_t de_first;    /* index of the entry at de_buf[0] */
	size_t de_loaded;     /* entries in de_buf */
};

/* Returns 0, or a negative errno (reported). */
static int dl_entries_open(struct dump_log *dl, struct dl_entries *e, const char *path, int fd,
			   uint64_t size, size_t entry_bytes)
{
	*e = (struct dl_entries){.de_path = path, .de_fd = fd, .de_entry_bytes = entry_bytes};
	e->de_count = size / entry_bytes;
	e->de_trailing = size % entry_bytes;
	e->de_buf = malloc(DL_INDEX_CHUNK_BYTES);
	if (!e->de_buf) {
		dump_log_unreadable(dl, "allocate a buffer for", path, -ENOMEM);
		return -ENOMEM;
	}
	return 0;
}

static void dl_entries_close(struct dl_entries *e)
{
	free(e->de_buf);
	e->de_buf = NULL;
}

/* Entry idx (< de_count). Returns 0 with *out, or a negative errno
 * (reported). */
static int dl_entry(struct dump_log *dl, struct dl_entries *e, uint64_t idx, const uint8_t **out)
{
	RL_ASSERT(idx < e->de_count);
	if (idx < e->de_first || idx >= e->de_first + e->de_loaded) {
		size_t per = DL_INDEX_CHUNK_BYTES / e->de_entry_bytes;
		uint64_t want = e->de_count - idx < per ? e->de_count - idx : per;
		size_t bytes = (size_t)want * e->de_entry_bytes;
		size_t got = 0;
		while (got < bytes) {
			ssize_t n = pread(e->de_fd, e->de_buf + got, bytes - got,
					  (off_t)(idx * e->de_entry_bytes + got));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				int err = n < 0 ? -errno : -EIO;
				dump_log_read_error(dl, e->de_path, idx * e->de_entry_bytes + got,
						    err);
				e->de_loaded = 0;
				return err;
			}
			got += (size_t)n;
		}
		e->de_first = idx;
		e->de_loaded = (size_t)want;
	}
	*out = e->de_buf + (size_t)(idx - e->de_first) * e->de_entry_bytes;
	return 0;
}

/* A header-only walk of a .log, batch by batch, for the index checks. */
struct dl_walk {
	const char *dw_path; /* borrowed */
	int dw_fd;
	uint64_t dw_size;
	uint64_t dw_pos; /* position of the current batch */
	bool dw_ok;	 /* a whole batch starts at dw_pos: dw_h, dw_total */
	uint64_t dw_total;
	struct batch_header dw_h;
};

/* Load the batch header at dw_pos. Returns 0 (dw_ok says whether there is
 * a batch), or a negative errno (reported). */
static int dl_walk_load(struct dump_log *dl, struct dl_walk *w)
{
	const uint8_t *p;
	w->dw_ok = false;
	if (w->dw_pos >= w->dw_size)
		return 0;
	int64_t n = seg_reader_get(&dl->dl_reader, w->dw_fd, w->dw_pos, BATCH_HEADER_BYTES,
				   w->dw_size, &p);
	if (n < 0) {
		dump_log_read_error(dl, w->dw_path, w->dw_pos, (int)n);
		return (int)n;
	}
	int64_t total = batch_total_size(p, (size_t)n);
	if (total < 0 || (uint64_t)total > w->dw_size - w->dw_pos)
		return 0;
	batch_header_decode(p, (size_t)n, &w->dw_h);
	w->dw_total = (uint64_t)total;
	w->dw_ok = true;
	return 0;
}

static int dl_walk_next(struct dump_log *dl, struct dl_walk *w)
{
	RL_ASSERT(w->dw_ok);
	w->dw_pos += w->dw_total;
	return dl_walk_load(dl, w);
}

/* The log beside an index, for checking it; dw_fd < 0 when there is none. */
static int dl_walk_start(struct dump_log *dl, struct dl_walk *w, const char *log_path, int log_fd,
			 uint64_t log_size)
{
	*w = (struct dl_walk){.dw_path = log_path, .dw_fd = log_fd, .dw_size = log_size};
	return log_fd < 0 ? 0 : dl_walk_load(dl, w);
}

/* Check (and with `print`, list) a .index against the log in `w`. */
static void dl_check_offset_index(struct dump_log *dl, struct dl_entries *e, struct dl_walk *w,
				  int64_t base, bool print)
{
	unsigned said = 0;
	int64_t prev_off = -1;
	uint32_t prev_pos = 0;
	for (uint64_t i = 0; i < e->de_count; i++) {
		const uint8_t *p;
		char why[128] = "";
		if (dl_entry(dl, e, i, &p) < 0)
			return;
		int64_t off = dump_log_add(base, be32_load(p));
		uint32_t pos = be32_load(p + 4);
		if (print)
			fprintf(dl->dl_out, "offset: %" PRId64 " position: %" PRIu32 "\n", off,
				pos);
		if (w->dw_fd < 0)
			continue;
		if (i > 0 && (off <= prev_off || pos <= prev_pos)) {
			snprintf(why, sizeof(why),
				 "does not increase after offset %" PRId64 " position %" PRIu32,
				 prev_off, prev_pos);
		} else {
			prev_off = off;
			prev_pos = pos;
			while (w->dw_ok && w->dw_pos < pos)
				if (dl_walk_next(dl, w) < 0)
					return;
			if (pos >= w->dw_size)
				snprintf(why, sizeof(why),
					 "past the end of the log, %" PRIu64 " bytes", w->dw_size);
			else if (!w->dw_ok)
				snprintf(why, sizeof(why),
					 "no whole batch there; the log's whole batches end at "
					 "position %" PRIu64,
					 w->dw_pos);
			else if (w->dw_pos != pos)
				snprintf(why, sizeof(why),
					 "not the start of a batch; the next one is at position "
					 "%" PRIu64 " with offset %" PRId64,
					 w->dw_pos, w->dw_h.bh_base_offset);
		}
		if (why[0])
			dump_log_problem_in(dl, &said, DUMP_LOG_SAID_INDEX_MISMATCH,
					    "Mismatches in :", e->de_path,
					    "Index offset: %" PRId64
					    ", log offset: none (entry %" PRIu64
					    ", position %" PRIu32 ": %s)",
					    off, i, pos, why);
		else if (w->dw_h.bh_base_offset != off)
			dump_log_problem_in(dl, &said, DUMP_LOG_SAID_INDEX_MISMATCH,
					    "Mismatches in :", e->de_path,
					    "Index offset: %" PRId64 ", log offset: %" PRId64
					    " (entry %" PRIu64 ", position %" PRIu32 ")",
					    off, w->dw_h.bh_base_offset, i, pos);
	}
}

/* Check (and with `print`, list) a .timeindex against the log in `w`. */
static void dl_check_time_index(struct dump_log *dl, struct dl_entries *e, struct dl_walk *w,
				int64_t base, bool print)
{
	unsigned said = 0;
	int64_t prev_ts = INT64_MIN, prev_off = INT64_MIN;
	int64_t max_before = -1; /* largest maxTimestamp of the batches before w's */
	for (uint64_t k = 0; k < e->de_count; k++) {
		const uint8_t *p;
		char why[128] = "";
		if (dl_entry(dl, e, k, &p) < 0)
			return;
		int64_t ts = (int64_t)be64_load(p);
		int64_t off = dump_log_add(base, be32_load(p + 8));
		if (print)
			fprintf(dl->dl_out, "timestamp: %" PRId64 " offset: %" PRId64 "\n", ts,
				off);
		if (w->dw_fd < 0)
			continue;
		if (k > 0 && (ts <= prev_ts || off < prev_off)) {
			dump_log_problem_in(dl, &said, DUMP_LOG_SAID_TS_ORDER,
					    "Found out of order timestamp in :", e->de_path,
					    "Index timestamp: %" PRId64
					    ", Previously indexed timestamp: %" PRId64
					    " (entry %" PRIu64 ", offset %" PRId64
					    ", previous offset %" PRId64 ")",
					    ts, prev_ts, k, off, prev_off);
			continue;
		}
		prev_ts = ts;
		prev_off = off;
		while (w->dw_ok && dump_log_last_offset(&w->dw_h) < off) {
			if (w->dw_h.bh_max_timestamp > max_before)
				max_before = w->dw_h.bh_max_timestamp;
			if (dl_walk_next(dl, w) < 0)
				return;
		}
		int64_t expect = max_before;
		if (!w->dw_ok)
			snprintf(why, sizeof(why),
				 "in no whole batch; the log's whole batches end at position "
				 "%" PRIu64,
				 w->dw_pos);
		else if (w->dw_h.bh_base_offset > off)
			snprintf(why, sizeof(why),
				 "in no batch; the next one is at position %" PRIu64
				 " with offset %" PRId64,
				 w->dw_pos, w->dw_h.bh_base_offset);
		else if (w->dw_h.bh_max_timestamp > expect)
			expect = w->dw_h.bh_max_timestamp;
		if (why[0])
			dump_log_problem_in(dl, &said, DUMP_LOG_SAID_TS_MISMATCH,
					    "Found timestamp mismatch in :", e->de_path,
					    "Index timestamp: %" PRId64
					    ", log timestamp: none (entry %" PRIu64
					    ", offset %" PRId64 ": %s)",
					    ts, k, off, why);
		else if (ts != expect)
			dump_log_problem_in(dl, &said, DUMP_LOG_SAID_TS_MISMATCH,
					    "Found timestamp mismatch in :", e->de_path,
					    "Index timestamp: %" PRId64 ", log timestamp: %" PRId64
					    " (entry %" PRIu64 ", offset %" PRId64
					    ", batch at position %" PRIu64 ")",
					    ts, expect, k, off, w->dw_pos);
	}
}

/* Open one index file, check it against the log (log_fd < 0: none) and,
 * with `print`, list it. `warn_missing`: a missing file is a warning (the
 * broker rebuilds it) rather than unreadable. */
static void dl_index_file(struct dump_log *dl, const char *path, bool time_index, int64_t base,
			  const char *log_path, int log_fd, uint64_t log_size, bool print,
			  bool warn_missing)
{
	uint64_t size;
	int fd = dump_log_open_ro(path, &size);
	if (fd == -ENOENT && warn_missing) {
		if (log_size > 0)
			dump_log_warning(
				dl,
				"no %s index %s for %s (the broker rebuilds a missing index on "
				"open)",
				time_index ? "time" : "offset", path, log_path);
		return;
	}
	if (fd < 0) {
		dump_log_unreadable(dl, "open", path, fd);
		return;
	}
	size_t entry_bytes = time_index ? INDEX_TIME_ENTRY_BYTES : INDEX_OFFSET_ENTRY_BYTES;
	struct dl_entries e;
	if (dl_entries_open(dl, &e, path, fd, size, entry_bytes) == 0) {
		struct dl_walk w;
		if (dl_walk_start(dl, &w, log_path, log_fd, log_size) == 0) {
			if (time_index)
				dl_check_time_index(dl, &e, &w, base, print);
			else
				dl_check_offset_index(dl, &e, &w, base, print);
		}
		if (e.de_trailing)
			dump_log_problem(
				dl,
				"%s has %" PRIu64
				" trailing bytes after its last whole entry (entry %" PRIu64
				", position %" PRIu64 ")",
				path, e.de_trailing, e.de_count, e.de_count * entry_bytes);
		if (e.de_count == 0 && log_fd >= 0 && log_size > 0)
			dump_log_warning(dl,
					 "%s is empty but %s holds %" PRIu64
					 " bytes (the broker rebuilds the index on open)",
					 path, log_path, log_size);
		dl_entries_close(&e);
	}
	close(fd);
}

/* --verify-index for one segment .log: both index files beside it. */
void dump_log_verify_indexes(struct dump_log *dl, const char *log_path, int log_fd,
			     uint64_t log_size, int64_t base)
{
	char path[PATH_MAX];
	if (dump_log_swap_suffix(path, sizeof(path), log_path, ".log", ".index") == 0)
		dl_index_file(dl, path, false, base, log_path, log_fd, log_size, false, true);
	if (dump_log_swap_suffix(path, sizeof(path), log_path, ".log", ".timeindex") == 0)
		dl_index_file(dl, path, true, base, log_path, log_fd, log_size, false, true);
}

/* Dump an .index or .timeindex given on the command line. */
void dump_log_dump_index(struct dump_log *dl, const char *path, bool time_index)
{
	int64_t base = 0;
	if (!dump_log_name_base(dump_log_basename(path), &base))
		dump_log_warning(
			dl, "%s is not named <20-digit base offset>%s: offsets shown relative to 0",
			path, time_index ? ".timeindex" : ".index");
	char log_path[PATH_MAX];
	uint64_t log_size = 0;
	int log_fd = -ENOENT;
	if (dump_log_swap_suffix(log_path, sizeof(log_path), path,
				 time_index ? ".timeindex" : ".index", ".log") == 0)
		log_fd = dump_log_open_ro(log_path, &log_size);
	fprintf(dl->dl_out, "Dumping %s\n", path);
	if (log_fd == -ENOENT)
		dump_log_warning(dl, "no log %s beside %s: its entries are not checked", log_path,
				 path);
	else if (log_fd < 0)
		dump_log_unreadable(dl, "open", log_path, log_fd);
	seg_reader_forget(&dl->dl_reader);
	dl_index_file(dl, path, time_index, base, log_path, log_fd, log_size,
		      !dl->dl_opts.dlo_verify_index_only, false);
	seg_reader_forget(&dl->dl_reader);
	if (log_fd >= 0)
		close(log_fd);
}
