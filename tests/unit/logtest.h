/*
 * logtest — helpers for tests of the partition log: build producer-like
 * batches, append them and keep a model of what the log must hold, read
 * the whole log back, copy and damage directories, and an io engine
 * wrapper that counts and injects failures.
 */
#ifndef REPLOG_LOGTEST_H
#define REPLOG_LOGTEST_H

#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "batch.h"
#include "batch_builder.h"
#include "io.h"
#include "plog.h"
#include "rlerr.h"

/* One appended batch as the log must hold it (stamped bytes). */
struct lt_batch {
	int64_t lb_base;
	int64_t lb_next;
	int64_t lb_first_ts; /* timestamp of record 0; record j has first_ts + j */
	int32_t lb_epoch;
	uint8_t *lb_bytes;
	size_t lb_len;
};

struct lt_model {
	struct lt_batch *lm_b;
	size_t lm_n;
	size_t lm_cap;
};

static inline void lt_model_free(struct lt_model *m)
{
	for (size_t i = 0; i < m->lm_n; i++)
		free(m->lm_b[i].lb_bytes);
	free(m->lm_b);
	memset(m, 0, sizeof(*m));
}

/* Build a batch of `nrec` records with timestamps ts, ts+1, ... and random
 * values of up to `max_value` bytes (keys on even records). Returns its size. */
static inline size_t lt_build(uint8_t *buf, size_t cap, int nrec, int max_value, int64_t ts,
			      uint64_t *seed, int codec)
{
	struct batch_builder b;
	assert_int_equal(batch_builder_init(&b, buf, cap, codec, ts, -1, -1, -1), 0);
	uint8_t value[4096], key[16];
	for (int j = 0; j < nrec; j++) {
		int vlen = max_value > 0 ? (int)(tu_rand(seed) % (uint64_t)(max_value + 1)) : 0;
		for (int k = 0; k < vlen; k++)
			value[k] = (uint8_t)tu_rand(seed);
		int klen = snprintf((char *)key, sizeof(key), "k%d", j);
		assert_int_equal(batch_builder_add(&b, ts + j, j % 2 ? NULL : key,
						   j % 2 ? -1 : klen, value, vlen, NULL, 0),
				 0);
	}
	int64_t total = batch_builder_finish(&b);
	assert_true(total > 0);
	return (size_t)total;
}

struct lt_done {
	int ld_calls;
	int ld_res;
};

static inline void lt_append_done(struct plog_append *pa, int res)
{
	struct lt_done *d = pa->pa_ctx;
	d->ld_calls++;
	d->ld_res = res;
}

/* Append `len` bytes as leader (or replica when epoch < 0), wait for the
 * write, and record the stamped bytes in the model. Returns the append's
 * result (and does not touch the model on failure). */
static inline int lt_append(struct plog *log, struct lt_model *m, const uint8_t *bytes, size_t len,
			    int32_t epoch, int64_t first_ts)
{
	uint8_t *copy = malloc(len);
	assert_non_null(copy);
	memcpy(copy, bytes, len);
	struct lt_done d = {0};
	struct plog_append pa = {.pa_done = lt_append_done, .pa_ctx = &d};
	int rc = epoch >= 0 ? plog_append_leader(log, &pa, copy, len, epoch)
			    : plog_append_replica(log, &pa, copy, len);
	if (rc < 0) {
		free(copy);
		return rc;
	}
	assert_int_equal(plog_wait_idle(log), 0);
	assert_int_equal(d.ld_calls, 1);
	if (d.ld_res < 0) {
		free(copy);
		return d.ld_res;
	}
	if (m->lm_n == m->lm_cap) {
		m->lm_cap = m->lm_cap ? m->lm_cap * 2 : 64;
		m->lm_b = realloc(m->lm_b, m->lm_cap * sizeof(*m->lm_b));
		assert_non_null(m->lm_b);
	}
	struct batch_header h;
	assert_int_equal(batch_header_decode(copy, len, &h), 0);
	m->lm_b[m->lm_n++] = (struct lt_batch){
		.lb_base = pa.pa_base_offset,
		.lb_next = pa.pa_last_offset + 1,
		.lb_first_ts = first_ts,
		.lb_epoch = h.bh_partition_leader_epoch,
		.lb_bytes = copy,
		.lb_len = len,
	};
	return 0;
}

/* Concatenation of the model's batches from index `from` on. */
static inline uint8_t *lt_model_bytes(const struct lt_model *m, size_t from, size_t to, size_t *len)
{
	size_t total = 0;
	for (size_t i = from; i < to; i++)
		total += m->lm_b[i].lb_len;
	uint8_t *out = malloc(total ? total : 1);
	assert_non_null(out);
	size_t at = 0;
	for (size_t i = from; i < to; i++) {
		memcpy(out + at, m->lm_b[i].lb_bytes, m->lm_b[i].lb_len);
		at += m->lm_b[i].lb_len;
	}
	*len = total;
	return out;
}

