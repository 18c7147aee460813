/* Description: the partition log — round trips across rolls, recovery from torn and corrupt tails,
 * truncation, retention, flushing, fencing, epochs. */
#include "logtest.h"

#include <inttypes.h>
#include <time.h>

#include "discard.h"
#include "epoch_cache.h"
#include "io_ring.h"

struct fx {
	char root[PATH_MAX];
	char dir[PATH_MAX + 16];
	struct io_engine *io;
	struct lt_engine *faulty; /* when io is a fault-injecting wrapper */
	struct plog_config cfg;
	int64_t now;
	int64_t ts; /* next record timestamp */
	struct plog *log;
	struct lt_model m;
	uint64_t seed;
};

static int64_t fx_clock(void *ctx)
{
	return *(int64_t *)ctx;
}

static void fx_init(struct fx *f, const char *tag)
{
	memset(f, 0, sizeof(*f));
	tu_tmpdir(f->root, sizeof(f->root), tag);
	snprintf(f->dir, sizeof(f->dir), "%s/topic-0", f->root);
	f->io = io_sync_engine_create();
	assert_non_null(f->io);
	plog_config_default(&f->cfg);
	f->cfg.clock_ms = fx_clock;
	f->cfg.clock_ctx = &f->now;
	/* A clock the test moves by hand, starting at the real time so that
	 * file times (segment age after reopen) agree with it. */
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	f->now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	f->ts = 1600000000000;
	f->seed = tu_seed(0x5eed1234);
}

static void fx_use_faulty(struct fx *f)
{
	io_engine_destroy(f->io);
	f->faulty = lt_engine_create();
	f->io = &f->faulty->le_base;
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

static void fx_crash(struct fx *f)
{
	plog_close_unclean(f->log);
	f->log = NULL;
}

static void fx_done(struct fx *f)
{
	if (f->log)
		fx_close(f);
	lt_model_free(&f->m);
	io_engine_destroy(f->io);
	tu_rmdir(f->root);
}

/* Append one batch of nrec records (values up to max_value bytes). */
static void fx_append(struct fx *f, int nrec, int max_value, int32_t epoch)
{
	uint8_t buf[1 << 16];
	size_t len = lt_build(buf, sizeof(buf), nrec, max_value, f->ts, &f->seed, BATCH_CODEC_NONE);
	assert_int_equal(lt_append(f->log, &f->m, buf, len, epoch, f->ts), 0);
	f->ts += nrec;
}

static void fx_fill(struct fx *f, int nbatches, int max_rec, int max_value, int32_t epoch)
{
	for (int i = 0; i < nbatches; i++)
		fx_append(f, 1 + (int)(tu_rand(&f->seed) % (uint64_t)max_rec), max_value, epoch);
}

/* Model batch holding `offset`. */
static size_t fx_batch_of(const struct fx *f, int64_t offset)
{
	for (size_t i = 0; i < f->m.lm_n; i++)
		if (offset >= f->m.lm_b[i].lb_base && offset < f->m.lm_b[i].lb_next)
			return i;
	fail_msg("offset %" PRId64 " not in the model", offset);
	return 0;
}

static void check_offset_lookups(struct fx *f)
{
	int64_t end = plog_end_offset(f->log);
	for (int64_t o = plog_start_offset(f->log); o < end; o++) {
		struct plog_slice s;
		assert_int_equal(plog_read(f->log, o, 1, INT64_MAX, true, &s), 1);
		const struct lt_batch *b = &f->m.lm_b[fx_batch_of(f, o)];
		assert_int_equal(s.ps_first_offset, b->lb_base);
		assert_int_equal(s.ps_len, b->lb_len);
		assert_int_equal(s.ps_next_offset, b->lb_next);
		plog_slice_release(&s);
	}
	struct plog_slice s;
	assert_int_equal(plog_read(f->log, end, 1 << 20, INT64_MAX, true, &s), 0);
	assert_int_equal(plog_read(f->log, end + 1, 1 << 20, INT64_MAX, true, &s), RL_ERANGE);
	if (plog_start_offset(f->log) > 0)
		assert_int_equal(plog_read(f->log, plog_start_offset(f->log) - 1, 1 << 20,
					   INT64_MAX, true, &s),
				 RL_ERANGE);
}

static void check_time_lookups(struct fx *f, size_t first_batch)
{
	int64_t off, ts;
	for (size_t i = first_batch; i < f->m.lm_n; i++) {
		const struct lt_batch *b = &f->m.lm_b[i];
		for (int64_t o = b->lb_base; o < b->lb_next; o++) {
			int64_t want_ts = b->lb_first_ts + (o - b->lb_base);
			assert_int_equal(
				plog_offset_for_timestamp(f->log, want_ts, INT64_MAX, &off, &ts),
				1);
			assert_int_equal(off, o);
			assert_int_equal(ts, want_ts);
		}
	}
	/* Before every record: the first offset. After every record: none. */
	const struct lt_batch *first = &f->m.lm_b[first_batch];
	assert_int_equal(plog_offset_for_timestamp(f->log, 0, INT64_MAX, &off, &ts), 1);
	assert_int_equal(off, first->lb_base);
	assert_int_equal(plog_offset_for_timestamp(f->log, f->ts, INT64_MAX, &off, &ts), 0);
	/* A bound at the last batch hides it. */
	const struct lt_batch *last = &f->m.lm_b[f->m.lm_n - 1];
	assert_int_equal(
		plog_offset_for_timestamp(f->log, last->lb_first_ts, last->lb_base, &off, &ts), 0);
}

/* Round trip: random batch sizes across many rolls, reopen, byte-identical,
 * offset and time lookups at every offset. */
static void test_roundtrip_across_rolls(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, "plog-roundtrip");
	f.cfg.segment_bytes = 8192;
	f.cfg.max_append_bytes = 8192;
	f.cfg.index_interval_bytes = 512;
	fx_open(&f, NULL);
	fx_fill(&f, 400, 6, 120, 3);
	assert_true(plog_segment_count(f.log) > 8);
	lt_assert_log_equals_model(f.log, &f.m, f.m.lm_n);
	check_offset_lookups(&f);
	check_time_lookups(&f, 0);
	/* Every segment respects segment_bytes. */
	for (uint32_t i = 0; i < plog_segment_count(f.log); i++) {
		char p[PATH_MAX + 64];
		lt_path(p, sizeof(p), f.dir, plog_segment_base(f.log, i), ".log");
		assert_true(lt_file_size(p) <= 8192);
	}
	fx_close(&f);

	struct plog_recovery rec;
	fx_open(&f, &rec);
	assert_true(rec.pr_clean);
	assert_int_equal(rec.pr_stop, SCAN_END);
	assert_int_equal(rec.pr_indexes_rebuilt, 0);
	assert_int_equal(plog_flushed_offset(f.log), plog_end_offset(f.log));
	lt_assert_log_equals_model(f.log, &f.m, f.m.lm_n);
	check_offset_lookups(&f);
	check_time_lookups(&f, 0);
	/* And it keeps appending where it left off. */
	fx_fill(&f, 20, 3, 50, 3);
	lt_assert_log_equals_model(f.log, &f.m, f.m.lm_n);
	fx_done(&f);
}

