/*
 * dump_log_part — partitions in `replog dump-log`: a partition directory
 * as a whole (its segments in offset order, its checkpoints, a summary
 * line), and the discarded writes kept in its discarded/ folder (listed
 * from their .meta files; each discarded .log dumped and compared with its
 * .meta). Part of the dump_log module (dump_log_impl.h). The entry points
 * are declared in dump_log_part.h and dump_log.h so that other commands
 * (`replog discarded`) can reuse them. Read only, like the rest of the tool.
 *
 * A partition directory: its segments in offset order (each walked as
 * dump_log.c does, with its indexes verified), the leader-epoch
 * checkpoint (each entry must be the first batch of its epoch in the log,
 * and each epoch in the log must have an entry), the high-watermark
 * checkpoint (within [log start, log end]), and a summary line. Across
 * segments, each segment must start where the previous one ended.
 *
 * discarded/ holds what truncation and recovery cut from a log: one
 * <first offset>-<time ms>[.n].log per discard with a .meta beside it
 * (discard.h has the format). Each .meta is listed, and its .log must exist
 * with the size it states; a .meta that cannot be parsed is a problem, a
 * .log without a .meta an interrupted discard (a warning). A discarded .log
 * dumped in full must hold, from position 0, the valid batches and the
 * next offset its .meta states.
 */
#include "dump_log_impl.h"
#include "dump_log_part.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint.h"
#include "cluster_view.h"
#include "discard.h"
#include "epoch_cache.h"
#include "plog.h"
#include "rlerr.h"
#include "segment.h"

/* A partition directory holding more segments than this is refused: at the
 * default 1 GiB per segment it is a petabyte. */
#define DL_MAX_SEGMENTS (1u << 20)

/* Largest leader-epoch checkpoint we read: every entry at its widest. */
#define DL_EPOCH_FILE_MAX (64 + (size_t)EPOCH_CACHE_MAX_ENTRIES * 34)

/* ---- helpers ------------------------------------------------------------- */

static int dl_join(char *buf, size_t cap, const char *dir, const char *name)
{
	int w = snprintf(buf, cap, "%s/%s", dir, name);
	return w < 0 || (size_t)w >= cap ? -ENAMETOOLONG : 0;
}

/* ---- discarded writes ---------------------------------------------------- */

void dump_log_print_discard(FILE *out, const struct discard_info *di)
{
	char when[48];
	cview_format_time(when, sizeof(when), di->di_time_ms);
	fprintf(out,
		"discarded: %s reason: %s time: %s firstOffset: %" PRId64 " nextOffset: %" PRId64
		" batches: %" PRIu32 " bytes: %" PRIu64 " epochs: %" PRId32 "..%" PRId32
		" segment: %" PRId64 " position: %" PRIu64 " detail: %s\n",
		di->di_name, di->di_reason, when, di->di_first_offset, di->di_next_offset,
		di->di_batches, di->di_bytes, di->di_epoch_min, di->di_epoch_max, di->di_segment,
		di->di_position, di->di_detail);
}

struct dl_discard_walk {
	struct dump_log *dw_dl;
	const char *dw_dir; /* the partition directory */
	int dw_disc_fd;	    /* its discarded/ */
};

/* discard_list callback: one line, and the .log it describes must exist
 * with the size the .meta says. */
static int dl_discard_line(void *ctx, const struct discard_info *di)
{
	struct dl_discard_walk *w = ctx;
	struct dump_log *dl = w->dw_dl;
	dump_log_print_discard(dl->dl_out, di);
	char name[DISCARD_NAME_MAX + 8];
	snprintf(name, sizeof(name), "%s.log", di->di_name);
	struct stat st;
	if (fstatat(w->dw_disc_fd, name, &st, 0) < 0)
		dump_log_problem(dl, "Discarded write %s/%s/%s.meta has no %s: %s", w->dw_dir,
				 DISCARD_DIR, di->di_name, name, rl_strerror(-errno));
	else if ((uint64_t)st.st_size != di->di_bytes)
		dump_log_problem(dl,
				 "Discarded write %s/%s/%s has %" PRIu64
				 " bytes, its .meta says %" PRIu64,
				 w->dw_dir, DISCARD_DIR, name, (uint64_t)st.st_size, di->di_bytes);
	return 0;
}

