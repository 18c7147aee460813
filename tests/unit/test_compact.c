/* Description: log compaction — latest record per key at its original offset, tombstones dropped
 * only after delete_retention_ms, null keys kept, zstd and plain batches, bounded key map, crash at
 * every step of the swap, appends and readers undisturbed by a run. REPLOG_SEED replays. */
#include "logtest.h"

#include <dirent.h>
#include <inttypes.h>
#include <pthread.h>
#include <time.h>

#include "compact.h"
#include "compress.h"
#include "record.h"

#define MAX_VAL 48

/* What the log holds at one offset, as produced. */
struct mrec {
	int mr_key;  /* -1: null key */
	int mr_vlen; /* -1: tombstone */
	uint8_t mr_val[MAX_VAL];
	int32_t mr_epoch;
};

struct fx {
	char root[PATH_MAX];
	char dir[PATH_MAX + 16];
	struct io_engine *io;
	struct plog_config cfg;
	struct compact_config cc;
	int64_t now;
	int64_t ts;
	struct plog *log;
	struct lt_model m; /* batches as appended, for lt_append */
	struct mrec *recs; /* by offset */
	int64_t nrecs;
	int64_t cap;
	int nkeys;
	int32_t epoch;
	uint64_t seed;
};

static int64_t fx_clock(void *ctx)
{
	return *(int64_t *)ctx;
}

static void fx_init(struct fx *f, const char *tag, int nkeys)
{
	memset(f, 0, sizeof(*f));
	tu_tmpdir(f->root, sizeof(f->root), tag);
	snprintf(f->dir, sizeof(f->dir), "%s/topic-0", f->root);
	f->io = io_sync_engine_create();
	assert_non_null(f->io);
	plog_config_default(&f->cfg);
	f->cfg.segment_bytes = 4096;
	f->cfg.max_append_bytes = 4096;
	f->cfg.index_interval_bytes = 256;
	f->cfg.allow_offset_gaps = true;
	f->cfg.clock_ms = fx_clock;
	f->cfg.clock_ctx = &f->now;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	f->now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	f->ts = 1600000000000;
	compact_config_default(&f->cc);
	f->cc.cc_index_interval_bytes = 256;
	f->cc.cc_delete_retention_ms = 3600 * 1000;
	f->cc.cc_max_batch_bytes = 1 << 20;
	f->nkeys = nkeys;
	f->epoch = 1;
	f->seed = tu_seed(0xc0ffee5eed);
	/* Vary the key hash with the seed too: behaviour must not depend on it. */
	f->cc.cc_hash_seed = f->seed * 31 + 7;
}

static void fx_open(struct fx *f, struct plog_recovery *rec)
{
	int rc = plog_open(f->dir, f->io, &f->cfg, &f->log, rec);
	if (rc != 0)
		fail_msg("plog_open(%s): %s", f->dir, rl_strerror(rc));
}

static void fx_close(struct fx *f)
{
	assert_int_equal(plog_close(f->log), 0);
	f->log = NULL;
}

static void fx_done(struct fx *f)
{
	if (f->log)
		fx_close(f);
	lt_model_free(&f->m);
	free(f->recs);
	io_engine_destroy(f->io);
	tu_rmdir(f->root);
}

static struct mrec *fx_rec_slot(struct fx *f, int64_t offset)
{
	if (offset >= f->cap) {
		f->cap = f->cap ? f->cap * 2 : 1024;
		while (f->cap <= offset)
			f->cap *= 2;
		f->recs = realloc(f->recs, (size_t)f->cap * sizeof(*f->recs));
		assert_non_null(f->recs);
	}
	return &f->recs[offset];
}

/* One batch of 1..8 keyed records: many updates per key, ~10% tombstones,
 * ~5% null keys, plain or zstd (compressible values, so zstd sticks). */