/* The same through io_uring, with many appends queued before any wait. */
static void test_roundtrip_io_uring(void **state)
{
	(void)state;
	int err;
	struct io_ring *ring = io_ring_create(64, &err);
	if (!ring)
		skip();
	struct fx f;
	fx_init(&f, "plog-uring");
	io_engine_destroy(f.io);
	f.io = io_ring_engine(ring);
	f.cfg.segment_bytes = 16384;
	f.cfg.max_append_bytes = 16384;
	f.cfg.flush_bytes = 4096;
	fx_open(&f, NULL);

	enum { N = 300 };
	uint8_t *bufs[N];
	size_t lens[N];
	int64_t first_ts[N];
	struct plog_append pas[N];
	struct lt_done done[N];
	for (int i = 0; i < N; i++) {
		bufs[i] = malloc(4096);
		first_ts[i] = f.ts;
		lens[i] = lt_build(bufs[i], 4096, 1 + i % 5, 200, f.ts, &f.seed, BATCH_CODEC_NONE);
		f.ts += 1 + i % 5;
		done[i] = (struct lt_done){0};
		pas[i] = (struct plog_append){.pa_done = lt_append_done, .pa_ctx = &done[i]};
		assert_int_equal(plog_append_leader(f.log, &pas[i], bufs[i], lens[i], 1), 0);
	}
	assert_int_equal(plog_sync(f.log), 0);
	assert_int_equal(plog_flushed_offset(f.log), plog_end_offset(f.log));
	for (int i = 0; i < N; i++) {
		assert_int_equal(done[i].ld_calls, 1);
		assert_int_equal(done[i].ld_res, 0);
		if (f.m.lm_n == f.m.lm_cap) {
			f.m.lm_cap = f.m.lm_cap ? f.m.lm_cap * 2 : 512;
			f.m.lm_b = realloc(f.m.lm_b, f.m.lm_cap * sizeof(*f.m.lm_b));
			assert_non_null(f.m.lm_b);
		}
		f.m.lm_b[f.m.lm_n++] = (struct lt_batch){
			.lb_base = pas[i].pa_base_offset,
			.lb_next = pas[i].pa_last_offset + 1,
			.lb_first_ts = first_ts[i],
			.lb_epoch = 1,
			.lb_bytes = bufs[i],
			.lb_len = lens[i],
		};
	}
	lt_assert_log_equals_model(f.log, &f.m, f.m.lm_n);
	fx_close(&f);
	fx_open(&f, NULL);
	lt_assert_log_equals_model(f.log, &f.m, f.m.lm_n);
	check_time_lookups(&f, 0);
	fx_done(&f);
}

/* Crash recovery: cut the last batch of the active segment at every byte,
 * reopen; exactly the intact prefix survives and the cut bytes are in
 * discarded/, byte for byte. */
static void test_torn_tail_every_byte(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, "plog-torn");
	fx_open(&f, NULL);
	fx_fill(&f, 12, 4, 40, 2);
	fx_crash(&f);

	const struct lt_batch *last = &f.m.lm_b[f.m.lm_n - 1];
	char logf[PATH_MAX + 64], work[PATH_MAX + 16], worklog[PATH_MAX + 80];
	lt_path(logf, sizeof(logf), f.dir, 0, ".log");
	size_t flen;
	uint8_t *orig = lt_read_file(logf, &flen);
	uint64_t start = flen - last->lb_len;
	snprintf(work, sizeof(work), "%s/work", f.root);
	lt_path(worklog, sizeof(worklog), work, 0, ".log");

	for (uint64_t cut = start; cut < flen; cut++) {
		lt_copy_dir(f.dir, work);
		assert_int_equal(truncate(worklog, (off_t)cut), 0);
		struct plog *log;
		struct plog_recovery rec;
		assert_int_equal(plog_open(work, f.io, &f.cfg, &log, &rec), 0);
		assert_false(rec.pr_clean);
		assert_int_equal(plog_end_offset(log), last->lb_base);
		if (cut == start) {
			assert_int_equal(rec.pr_stop, SCAN_END);
		} else {
			assert_int_equal(rec.pr_stop, SCAN_TORN);
			assert_int_equal(rec.pr_offset, last->lb_base);
			assert_int_equal(rec.pr_position, start);
			assert_int_equal(rec.pr_bytes_dropped, cut - start);
			char desc[512];
			plog_recovery_describe(&rec, desc, sizeof(desc));
			assert_non_null(strstr(desc, "torn tail"));
			/* The dropped bytes are preserved exactly. */
			char dpath[PATH_MAX + 160];
			snprintf(dpath, sizeof(dpath), "%s/%s/%s.log", work, DISCARD_DIR,
				 rec.pr_discard_name);
			size_t dlen;
			uint8_t *d = lt_read_file(dpath, &dlen);
			assert_int_equal(dlen, cut - start);
			assert_memory_equal(d, orig + start, dlen);
			free(d);
		}
		lt_assert_log_equals_model(log, &f.m, f.m.lm_n - 1);
		assert_int_equal(lt_file_size(worklog), (int64_t)start);
		plog_close_unclean(log);
	}
	/* A tail of zeros (the file grew, the data never landed) is torn too. */
	lt_copy_dir(f.dir, work);
	uint8_t zeros[300] = {0};
	lt_write_at(worklog, flen, zeros, sizeof(zeros));
	struct plog *log;
	struct plog_recovery rec;
	assert_int_equal(plog_open(work, f.io, &f.cfg, &log, &rec), 0);
	assert_int_equal(rec.pr_stop, SCAN_TORN);
	assert_int_equal(rec.pr_bytes_dropped, sizeof(zeros));
	lt_assert_log_equals_model(log, &f.m, f.m.lm_n);
	plog_close_unclean(log);
	free(orig);
	fx_done(&f);
}

/* A flipped byte inside a batch: recovery keeps the batches before it, moves
 * it and everything after to discarded/, and says so; with refuse_corrupt
 * it touches nothing and fails. */