/* Compare a dumped discarded .log with its .meta. */
static void dl_discard_compare(struct dump_log *dl, const char *path, const struct discard_info *di,
			       const struct dump_log_log_summary *sum)
{
	if (!sum->ls_read)
		return;
	if (sum->ls_valid_prefix != di->di_batches)
		dump_log_problem(dl,
				 "Discarded write %s: %" PRIu32
				 " valid batches from position 0, its .meta says %" PRIu32,
				 path, sum->ls_valid_prefix, di->di_batches);
	else if (di->di_batches > 0 && sum->ls_prefix_next != di->di_next_offset)
		dump_log_problem(dl,
				 "Discarded write %s: its batches end before offset %" PRId64
				 ", its .meta says nextOffset %" PRId64,
				 path, sum->ls_prefix_next, di->di_next_offset);
}

/* discard_list callback for --print-data-log: dump the discarded .log. */
static int dl_discard_dump(void *ctx, const struct discard_info *di)
{
	struct dl_discard_walk *w = ctx;
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/%s/%s.log", w->dw_dir, DISCARD_DIR, di->di_name) >=
	    (int)sizeof(path)) {
		dump_log_unreadable(w->dw_dl, "open", di->di_name, -ENAMETOOLONG);
		return 0;
	}
	struct dump_log_chain c;
	struct dump_log_log_summary sum;
	dump_log_chain_init(&c);
	dump_log_dump_log(w->dw_dl, path, di->di_first_offset, di->di_first_offset >= 0, false,
			  NULL, &c, &sum);
	dump_log_chain_deinit(&c);
	dl_discard_compare(w->dw_dl, path, di, &sum);
	return 0;
}

/* What discard_list passes over: .meta files it cannot parse, and .log
 * files with no .meta (an interrupted discard: the log was not cut). */
static int dl_discard_orphans(struct dump_log *dl, const char *dir, int disc_fd)
{
	int fd = dup(disc_fd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		int err = -errno;
		if (fd >= 0)
			close(fd);
		return err;
	}
	rewinddir(d);
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *n = de->d_name;
		size_t len = strlen(n);
		char other[NAME_MAX + 8];
		if (dump_log_has_suffix(n, ".meta")) {
			char text[1024];
			struct discard_info di;
			int rc = checkpoint_read(disc_fd, n, text, sizeof(text));
			if (rc >= 0)
				rc = discard_parse_meta(text, &di);
			if (rc < 0)
				dump_log_problem(
					dl, "Damaged discard metadata %s/%s/%s: %s (not listed)",
					dir, DISCARD_DIR, n, rl_strerror(rc));
		} else if (dump_log_has_suffix(n, ".log")) {
			snprintf(other, sizeof(other), "%.*s.meta", (int)(len - 4), n);
			if (faccessat(disc_fd, other, F_OK, 0) < 0)
				dump_log_warning(
					dl,
					"%s/%s/%s has no .meta: an interrupted discard (the log "
					"it came from was not cut)",
					dir, DISCARD_DIR, n);
		}
	}
	closedir(d);
	return 0;
}

int dump_log_discarded(struct dump_log *dl, const char *dir)
{
	int dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0) {
		int err = -errno;
		dump_log_unreadable(dl, "open", dir, err);
		return err;
	}
	struct dl_discard_walk w = {.dw_dl = dl, .dw_dir = dir, .dw_disc_fd = -1};
	w.dw_disc_fd = openat(dir_fd, DISCARD_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int listed = 0;
	if (w.dw_disc_fd < 0) {
		if (errno != ENOENT) {
			listed = -errno;
			fflush(dl->dl_out);
			fprintf(dl->dl_err, DUMP_LOG_PREFIX "cannot open %s/%s: %s\n", dir,
				DISCARD_DIR, rl_strerror(listed));
			dl->dl_unreadable++;
		}
		/* no discarded/: nothing was ever discarded */
	} else {
		listed = discard_list(dir_fd, dl_discard_line, &w);
		int rc = listed < 0 ? listed : dl_discard_orphans(dl, dir, w.dw_disc_fd);
		if (rc < 0)
			dump_log_unreadable(dl, "list the discarded writes of", dir, rc);
		if (rc == 0 && dl->dl_opts.dlo_print_data)
			rc = discard_list(dir_fd, dl_discard_dump, &w);
		close(w.dw_disc_fd);
	}
	close(dir_fd);
	return listed;
}