static void fx_append_batch(struct fx *f)
{
	uint8_t buf[4096];
	int nrec = 1 + (int)(tu_rand(&f->seed) % 8);
	int codec = tu_rand(&f->seed) % 2 ? BATCH_CODEC_ZSTD : BATCH_CODEC_NONE;
	struct batch_builder b;
	assert_int_equal(batch_builder_init(&b, buf, sizeof(buf), codec, f->ts, -1, -1, -1), 0);
	struct mrec tmp[8];
	for (int j = 0; j < nrec; j++) {
		struct mrec *r = &tmp[j];
		uint64_t x = tu_rand(&f->seed);
		r->mr_key = x % 20 == 0 ? -1 : (int)(tu_rand(&f->seed) % (uint64_t)f->nkeys);
		r->mr_vlen = x % 10 == 1 ? -1 : (int)(tu_rand(&f->seed) % MAX_VAL);
		uint8_t fill = (uint8_t)tu_rand(&f->seed);
		for (int k = 0; k < r->mr_vlen; k++)
			r->mr_val[k] = (uint8_t)(fill + (k % 4));
		char key[32];
		int klen = snprintf(key, sizeof(key), "key-%d", r->mr_key);
		assert_int_equal(batch_builder_add(
					 &b, f->ts + j, r->mr_key < 0 ? NULL : (const uint8_t *)key,
					 r->mr_key < 0 ? -1 : klen,
					 r->mr_vlen < 0 ? NULL : r->mr_val, r->mr_vlen, NULL, 0),
				 0);
	}
	int64_t len = batch_builder_finish(&b);
	assert_true(len > 0);
	if (tu_rand(&f->seed) % 16 == 0)
		f->epoch++;
	int64_t base = plog_end_offset(f->log);
	assert_int_equal(lt_append(f->log, &f->m, buf, (size_t)len, f->epoch, f->ts), 0);
	for (int j = 0; j < nrec; j++) {
		tmp[j].mr_epoch = f->epoch;
		*fx_rec_slot(f, base + j) = tmp[j];
	}
	f->nrecs = base + nrec;
	f->ts += nrec;
}

static void fx_fill(struct fx *f, int nbatches)
{
	for (int i = 0; i < nbatches; i++)
		fx_append_batch(f);
}

/* Plan, run, swap every rewritten segment into the open log. */
static void fx_compact(struct fx *f, int64_t upper, struct compact_result *res)
{
	struct compact_plan plan;
	assert_true(compact_plan(f->dir, upper, &plan) >= 0);
	int rc = compact_run(f->dir, &plan, &f->cc, res);
	if (rc != 0)
		fail_msg("compact_run: %s", rl_strerror(rc));
	for (uint32_t i = 0; i < plan.cp_count; i++) {
		const struct compact_segment *cs = &plan.cp_segs[i];
		if (!cs->cs_rewritten)
			continue;
		rc = plog_swap_cleaned(f->log, cs->cs_base_offset, cs->cs_size);
		if (rc != 0)
			fail_msg("plog_swap_cleaned(%" PRId64 "): %s", cs->cs_base_offset,
				 rl_strerror(rc));
	}
	compact_plan_free(&plan);
}

/* Every record of the log as read through plog_read: offsets strictly
 * increase, each record equals what was produced at its offset, each
 * batch keeps its epoch. seen[o] is set for every offset read. */
