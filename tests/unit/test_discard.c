/* Description: atomic checkpoint files (round trip, replace by rename, missing, too large, the int64 HW file) and preserved discards (exact bytes and .meta of real batches and raw bytes, listing oldest first, parse round trip, abort, same-millisecond names, damaged .meta skipped). */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "batch.h"
#include "batch_builder.h"
#include "checkpoint.h"
#include "discard.h"
#include "rlerr.h"

/* ---- helpers ------------------------------------------------------------ */

static int open_dir_at(int at, const char *path)
{
	int fd = openat(at, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

static void put_file(int dir_fd, const char *name, const void *bytes, size_t len)
{
	int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, bytes, len), (ssize_t)len);
	close(fd);
}

/* The whole file in a malloc'd, NUL-terminated buffer; *len its size. */
static uint8_t *get_file(int dir_fd, const char *name, size_t *len)
{
	int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail_msg("open %s: %s", name, strerror(errno));
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	uint8_t *buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(pread(fd, buf, (size_t)st.st_size, 0), st.st_size);
	buf[st.st_size] = '\0';
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

static int exists(int dir_fd, const char *name)
{
	return faccessat(dir_fd, name, F_OK, 0) == 0;
}

/* Names in a directory, sorted, joined by '|' (without . and ..). */
static void dir_names(int dir_fd, const char *sub, char *out, size_t cap)
{
	int fd = openat(dir_fd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	DIR *d = fdopendir(fd);
	assert_non_null(d);
	char names[64][NAME_MAX + 1];
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		assert_true(n < 64);
		snprintf(names[n++], sizeof(names[0]), "%s", de->d_name);
	}
	closedir(d);
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (strcmp(names[j], names[i]) < 0) {
				char t[NAME_MAX + 1];
				memcpy(t, names[i], sizeof(t));
				memcpy(names[i], names[j], sizeof(t));
				memcpy(names[j], t, sizeof(t));
			}
	out[0] = '\0';
	size_t len = 0;
	for (int i = 0; i < n; i++) {
		int w = snprintf(out + len, cap - len, "%s%s", i ? "|" : "", names[i]);
		assert_true(w > 0 && (size_t)w < cap - len);
		len += (size_t)w;
	}
}

struct fixture {
	char dir[256];
	int fd;
};

static void fx_open(struct fixture *f, const char *tag)
{
	tu_tmpdir(f->dir, sizeof(f->dir), tag);
	f->fd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(f->fd >= 0);
}

static void fx_close(struct fixture *f)
{
	close(f->fd);
	tu_rmdir(f->dir);
}

/* ---- checkpoint --------------------------------------------------------- */

static void test_checkpoint_roundtrip(void **state)
{
	(void)state;
	struct fixture f;
	fx_open(&f, "ckpt-roundtrip");
	char buf[64];
	static const char text[] = "0\n2\nalpha 1\nbeta 2\n";
	assert_int_equal(checkpoint_write(f.fd, "state", text, strlen(text)), 0);
	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(checkpoint_read(f.fd, "state", buf, sizeof(buf)), (int)strlen(text));
	assert_string_equal(buf, text);

	/* Empty content. */
	assert_int_equal(checkpoint_write(f.fd, "empty", "", 0), 0);
	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(checkpoint_read(f.fd, "empty", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_int_equal(checkpoint_read(f.fd, "empty", buf, 1), 0);

	/* Bytes, not just text: the length counts an embedded NUL. */
	static const char bin[] = {'a', 0, 'b', '\n'};
	assert_int_equal(checkpoint_write(f.fd, "bin", bin, sizeof(bin)), 0);
	assert_int_equal(checkpoint_read(f.fd, "bin", buf, sizeof(buf)), 4);
	assert_memory_equal(buf, bin, 4);
	assert_int_equal(buf[4], '\0');

	/* A larger file, read whole. */
	static char big[100000], rbig[100001];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	assert_int_equal(checkpoint_write(f.fd, "big", big, sizeof(big)), 0);
	assert_int_equal(checkpoint_read(f.fd, "big", rbig, sizeof(rbig)), (int)sizeof(big));
	assert_memory_equal(rbig, big, sizeof(big));

	char names[1024];
	dir_names(f.fd, ".", names, sizeof(names));
	assert_string_equal(names, "big|bin|empty|state"); /* no .tmp left */
	fx_close(&f);
}

static void test_checkpoint_replace(void **state)
{
	(void)state;
	struct fixture f;
	fx_open(&f, "ckpt-replace");
	char buf[64];
	assert_int_equal(checkpoint_write(f.fd, "hw", "old content\n", 12), 0);
	/* A reader holding the old file keeps the old bytes: the new content
	 * is a new file renamed over the name, never a rewrite in place. */
	int old_fd = openat(f.fd, "hw", O_RDONLY | O_CLOEXEC);
	assert_true(old_fd >= 0);
	struct stat st_old, st_new;
	assert_int_equal(fstat(old_fd, &st_old), 0);

	/* A stale .tmp from a crash before the rename: the name still reads
	 * the old content, and the next write replaces the .tmp as well. */
	put_file(f.fd, "hw.tmp", "half-written garbage", 20);
	assert_int_equal(checkpoint_read(f.fd, "hw", buf, sizeof(buf)), 12);
	assert_string_equal(buf, "old content\n");

	assert_int_equal(checkpoint_write(f.fd, "hw", "new\n", 4), 0);
	assert_int_equal(checkpoint_read(f.fd, "hw", buf, sizeof(buf)), 4);
	assert_string_equal(buf, "new\n");
	assert_false(exists(f.fd, "hw.tmp"));
	int new_fd = openat(f.fd, "hw", O_RDONLY | O_CLOEXEC);
	assert_true(new_fd >= 0);
	assert_int_equal(fstat(new_fd, &st_new), 0);
	assert_true(st_new.st_ino != st_old.st_ino);
	close(new_fd);
	assert_int_equal(pread(old_fd, buf, sizeof(buf), 0), 12);
	assert_memory_equal(buf, "old content\n", 12);
	close(old_fd);

	/* A write that cannot create its .tmp fails and leaves the old
	 * content in place. */
	assert_int_equal(mkdirat(f.fd, "hw.tmp", 0755), 0);
	assert_true(checkpoint_write(f.fd, "hw", "newer\n", 6) < 0);
	assert_int_equal(checkpoint_read(f.fd, "hw", buf, sizeof(buf)), 4);
	assert_string_equal(buf, "new\n");
	assert_int_equal(unlinkat(f.fd, "hw.tmp", AT_REMOVEDIR), 0);

	/* A write whose rename fails (the name is a directory) removes its
	 * .tmp. */
	assert_int_equal(mkdirat(f.fd, "d", 0755), 0);
	put_file(f.fd, "d/x", "x", 1); /* non-empty: rename over it fails */
	assert_true(checkpoint_write(f.fd, "d", "abc", 3) < 0);
	assert_false(exists(f.fd, "d.tmp"));

	/* Names too long for the .tmp suffix are refused. */
	char longname[300];
	memset(longname, 'n', 252);
	longname[252] = '\0';
	assert_int_equal(checkpoint_write(f.fd, longname, "x", 1), -ENAMETOOLONG);

	char names[1024];
	dir_names(f.fd, ".", names, sizeof(names));
	assert_string_equal(names, "d|hw");
	fx_close(&f);
}

/* Watch what happens to the names in the directory during a write: the
 * name itself must only ever appear through the rename, never be deleted,
 * created or written in place, so that a crash at any point leaves either
 * the old file or the new one under it. */
static void test_checkpoint_atomic_events(void **state)
{
	(void)state;
	struct fixture f;
	fx_open(&f, "ckpt-events");
	assert_int_equal(checkpoint_write(f.fd, "hw", "old\n", 4), 0);
	int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (in < 0) {
		fx_close(&f);
		skip();
		return;
	}
	assert_true(inotify_add_watch(in, f.dir, IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE |
							 IN_MOVED_FROM | IN_MOVED_TO) >= 0);
	assert_int_equal(checkpoint_write(f.fd, "hw", "new\n", 4), 0);
	_Alignas(struct inotify_event) char buf[8192];
	ssize_t n = read(in, buf, sizeof(buf));
	assert_true(n > 0);
	int moved_to_name = 0, tmp_created = 0;
	for (char *p = buf; p < buf + n;) {
		struct inotify_event *ev = (struct inotify_event *)p;
		const char *name = ev->len ? ev->name : "";
		if (!strcmp(name, "hw")) {
			if (ev->mask & IN_MOVED_TO)
				moved_to_name++;
			else
				fail_msg("event 0x%x on the checkpoint name itself", ev->mask);
		} else if (!strcmp(name, "hw.tmp")) {
			tmp_created += !!(ev->mask & IN_CREATE);
		} else {
			fail_msg("event 0x%x on unexpected name \"%s\"", ev->mask, name);
		}
		p += sizeof(*ev) + ev->len;
	}
	assert_int_equal(moved_to_name, 1);
	assert_int_equal(tmp_created, 1);
	close(in);
	fx_close(&f);
}

static void test_checkpoint_read_limits(void **state)
{
	(void)state;
	struct fixture f;
	fx_open(&f, "ckpt-limits");
	char buf[32];
	assert_int_equal(checkpoint_read(f.fd, "missing", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(checkpoint_write(f.fd, "ten", "0123456789", 10), 0);
	assert_int_equal(checkpoint_read(f.fd, "ten", buf, sizeof(buf)), 10);
	/* cap-1 bytes fit exactly; one more does not. */
	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(checkpoint_read(f.fd, "ten", buf, 11), 10);
	assert_string_equal(buf, "0123456789");
	assert_int_equal(checkpoint_read(f.fd, "ten", buf, 10), RL_ETOO_LARGE);
	assert_int_equal(checkpoint_read(f.fd, "ten", buf, 2), RL_ETOO_LARGE);
	assert_int_equal(checkpoint_read(f.fd, "ten", buf, 1), RL_ETOO_LARGE);
	/* A directory is not a checkpoint. */
	assert_int_equal(mkdirat(f.fd, "adir", 0755), 0);
	assert_int_equal(checkpoint_read(f.fd, "adir", buf, sizeof(buf)), -EISDIR);
	fx_close(&f);
}

static void test_checkpoint_i64(void **state)
{
	(void)state;
	struct fixture f;
	fx_open(&f, "ckpt-i64");
	int64_t v = 777;
	assert_int_equal(checkpoint_read_i64(f.fd, CHECKPOINT_HW_NAME, &v), 0);
	assert_int_equal(v, 777); /* untouched when missing */

	assert_int_equal(checkpoint_write_i64(f.fd, CHECKPOINT_HW_NAME, 12345), 0);
	size_t len;
	uint8_t *text = get_file(f.fd, CHECKPOINT_HW_NAME, &len);
	assert_string_equal((char *)text, "0\n1\n12345\n"); /* Kafka's checkpoint format */
	free(text);
	assert_int_equal(checkpoint_read_i64(f.fd, CHECKPOINT_HW_NAME, &v), 1);
	assert_int_equal(v, 12345);

	static const int64_t values[] = {0, 1, -1, INT64_MAX, INT64_MIN, 1LL << 40};
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		assert_int_equal(checkpoint_write_i64(f.fd, "v", values[i]), 0);
		v = 99;
		assert_int_equal(checkpoint_read_i64(f.fd, "v", &v), 1);
		assert_true(v == values[i]);
	}
	/* As Kafka writes it. */
	put_file(f.fd, "k", "0\n1\n88231\n", 10);
	assert_int_equal(checkpoint_read_i64(f.fd, "k", &v), 1);
	assert_int_equal(v, 88231);

	static const char *const bad[] = {
		"",
		"garbage",
		"0\n",
		"0\n1\n",            /* no value */
		"1\n1\n5\n",         /* unknown version */
		"0\n2\n5\n",         /* two entries promised */
		"0\n0\n5\n",
		"0\n1\nabc\n",
		"0\n1\n5x\n",
		"0\n1\n5\n6\n",      /* an extra entry */
		"0\n1\n5\nthe end\n",
		"x\n1\n5\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put_file(f.fd, "bad", bad[i], strlen(bad[i]));
		int rc = checkpoint_read_i64(f.fd, "bad", &v);
		if (rc != RL_ECORRUPT)
			fail_msg("case %zu (\"%s\"): got %d", i, bad[i], rc);
	}
	/* Longer than any valid HW file is malformed too. */
	char longtext[400];
	memset(longtext, '7', sizeof(longtext));
	memcpy(longtext, "0\n1\n", 4);
	longtext[sizeof(longtext) - 1] = '\n';
	put_file(f.fd, "long", longtext, sizeof(longtext));
	assert_int_equal(checkpoint_read_i64(f.fd, "long", &v), RL_ECORRUPT);
	fx_close(&f);
}

/* ---- discard ------------------------------------------------------------ */

#define T0 1700000000123LL

/* A real RecordBatch v2 of `count` records, stamped with base offset and
 * leader epoch as a leader would. Returns its size. */
static size_t make_batch(uint8_t *buf, size_t cap, int64_t base_offset, int32_t epoch, int count,
			 struct batch_header *h)
{
	struct batch_builder b;
	assert_int_equal(batch_builder_init(&b, buf, cap, BATCH_CODEC_NONE, T0, -1, -1, -1), 0);
	for (int i = 0; i < count; i++) {
		char v[32];
		int n = snprintf(v, sizeof(v), "value-%" PRId64 "-%d", base_offset, i);
		assert_int_equal(batch_builder_add(&b, T0 + i, NULL, -1, (const uint8_t *)v, n, NULL, 0),
				 0);
	}
	int64_t total = batch_builder_finish(&b);
	assert_true(total > 0);
	batch_set_base_offset(buf, base_offset);
	batch_set_leader_epoch(buf, epoch);
	assert_int_equal(batch_validate(buf, (size_t)total, h), total);
	return (size_t)total;
}

/* key=value lines of a .meta, parsed here independently of discard.c. */
static const char *meta_get(const char *text, const char *key, char *out, size_t cap)
{
	size_t klen = strlen(key);
	int hits = 0;
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		assert_non_null(nl); /* every line ends with a newline */
		if ((size_t)(nl - p) >= klen + 1 && !strncmp(p, key, klen) && p[klen] == '=') {
			snprintf(out, cap, "%.*s", (int)(nl - p - (ptrdiff_t)klen - 1), p + klen + 1);
			hits++;
		}
		p = nl + 1;
	}
	assert_int_equal(hits, 1);
	return out;
}

static void expect_meta(const char *text, const char *key, const char *want)
{
	char got[256];
	meta_get(text, key, got, sizeof(got));
	if (strcmp(got, want))
		fail_msg("meta %s: got \"%s\", want \"%s\"", key, got, want);
}

static void expect_meta_keys(const char *text)
{
	static const char *const keys[] = {"reason",    "time_ms",   "first_offset", "next_offset",
					   "batches",   "bytes",     "epoch_min",    "epoch_max",
					   "segment",   "position",  "detail"};
	int lines = 0;
	for (const char *p = text; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 11); /* the documented keys, nothing else */
	char v[256];
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		meta_get(text, keys[i], v, sizeof(v));
}

static void expect_info_equal(const struct discard_info *a, const struct discard_info *b2)
{
	assert_string_equal(a->di_name, b2->di_name);
	assert_string_equal(a->di_reason, b2->di_reason);
	assert_string_equal(a->di_detail, b2->di_detail);
	assert_int_equal(a->di_time_ms, b2->di_time_ms);
	assert_int_equal(a->di_first_offset, b2->di_first_offset);
	assert_int_equal(a->di_next_offset, b2->di_next_offset);
	assert_int_equal(a->di_batches, b2->di_batches);
	assert_int_equal(a->di_bytes, b2->di_bytes);
	assert_int_equal(a->di_epoch_min, b2->di_epoch_min);
	assert_int_equal(a->di_epoch_max, b2->di_epoch_max);
	assert_int_equal(a->di_segment, b2->di_segment);
	assert_int_equal(a->di_position, b2->di_position);
}

static void test_discard_batches(void **state)
{
	(void)state;
	struct fixture f;
	fx_open(&f, "discard-batches");
	static uint8_t b1[4096], b2[4096], b3[4096], all[3 * 4096];
	struct batch_header h1, h2, h3;
	size_t n1 = make_batch(b1, sizeof(b1), 100, 5, 3, &h1);
	size_t n2 = make_batch(b2, sizeof(b2), 103, 7, 7, &h2);
	size_t n3 = make_batch(b3, sizeof(b3), 110, 6, 1, &h3);

	struct discard_writer dw;
	assert_int_equal(discard_begin(&dw, f.fd, "truncate", "diverged from leader 2 at epoch 7",
				       T0, 100, 50, 4096),
			 0);
	assert_int_equal(discard_add(&dw, b1, n1, &h1), 0);
	assert_int_equal(discard_add(&dw, b2, n2, &h2), 0);
	assert_int_equal(discard_add(&dw, b3, n3, &h3), 0);
	struct discard_info info;
	memset(&info, 0x55, sizeof(info));
	assert_int_equal(discard_commit(&dw, &info), 0);

	assert_string_equal(info.di_name, "00000000000000000100-1700000000123");
	assert_string_equal(info.di_reason, "truncate");
	assert_string_equal(info.di_detail, "diverged from leader 2 at epoch 7");
	assert_int_equal(info.di_time_ms, T0);
	assert_int_equal(info.di_first_offset, 100);
	assert_int_equal(info.di_next_offset, 111);
	assert_int_equal(info.di_batches, 3);
	assert_int_equal(info.di_bytes, n1 + n2 + n3);
	assert_int_equal(info.di_epoch_min, 5);
	assert_int_equal(info.di_epoch_max, 7);
	assert_int_equal(info.di_segment, 50);
	assert_int_equal(info.di_position, 4096);

	/* The .log holds exactly the bytes, in order. */
	int dd = open_dir_at(f.fd, DISCARD_DIR);
	size_t len;
	uint8_t *log = get_file(dd, "00000000000000000100-1700000000123.log", &len);
	memcpy(all, b1, n1);
	memcpy(all + n1, b2, n2);
	memcpy(all + n1 + n2, b3, n3);
	assert_int_equal(len, n1 + n2 + n3);
	assert_memory_equal(log, all, len);
	/* ... and they are still the batches they were. */
	struct batch_iter it;
	struct batch_header h;
	const uint8_t *bp;
	size_t bsize;
	batch_iter_init(&it, log, len);
	int64_t want_base[] = {100, 103, 110};
	for (int i = 0; i < 3; i++) {
		assert_int_equal(batch_iter_next(&it, &h, &bp, &bsize), 1);
		assert_int_equal(h.bh_base_offset, want_base[i]);
	}
	assert_int_equal(batch_iter_next(&it, &h, &bp, &bsize), 0);
	free(log);

	/* The .meta, read as text. */
	char *meta = (char *)get_file(dd, "00000000000000000100-1700000000123.meta", &len);
	expect_meta_keys(meta);
	char num[32];
	expect_meta(meta, "reason", "truncate");
	expect_meta(meta, "time_ms", "1700000000123");
	expect_meta(meta, "first_offset", "100");
	expect_meta(meta, "next_offset", "111");
	expect_meta(meta, "batches", "3");
	snprintf(num, sizeof(num), "%zu", n1 + n2 + n3);
	expect_meta(meta, "bytes", num);
	expect_meta(meta, "epoch_min", "5");
	expect_meta(meta, "epoch_max", "7");
	expect_meta(meta, "segment", "50");
	expect_meta(meta, "position", "4096");
	expect_meta(meta, "detail", "diverged from leader 2 at epoch 7");

	/* discard_parse_meta reads back what commit reported. */
	struct discard_info parsed;
	assert_int_equal(discard_parse_meta(meta, &parsed), 0);
	snprintf(parsed.di_name, sizeof(parsed.di_name), "%s", info.di_name);
	expect_info_equal(&parsed, &info);
	free(meta);

	char names[1024];
	dir_names(f.fd, DISCARD_DIR, names, sizeof(names));
	assert_string_equal(names, "00000000000000000100-1700000000123.log|"
				   "00000000000000000100-1700000000123.meta");
	close(dd);
	fx_close(&f);
}

static void test_discard_raw_bytes(void **state)
{
	(void)state;
	struct fixture f;
	fx_open(&f, "discard-raw");
	uint8_t junk[777];
	uint64_t seed = tu_seed(0xd15c);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)tu_rand(&seed);

	/* Raw bytes only: a torn tail. Counted in bytes, nothing else. */
	struct discard_writer dw;
	struct discard_info info;
	assert_int_equal(discard_begin(&dw, f.fd, "torn-tail", NULL, T0, 42, 0, 9000), 0);
	assert_int_equal(discard_add(&dw, junk, 500, NULL), 0);
	assert_int_equal(discard_add(&dw, junk + 500, 277, NULL), 0);
	assert_int_equal(discard_add(&dw, junk, 0, NULL), 0);
	assert_int_equal(discard_commit(&dw, &info), 0);
	assert_int_equal(info.di_batches, 0);
	assert_int_equal(info.di_bytes, 777);
	assert_int_equal(info.di_first_offset, 42);
	assert_int_equal(info.di_next_offset, -1);
	assert_int_equal(info.di_epoch_min, -1);
	assert_int_equal(info.di_epoch_max, -1);
	assert_string_equal(info.di_detail, "");
	int dd = open_dir_at(f.fd, DISCARD_DIR);
	size_t len;
	char file[DISCARD_NAME_MAX + 8];
	snprintf(file, sizeof(file), "%s.log", info.di_name);
	uint8_t *log = get_file(dd, file, &len);
	assert_int_equal(len, sizeof(junk));
	assert_memory_equal(log, junk, len);
	free(log);
	snprintf(file, sizeof(file), "%s.meta", info.di_name);
	char *meta = (char *)get_file(dd, file, &len);
	expect_meta_keys(meta);
	expect_meta(meta, "batches", "0");
	expect_meta(meta, "bytes", "777");
	expect_meta(meta, "next_offset", "-1");
	expect_meta(meta, "epoch_min", "-1");
	expect_meta(meta, "detail", "");
	free(meta);

	/* A valid batch then a damaged remainder: one batch, all bytes. The
	 * first offset, unknown at begin, comes from the batch. */
	static uint8_t b1[4096];
	struct batch_header h1;
	size_t n1 = make_batch(b1, sizeof(b1), 9000, 12, 4, &h1);
	assert_int_equal(discard_begin(&dw, f.fd, "corrupt", "crc mismatch at 9004", T0 + 1, -1, 9000,
				       0),
			 0);
	assert_int_equal(discard_add(&dw, b1, n1, &h1), 0);
	assert_int_equal(discard_add(&dw, junk, 100, NULL), 0);
	assert_int_equal(discard_commit(&dw, &info), 0);
	assert_int_equal(info.di_batches, 1);
	assert_int_equal(info.di_bytes, n1 + 100);
	assert_int_equal(info.di_first_offset, 9000);
	assert_int_equal(info.di_next_offset, 9004);
	assert_int_equal(info.di_epoch_min, 12);
	assert_int_equal(info.di_epoch_max, 12);
	close(dd);
	fx_close(&f);
}

struct list_ctx {
	struct discard_info seen[16];
	int count;
	int stop_after; /* 0 = never */
};

static int list_cb(void *ctx, const struct discard_info *info)
{
	struct list_ctx *lc = ctx;
	assert_true(lc->count < 16);
	lc->seen[lc->count++] = *info;
	return lc->stop_after && lc->count >= lc->stop_after;
}

static void commit_one(int part_fd, int64_t first, int64_t time_ms, const char *detail,
		       const void *bytes, size_t len, struct discard_info *info)
{
	struct discard_writer dw;
	assert_int_equal(discard_begin(&dw, part_fd, "truncate", detail, time_ms, first, first, 0), 0);
	assert_int_equal(discard_add(&dw, bytes, len, NULL), 0);
	assert_int_equal(discard_commit(&dw, info), 0);
}

static void test_discard_same_ms(void **state)
{
	(void)state;
	struct fixture f;
	fx_open(&f, "discard-same-ms");
	struct discard_info a, b2, c;
	commit_one(f.fd, 7, T0, "first", "AAAA", 4, &a);
	commit_one(f.fd, 7, T0, "second", "BB", 2, &b2);
	commit_one(f.fd, 7, T0, "third", "C", 1, &c);
	assert_string_not_equal(a.di_name, b2.di_name);
	assert_string_not_equal(a.di_name, c.di_name);
	assert_string_not_equal(b2.di_name, c.di_name);
	/* Each is its own pair of files with its own bytes. */
	int dd = open_dir_at(f.fd, DISCARD_DIR);
	const struct discard_info *all[3] = {&a, &b2, &c};
	const char *bytes[3] = {"AAAA", "BB", "C"};
	for (int i = 0; i < 3; i++) {
		char file[DISCARD_NAME_MAX + 8];
		size_t len;
		/* The name still starts with the 20-digit offset and the time. */
		assert_memory_equal(all[i]->di_name, "00000000000000000007-1700000000123", 34);
		snprintf(file, sizeof(file), "%s.log", all[i]->di_name);
		uint8_t *log = get_file(dd, file, &len);
		assert_int_equal(len, strlen(bytes[i]));
		assert_memory_equal(log, bytes[i], len);
		free(log);
		snprintf(file, sizeof(file), "%s.meta", all[i]->di_name);
		assert_true(exists(dd, file));
	}
	/* Listed in the order they were made. */
	struct list_ctx lc = {0};
	assert_int_equal(discard_list(f.fd, list_cb, &lc), 3);
	assert_int_equal(lc.count, 3);
	for (int i = 0; i < 3; i++)
		expect_info_equal(&lc.seen[i], all[i]);
	close(dd);
	fx_close(&f);
}

static void test_discard_list(void **state)
{
	(void)state;
	struct fixture f;
	fx_open(&f, "discard-list");
	struct list_ctx lc = {0};
	/* No discarded/ yet. */
	assert_int_equal(discard_list(f.fd, list_cb, &lc), 0);
	assert_int_equal(lc.count, 0);

	/* Discards in time order; a follower truncating further back later
	 * gives lower offsets for newer discards. */
	struct discard_info d[5];
	commit_one(f.fd, 500, 1700000001000LL, "d0", "x", 1, &d[0]);
	commit_one(f.fd, 200, 1700000002000LL, "d1", "xy", 2, &d[1]);
	commit_one(f.fd, 200, 1700000002000LL, "d2", "xyz", 3, &d[2]);
	commit_one(f.fd, 900, 1700000003000LL, "d3", "w", 1, &d[3]);
	commit_one(f.fd, 30, 1700000004000LL, "d4", "v", 1, &d[4]);

	int dd = open_dir_at(f.fd, DISCARD_DIR);
	/* An interrupted discard: a .log without a .meta. */
	put_file(dd, "00000000000000000001-1700000000500.log", "zz", 2);
	/* A .meta interrupted mid-replace. */
	put_file(dd, "00000000000000000002-1700000000600.meta.tmp", "reason=x\n", 9);
	/* Damaged .meta files: keys missing, a number that is not one, and
	 * an empty file. */
	put_file(dd, "00000000000000000003-1700000000700.log", "q", 1);
	put_file(dd, "00000000000000000003-1700000000700.meta", "reason=truncate\ntime_ms=1\n", 26);
	static const char notnum[] = "reason=truncate\ntime_ms=12x\nfirst_offset=4\nnext_offset=5\n"
				     "batches=0\nbytes=1\nepoch_min=-1\nepoch_max=-1\nsegment=4\n"
				     "position=0\ndetail=\n";
	put_file(dd, "00000000000000000004-1700000000800.meta", notnum, sizeof(notnum) - 1);
	put_file(dd, "00000000000000000005-1700000000900.meta", "", 0);
	/* Something else entirely. */
	put_file(dd, "README", "hello", 5);

	assert_int_equal(discard_list(f.fd, list_cb, &lc), 5);
	assert_int_equal(lc.count, 5);
	for (int i = 0; i < 5; i++)
		expect_info_equal(&lc.seen[i], &d[i]);

	/* fn returning non-zero stops the walk. */
	struct list_ctx stop = {.stop_after = 2};
	assert_int_equal(discard_list(f.fd, list_cb, &stop), 2);
	assert_int_equal(stop.count, 2);
	expect_info_equal(&stop.seen[0], &d[0]);
	expect_info_equal(&stop.seen[1], &d[1]);
	close(dd);
	fx_close(&f);
}

static void test_discard_parse_meta(void **state)
{
	(void)state;
	static const char full[] = "reason=unclean-election\ntime_ms=1700000000999\n"
				   "first_offset=12\nnext_offset=40\nbatches=3\nbytes=4567\n"
				   "epoch_min=2\nepoch_max=9\nsegment=0\nposition=8192\n"
				   "detail=broker 3 elected without the ISR\n";
	struct discard_info di;
	assert_int_equal(discard_parse_meta(full, &di), 0);
	assert_string_equal(di.di_reason, "unclean-election");
	assert_int_equal(di.di_time_ms, 1700000000999LL);
	assert_int_equal(di.di_first_offset, 12);
	assert_int_equal(di.di_next_offset, 40);
	assert_int_equal(di.di_batches, 3);
	assert_int_equal(di.di_bytes, 4567);
	assert_int_equal(di.di_epoch_min, 2);
	assert_int_equal(di.di_epoch_max, 9);
	assert_int_equal(di.di_segment, 0);
	assert_int_equal(di.di_position, 8192);
	assert_string_equal(di.di_detail, "broker 3 elected without the ISR");

	/* Remove each required key in turn: refused. */
	static const char *const keys[] = {"reason",  "time_ms",   "first_offset", "next_offset",
					   "batches", "bytes",     "epoch_min",    "epoch_max",
					   "segment", "position"};
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		char text[sizeof(full) + 64], key[32];
		snprintf(key, sizeof(key), "%s=", keys[k]);
		const char *at = strstr(full, key);
		assert_non_null(at);
		if (at != full)
			assert_int_equal(at[-1], '\n');
		const char *nl = strchr(at, '\n');
		size_t pre = (size_t)(at - full);
		memcpy(text, full, pre);
		strcpy(text + pre, nl + 1);
		if (discard_parse_meta(text, &di) != RL_ECORRUPT)
			fail_msg("accepted without %s", keys[k]);
		/* And with the value not a number. */
		if (k == 0)
			continue;
		size_t klen = strlen(key);
		memcpy(text + pre, key, klen);
		memcpy(text + pre + klen, "bad", 3);
		strcpy(text + pre + klen + 3, nl); /* fits: nl is the tail of full */
		if (discard_parse_meta(text, &di) != RL_ECORRUPT)
			fail_msg("accepted a bad %s", keys[k]);
	}
	/* detail is optional. */
	char nodetail[sizeof(full)];
	snprintf(nodetail, sizeof(nodetail), "%.*s", (int)(strstr(full, "detail=") - full), full);
	assert_int_equal(discard_parse_meta(nodetail, &di), 0);
	assert_string_equal(di.di_detail, "");
	assert_int_equal(discard_parse_meta("", &di), RL_ECORRUPT);
	assert_int_equal(discard_parse_meta("garbage\n", &di), RL_ECORRUPT);
}

static void test_discard_abort(void **state)
{
	(void)state;
	struct fixture f;
	fx_open(&f, "discard-abort");
	struct discard_writer dw;
	assert_int_equal(discard_begin(&dw, f.fd, "truncate", "aborted", T0, 10, 0, 0), 0);
	assert_int_equal(discard_add(&dw, (const uint8_t *)"doomed", 6, NULL), 0);
	discard_abort(&dw);
	char names[1024];
	dir_names(f.fd, DISCARD_DIR, names, sizeof(names));
	assert_string_equal(names, "");
	/* Abort right after begin. */
	assert_int_equal(discard_begin(&dw, f.fd, "truncate", NULL, T0, 10, 0, 0), 0);
	discard_abort(&dw);
	dir_names(f.fd, DISCARD_DIR, names, sizeof(names));
	assert_string_equal(names, "");
	struct list_ctx lc = {0};
	assert_int_equal(discard_list(f.fd, list_cb, &lc), 0);
	assert_int_equal(lc.count, 0);
	/* The name is free again afterwards: no suffix needed. */
	struct discard_info info;
	commit_one(f.fd, 10, T0, "kept", "k", 1, &info);
	assert_string_equal(info.di_name, "00000000000000000010-1700000000123");
	/* The partition directory holds only discarded/. */
	dir_names(f.fd, ".", names, sizeof(names));
	assert_string_equal(names, DISCARD_DIR);
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checkpoint_roundtrip),
		cmocka_unit_test(test_checkpoint_replace),
		cmocka_unit_test(test_checkpoint_atomic_events),
		cmocka_unit_test(test_checkpoint_read_limits),
		cmocka_unit_test(test_checkpoint_i64),
		cmocka_unit_test(test_discard_batches),
		cmocka_unit_test(test_discard_raw_bytes),
		cmocka_unit_test(test_discard_same_ms),
		cmocka_unit_test(test_discard_list),
		cmocka_unit_test(test_discard_parse_meta),
		cmocka_unit_test(test_discard_abort),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
