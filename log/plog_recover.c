/*
 * plog_recover — opening a partition log: find the segments, decide what
 * must be scanned, validate, cut a damaged tail into discarded/, rebuild
 * what is missing; and closing it cleanly.
 *
 * What gets scanned (batch by batch, with CRC-32C):
 *   - every segment from its last index entry to its end: cheap, and it is
 *     how the segment learns its next offset and catches a torn tail;
 *   - the whole segment when its index files are missing or fail their
 *     checks (the index is rebuilt);
 *   - the whole last segment after an unclean shutdown (no
 *     .clean-shutdown marker): its index on disk may predate its data;
 *   - every segment when the leader-epoch checkpoint is missing or damaged
 *     while the log holds stamped batches, to rebuild the epoch history.
 *
 * Before any of that, compaction swaps a crash interrupted are completed
 * or undone (compact_recover_dir, protocol in compact.h).
 *
 * The first bad batch ends the log. The bytes from there to the end of
 * that segment and every later segment are preserved in discarded/ (reason
 * torn-tail or corrupt) before they are removed, and struct plog_recovery
 * says where and why. With refuse_corrupt, a corrupt (not torn) batch makes
 * open fail instead, touching nothing.
 *
 * After a crash the recovered bytes are fdatasynced before the log opens,
 * so `flushed` starts equal to `end` truthfully.
 */
#include "plog_impl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "compact.h"
#include "rlassert.h"
#include "rlerr.h"

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Base offsets of the *.log segments in the directory, sorted; leftover
 * *.tmp files from interrupted checkpoint writes are removed. */
static int plog_list_segments(int dir_fd, int64_t **bases, uint32_t *count)
{
	int fd = dup(dir_fd);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	rewinddir(d);
	int64_t *v = NULL;
	uint32_t n = 0, cap = 0;
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		int64_t base;
		size_t len = strlen(de->d_name);
		if (len > 4 && strcmp(de->d_name + len - 4, ".tmp") == 0) {
			unlinkat(dir_fd, de->d_name, 0);
			continue;
		}
		if (!segment_parse_name(de->d_name, &base))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			int64_t *nv = realloc(v, cap * sizeof(*nv));
			if (!nv) {
				rc = -ENOMEM;
				break;
			}
			v = nv;
		}
		v[n++] = base;
	}
	closedir(d);
	if (rc < 0) {
		free(v);
		return rc;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_i64);
	*bases = v;
	*count = n;
	return 0;
}

struct plog_epoch_rebuild {
	struct epoch_cache *er_cache;
	int er_error;
};

/* During a rebuild scan, every batch whose epoch exceeds the latest known
 * starts a new epoch entry. */