static void fx_read_log(struct fx *f, bool *seen)
{
	size_t len;
	uint8_t *all = lt_read_all(f->log, 1 << 16, &len);
	struct batch_iter it;
	struct batch_header h;
	const uint8_t *b;
	size_t size;
	int64_t prev = -1;
	static uint8_t dec[1 << 20];
	batch_iter_init(&it, all, len);
	int rc;
	memset(seen, 0, (size_t)f->nrecs * sizeof(*seen));
	while ((rc = batch_iter_next(&it, &h, &b, &size)) == 1) {
		assert_true(h.bh_base_offset > prev);
		int64_t n = decompress_records(batch_codec(&h), dec, sizeof(dec),
					       b + BATCH_HEADER_BYTES, size - BATCH_HEADER_BYTES);
		assert_true(n >= 0);
		struct record_iter ri;
		struct record r;
		record_iter_init(&ri, dec, (size_t)n, h.bh_records_count);
		int32_t count = 0;
		while ((rc = record_iter_next(&ri, &r)) == 1) {
			int64_t o = h.bh_base_offset + r.r_offset_delta;
			assert_true(o > prev);
			assert_true(o <= batch_last_offset(&h));
			assert_true(o < f->nrecs);
			prev = o;
			const struct mrec *m = &f->recs[o];
			assert_int_equal(h.bh_partition_leader_epoch, m->mr_epoch);
			char key[32];
			int klen = snprintf(key, sizeof(key), "key-%d", m->mr_key);
			if (m->mr_key < 0) {
				assert_int_equal(r.r_key_len, -1);
			} else {
				assert_int_equal(r.r_key_len, klen);
				assert_memory_equal(r.r_key, key, (size_t)klen);
			}
			assert_int_equal(r.r_value_len, m->mr_vlen);
			if (m->mr_vlen > 0)
				assert_memory_equal(r.r_value, m->mr_val, (size_t)m->mr_vlen);
			seen[o] = true;
			count++;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(count, h.bh_records_count);
		prev = batch_last_offset(&h);
	}
	assert_int_equal(rc, 0);
	free(all);
}

/* The compaction contract against the model, for a run that covered
 * [0, scanned_end) and cleaned [0, cleaned_end):
 *   - offsets at or above cleaned_end are all there;
 *   - null keys are all there;
 *   - below cleaned_end, a keyed record is there iff it is the latest of
 *     its key below scanned_end, and not a tombstone when tombstones are
 *     expected gone. */
static void fx_check(struct fx *f, const struct compact_result *res, bool tombstones_gone)
{
	bool *seen = calloc((size_t)f->nrecs + 1, sizeof(*seen));
	int64_t *latest = malloc((size_t)f->nkeys * sizeof(*latest));
	assert_non_null(seen);
	assert_non_null(latest);
	fx_read_log(f, seen);
	for (int k = 0; k < f->nkeys; k++)
		latest[k] = -1;
	for (int64_t o = 0; o < f->nrecs && o < res->cr_scanned_end; o++)
		if (f->recs[o].mr_key >= 0)
			latest[f->recs[o].mr_key] = o;
	for (int64_t o = 0; o < f->nrecs; o++) {
		const struct mrec *m = &f->recs[o];
		bool want;
		if (o >= res->cr_cleaned_end || m->mr_key < 0)
			want = true;
		else if (o != latest[m->mr_key])
			want = false;
		else
			want = !(m->mr_vlen < 0 && tombstones_gone);
		if (seen[o] != want)
			fail_msg("offset %" PRId64 " (key %d, vlen %d): %s, expected %s (cleaned "
				 "below %" PRId64 ", scanned below %" PRId64 ", seed %" PRIu64 ")",
				 o, m->mr_key, m->mr_vlen, seen[o] ? "present" : "absent",
				 want ? "present" : "absent", res->cr_cleaned_end,
				 res->cr_scanned_end, tu_seed(0xc0ffee5eed));
	}
	free(seen);
	free(latest);
}

/* The main property test: random workload, compaction with tombstones
 * kept, then past the horizon, then reopen and keep appending. */
static void test_compact_keeps_latest(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, "compact-latest", 40);
	fx_open(&f, NULL);
	fx_fill(&f, 300);
	assert_true(plog_segment_count(f.log) > 10);
	uint64_t before = plog_size_bytes(f.log);
	int64_t hw = plog_end_offset(f.log);

	/* Tombstones are younger than delete_retention_ms: all stay. */
	struct compact_result res;
	f.cc.cc_now_ms = f.ts;
	fx_compact(&f, hw, &res);
	assert_true(res.cr_segments_cleaned == plog_segment_count(f.log) - 1);
	assert_true(res.cr_segments_rewritten > 0);
	assert_int_equal(res.cr_tombstones_dropped, 0);
	assert_false(res.cr_map_full);
	assert_true(res.cr_records_dropped > 0);
	fx_check(&f, &res, false);
	uint64_t after = plog_size_bytes(f.log);
	assert_true(after < before);
	assert_int_equal(res.cr_bytes_before - res.cr_bytes_after, before - after);

	/* Again at the same time: nothing left to do, nothing rewritten. */
	struct compact_result again;
	fx_compact(&f, hw, &again);
	assert_int_equal(again.cr_segments_rewritten, 0);
	assert_int_equal(again.cr_records_dropped, 0);
	fx_check(&f, &again, false);

	/* Past the horizon: tombstones go. */
	f.cc.cc_now_ms = f.ts + f.cc.cc_delete_retention_ms + 1;
	fx_compact(&f, hw, &res);
	assert_true(res.cr_tombstones_dropped > 0);
	fx_check(&f, &res, true);
	assert_true(plog_size_bytes(f.log) < after);

	/* Survives a clean reopen, the epochs too, and appends go on. */
	fx_close(&f);
	struct plog_recovery rec;
	fx_open(&f, &rec);
	assert_int_equal(rec.pr_stop, SCAN_END);
	assert_int_equal(plog_end_offset(f.log), hw);
	fx_check(&f, &res, true);
	assert_int_equal(epoch_cache_latest(plog_epochs(f.log)), f.epoch);
	fx_fill(&f, 40);
	fx_check(&f, &res, true);
	/* And an unclean one (full scan of the last segment, gaps allowed). */
	plog_close_unclean(f.log);
	f.log = NULL;
	fx_open(&f, &rec);
	assert_int_equal(rec.pr_stop, SCAN_END);
	fx_check(&f, &res, true);
	fx_done(&f);
}