static void flip_and_check(struct fx *f, size_t victim, size_t byte_in_batch, int want_stop,
			   int want_error)
{
	char logf[PATH_MAX + 64], work[PATH_MAX + 16], worklog[PATH_MAX + 80];
	lt_path(logf, sizeof(logf), f->dir, 0, ".log");
	snprintf(work, sizeof(work), "%s/work", f->root);
	lt_path(worklog, sizeof(worklog), work, 0, ".log");
	uint64_t pos = 0;
	for (size_t i = 0; i < victim; i++)
		pos += f->m.lm_b[i].lb_len;
	size_t flen;
	uint8_t *orig = lt_read_file(logf, &flen);

	lt_copy_dir(f->dir, work);
	uint8_t b = orig[pos + byte_in_batch] ^ 0x40;
	lt_write_at(worklog, pos + byte_in_batch, &b, 1);

	struct plog *log;
	struct plog_recovery rec;
	struct plog_config strict = f->cfg;
	strict.refuse_corrupt = true;
	if (want_stop != SCAN_TORN) { /* torn tails are always cut */
		assert_int_equal(plog_open(work, f->io, &strict, &log, &rec), RL_ECORRUPT);
		assert_int_equal(rec.pr_stop, want_stop);
		assert_int_equal(rec.pr_position, pos);
		assert_int_equal(rec.pr_offset, f->m.lm_b[victim].lb_base);
		assert_int_equal(lt_file_size(worklog), (int64_t)flen);
	}

	assert_int_equal(plog_open(work, f->io, &f->cfg, &log, &rec), 0);
	assert_int_equal(rec.pr_stop, want_stop);
	assert_int_equal(rec.pr_error, want_error);
	assert_int_equal(rec.pr_position, pos);
	assert_int_equal(rec.pr_offset, f->m.lm_b[victim].lb_base);
	assert_int_equal(rec.pr_bytes_dropped, flen - pos);
	lt_assert_log_equals_model(log, &f->m, victim);
	char dpath[PATH_MAX + 160];
	snprintf(dpath, sizeof(dpath), "%s/%s/%s.log", work, DISCARD_DIR, rec.pr_discard_name);
	size_t dlen;
	uint8_t *d = lt_read_file(dpath, &dlen);
	assert_int_equal(dlen, flen - pos);
	orig[pos + byte_in_batch] = b; /* the damaged bytes, as they were on disk */
	assert_memory_equal(d, orig + pos, dlen);
	free(d);
	plog_close_unclean(log);
	free(orig);
}

static void test_corruption_in_the_middle(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, "plog-flip");
	fx_open(&f, NULL);
	fx_fill(&f, 10, 4, 60, 2);
	fx_crash(&f);
	size_t victim = 4;
	/* A byte in the records: the CRC catches it. */
	flip_and_check(&f, victim, f.m.lm_b[victim].lb_len - 2, SCAN_CORRUPT, RL_ECRC);
	/* The magic byte. */
	flip_and_check(&f, victim, BATCH_OFF_MAGIC, SCAN_CORRUPT, RL_EMAGIC);
	/* baseOffset is outside the CRC: continuity catches it. */
	flip_and_check(&f, victim, BATCH_OFF_BASE_OFFSET + 6, SCAN_NONMONOTONIC, RL_EORDER);
	/* A length field that now runs past the end of the file. */
	flip_and_check(&f, victim, BATCH_OFF_LENGTH + 1, SCAN_TORN, RL_ETRUNCATED);
	fx_done(&f);
}

/* Damage in a closed segment is found when its index does not check out,
 * and the later segments are preserved with it. */
static void test_corruption_in_closed_segment(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, "plog-closed-corrupt");
	f.cfg.segment_bytes = 2048;
	f.cfg.max_append_bytes = 2048;
	fx_open(&f, NULL);
	fx_fill(&f, 60, 3, 60, 1);
	uint32_t nsegs = plog_segment_count(f.log);
	assert_true(nsegs >= 4);
	int64_t victim_base = plog_segment_base(f.log, 1);
	fx_close(&f);
	char p[PATH_MAX + 64];
	lt_path(p, sizeof(p), f.dir, victim_base, ".index");
	assert_int_equal(unlink(p), 0);
	lt_path(p, sizeof(p), f.dir, victim_base, ".log");
	size_t vlen;
	uint8_t *v = lt_read_file(p, &vlen);
	uint8_t b = v[vlen / 2] ^ 1;
	lt_write_at(p, vlen / 2, &b, 1);
	free(v);

	struct plog_recovery rec;
	fx_open(&f, &rec);
	assert_true(rec.pr_stop == SCAN_CORRUPT || rec.pr_stop == SCAN_NONMONOTONIC ||
		    rec.pr_stop == SCAN_TORN);
	assert_int_equal(rec.pr_segment_base, victim_base);
	assert_int_equal(rec.pr_segments_dropped, nsegs - 2);
	size_t keep = fx_batch_of(&f, rec.pr_offset);
	assert_int_equal(f.m.lm_b[keep].lb_base, rec.pr_offset);
	lt_assert_log_equals_model(f.log, &f.m, keep);
	/* Everything dropped is in discarded/, counted. */
	uint64_t dropped = 0;
	for (size_t i = keep; i < f.m.lm_n; i++)
		dropped += f.m.lm_b[i].lb_len;
	assert_int_equal(rec.pr_bytes_dropped, dropped);
	fx_done(&f);
}

/* Indexes deleted, garbled, truncated or pointing at the wrong batch are
 * rebuilt, and the rebuilt files equal the originals. */