/* A discarded .log given on the command line: its .meta, if readable,
 * describes it and is checked against it. */
void dump_log_dump_discarded_file(struct dump_log *dl, const char *path)
{
	int64_t base = 0;
	bool known = dump_log_name_base(dump_log_basename(path), &base);
	char meta_path[PATH_MAX], text[1024];
	struct discard_info di;
	bool have_meta = false;
	if (dump_log_swap_suffix(meta_path, sizeof(meta_path), path, ".log", ".meta") == 0) {
		int rc = checkpoint_read(AT_FDCWD, meta_path, text, sizeof(text));
		if (rc >= 0)
			rc = discard_parse_meta(text, &di);
		if (rc == 0) {
			have_meta = true;
			const char *name = dump_log_basename(path);
			snprintf(di.di_name, sizeof(di.di_name), "%.*s", (int)(strlen(name) - 4),
				 name);
		} else if (rc == -ENOENT) {
			dump_log_warning(
				dl,
				"%s has no .meta: an interrupted discard (the log it came from "
				"was not cut)",
				path);
		} else {
			dump_log_problem(dl, "Damaged discard metadata %s: %s", meta_path,
					 rl_strerror(rc));
		}
	}
	struct dump_log_chain c;
	struct dump_log_log_summary sum;
	dump_log_chain_init(&c);
	dump_log_dump_log(dl, path, base, known, false, have_meta ? &di : NULL, &c, &sum);
	dump_log_chain_deinit(&c);
	if (have_meta)
		dl_discard_compare(dl, path, &di, &sum);
}

/* ---- partition directories ----------------------------------------------- */

static int dl_cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Base offsets of the segments in `dir_fd`, sorted; index files without a
 * .log are warned about. Returns the count, or a negative errno. */
static int64_t dl_list_segments(struct dump_log *dl, const char *dir, int dir_fd, int64_t **out)
{
	*out = NULL;
	int fd = dup(dir_fd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		int err = -errno;
		if (fd >= 0)
			close(fd);
		return err;
	}
	int64_t *v = NULL;
	size_t n = 0, cap = 0;
	int64_t rc = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		int64_t base;
		char log_name[SEGMENT_NAME_MAX];
		if (!dump_log_name_base(de->d_name, &base))
			continue;
		if (segment_parse_name(de->d_name, &base)) {
			if (n == cap) {
				size_t ncap = cap ? cap * 2 : 16;
				int64_t *nv = ncap <= DL_MAX_SEGMENTS
						      ? realloc(v, ncap * sizeof(*nv))
						      : NULL;
				if (!nv) {
					rc = ncap <= DL_MAX_SEGMENTS ? -ENOMEM : RL_ETOO_LARGE;
					break;
				}
				v = nv;
				cap = ncap;
			}
			v[n++] = base;
			continue;
		}
		bool idx = dump_log_has_suffix(de->d_name, ".index") ||
			   dump_log_has_suffix(de->d_name, ".timeindex");
		segment_name(log_name, base, ".log");
		if (idx && de->d_name[SEGMENT_NAME_DIGITS] == '.' &&
		    faccessat(dir_fd, log_name, F_OK, 0) < 0)
			dump_log_warning(
				dl, "%s/%s has no %s beside it (a leftover; the broker ignores it)",
				dir, de->d_name, log_name);
	}
	closedir(d);
	if (rc < 0) {
		free(v);
		return rc;
	}
	if (n > 0)
		qsort(v, n, sizeof(*v), dl_cmp_i64);
	*out = v;
	return (int64_t)n;
}