static int plog_scan_epochs(void *ctx, const struct batch_header *h, uint64_t pos,
			    const uint8_t *batch, size_t size)
{
	struct plog_epoch_rebuild *er = ctx;
	(void)pos;
	(void)batch;
	(void)size;
	if (h->bh_partition_leader_epoch > epoch_cache_latest(er->er_cache)) {
		int rc = epoch_cache_assign(er->er_cache, h->bh_partition_leader_epoch,
					    h->bh_base_offset);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Copy file bytes [from, end) into the discard: whole valid batches as
 * batches, the rest raw. */
static int plog_preserve_range(struct plog *log, struct discard_writer *dw, struct segment *s,
			       uint64_t from, uint64_t end)
{
	struct seg_reader *r = &log->lg_reader;
	uint64_t p = from;
	bool raw = false;
	while (p < end) {
		const uint8_t *b;
		int64_t n = seg_reader_get(r, s->sg_fd, p, BATCH_HEADER_BYTES, end, &b);
		if (n < 0)
			return (int)n;
		int64_t total = raw ? -1 : batch_total_size(b, (size_t)n);
		struct batch_header h;
		if (total > 0 && p + (uint64_t)total <= end &&
		    total <= (int64_t)r->sr_max_batch_bytes) {
			n = seg_reader_get(r, s->sg_fd, p, (size_t)total, end, &b);
			if (n < 0)
				return (int)n;
			if (batch_validate(b, (size_t)n, &h) == total) {
				int rc = discard_add(dw, b, (size_t)total, &h);
				if (rc < 0)
					return rc;
				p += (uint64_t)total;
				continue;
			}
		}
		raw = true;
		size_t chunk = end - p > (1u << 20) ? (1u << 20) : (size_t)(end - p);
		n = seg_reader_get(r, s->sg_fd, p, chunk, end, &b);
		if (n <= 0)
			return n < 0 ? (int)n : RL_ECORRUPT;
		int rc = discard_add(dw, b, (size_t)n, NULL);
		if (rc < 0)
			return rc;
		p += (uint64_t)n;
	}
	return 0;
}

static int64_t file_size(int fd)
{
	struct stat st;
	return fstat(fd, &st) < 0 ? -errno : (int64_t)st.st_size;
}

/* Cut the log at (segment `s`, position `pos`): preserve the rest of s and
 * every later segment file in discarded/, then remove them. `later` holds
 * the base offsets of the segments after s, still unopened. */
static int plog_cut_tail(struct plog *log, struct segment *s, const struct segment_scan *scan,
			 const int64_t *later, uint32_t nlater, struct plog_recovery *rec)
{
	const char *reason = scan->ss_stop == SCAN_TORN ? "torn-tail" : "corrupt";
	char detail[DISCARD_TEXT_MAX];
	snprintf(detail, sizeof(detail), "recovery: %s at position %" PRIu64 " of segment %" PRId64,
		 rl_strerror(scan->ss_error), scan->ss_valid_end, s->sg_base_offset);
	struct discard_writer dw;
	int rc = discard_begin(&dw, log->lg_dir_fd, reason, detail, plog_now_ms(log),
			       scan->ss_next_offset, s->sg_base_offset, scan->ss_valid_end);
	if (rc < 0)
		return rc;
	int64_t size = file_size(s->sg_fd);
	rc = size < 0 ? (int)size
		      : plog_preserve_range(log, &dw, s, scan->ss_valid_end, (uint64_t)size);
	struct segment **opened = calloc(nlater ? nlater : 1, sizeof(*opened));
	if (!opened)
		rc = rc ? rc : -ENOMEM;
	for (uint32_t i = 0; rc == 0 && i < nlater; i++) {
		rc = segment_open(log->lg_dir_fd, later[i], 0, 1, &opened[i], NULL);
		if (rc == 0)
			rc = plog_preserve_range(log, &dw, opened[i], 0, opened[i]->sg_size);
	}
	struct discard_info info;
	if (rc == 0)
		rc = discard_commit(&dw, &info);
	else
		discard_abort(&dw);
	for (uint32_t i = 0; i < nlater; i++) {
		if (!opened || !opened[i])
			continue;
		if (rc == 0)
			rc = segment_unlink(opened[i]);
		segment_unref(opened[i]);
	}
	free(opened);
	if (rc < 0)
		return rc;
	if (nlater && fsync(log->lg_dir_fd) < 0)
		return -errno;
	rc = segment_truncate(s, scan->ss_valid_end, scan->ss_next_offset);
	if (rc < 0)
		return rc;
	seg_reader_forget(&log->lg_reader);
	rec->pr_stop = scan->ss_stop;
	rec->pr_error = scan->ss_error;
	rec->pr_segment_base = s->sg_base_offset;
	rec->pr_position = scan->ss_valid_end;
	rec->pr_offset = scan->ss_next_offset;
	rec->pr_bad_offset = scan->ss_bad_offset;
	rec->pr_bytes_dropped = info.di_bytes;
	rec->pr_segments_dropped = nlater;
	snprintf(rec->pr_discard_name, sizeof(rec->pr_discard_name), "%s", info.di_name);
	return 0;
}

static int plog_validate_config(const struct plog_config *c)
{
	if (c->segment_bytes < BATCH_HEADER_BYTES || c->segment_bytes > INT32_MAX)
		return RL_ECONFIG;
	if (c->index_interval_bytes == 0 || c->max_append_bytes < BATCH_HEADER_BYTES ||
	    c->max_append_bytes > c->segment_bytes)
		return RL_ECONFIG;
	if (c->max_write_iov == 0 || c->max_write_iov > 1024)
		return RL_ECONFIG;
	if (c->flush_interval_ms < 0 || c->flush_bytes < 0)
		return RL_ECONFIG;
	return 0;
}

static struct plog *plog_alloc(const char *dir, struct io_engine *io, const struct plog_config *cfg)
{
	struct plog *log = calloc(1, sizeof(*log));
	if (!log)
		return NULL;
	log->lg_dir_fd = -1;
	log->lg_io = io;
	log->lg_cfg = *cfg;
	log->lg_unflushed_since_ms = -1;
	log->lg_recovered_hw = -1;
	log->lg_dir = strdup(dir);
	log->lg_iov = calloc(cfg->max_write_iov, sizeof(*log->lg_iov));
	seg_reader_init(&log->lg_reader, cfg->segment_bytes);
	if (!log->lg_dir || !log->lg_iov) {
		plog_free(log);
		return NULL;
	}
	return log;
}

void plog_free(struct plog *log)
{
	if (!log)
		return;
	for (uint32_t i = 0; i < log->lg_nsegs; i++)
		segment_unref(log->lg_segs[i]);
	free(log->lg_segs);
	epoch_cache_deinit(&log->lg_epochs);
	seg_reader_deinit(&log->lg_reader);
	if (log->lg_dir_fd >= 0)
		close(log->lg_dir_fd);
	free(log->lg_iov);
	free(log->lg_dir);
	free(log);
}

static int plog_open_dir(struct plog *log)
{
	if (mkdir(log->lg_dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	log->lg_dir_fd = open(log->lg_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return log->lg_dir_fd < 0 ? -errno : 0;
}

/* Consume the clean-shutdown marker: from now on, until the next clean
 * close, a crash must be treated as unclean. */
static int plog_take_clean_marker(struct plog *log, bool *clean)
{
	*clean = faccessat(log->lg_dir_fd, PLOG_CLEAN_SHUTDOWN_FILE, F_OK, 0) == 0;
	if (!*clean)
		return 0;
	if (unlinkat(log->lg_dir_fd, PLOG_CLEAN_SHUTDOWN_FILE, 0) < 0 || fsync(log->lg_dir_fd) < 0)
		return -errno;
	return 0;
}

struct plog_open_state {
	int64_t *bases;
	uint32_t nbases;
	bool clean;
	bool rebuild_epochs;
	uint32_t max_entries;
};

/* Open and scan segment i; returns 1 when recovery cut the log there (stop
 * opening), 0 to go on, negative on error. */
static int plog_recover_segment(struct plog *log, struct plog_open_state *st, uint32_t i,
				struct plog_recovery *rec)
{
	struct segment *s;
	bool index_ok;
	int rc = segment_open(log->lg_dir_fd, st->bases[i], plog_now_ms(log), st->max_entries, &s,
			      &index_ok);
	if (rc < 0)
		return rc;
	bool last = i + 1 == st->nbases;
	int64_t prev_next = s->sg_base_offset;
	int32_t prev_epoch = -1;
	if (log->lg_nsegs) {
		struct segment *p = log->lg_segs[log->lg_nsegs - 1];
		prev_next = p->sg_next_offset;
		prev_epoch = p->sg_last_epoch;
	}
	bool full = !index_ok || (last && !st->clean) || st->rebuild_epochs;
	struct segment_scan scan;
	if (s->sg_base_offset < prev_next) {
		/* Overlaps the previous segment: this whole segment is the bad tail. */
		scan = (struct segment_scan){.ss_stop = SCAN_NONMONOTONIC,
					     .ss_error = RL_EORDER,
					     .ss_next_offset = prev_next,
					     .ss_bad_offset = s->sg_base_offset};
	} else {
		uint64_t from = 0;
		int64_t expect = s->sg_base_offset;
		if (full) {
			index_clear(&s->sg_index);
			s->sg_index_pos = 0;
			if (!index_ok)
				rec->pr_indexes_rebuilt++;
		} else {
			from = s->sg_index_pos;
			expect = s->sg_next_offset;
			prev_epoch =
				-1; /* batches before the index entry were checked when written */
		}
		struct plog_epoch_rebuild er = {.er_cache = &log->lg_epochs};
		unsigned flags =
			SCAN_F_REBUILD_INDEX | (log->lg_cfg.allow_offset_gaps ? SCAN_F_GAPS_OK : 0);
		rc = segment_scan(s, &log->lg_reader, from, expect, prev_epoch, flags,
				  log->lg_cfg.index_interval_bytes,
				  st->rebuild_epochs ? plog_scan_epochs : NULL, &er, &scan);
		if (rc < 0) {
			segment_unref(s);
			return rc;
		}
	}
	rec->pr_bytes_scanned += scan.ss_valid_end - scan.ss_from_pos;
	if (full && !st->clean) {
		/* What survived the crash is made durable before we rely on it. */
		if (fdatasync(s->sg_fd) < 0) {
			rc = -errno;
			segment_unref(s);
			return rc;
		}
	}
	if (scan.ss_stop != SCAN_END) {
		if (log->lg_cfg.refuse_corrupt && scan.ss_stop != SCAN_TORN) {
			rec->pr_stop = scan.ss_stop;
			rec->pr_error = scan.ss_error;
			rec->pr_segment_base = s->sg_base_offset;
			rec->pr_position = scan.ss_valid_end;
			rec->pr_offset = scan.ss_next_offset;
			rec->pr_bad_offset = scan.ss_bad_offset;
			segment_unref(s);
			return RL_ECORRUPT;
		}
		rc = plog_cut_tail(log, s, &scan, st->bases + i + 1, st->nbases - i - 1, rec);
		if (rc == 0 && s->sg_size == 0 && log->lg_nsegs > 0) {
			/* Nothing valid left in it: drop the empty file, the previous
			 * segment becomes the active one. */
			rc = segment_unlink(s);
			segment_unref(s);
			s = NULL;
		}
		if (rc < 0) {
			if (s)
				segment_unref(s);
			return rc;
		}
	}
	if (s) {
		if (s->sg_index_dirty)
			segment_persist_index(s, false);
		rc = plog_segs_push(log, s);
		if (rc < 0) {
			segment_unref(s);
			return rc;
		}
	}
	rec->pr_segments++;
	return scan.ss_stop != SCAN_END;
}

static int plog_load_epochs(struct plog *log, bool *rebuild)
{
	int rc = epoch_cache_load(&log->lg_epochs, log->lg_dir_fd);
	*rebuild = false;
	if (rc == RL_ECORRUPT) {
		*rebuild = true;
		return 0;
	}
	if (rc < 0)
		return rc;
	if (log->lg_epochs.ec_count == 0 &&
	    faccessat(log->lg_dir_fd, EPOCH_CACHE_FILE, F_OK, 0) < 0)
		*rebuild = true; /* missing: rebuild from the batches, if stamped */
	return 0;
}

static int plog_recover_all(struct plog *log, struct plog_open_state *st, struct plog_recovery *rec)
{
	for (uint32_t i = 0; i < st->nbases; i++) {
		int rc = plog_recover_segment(log, st, i, rec);
		if (rc < 0)
			return rc;
		if (rc == 1)
			break;
	}
	if (log->lg_nsegs == 0) {
		/* An empty directory, or recovery removed everything: start at the
		 * first segment's base (0 for a new log) so offsets never repeat. */
		struct segment *s;
		int64_t base = st->nbases ? st->bases[0] : 0;
		int rc =
			segment_create(log->lg_dir_fd, base, plog_now_ms(log), st->max_entries, &s);
		if (rc == 0)
			rc = plog_segs_push(log, s);
		if (rc < 0)
			return rc;
		log->lg_dir_dirty = true;
	}
	return 0;
}

static int plog_settle(struct plog *log, bool rebuilt_epochs, bool clean)
{
	struct segment *last = log->lg_segs[log->lg_nsegs - 1];
	/* After a crash of this process the page cache may still hold bytes
	 * that never reached the disk: make them durable before calling them
	 * flushed, or a later power loss could take back what was counted. */
	for (uint32_t i = 0; !clean && i < log->lg_nsegs; i++)
		if (fdatasync(log->lg_segs[i]->sg_fd) < 0)
			return -errno;
	if (!clean && fsync(log->lg_dir_fd) < 0)
		return -errno;
	log->lg_start = log->lg_segs[0]->sg_base_offset;
	log->lg_end = log->lg_written = log->lg_flushed = last->sg_next_offset;
	int rc = epoch_cache_truncate_end(&log->lg_epochs, log->lg_end);
	if (rc == 0 && rebuilt_epochs && log->lg_epochs.ec_count == 0)
		rc = checkpoint_write(log->lg_dir_fd, EPOCH_CACHE_FILE, "0\n0\n", 4);
	if (rc < 0)
		return rc;
	int64_t hw;
	rc = checkpoint_read_i64(log->lg_dir_fd, CHECKPOINT_HW_NAME, &hw);
	if (rc == 1) {
		if (hw < log->lg_start)
			hw = log->lg_start;
		if (hw > log->lg_end)
			hw = log->lg_end;
		log->lg_recovered_hw = hw;
	}
	return 0; /* a damaged HW checkpoint reads as none: HW is relearned */
}

int plog_open(const char *dir, struct io_engine *io, const struct plog_config *cfg,
	      struct plog **out, struct plog_recovery *rec)
{
	struct plog_recovery local;
	if (!rec)
		rec = &local;
	memset(rec, 0, sizeof(*rec));
	rec->pr_bad_offset = -1;
	rec->pr_offset = -1;
	int rc = plog_validate_config(cfg);
	if (rc < 0)
		return rc;
	struct plog *log = plog_alloc(dir, io, cfg);
	if (!log)
		return -ENOMEM;
	struct plog_open_state st = {
		.max_entries = (uint32_t)(cfg->segment_bytes / cfg->index_interval_bytes) + 2,
	};
	rc = plog_open_dir(log);
	if (rc == 0)
		rc = plog_take_clean_marker(log, &st.clean);
	if (rc == 0)
		rc = plog_load_epochs(log, &st.rebuild_epochs);
	if (rc == 0) {
		/* Compaction swaps interrupted by a crash: finish the committed
		 * ones, drop the rest (compact.h), before segments are listed. */
		rc = compact_recover_dir(log->lg_dir_fd);
		if (rc > 0)
			rc = 0;
	}
	if (rc == 0)
		rc = plog_list_segments(log->lg_dir_fd, &st.bases, &st.nbases);
	rec->pr_clean = st.clean;
	if (rc == 0)
		rc = plog_recover_all(log, &st, rec);
	if (rc == 0)
		rc = plog_settle(log, st.rebuild_epochs, st.clean);
	free(st.bases);
	if (rc < 0) {
		plog_free(log);
		return rc;
	}
	*out = log;
	return 0;
}

int plog_close(struct plog *log)
{
	int rc = plog_sync(log);
	for (uint32_t i = 0; rc == 0 && i < log->lg_nsegs; i++) {
		struct segment *s = log->lg_segs[i];
		if (s->sg_index_dirty || i + 1 == log->lg_nsegs)
			rc = segment_persist_index(s, true);
	}
	if (rc == 0)
		rc = checkpoint_write(log->lg_dir_fd, PLOG_CLEAN_SHUTDOWN_FILE, "", 0);
	plog_free(log);
	return rc;
}

void plog_close_unclean(struct plog *log)
{
	plog_wait_idle(log);
	plog_free(log);
}

int plog_recovery_describe(const struct plog_recovery *rec, char *buf, size_t cap)
{
	if (rec->pr_stop == SCAN_END && rec->pr_segments == 0)
		return snprintf(buf, cap, "new empty log");
	if (rec->pr_stop == SCAN_END)
		return snprintf(buf, cap,
				"recovered %s shutdown: %u segments, %" PRIu64
				" bytes validated, %u indexes rebuilt, nothing dropped",
				rec->pr_clean ? "after clean" : "after unclean", rec->pr_segments,
				rec->pr_bytes_scanned, rec->pr_indexes_rebuilt);
	static const char *const what[] = {"end", "torn tail", "corrupt batch",
					   "offsets or epochs going backwards"};
	return snprintf(buf, cap,
			"recovery cut the log: %s (%s) at offset %" PRId64 " position %" PRIu64
			" of segment %020" PRId64 " (bad batch offset field %" PRId64 "); %" PRIu64
			" bytes and %u later segments moved to %s/%s.log; %u indexes rebuilt",
			what[rec->pr_stop], rl_strerror(rec->pr_error), rec->pr_offset,
			rec->pr_position, rec->pr_segment_base, rec->pr_bad_offset,
			rec->pr_bytes_dropped, rec->pr_segments_dropped, DISCARD_DIR,
			rec->pr_discard_name, rec->pr_indexes_rebuilt);
}