static void test_index_damage_rebuilt(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, "plog-index");
	f.cfg.segment_bytes = 4096;
	f.cfg.max_append_bytes = 4096;
	f.cfg.index_interval_bytes = 300;
	fx_open(&f, NULL);
	fx_fill(&f, 120, 3, 80, 1);
	assert_true(plog_segment_count(f.log) >= 4);
	int64_t b1 = plog_segment_base(f.log, 1), b2 = plog_segment_base(f.log, 2);
	int64_t b3 = plog_segment_base(f.log, 3);
	fx_close(&f);

	char idx1[PATH_MAX + 64], idx2[PATH_MAX + 64], tidx2[PATH_MAX + 64], idx3[PATH_MAX + 64];
	lt_path(idx1, sizeof(idx1), f.dir, b1, ".index");
	lt_path(idx2, sizeof(idx2), f.dir, b2, ".index");
	lt_path(tidx2, sizeof(tidx2), f.dir, b2, ".timeindex");
	lt_path(idx3, sizeof(idx3), f.dir, b3, ".index");
	size_t l1, l2, lt2, l3;
	uint8_t *o1 = lt_read_file(idx1, &l1), *o2 = lt_read_file(idx2, &l2);
	uint8_t *ot2 = lt_read_file(tidx2, &lt2), *o3 = lt_read_file(idx3, &l3);
	assert_true(l1 >= 16 && l3 >= 16);

	assert_int_equal(unlink(idx1), 0); /* missing */
	uint8_t garbage[24];
	memset(garbage, 0xA5, sizeof(garbage));
	lt_write_at(idx2, 0, garbage, sizeof(garbage)); /* garbled */
	uint8_t wrong[4] = {0, 0, 0, 0};		/* last entry at the wrong position */
	lt_write_at(idx3, l3 - 4, wrong, sizeof(wrong));

	struct plog_recovery rec;
	fx_open(&f, &rec);
	assert_int_equal(rec.pr_stop, SCAN_END);
	assert_int_equal(rec.pr_indexes_rebuilt, 3);
	lt_assert_log_equals_model(f.log, &f.m, f.m.lm_n);
	check_offset_lookups(&f);
	check_time_lookups(&f, 0);
	fx_close(&f);
	size_t n1, n2, nt2, n3;
	uint8_t *r1 = lt_read_file(idx1, &n1), *r2 = lt_read_file(idx2, &n2);
	uint8_t *rt2 = lt_read_file(tidx2, &nt2), *r3 = lt_read_file(idx3, &n3);
	assert_int_equal(n1, l1);
	assert_memory_equal(r1, o1, l1);
	assert_int_equal(n2, l2);
	assert_memory_equal(r2, o2, l2);
	assert_int_equal(nt2, lt2);
	assert_memory_equal(rt2, ot2, lt2);
	assert_int_equal(n3, l3);
	assert_memory_equal(r3, o3, l3);

	/* A truncated index (a prefix of entries) is used and extended. */
	assert_int_equal(truncate(idx1, 8), 0);
	fx_open(&f, &rec);
	assert_int_equal(rec.pr_indexes_rebuilt, 0);
	check_offset_lookups(&f);
	fx_close(&f);
	free(r1);
	r1 = lt_read_file(idx1, &n1);
	assert_int_equal(n1, l1);
	assert_memory_equal(r1, o1, l1);
	free(o1), free(o2), free(ot2), free(o3), free(r1), free(r2), free(rt2), free(r3);
	fx_done(&f);
}

struct kept {
	uint8_t *k_bytes;
	size_t k_len;
	uint32_t k_batches;
};

static int keep_bytes(void *ctx, const uint8_t *batch, size_t len, const struct batch_header *h,
		      int64_t segment, uint64_t position)
{
	struct kept *k = ctx;
	(void)h;
	(void)segment;
	(void)position;
	k->k_bytes = realloc(k->k_bytes, k->k_len + len);
	memcpy(k->k_bytes + k->k_len, batch, len);
	k->k_len += len;
	k->k_batches++;
	return 0;
}

/* Truncate a multi-segment, multi-epoch log to every offset; what is handed
 * back is exactly what was there; appending and reopening afterwards work. */
static void test_truncate_every_offset(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, "plog-truncate");
	f.cfg.segment_bytes = 1024;
	f.cfg.max_append_bytes = 1024;
	f.cfg.index_interval_bytes = 200;
	fx_open(&f, NULL);
	for (int i = 0; i < 36; i++)
		fx_append(&f, 1 + i % 3, 40, 1 + i / 12);
	assert_true(plog_segment_count(f.log) >= 4);
	int64_t end = plog_end_offset(f.log);
	fx_close(&f);

	char work[PATH_MAX + 16];
	snprintf(work, sizeof(work), "%s/work", f.root);
	for (int64_t o = 0; o <= end; o++) {
		lt_copy_dir(f.dir, work);
		struct plog *log;
		assert_int_equal(plog_open(work, f.io, &f.cfg, &log, NULL), 0);
		struct kept k = {0};
		struct plog_truncation t;
		assert_int_equal(plog_truncate(log, o, keep_bytes, &k, &t), 0);
		size_t from = o == end ? f.m.lm_n : fx_batch_of(&f, o);
		int64_t new_end = o == end ? end : f.m.lm_b[from].lb_base;
		assert_int_equal(t.pt_new_end, new_end);
		assert_int_equal(t.pt_old_end, end);
		assert_int_equal(plog_end_offset(log), new_end);
		size_t want_len;
		uint8_t *want = lt_model_bytes(&f.m, from, f.m.lm_n, &want_len);
		assert_int_equal(k.k_len, want_len);
		assert_int_equal(t.pt_bytes, want_len);
		assert_int_equal(k.k_batches, f.m.lm_n - from);
		if (want_len)
			assert_memory_equal(k.k_bytes, want, want_len);
		free(want);
		free(k.k_bytes);
		lt_assert_log_equals_model(log, &f.m, from);
		/* The epoch history no longer reaches past the end. */
		const struct epoch_cache *ec = plog_epochs(log);
		for (uint32_t i = 0; i < ec->ec_count; i++)
			assert_true(ec->ec_entries[i].ee_start_offset < new_end);

		/* Append again at the new end, in a newer epoch. */
		struct lt_model m2 = {0};
		for (size_t i = 0; i < from; i++) {
			struct lt_batch b = f.m.lm_b[i];
			b.lb_bytes = malloc(b.lb_len);
			memcpy(b.lb_bytes, f.m.lm_b[i].lb_bytes, b.lb_len);
			if (m2.lm_n == m2.lm_cap) {
				m2.lm_cap = m2.lm_cap ? m2.lm_cap * 2 : 64;
				m2.lm_b = realloc(m2.lm_b, m2.lm_cap * sizeof(*m2.lm_b));
			}
			m2.lm_b[m2.lm_n++] = b;
		}
		uint8_t buf[2048];
		size_t len = lt_build(buf, sizeof(buf), 2, 30, f.ts, &f.seed, BATCH_CODEC_NONE);
		assert_int_equal(lt_append(log, &m2, buf, len, 9, f.ts), 0);
		assert_int_equal(m2.lm_b[m2.lm_n - 1].lb_base, new_end);
		assert_int_equal(epoch_cache_latest(plog_epochs(log)), 9);
		assert_int_equal(plog_close(log), 0);
		assert_int_equal(plog_open(work, f.io, &f.cfg, &log, NULL), 0);
		lt_assert_log_equals_model(log, &m2, m2.lm_n);
		int32_t fe;
		int64_t eo;
		epoch_cache_end_offset(plog_epochs(log), 8, plog_end_offset(log), &fe, &eo);
		assert_int_equal(eo, new_end); /* epochs before 9 end where 9 began */
		plog_close_unclean(log);
		lt_model_free(&m2);
	}
	fx_done(&f);
}