/* The upper bound (high watermark) is respected: nothing at or above it is
 * touched, and only whole segments below it are cleaned. */
static void test_compact_upper_bound(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, "compact-upper", 25);
	fx_open(&f, NULL);
	fx_fill(&f, 200);
	int64_t hw = plog_end_offset(f.log) / 2;
	struct compact_result res;
	f.cc.cc_now_ms = f.ts + f.cc.cc_delete_retention_ms + 1;
	fx_compact(&f, hw, &res);
	assert_true(res.cr_segments_cleaned > 0);
	assert_true(res.cr_cleaned_end <= hw);
	assert_true(res.cr_scanned_end <= hw);
	fx_check(&f, &res, true);
	/* Nothing: an upper bound below the first batch. */
	fx_compact(&f, 0, &res);
	assert_int_equal(res.cr_segments_cleaned, 0);
	fx_done(&f);
}

/* A key map too small for the keys: only the prefix it covers is
 * cleaned, and that prefix is exact. */
static void test_compact_map_full(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, "compact-mapfull", 60);
	fx_open(&f, NULL);
	fx_fill(&f, 250);
	f.cc.cc_max_keys = 20;
	f.cc.cc_now_ms = f.ts;
	struct compact_result res;
	fx_compact(&f, plog_end_offset(f.log), &res);
	assert_true(res.cr_map_full);
	assert_int_equal(res.cr_keys, 20);
	assert_true(res.cr_cleaned_end < plog_end_offset(f.log));
	fx_check(&f, &res, false);
	/* With room, a second run finishes the job. */
	f.cc.cc_max_keys = 1000;
	fx_compact(&f, plog_end_offset(f.log), &res);
	assert_false(res.cr_map_full);
	fx_check(&f, &res, false);
	fx_done(&f);
}

/* ---- crash at every step of the swap ------------------------------------ */

static uint8_t *read_or_null(const char *dir, int64_t base, const char *sfx, size_t *len)
{
	char p[PATH_MAX + 64];
	lt_path(p, sizeof(p), dir, base, sfx);
	if (lt_file_size(p) < 0)
		return NULL;
	return lt_read_file(p, len);
}