/* Read [start, end) through plog_read in chunks of max_bytes. */
static inline uint8_t *lt_read_all(struct plog *log, uint32_t max_bytes, size_t *len)
{
	size_t cap = plog_size_bytes(log) + 1, at = 0;
	uint8_t *out = malloc(cap);
	assert_non_null(out);
	int64_t off = plog_start_offset(log);
	while (off < plog_end_offset(log)) {
		struct plog_slice s;
		int rc = plog_read(log, off, max_bytes, INT64_MAX, true, &s);
		assert_int_equal(rc, 1);
		assert_true(s.ps_len > 0);
		assert_true(at + s.ps_len <= cap);
		assert_int_equal(plog_slice_copy(&s, out + at, s.ps_len), s.ps_len);
		at += s.ps_len;
		assert_true(s.ps_next_offset > off);
		off = s.ps_next_offset;
		plog_slice_release(&s);
	}
	*len = at;
	return out;
}

static inline void lt_assert_log_equals_model(struct plog *log, const struct lt_model *m,
					      size_t nbatches)
{
	size_t want_len, got_len;
	uint8_t *want = lt_model_bytes(m, 0, nbatches, &want_len);
	uint8_t *got = lt_read_all(log, 1 << 16, &got_len);
	assert_int_equal(got_len, want_len);
	assert_memory_equal(got, want, want_len);
	assert_int_equal(plog_end_offset(log), nbatches ? m->lm_b[nbatches - 1].lb_next : 0);
	free(want);
	free(got);
}

static inline void lt_copy_dir(const char *from, const char *to)
{
	char cmd[4 * PATH_MAX + 64];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && cp -a '%s' '%s'", to, from, to);
	assert_int_equal(system(cmd), 0);
}

static inline void lt_path(char *out, size_t cap, const char *dir, int64_t base, const char *sfx)
{
	int n = snprintf(out, cap, "%s/%020lld%s", dir, (long long)base, sfx);
	assert_true(n > 0 && (size_t)n < cap);
}

static inline int64_t lt_file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) < 0 ? -1 : (int64_t)st.st_size;
}

static inline uint8_t *lt_read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	uint8_t *buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(pread(fd, buf, (size_t)st.st_size, 0), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

static inline void lt_write_at(const char *path, uint64_t pos, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, buf, len, (off_t)pos), (ssize_t)len);
	close(fd);
}

/* An engine wrapper: counts ops by kind and can fail the Nth write or
 * sync with a chosen errno, to exercise the failure policy. */
struct lt_engine {
	struct io_engine le_base;
	struct io_engine *le_inner;
	int le_writes, le_syncs;
	int le_fail_write_at; /* 1-based; 0 = never */
	int le_fail_sync_at;
	int le_fail_errno;
	/* completions of failed ops, delivered at run */
	struct io_op *le_failed;
	uint64_t le_failed_count;
};

static inline void lt_engine_recount(struct lt_engine *le)
{
	le->le_base.ie_inflight = le->le_inner->ie_inflight + le->le_failed_count;
}

static inline int lt_engine_submit(struct io_engine *e, struct io_op *op)
{
	struct lt_engine *le = (struct lt_engine *)e;
	bool fail = false;
	if (op->op_code == IO_OP_WRITEV)
		fail = ++le->le_writes == le->le_fail_write_at;
	else if (op->op_code == IO_OP_FDATASYNC || op->op_code == IO_OP_FSYNC)
		fail = ++le->le_syncs == le->le_fail_sync_at;
	int rc = 0;
	if (fail) {
		op->op_res = -le->le_fail_errno;
		op->op_next = le->le_failed;
		le->le_failed = op;
		le->le_failed_count++;
	} else {
		rc = io_submit(le->le_inner, op);
	}
	lt_engine_recount(le);
	return rc;
}

static inline int lt_engine_run(struct io_engine *e, unsigned min)
{
	struct lt_engine *le = (struct lt_engine *)e;
	int n = 0;
	while (le->le_failed) {
		struct io_op *op = le->le_failed;
		le->le_failed = op->op_next;
		le->le_failed_count--;
		n++;
		lt_engine_recount(le);
		op->op_done(op, op->op_res);
	}
	int rc = io_run(le->le_inner, n ? 0 : min);
	lt_engine_recount(le);
	if (rc < 0)
		return rc;
	return n + rc;
}

static inline void lt_engine_destroy(struct io_engine *e)
{
	struct lt_engine *le = (struct lt_engine *)e;
	io_engine_destroy(le->le_inner);
	free(le);
}

static const struct io_engine_ops lt_engine_ops = {
	.submit = lt_engine_submit,
	.run = lt_engine_run,
	.destroy = lt_engine_destroy,
};

static inline struct lt_engine *lt_engine_create(void)
{
	struct lt_engine *le = calloc(1, sizeof(*le));
	assert_non_null(le);
	le->le_base.ie_ops = &lt_engine_ops;
	le->le_base.ie_name = "test";
	le->le_inner = io_sync_engine_create();
	assert_non_null(le->le_inner);
	return le;
}

#endif