/* plog_truncate_preserving puts the removed batches in discarded/. */
static void test_truncate_preserving(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, "plog-discard");
	fx_open(&f, NULL);
	fx_fill(&f, 10, 3, 50, 4);
	/* A cut inside batch 6 when it has several records takes it whole. */
	int64_t cut = f.m.lm_b[6].lb_next - 1;
	struct plog_truncation t;
	struct discard_info di;
	assert_int_equal(plog_truncate_preserving(f.log, cut, "truncate", "test", &t, &di), 0);
	assert_int_equal(t.pt_new_end, f.m.lm_b[6].lb_base);
	assert_string_equal(di.di_reason, "truncate");
	assert_int_equal(di.di_first_offset, f.m.lm_b[6].lb_base);
	assert_int_equal(di.di_next_offset, f.m.lm_b[9].lb_next);
	assert_int_equal(di.di_batches, 4);
	assert_int_equal(di.di_epoch_min, 4);
	size_t want_len;
	uint8_t *want = lt_model_bytes(&f.m, 6, 10, &want_len);
	char p[PATH_MAX + 160];
	snprintf(p, sizeof(p), "%s/%s/%s.log", f.dir, DISCARD_DIR, di.di_name);
	size_t got_len;
	uint8_t *got = lt_read_file(p, &got_len);
	assert_int_equal(got_len, want_len);
	assert_memory_equal(got, want, want_len);
	free(want);
	free(got);
	lt_assert_log_equals_model(f.log, &f.m, 6);
	/* Truncating needs the log idle. */
	uint8_t buf[2048];
	size_t len = lt_build(buf, sizeof(buf), 2, 30, f.ts, &f.seed, BATCH_CODEC_NONE);
	struct plog_append pa = {0};
	assert_int_equal(plog_append_leader(f.log, &pa, buf, len, 5), 0);
	assert_int_equal(plog_truncate(f.log, 0, NULL, NULL, &t), RL_EBUSY);
	assert_int_equal(plog_wait_idle(f.log), 0);
	fx_done(&f);
}

/* A replica led an epoch for a moment and wrote nothing in it, then
 * follows a leader whose batches from there carry an older epoch (found by
 * the fault harness: the follower refused them forever). Truncating to
 * its own end drops the empty epoch, so they append. */
static void test_truncate_at_end_drops_an_empty_epoch(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, "plog-empty-epoch");
	fx_open(&f, NULL);
	fx_fill(&f, 3, 2, 30, 1);
	int64_t end = plog_end_offset(f.log);
	assert_int_equal(plog_begin_epoch(f.log, 3), 0);
	assert_int_equal(epoch_cache_latest(plog_epochs(f.log)), 3);
	uint8_t buf[2048];
	size_t len = lt_build(buf, sizeof(buf), 2, 30, f.ts, &f.seed, BATCH_CODEC_NONE);
	batch_set_base_offset(buf, end);
	batch_set_leader_epoch(buf, 2);
	assert_int_equal(lt_append(f.log, &f.m, buf, len, -1, 0), RL_EORDER);
	struct plog_truncation t;
	assert_int_equal(plog_truncate(f.log, end, NULL, NULL, &t), 0);
	assert_int_equal(t.pt_new_end, end);
	assert_int_equal(t.pt_batches, 0);
	assert_int_equal(epoch_cache_latest(plog_epochs(f.log)), 1);
	assert_int_equal(lt_append(f.log, &f.m, buf, len, -1, 0), 0);
	assert_int_equal(epoch_cache_latest(plog_epochs(f.log)), 2);
	/* An epoch that holds batches is not touched by a cut at the end. */
	assert_int_equal(plog_truncate(f.log, plog_end_offset(f.log), NULL, NULL, &t), 0);
	assert_int_equal(epoch_cache_latest(plog_epochs(f.log)), 2);
	fx_done(&f);
}

static void test_roll_by_size_and_age(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, "plog-roll");
	f.cfg.segment_bytes = 1000;
	f.cfg.max_append_bytes = 1000;
	f.cfg.segment_ms = 60000;
	fx_open(&f, NULL);
	uint64_t in_segment = 0;
	for (int i = 0; i < 40; i++) {
		uint32_t before = plog_segment_count(f.log);
		uint8_t buf[1000];
		size_t len = lt_build(buf, sizeof(buf), 1, 120, f.ts, &f.seed, BATCH_CODEC_NONE);
		bool expect_roll = in_segment > 0 && in_segment + len > 1000;
		assert_int_equal(lt_append(f.log, &f.m, buf, len, 1, f.ts), 0);
		f.ts++;
		assert_int_equal(plog_segment_count(f.log), before + (expect_roll ? 1 : 0));
		in_segment = expect_roll ? len : in_segment + len;
	}
	/* Age: a segment reopened long after it was created rolls at once. */
	fx_close(&f);
	fx_open(&f, NULL);
	uint32_t n = plog_segment_count(f.log);
	f.now += 24ll * 3600 * 1000;
	fx_append(&f, 1, 1, 1);
	assert_int_equal(plog_segment_count(f.log), n + 1);
	n++;
	/* One ms short of segment_ms: no roll; at segment_ms: a roll. */
	f.now += 60000 - 1;
	fx_append(&f, 1, 1, 1);
	assert_int_equal(plog_segment_count(f.log), n);
	f.now += 1;
	fx_append(&f, 1, 1, 1);
	assert_int_equal(plog_segment_count(f.log), n + 1);
	lt_assert_log_equals_model(f.log, &f.m, f.m.lm_n);
	fx_done(&f);
}

static void test_retention_by_time_and_size(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, "plog-retain");
	f.cfg.segment_bytes = 1024;
	f.cfg.max_append_bytes = 1024;
	fx_open(&f, NULL);
	/* Timestamps: batch i at now - (100 - i) minutes. */
	for (int i = 0; i < 100; i++) {
		f.ts = f.now - (int64_t)(100 - i) * 60000;
		fx_append(&f, 1, 200, 1 + i / 50);
	}
	uint32_t nsegs = plog_segment_count(f.log);
	assert_true(nsegs >= 20);
	int64_t end = plog_end_offset(f.log);

	/* Nothing is deleted at or beyond max_offset (the HW). */
	assert_int_equal(plog_retain(f.log, 0, -1, 0), 0);
	/* Keep 30 minutes: segments whose newest record is older go. */
	int deleted = plog_retain(f.log, 30 * 60000, -1, end);
	assert_true(deleted > 0);
	int64_t start = plog_start_offset(f.log);
	assert_int_equal(start, plog_segment_base(f.log, 0));
	size_t first = fx_batch_of(&f, start);
	assert_int_equal(f.m.lm_b[first].lb_base, start);
	/* The first remaining segment still holds a record inside the window;
	 * the one before it held none. */
	assert_true(f.m.lm_b[first - 1].lb_first_ts < f.now - 30 * 60000);
	struct plog_slice s;
	assert_int_equal(plog_read(f.log, start - 1, 100, INT64_MAX, true, &s), RL_ERANGE);
	assert_int_equal(plog_read(f.log, start, 1 << 20, INT64_MAX, true, &s), 1);
	assert_int_equal(s.ps_first_offset, start);
	plog_slice_release(&s);
	/* The epoch history starts at the log start. */
	assert_true(plog_epochs(f.log)->ec_entries[0].ee_start_offset >= start);
	check_time_lookups(&f, first);

	/* Size: at most 4 KiB beyond the active segment. */
	deleted = plog_retain(f.log, -1, 4096, end);
	assert_true(deleted > 0);
	assert_true(plog_size_bytes(f.log) <= 4096 + 1024);
	/* Time retention 0 with everything expired still keeps the active one. */
	assert_true(plog_retain(f.log, 0, -1, end) >= 0);
	assert_int_equal(plog_segment_count(f.log), 1);
	assert_int_equal(plog_end_offset(f.log), end);
	/* Reopen: the log starts where retention left it. */
	start = plog_start_offset(f.log);
	fx_close(&f);
	fx_open(&f, NULL);
	assert_int_equal(plog_start_offset(f.log), start);
	assert_int_equal(plog_end_offset(f.log), end);
	fx_done(&f);
}