static int count_leftovers(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strstr(de->d_name, ".cleaned") || strstr(de->d_name, ".swap"))
			n++;
	closedir(d);
	return n;
}

/* Build a log, leave cleaned files next to it (run done, swap not begun),
 * then for every number of swap steps k, on a copy: fully swap the
 * segments before the middle one, do k steps on the middle one, none on
 * the rest, "crash", and open. Each segment must be exactly its old bytes
 * or its cleaned bytes (old when k did not reach the commit rename), no
 * .cleaned or .swap file may remain, and the log must read back as a valid
 * compaction of the model. Also: a run that crashed while writing (a torn
 * .cleaned file) leaves the old segment. */
static void test_compact_crash_every_step(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, "compact-crash", 30);
	fx_open(&f, NULL);
	fx_fill(&f, 200);
	int64_t end = plog_end_offset(f.log);
	fx_close(&f);

	struct compact_plan plan;
	struct compact_result res;
	f.cc.cc_now_ms = f.ts;
	assert_true(compact_plan(f.dir, end, &plan) > 2);
	assert_int_equal(compact_run(f.dir, &plan, &f.cc, &res), 0);
	uint32_t nrw = 0, mid = 0;
	int64_t rw[256];
	for (uint32_t i = 0; i < plan.cp_count; i++)
		if (plan.cp_segs[i].cs_rewritten && nrw < 256)
			rw[nrw++] = plan.cp_segs[i].cs_base_offset;
	assert_true(nrw >= 3);
	mid = nrw / 2;
	char pristine[PATH_MAX + 32];
	snprintf(pristine, sizeof(pristine), "%s/pristine", f.root);
	lt_copy_dir(f.dir, pristine);
	char work[PATH_MAX + 16];
	snprintf(work, sizeof(work), "%s", f.dir);

	for (int k = 0; k <= 7; k++) {
		lt_copy_dir(pristine, work);
		int dfd = open(work, O_RDONLY | O_DIRECTORY);
		assert_true(dfd >= 0);
		bool committed = false;
		for (uint32_t j = 0; j < mid; j++)
			assert_int_equal(compact_swap_files(dfd, rw[j], INT32_MAX, NULL), 0);
		assert_int_equal(compact_swap_files(dfd, rw[mid], k, &committed), 0);
		assert_int_equal(committed, k >= 1);
		close(dfd);

		struct plog_recovery rec;
		fx_open(&f, &rec);
		assert_int_equal(rec.pr_stop, SCAN_END);
		assert_int_equal(count_leftovers(f.dir), 0);
		assert_int_equal(plog_end_offset(f.log), end);
		for (uint32_t j = 0; j < nrw; j++) {
			size_t got_len = 0, old_len = 0, new_len = 0;
			uint8_t *got = read_or_null(f.dir, rw[j], ".log", &got_len);
			uint8_t *old = read_or_null(pristine, rw[j], ".log", &old_len);
			uint8_t *neu = read_or_null(pristine, rw[j], ".log.cleaned", &new_len);
			assert_non_null(got);
			bool want_new = j < mid || (j == mid && k >= 1);
			const uint8_t *want = want_new ? neu : old;
			size_t want_len = want_new ? new_len : old_len;
			if (got_len != want_len || memcmp(got, want, want_len) != 0)
				fail_msg("k=%d segment %" PRId64 ": expected the %s bytes", k,
					 rw[j], want_new ? "cleaned" : "old");
			free(got);
			free(old);
			free(neu);
		}
		/* Whatever mix of old and new segments, every record read is the one
		 * produced at its offset, offsets increase, and nothing above the
		 * cleaned point is lost. */
		bool *seen = calloc((size_t)f.nrecs, sizeof(*seen));
		fx_read_log(&f, seen);
		for (int64_t o = res.cr_cleaned_end; o < f.nrecs; o++)
			assert_true(seen[o]);
		free(seen);
		fx_close(&f);
	}

	/* A run torn while writing: the cleaned file is half there. */
	lt_copy_dir(pristine, work);
	char p[PATH_MAX + 64];
	lt_path(p, sizeof(p), work, rw[0], ".log.cleaned");
	assert_int_equal(truncate(p, lt_file_size(p) / 2), 0);
	lt_path(p, sizeof(p), work, rw[0], ".index.cleaned");
	unlink(p);
	fx_open(&f, NULL);
	assert_int_equal(count_leftovers(f.dir), 0);
	size_t a, b;
	uint8_t *got = read_or_null(f.dir, rw[0], ".log", &a);
	uint8_t *old = read_or_null(pristine, rw[0], ".log", &b);
	assert_int_equal(a, b);
	assert_memory_equal(got, old, a);
	free(got);
	free(old);
	fx_close(&f);
	compact_plan_free(&plan);
	tu_rmdir(pristine);
	fx_done(&f);
}