/* The first batch of `epoch` among those seen (sorted by epoch), or NULL. */
static const struct dump_log_epoch_seen *dl_find_seen(const struct dump_log_chain *c, int32_t epoch)
{
	uint32_t lo = 0, hi = c->dc_epochs_count;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (c->dc_epochs[mid].es_epoch == epoch)
			return &c->dc_epochs[mid];
		if (c->dc_epochs[mid].es_epoch < epoch)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Whether the checkpoint entries v[0..n) (sorted by epoch) hold `epoch`. */
static bool dl_has_entry(const struct epoch_entry *v, uint32_t n, int32_t epoch)
{
	uint32_t lo = 0, hi = n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (v[mid].ee_epoch == epoch)
			return true;
		if (v[mid].ee_epoch < epoch)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* One checkpoint entry against the log: it must be where its epoch's first
 * batch is. An entry at or past the log end is what a crash between
 * recording an epoch and writing its first batch leaves: a warning. */
static void dl_check_epoch_entry(struct dump_log *dl, const char *path,
				 const struct dump_log_chain *c, const struct epoch_entry *ent,
				 int64_t log_end)
{
	const struct dump_log_epoch_seen *s = dl_find_seen(c, ent->ee_epoch);
	if (s) {
		if (s->es_offset != ent->ee_start_offset)
			dump_log_problem(dl,
					 "%s: epoch %" PRId32 " starts at offset %" PRId64
					 ", but its first batch in the log is at offset %" PRId64
					 " (position %" PRIu64 " of segment %020" PRId64 ")",
					 path, ent->ee_epoch, ent->ee_start_offset, s->es_offset,
					 s->es_position, s->es_segment);
	} else if (ent->ee_start_offset >= log_end) {
		dump_log_warning(dl,
				 "%s: epoch %" PRId32 " starts at offset %" PRId64
				 ", at or past the log end offset %" PRId64
				 " (recorded before its first batch was written; dropped on open)",
				 path, ent->ee_epoch, ent->ee_start_offset, log_end);
	} else {
		dump_log_problem(dl,
				 "%s: epoch %" PRId32 " starts at offset %" PRId64
				 ", but the log has no valid batch of epoch %" PRId32
				 " after a lower epoch",
				 path, ent->ee_epoch, ent->ee_start_offset, ent->ee_epoch);
	}
}

/* Parse one "<a>\n" line, or "<a> <b>\n" when b is not NULL, at *p. */
static bool dl_parse_line(const char **p, const char *end, long long *a, long long *b)
{
	char *e;
	if (*p >= end)
		return false;
	*a = strtoll(*p, &e, 10);
	if (e == *p || e >= end)
		return false;
	if (b) {
		if (*e != ' ')
			return false;
		const char *q = e + 1;
		*b = strtoll(q, &e, 10);
		if (e == q || e >= end)
			return false;
	}
	if (*e != '\n')
		return false;
	*p = e + 1;
	return true;
}

/* Print the entries of a leader-epoch checkpoint's text into v (room for
 * EPOCH_CACHE_MAX_ENTRIES). Returns the entries read, or -1 when the file
 * is malformed (reported). *ordered: entries strictly increase. */
static int64_t dl_parse_epochs(struct dump_log *dl, const char *path, const char *text, size_t len,
			       struct epoch_entry *v, bool *ordered)
{
	const char *p = text, *end = text + len;
	long long version, count, epoch, start;
	*ordered = true;
	if (!dl_parse_line(&p, end, &version, NULL) || version != 0 ||
	    !dl_parse_line(&p, end, &count, NULL) || count < 0 || count > EPOCH_CACHE_MAX_ENTRIES) {
		dump_log_problem(
			dl,
			"Malformed %s: the first line must be 0 (the version) and the second "
			"the count, 0..%d",
			path, EPOCH_CACHE_MAX_ENTRIES);
		return -1;
	}
	fprintf(dl->dl_out, "version: %lld entries: %lld\n", version, count);
	for (long long i = 0; i < count; i++) {
		if (!dl_parse_line(&p, end, &epoch, &start) || epoch < 0 || epoch > INT32_MAX ||
		    start < 0) {
			dump_log_problem(
				dl, "Malformed %s: entry %lld is not \"<epoch> <start offset>\"",
				path, i);
			return -1;
		}
		fprintf(dl->dl_out, "epoch: %lld startOffset: %lld\n", epoch, start);
		v[i] = (struct epoch_entry){.ee_epoch = (int32_t)epoch, .ee_start_offset = start};
		if (i > 0 && (v[i].ee_epoch <= v[i - 1].ee_epoch ||
			      v[i].ee_start_offset <= v[i - 1].ee_start_offset)) {
			dump_log_problem(
				dl,
				"%s: entry %lld (epoch %lld startOffset %lld) does not increase "
				"after epoch %" PRId32 " startOffset %" PRId64,
				path, i, epoch, start, v[i - 1].ee_epoch, v[i - 1].ee_start_offset);
			*ordered = false;
		}
	}
	if (p != end)
		dump_log_problem(dl, "Malformed %s: %td bytes after the last entry", path, end - p);
	return count;
}

/* Dump the leader-epoch checkpoint and cross-check it with the epochs seen
 * in the log (c): each entry is the first batch of its epoch, and each
 * epoch in the log has an entry. */
static void dl_dump_epochs(struct dump_log *dl, const char *dir, int dir_fd,
			   const struct dump_log_chain *c, int64_t log_end)
{
	char path[PATH_MAX];
	if (dl_join(path, sizeof(path), dir, EPOCH_CACHE_FILE) < 0)
		return;
	char *text = malloc(DL_EPOCH_FILE_MAX);
	struct epoch_entry *v = malloc(EPOCH_CACHE_MAX_ENTRIES * sizeof(*v));
	int n = text && v ? checkpoint_read(dir_fd, EPOCH_CACHE_FILE, text, DL_EPOCH_FILE_MAX)
			  : -ENOMEM;
	if (n == -ENOENT) {
		if (c->dc_epochs_count > 0)
			dump_log_warning(dl,
					 "no %s (the broker rebuilds it from the batches on open)",
					 path);
	} else if (n == RL_ETOO_LARGE) {
		fprintf(dl->dl_out, "Dumping %s\n", path);
		dump_log_problem(dl, "Malformed %s: larger than any valid checkpoint", path);
	} else if (n < 0) {
		dump_log_unreadable(dl, "read", path, n);
	} else {
		fprintf(dl->dl_out, "Dumping %s\n", path);
		bool ordered;
		int64_t count = dl_parse_epochs(dl, path, text, (size_t)n, v, &ordered);
		for (int64_t i = 0; i < count && ordered && !c->dc_epochs_overflow; i++)
			dl_check_epoch_entry(dl, path, c, &v[i], log_end);
		for (uint32_t i = 0;
		     count >= 0 && ordered && !c->dc_epochs_overflow && i < c->dc_epochs_count;
		     i++) {
			const struct dump_log_epoch_seen *s = &c->dc_epochs[i];
			if (!dl_has_entry(v, (uint32_t)count, s->es_epoch))
				dump_log_problem(dl,
						 "%s has no entry for epoch %" PRId32
						 ", whose first batch is at offset %" PRId64
						 " (position %" PRIu64 " of segment %020" PRId64
						 ")",
						 path, s->es_epoch, s->es_offset, s->es_position,
						 s->es_segment);
		}
	}
	free(v);
	free(text);
}

static void dl_dump_hw(struct dump_log *dl, const char *dir, int dir_fd, int64_t log_start,
		       int64_t log_end)
{
	char path[PATH_MAX];
	if (dl_join(path, sizeof(path), dir, CHECKPOINT_HW_NAME) < 0)
		return;
	int64_t hw;
	int rc = checkpoint_read_i64(dir_fd, CHECKPOINT_HW_NAME, &hw);
	if (rc == 0)
		return; /* none saved yet: a new log */
	fprintf(dl->dl_out, "Dumping %s\n", path);
	if (rc == RL_ECORRUPT || rc == RL_ETOO_LARGE) {
		dump_log_problem(dl, "Malformed %s: not \"0\\n1\\n<high watermark>\\n\"", path);
		return;
	}
	if (rc < 0) {
		dump_log_unreadable(dl, "read", path, rc);
		return;
	}
	fprintf(dl->dl_out, "highWatermark: %" PRId64 "\n", hw);
	if (hw > log_end)
		dump_log_warning(dl,
				 "%s: high watermark %" PRId64
				 " is past the log end offset %" PRId64 " (clamped on open)",
				 path, hw, log_end);
	else if (hw < log_start)
		dump_log_warning(dl,
				 "%s: high watermark %" PRId64
				 " is below the log start offset %" PRId64 " (clamped on open)",
				 path, hw, log_start);
}

static int dl_count_discard(void *ctx, const struct discard_info *di)
{
	(void)di;
	(*(uint32_t *)ctx)++;
	return 0;
}

/* Every segment in offset order (each with its indexes), then the
 * checkpoints, then one summary line. */
void dump_log_dump_partition(struct dump_log *dl, const char *dir)
{
	int dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0) {
		dump_log_unreadable(dl, "open", dir, -errno);
		return;
	}
	int64_t *bases;
	int64_t nseg = dl_list_segments(dl, dir, dir_fd, &bases);
	if (nseg < 0) {
		dump_log_unreadable(dl, "list", dir, (int)nseg);
		close(dir_fd);
		return;
	}
	if (nseg == 0)
		dump_log_warning(
			dl,
			"%s holds no segment (<20 digits>.log): not a partition directory, or "
			"an empty log",
			dir);
	struct dump_log_chain c;
	dump_log_chain_init(&c);
	c.dc_collect_epochs = true;
	char path[PATH_MAX], name[SEGMENT_NAME_MAX];
	for (int64_t i = 0; i < nseg; i++) {
		segment_name(name, bases[i], ".log");
		if (dl_join(path, sizeof(path), dir, name) < 0) {
			dump_log_unreadable(dl, "open", name, -ENAMETOOLONG);
			continue;
		}
		if (i > 0 && c.dc_next_offset >= 0 && c.dc_next_offset != bases[i])
			dump_log_problem(
				dl,
				"Non-consecutive segments in %s: the log before %s ends before "
				"offset %" PRId64 ", but the segment starts at offset %" PRId64
				" (position 0)",
				dir, name, c.dc_next_offset, bases[i]);
		/* A segment's first batch must start at its base offset, whatever
		 * the previous segment held. */
		c.dc_have_prev = true;
		c.dc_prev_last = bases[i] - 1;
		struct dump_log_log_summary sum;
		dump_log_dump_log(dl, path, bases[i], true, true, NULL, &c, &sum);
		if (c.dc_next_offset < bases[i])
			c.dc_next_offset = bases[i]; /* an empty segment still marks the end */
	}
	int64_t log_start = nseg > 0 ? bases[0] : 0;
	int64_t log_end = c.dc_next_offset >= 0 ? c.dc_next_offset : log_start;
	dl_dump_epochs(dl, dir, dir_fd, &c, log_end);
	dl_dump_hw(dl, dir, dir_fd, log_start, log_end);
	uint32_t discarded = 0;
	int listed = discard_list(dir_fd, dl_count_discard, &discarded);
	bool clean = faccessat(dir_fd, PLOG_CLEAN_SHUTDOWN_FILE, F_OK, 0) == 0;
	fprintf(dl->dl_out,
		"Partition: %s segments: %" PRId64 " logStartOffset: %" PRId64
		" logEndOffset: %" PRId64 " batches: %" PRIu64 " cleanShutdown: %s discarded: %d\n",
		dir, nseg, log_start, log_end, c.dc_batches, clean ? "true" : "false",
		listed < 0 ? -1 : (int)discarded);
	dump_log_chain_deinit(&c);
	free(bases);
	close(dir_fd);
}