/* Bad batches are refused with a named error and change nothing. */
static void test_bad_input_refused(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, "plog-bad");
	fx_open(&f, NULL);
	fx_fill(&f, 3, 3, 50, 1);
	char logf[PATH_MAX + 64];
	lt_path(logf, sizeof(logf), f.dir, 0, ".log");
	int64_t size = lt_file_size(logf), end = plog_end_offset(f.log);

	uint8_t good[4096], bad[8192];
	size_t len = lt_build(good, sizeof(good), 3, 60, f.ts, &f.seed, BATCH_CODEC_NONE);
	struct plog_append pa = {0};

	memcpy(bad, good, len);
	bad[len - 1] ^= 1; /* wrong CRC */
	assert_int_equal(plog_append_leader(f.log, &pa, bad, len, 1), RL_ECRC);
	memcpy(bad, good, len);
	bad[BATCH_OFF_MAGIC] = 1; /* wrong magic */
	assert_int_equal(plog_append_leader(f.log, &pa, bad, len, 1), RL_EMAGIC);
	memcpy(bad, good, len);
	be32_store(bad + BATCH_OFF_LENGTH, (uint32_t)len); /* overruns the buffer */
	assert_int_equal(plog_append_leader(f.log, &pa, bad, len, 1), RL_ETRUNCATED);
	memcpy(bad, good, len);
	be32_store(bad + BATCH_OFF_RECORDS_COUNT, (uint32_t)-1); /* negative count */
	batch_crc_update(bad, len);
	assert_int_equal(plog_append_leader(f.log, &pa, bad, len, 1), RL_EINVAL_BATCH);
	assert_int_equal(plog_append_leader(f.log, &pa, bad, 0, 1), RL_EINVAL_BATCH);
	/* A good batch followed by a bad one: nothing of either goes in. */
	memcpy(bad, good, len);
	memcpy(bad + len, good, len);
	bad[2 * len - 1] ^= 1;
	assert_int_equal(plog_append_leader(f.log, &pa, bad, 2 * len, 1), RL_ECRC);
	/* Too large. */
	assert_int_equal(plog_append_leader(f.log, &pa, bad, f.cfg.max_append_bytes + 1u, 1),
			 RL_ETOO_LARGE);
	/* An epoch older than the latest. */
	assert_int_equal(plog_append_leader(f.log, &pa, good, len, 0), RL_EORDER);

	assert_int_equal(plog_wait_idle(f.log), 0);
	assert_int_equal(plog_end_offset(f.log), end);
	assert_int_equal(lt_file_size(logf), size);
	assert_int_equal(plog_error(f.log), 0);
	lt_assert_log_equals_model(f.log, &f.m, f.m.lm_n);
	/* The log still works. */
	assert_int_equal(lt_append(f.log, &f.m, good, len, 1, f.ts), 0);
	lt_assert_log_equals_model(f.log, &f.m, f.m.lm_n);
	fx_done(&f);
}

/* Replica appends: offsets must continue exactly, epochs never go back. */
static void test_replica_appends_and_epochs(void **state)
{
	(void)state;
	struct fx leader, follower;
	fx_init(&leader, "plog-leader");
	fx_init(&follower, "plog-follower");
	fx_open(&leader, NULL);
	fx_open(&follower, NULL);
	for (int i = 0; i < 9; i++)
		fx_append(&leader, 2, 30, i < 3 ? 1 : i < 6 ? 2 : 5);
	const struct epoch_cache *ec = plog_epochs(leader.log);
	assert_int_equal(ec->ec_count, 3);
	assert_int_equal(ec->ec_entries[1].ee_epoch, 2);
	assert_int_equal(ec->ec_entries[1].ee_start_offset, leader.m.lm_b[3].lb_base);
	int32_t fe;
	int64_t eo;
	epoch_cache_end_offset(ec, 3, plog_end_offset(leader.log), &fe, &eo);
	assert_int_equal(fe, 2);
	assert_int_equal(eo, leader.m.lm_b[6].lb_base);
	epoch_cache_end_offset(ec, 5, plog_end_offset(leader.log), &fe, &eo);
	assert_int_equal(eo, plog_end_offset(leader.log));

	/* Copy batch by batch; the follower learns the same epochs. */
	uint8_t buf[4096];
	memcpy(buf, leader.m.lm_b[1].lb_bytes, leader.m.lm_b[1].lb_len);
	assert_int_equal(lt_append(follower.log, &follower.m, buf, leader.m.lm_b[1].lb_len, -1, 0),
			 RL_EORDER); /* skips offset 0 */
	for (size_t i = 0; i < leader.m.lm_n; i++)
		assert_int_equal(lt_append(follower.log, &follower.m, leader.m.lm_b[i].lb_bytes,
					   leader.m.lm_b[i].lb_len, -1,
					   leader.m.lm_b[i].lb_first_ts),
				 0);
	lt_assert_log_equals_model(follower.log, &leader.m, leader.m.lm_n);
	const struct epoch_cache *fec = plog_epochs(follower.log);
	assert_int_equal(fec->ec_count, 3);
	for (uint32_t i = 0; i < 3; i++) {
		assert_int_equal(fec->ec_entries[i].ee_epoch, ec->ec_entries[i].ee_epoch);
		assert_int_equal(fec->ec_entries[i].ee_start_offset,
				 ec->ec_entries[i].ee_start_offset);
	}
	/* A batch from an older epoch than the follower knows is refused. */
	size_t len = lt_build(buf, sizeof(buf), 1, 10, 0, &follower.seed, BATCH_CODEC_NONE);
	batch_set_base_offset(buf, plog_end_offset(follower.log));
	batch_set_leader_epoch(buf, 4);
	assert_int_equal(lt_append(follower.log, &follower.m, buf, len, -1, 0), RL_EORDER);

	/* The epoch file is rebuilt from the batches when lost. */
	fx_crash(&follower);
	char p[PATH_MAX + 64];
	snprintf(p, sizeof(p), "%s/%s", follower.dir, EPOCH_CACHE_FILE);
	assert_int_equal(unlink(p), 0);
	fx_open(&follower, NULL);
	fec = plog_epochs(follower.log);
	assert_int_equal(fec->ec_count, 3);
	assert_int_equal(fec->ec_entries[2].ee_epoch, 5);
	assert_int_equal(fec->ec_entries[2].ee_start_offset, ec->ec_entries[2].ee_start_offset);
	fx_done(&follower);
	fx_done(&leader);
}