/* Swaps refused (a log without offset gaps, a stale size, a missing
 * segment), leftover cleaned files removed on open, a reader's slice held
 * across a swap, and a crash right after a swap. */
static void test_compact_swap_refusals(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, "compact-refuse", 20);
	f.cfg.allow_offset_gaps = false;
	fx_open(&f, NULL);
	fx_fill(&f, 120);
	struct compact_plan plan;
	struct compact_result res;
	f.cc.cc_now_ms = f.ts;
	assert_true(compact_plan(f.dir, plog_end_offset(f.log), &plan) > 1);
	assert_int_equal(compact_run(f.dir, &plan, &f.cc, &res), 0);
	assert_true(res.cr_segments_rewritten > 0);
	assert_true(count_leftovers(f.dir) > 0);
	/* A log that does not allow gaps refuses, and leaves the files... */
	for (uint32_t i = 0; i < plan.cp_count; i++)
		if (plan.cp_segs[i].cs_rewritten)
			assert_int_equal(plog_swap_cleaned(f.log, plan.cp_segs[i].cs_base_offset,
							   plan.cp_segs[i].cs_size),
					 RL_ECONFIG);
	compact_plan_free(&plan);
	/* ...which the next open removes. */
	fx_close(&f);
	f.cfg.allow_offset_gaps = true;
	fx_open(&f, NULL);
	assert_int_equal(count_leftovers(f.dir), 0);

	assert_true(compact_plan(f.dir, plog_end_offset(f.log), &plan) > 1);
	assert_int_equal(compact_run(f.dir, &plan, &f.cc, &res), 0);
	uint32_t first = UINT32_MAX, second = UINT32_MAX;
	for (uint32_t i = 0; i < plan.cp_count; i++) {
		if (!plan.cp_segs[i].cs_rewritten)
			continue;
		if (first == UINT32_MAX)
			first = i;
		else if (second == UINT32_MAX)
			second = i;
	}
	assert_true(second != UINT32_MAX);
	const struct compact_segment *c1 = &plan.cp_segs[first], *c2 = &plan.cp_segs[second];
	/* Wrong size: stale, cleaned files removed. */
	assert_int_equal(plog_swap_cleaned(f.log, c1->cs_base_offset, c1->cs_size + 1), -ESTALE);
	size_t l1;
	assert_null(read_or_null(f.dir, c1->cs_base_offset, ".log.cleaned", &l1));
	/* Not a segment: gone. */
	assert_int_equal(plog_swap_cleaned(f.log, c1->cs_base_offset + 1, c1->cs_size), -ENOENT);
	/* A slice of the old segment, held across the swap, reads the old bytes. */
	struct plog_slice s;
	assert_int_equal(plog_read(f.log, c2->cs_base_offset, 1 << 20, INT64_MAX, true, &s), 1);
	assert_true(s.ps_len > 0);
	uint8_t *before = malloc(s.ps_len);
	uint8_t *later = malloc(s.ps_len);
	assert_int_equal(plog_slice_copy(&s, before, s.ps_len), s.ps_len);
	assert_int_equal(plog_swap_cleaned(f.log, c2->cs_base_offset, c2->cs_size), 0);
	assert_int_equal(plog_slice_copy(&s, later, s.ps_len), s.ps_len);
	assert_memory_equal(before, later, s.ps_len);
	plog_slice_release(&s);
	free(before);
	free(later);
	/* Crash now; the swapped segment stays swapped, the refused one old. */
	plog_close_unclean(f.log);
	f.log = NULL;
	fx_open(&f, NULL);
	assert_int_equal(count_leftovers(f.dir), 0);
	uint8_t *g = read_or_null(f.dir, c1->cs_base_offset, ".log", &l1);
	assert_int_equal(l1, c1->cs_size);
	free(g);
	g = read_or_null(f.dir, c2->cs_base_offset, ".log", &l1);
	assert_int_equal(l1, c2->cs_new_size);
	assert_true(c2->cs_new_size < c2->cs_size);
	free(g);
	bool *seen = calloc((size_t)f.nrecs, sizeof(*seen));
	fx_read_log(&f, seen);
	free(seen);
	compact_plan_free(&plan);
	fx_done(&f);
}

/* ---- a run on its own thread while the owner appends --------------------- */

struct bg_run {
	const char *br_dir;
	int64_t br_upper;
	struct compact_config br_cc;
	struct compact_plan br_plan;
	struct compact_result br_res;
	int br_rc;
};

static void *bg_main(void *arg)
{
	struct bg_run *b = arg;
	b->br_rc = compact_plan(b->br_dir, b->br_upper, &b->br_plan);
	if (b->br_rc >= 0)
		b->br_rc = compact_run(b->br_dir, &b->br_plan, &b->br_cc, &b->br_res);
	return NULL;
}

static void test_compact_concurrent_appends(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, "compact-bg", 30);
	f.cfg.flush_interval_ms = 0;
	fx_open(&f, NULL);
	fx_fill(&f, 250);
	int64_t hw = plog_end_offset(f.log);
	struct bg_run b = {.br_dir = f.dir, .br_upper = hw, .br_cc = f.cc};
	b.br_cc.cc_now_ms = f.ts + f.cc.cc_delete_retention_ms + 1;
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, bg_main, &b), 0);
	/* Appends (and rolls) go on while the run reads and writes files. */
	int64_t t0 = f.ts;
	for (int i = 0; i < 150; i++) {
		fx_append_batch(&f);
		assert_int_equal(plog_error(f.log), 0);
	}
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(b.br_rc, 0);
	assert_true(b.br_res.cr_segments_rewritten > 0);
	assert_true(b.br_res.cr_cleaned_end <= hw);
	(void)t0;
	for (uint32_t i = 0; i < b.br_plan.cp_count; i++) {
		const struct compact_segment *cs = &b.br_plan.cp_segs[i];
		if (cs->cs_rewritten)
			assert_int_equal(plog_swap_cleaned(f.log, cs->cs_base_offset, cs->cs_size),
					 0);
	}
	compact_plan_free(&b.br_plan);
	/* The appends made during the run are all there (fx_check: offsets
	 * above cleaned_end are all present and equal to what was produced). */
	fx_check(&f, &b.br_res, true);
	fx_fill(&f, 10);
	fx_check(&f, &b.br_res, true);
	fx_close(&f);
	fx_open(&f, NULL);
	fx_check(&f, &b.br_res, true);
	fx_done(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compact_keeps_latest),
		cmocka_unit_test(test_compact_upper_bound),
		cmocka_unit_test(test_compact_map_full),
		cmocka_unit_test(test_compact_crash_every_step),
		cmocka_unit_test(test_compact_swap_refusals),
		cmocka_unit_test(test_compact_concurrent_appends),
	};
	fprintf(stderr, "# REPLOG_SEED=%" PRIu64 "\n", tu_seed(0xc0ffee5eed));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