static void test_hw_checkpoint(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, "plog-hw");
	fx_open(&f, NULL);
	assert_int_equal(plog_recovered_hw(f.log), -1);
	fx_fill(&f, 5, 3, 20, 1);
	int64_t hw = f.m.lm_b[3].lb_base;
	assert_int_equal(plog_checkpoint_hw(f.log, hw), 0);
	fx_close(&f);
	fx_open(&f, NULL);
	assert_int_equal(plog_recovered_hw(f.log), hw);
	/* A checkpoint beyond the log end (the log lost its tail) is clamped. */
	assert_int_equal(plog_checkpoint_hw(f.log, plog_end_offset(f.log)), 0);
	struct plog_truncation t;
	assert_int_equal(plog_truncate(f.log, f.m.lm_b[2].lb_base, NULL, NULL, &t), 0);
	fx_close(&f);
	fx_open(&f, NULL);
	assert_int_equal(plog_recovered_hw(f.log), f.m.lm_b[2].lb_base);
	fx_done(&f);
}

static void test_read_bounds(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, "plog-read");
	fx_open(&f, NULL);
	fx_fill(&f, 8, 4, 100, 1);
	const struct lt_batch *b = f.m.lm_b;
	struct plog_slice s;
	/* The high watermark in the middle of batch 3: batches 0..2 only. */
	assert_int_equal(plog_read(f.log, 0, 1 << 20, b[3].lb_base + 1, true, &s), 1);
	assert_int_equal(s.ps_next_offset, b[3].lb_base);
	assert_int_equal(s.ps_len, b[0].lb_len + b[1].lb_len + b[2].lb_len);
	plog_slice_release(&s);
	/* At the high watermark: nothing yet. */
	assert_int_equal(plog_read(f.log, b[3].lb_base, 1 << 20, b[3].lb_base, true, &s), 0);
	/* A byte budget of two and a half batches: two. */
	uint32_t budget = (uint32_t)(b[0].lb_len + b[1].lb_len + b[2].lb_len / 2);
	assert_int_equal(plog_read(f.log, 0, budget, INT64_MAX, true, &s), 1);
	assert_int_equal(s.ps_len, b[0].lb_len + b[1].lb_len);
	uint8_t out[1 << 16];
	assert_int_equal(plog_slice_copy(&s, out, sizeof(out)), s.ps_len);
	assert_memory_equal(out, b[0].lb_bytes, b[0].lb_len);
	plog_slice_release(&s);
	/* A budget below the first batch: one batch with min_one, none without. */
	assert_int_equal(plog_read(f.log, b[1].lb_base + 1, 10, INT64_MAX, true, &s), 1);
	assert_int_equal(s.ps_len, b[1].lb_len);
	plog_slice_release(&s);
	assert_int_equal(plog_read(f.log, b[1].lb_base + 1, 10, INT64_MAX, false, &s), 1);
	assert_int_equal(s.ps_len, 0);
	assert_int_equal(s.ps_first_size, b[1].lb_len);
	plog_slice_release(&s);
	/* A slice outlives retention and truncation of its segment. */
	assert_int_equal(plog_read(f.log, 0, 1 << 20, INT64_MAX, true, &s), 1);
	struct plog_truncation t;
	assert_int_equal(plog_truncate(f.log, 0, NULL, NULL, &t), 0);
	assert_int_equal(plog_end_offset(f.log), 0);
	/* The file was cut, so the slice's bytes are gone: copy reports it. */
	assert_int_equal(plog_slice_copy(&s, out, sizeof(out)), RL_ECORRUPT);
	plog_slice_release(&s);
	lt_model_free(&f.m);
	fx_done(&f);
}

/* Flush policies and group commit, counted at the engine. */
static void test_flush_policies(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, "plog-flush");
	fx_use_faulty(&f);
	fx_open(&f, NULL);
	/* Default: every append is flushed. */
	for (int i = 0; i < 5; i++) {
		fx_append(&f, 1, 100, 1);
		assert_int_equal(plog_flushed_offset(f.log), plog_end_offset(f.log));
	}
	fx_close(&f);

	/* By bytes: nothing until 2000 bytes are unflushed. */
	f.cfg.flush_bytes = 2000;
	fx_open(&f, NULL);
	int64_t flushed = plog_flushed_offset(f.log);
	uint64_t unflushed = 0;
	for (int i = 0; i < 30; i++) {
		uint8_t buf[1024];
		size_t len = lt_build(buf, sizeof(buf), 1, 300, f.ts, &f.seed, BATCH_CODEC_NONE);
		assert_int_equal(lt_append(f.log, &f.m, buf, len, 1, f.ts), 0);
		f.ts++;
		unflushed += len;
		if (unflushed >= 2000) {
			assert_int_equal(plog_flushed_offset(f.log), plog_end_offset(f.log));
			unflushed = 0;
		} else {
			assert_int_equal(plog_flushed_offset(f.log), flushed);
		}
		flushed = plog_flushed_offset(f.log);
	}
	fx_close(&f);

	/* By time: nothing until the oldest unflushed byte is 50 ms old. */
	f.cfg.flush_bytes = 0;
	f.cfg.flush_interval_ms = 50;
	fx_open(&f, NULL);
	flushed = plog_flushed_offset(f.log);
	assert_int_equal(plog_next_deadline(f.log), -1);
	fx_append(&f, 1, 10, 1);
	assert_int_equal(plog_flushed_offset(f.log), flushed);
	assert_int_equal(plog_next_deadline(f.log), f.now + 50);
	f.now += 49;
	fx_append(&f, 1, 10, 1);
	plog_tick(f.log);
	assert_int_equal(plog_wait_idle(f.log), 0);
	assert_int_equal(plog_flushed_offset(f.log), flushed);
	f.now += 1;
	plog_tick(f.log);
	assert_int_equal(plog_wait_idle(f.log), 0);
	assert_int_equal(plog_flushed_offset(f.log), plog_end_offset(f.log));
	assert_int_equal(plog_next_deadline(f.log), -1);
	fx_close(&f);

	/* Group commit: 200 appends queued at once take a handful of writes
	 * and fsyncs, not 200 each. */
	f.cfg.flush_interval_ms = 0;
	fx_open(&f, NULL);
	int writes = f.faulty->le_writes, syncs = f.faulty->le_syncs;
	enum { N = 200 };
	static uint8_t bufs[N][512];
	struct plog_append pas[N];
	for (int i = 0; i < N; i++) {
		size_t len =
			lt_build(bufs[i], sizeof(bufs[i]), 1, 50, f.ts, &f.seed, BATCH_CODEC_NONE);
		pas[i] = (struct plog_append){0};
		assert_int_equal(plog_append_leader(f.log, &pas[i], bufs[i], len, 1), 0);
	}
	assert_int_equal(plog_wait_idle(f.log), 0);
	assert_int_equal(plog_flushed_offset(f.log), plog_end_offset(f.log));
	int w = f.faulty->le_writes - writes, y = f.faulty->le_syncs - syncs;
	print_message("# group commit: %d appends, %d writevs, %d fsyncs\n", N, w, y);
	/* One writev per max_write_iov queued appends; one fsync round per
	 * completed writev at most, each covering all of it. */
	assert_true(w <= N / 64 + 2);
	assert_true(y <= w + 1);
	lt_model_free(&f.m);
	fx_done(&f);
}

struct progress {
	int calls;
	int64_t flushed;
};

static void on_progress(void *ctx, struct plog *log)
{
	struct progress *p = ctx;
	p->calls++;
	assert_true(plog_flushed_offset(log) >= p->flushed); /* never backwards */
	p->flushed = plog_flushed_offset(log);
}

/* A failed write fences the log: the append gets the error, later appends
 * RL_EFENCED, and nothing after the failure is reported durable. */
static void test_write_error_fences(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, "plog-fence-write");
	fx_use_faulty(&f);
	struct progress prog = {0};
	f.cfg.on_progress = on_progress;
	f.cfg.progress_ctx = &prog;
	fx_open(&f, NULL);
	fx_fill(&f, 3, 2, 20, 1);
	int64_t durable = plog_flushed_offset(f.log);
	f.faulty->le_fail_write_at = f.faulty->le_writes + 1;
	f.faulty->le_fail_errno = ENOSPC;
	uint8_t buf[1024];
	size_t len = lt_build(buf, sizeof(buf), 2, 20, f.ts, &f.seed, BATCH_CODEC_NONE);
	assert_int_equal(lt_append(f.log, &f.m, buf, len, 1, f.ts), -ENOSPC);
	assert_int_equal(plog_error(f.log), -ENOSPC);
	assert_int_equal(plog_flushed_offset(f.log), durable);
	assert_int_equal(prog.flushed, durable);
	struct plog_append pa = {0};
	assert_int_equal(plog_append_leader(f.log, &pa, buf, len, 1), RL_EFENCED);
	assert_int_equal(plog_flush(f.log), RL_EFENCED);
	assert_int_equal(plog_sync(f.log), -ENOSPC);
	/* Reopening recovers what is on disk: at least everything durable. */
	fx_crash(&f);
	f.faulty->le_fail_write_at = 0;
	fx_open(&f, NULL);
	assert_true(plog_end_offset(f.log) >= durable);
	lt_assert_log_equals_model(f.log, &f.m, 3);
	fx_done(&f);
}

static void test_fsync_error_fences(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, "plog-fence-sync");
	fx_use_faulty(&f);
	fx_open(&f, NULL);
	fx_fill(&f, 3, 2, 20, 1);
	int64_t durable = plog_flushed_offset(f.log);
	assert_int_equal(durable, plog_end_offset(f.log));
	f.faulty->le_fail_sync_at = f.faulty->le_syncs + 1;
	f.faulty->le_fail_errno = EIO;
	/* The write succeeds (the append completes), the fsync fails: the
	 * batch is written but will never be reported durable. */
	fx_append(&f, 2, 20, 1);
	assert_int_equal(plog_error(f.log), -EIO);
	assert_int_equal(plog_flushed_offset(f.log), durable);
	assert_true(plog_written_offset(f.log) > durable);
	uint8_t buf[1024];
	size_t len = lt_build(buf, sizeof(buf), 1, 20, f.ts, &f.seed, BATCH_CODEC_NONE);
	struct plog_append pa = {0};
	assert_int_equal(plog_append_leader(f.log, &pa, buf, len, 1), RL_EFENCED);
	assert_int_equal(plog_close(f.log), -EIO); /* not marked clean */
	f.log = NULL;
	struct plog_recovery rec;
	fx_open(&f, &rec);
	assert_false(rec.pr_clean);
	fx_done(&f);
}

/* An unclean close with nothing damaged loses nothing. */
static void test_unclean_close_loses_nothing(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, "plog-unclean");
	f.cfg.segment_bytes = 2048;
	f.cfg.max_append_bytes = 2048;
	fx_open(&f, NULL);
	fx_fill(&f, 50, 4, 60, 1);
	fx_crash(&f);
	struct plog_recovery rec;
	fx_open(&f, &rec);
	assert_false(rec.pr_clean);
	assert_int_equal(rec.pr_stop, SCAN_END);
	assert_true(rec.pr_bytes_scanned > 0);
	lt_assert_log_equals_model(f.log, &f.m, f.m.lm_n);
	check_offset_lookups(&f);
	fx_done(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_across_rolls),
		cmocka_unit_test(test_roundtrip_io_uring),
		cmocka_unit_test(test_torn_tail_every_byte),
		cmocka_unit_test(test_corruption_in_the_middle),
		cmocka_unit_test(test_corruption_in_closed_segment),
		cmocka_unit_test(test_index_damage_rebuilt),
		cmocka_unit_test(test_truncate_every_offset),
		cmocka_unit_test(test_truncate_preserving),
		cmocka_unit_test(test_roll_by_size_and_age),
		cmocka_unit_test(test_retention_by_time_and_size),
		cmocka_unit_test(test_bad_input_refused),
		cmocka_unit_test(test_replica_appends_and_epochs),
		cmocka_unit_test(test_truncate_at_end_drops_an_empty_epoch),
		cmocka_unit_test(test_hw_checkpoint),
		cmocka_unit_test(test_read_bounds),
		cmocka_unit_test(test_flush_policies),
		cmocka_unit_test(test_write_error_fences),
		cmocka_unit_test(test_fsync_error_fences),
		cmocka_unit_test(test_unclean_close_loses_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
