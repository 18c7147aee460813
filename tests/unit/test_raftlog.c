/* Description: raftlog, the durable Raft storage (fresh open, term and vote across reopen, append
 * and load, out-of-order appends, truncate, torn and corrupt log tails, mid-log corruption,
 * snapshots with and without trailing entries, a crash between a snapshot's rename and its log
 * rewrite, damaged state and snapshot files, failures before a rename that must not fence, the
 * directory lock). */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "raftlog.h"
#include "rlerr.h"

/* ---- helpers ------------------------------------------------------------ */

struct fx {
	char base[PATH_MAX];
	char dir[PATH_MAX + 16]; /* base/raft: not created, rlg_open makes it */
	struct rlg *l;
	char err[512];
};

static void fx_open(struct fx *f)
{
	int rc = rlg_open(f->dir, &f->l, f->err, sizeof(f->err));
	if (rc != 0)
		fail_msg("rlg_open: %s: %s", rl_strerror(rc), f->err);
}

static void fx_reopen(struct fx *f)
{
	rlg_close(f->l);
	f->l = NULL;
	fx_open(f);
}

static void fx_init(struct fx *f, const char *tag)
{
	memset(f, 0, sizeof(*f));
	tu_tmpdir(f->base, sizeof(f->base), tag);
	snprintf(f->dir, sizeof(f->dir), "%s/raft", f->base);
	fx_open(f);
}

static void fx_fini(struct fx *f)
{
	rlg_close(f->l);
	tu_rmdir(f->base);
}

static void path_of(const struct fx *f, const char *name, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s", f->dir, name);
}

static off_t file_size(const struct fx *f, const char *name)
{
	char p[PATH_MAX + 48];
	path_of(f, name, p, sizeof(p));
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	return st.st_size;
}

static void file_truncate(const struct fx *f, const char *name, off_t size)
{
	char p[PATH_MAX + 48];
	path_of(f, name, p, sizeof(p));
	assert_int_equal(truncate(p, size), 0);
}

static void file_write_at(const struct fx *f, const char *name, off_t off, const void *b,
			  size_t len)
{
	char p[PATH_MAX + 48];
	path_of(f, name, p, sizeof(p));
	int fd = open(p, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, b, len, off), (ssize_t)len);
	close(fd);
}

static void flip_byte(const struct fx *f, const char *name, off_t off)
{
	char p[PATH_MAX + 48];
	path_of(f, name, p, sizeof(p));
	int fd = open(p, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	uint8_t b;
	assert_int_equal(pread(fd, &b, 1, off), 1);
	b ^= 0x40;
	assert_int_equal(pwrite(fd, &b, 1, off), 1);
	close(fd);
}

static uint8_t *file_get(const struct fx *f, const char *name, size_t *len)
{
	char p[PATH_MAX + 48];
	path_of(f, name, p, sizeof(p));
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	uint8_t *b = malloc((size_t)st.st_size + 1);
	assert_non_null(b);
	assert_int_equal(pread(fd, b, (size_t)st.st_size, 0), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return b;
}

static void file_put(const struct fx *f, const char *name, const uint8_t *b, size_t len)
{
	char p[PATH_MAX + 48];
	path_of(f, name, p, sizeof(p));
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, b, len), (ssize_t)len);
	close(fd);
}

/* Entry i's payload is "entry-<i>" repeated to i % 7 * 10 bytes (some
 * empty), its term is 1 + i / 4 and its type i % 3. */
static uint8_t payload_buf[64][80];

static struct rlg_entry entry_for(uint64_t i)
{
	uint8_t *b = payload_buf[i % 64];
	uint32_t len = (uint32_t)(i % 7 * 10);
	char pat[24];
	int plen = snprintf(pat, sizeof(pat), "entry-%llu", (unsigned long long)i);
	for (uint32_t k = 0; k < len; k++)
		b[k] = (uint8_t)pat[k % (uint32_t)plen];
	return (struct rlg_entry){
		.term = 1 + i / 4, .type = (uint8_t)(i % 3), .data = b, .len = len};
}

/* Append entries [first, last] one call of up to 3 at a time. */
static void append_range(struct rlg *l, uint64_t first, uint64_t last)
{
	struct rlg_entry e[3];
	for (uint64_t i = first; i <= last;) {
		size_t n = 0;
		for (uint64_t j = i; j <= last && n < 3; j++)
			e[n++] = entry_for(j);
		int rc = rlg_append(l, i, e, n);
		if (rc != 0)
			fail_msg("append at %llu: %s", (unsigned long long)i, rl_strerror(rc));
		i += n;
	}
}

/* The log holds exactly entries [first, last] as entry_for made them. */
static void check_entries(struct rlg *l, uint64_t first, uint64_t last)
{
	struct rlg_loaded ld;
	assert_int_equal(rlg_load(l, &ld), 0);
	assert_int_equal(ld.start_index, first);
	assert_int_equal(ld.n_entries, last + 1 - first);
	assert_int_equal(rlg_start_index(l), first);
	assert_int_equal(rlg_last_index(l), last);
	for (size_t k = 0; k < ld.n_entries; k++) {
		struct rlg_entry want = entry_for(first + k);
		struct rlg_entry got = ld.entries[k];
		assert_int_equal(got.term, want.term);
		assert_int_equal(got.type, want.type);
		assert_int_equal(got.len, want.len);
		if (want.len)
			assert_memory_equal(got.data, want.data, want.len);
	}
	rlg_loaded_free(&ld);
}

static void put_snap(struct rlg *l, uint64_t index, uint64_t term, const char *text,
		     unsigned trailing)
{
	struct rlg_snapshot s = {.index = index,
				 .term = term,
				 .conf_index = index > 1 ? index - 1 : 1,
				 .conf = (uint8_t *)"conf:1,2,3",
				 .conf_len = 10,
				 .data = (uint8_t *)text,
				 .data_len = strlen(text)};
	int rc = rlg_snapshot_put(l, &s, trailing);
	if (rc != 0)
		fail_msg("snapshot_put %llu: %s", (unsigned long long)index, rl_strerror(rc));
}

static void check_snap(struct rlg *l, uint64_t index, uint64_t term, const char *text)
{
	struct rlg_snapshot s;
	assert_int_equal(rlg_snapshot_get(l, &s), 1);
	assert_int_equal(s.index, index);
	assert_int_equal(s.term, term);
	assert_int_equal(s.conf_index, index > 1 ? index - 1 : 1);
	assert_int_equal(s.conf_len, 10);
	assert_memory_equal(s.conf, "conf:1,2,3", 10);
	assert_int_equal(s.data_len, strlen(text));
	assert_memory_equal(s.data, text, strlen(text));
	rlg_snapshot_free(&s);
}

/* ---- tests -------------------------------------------------------------- */

static void test_fresh_pristine(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, "rlg-fresh");
	assert_string_equal(f.err, "");
	assert_true(rlg_pristine(f.l));
	assert_int_equal(rlg_last_index(f.l), 0);
	assert_int_equal(rlg_start_index(f.l), 1);
	assert_int_equal(rlg_term(f.l), 0);
	assert_int_equal(rlg_vote(f.l), 0);
	struct rlg_loaded ld;
	assert_int_equal(rlg_load(f.l, &ld), 0);
	assert_false(ld.has_snapshot);
	assert_int_equal(ld.n_entries, 0);
	assert_int_equal(ld.start_index, 1);
	assert_null(ld.entries);
	rlg_loaded_free(&ld);
	struct rlg_snapshot s;
	assert_int_equal(rlg_snapshot_get(f.l, &s), 0);
	rlg_snapshot_free(&s);
	/* Still pristine after a reopen; the only files are state-less. */
	fx_reopen(&f);
	assert_true(rlg_pristine(f.l));
	/* A second owner is refused while the first holds the directory. */
	struct rlg *other;
	char err[256];
	assert_int_equal(rlg_open(f.dir, &other, err, sizeof(err)), RL_EBUSY);
	assert_null(other);
	assert_non_null(strstr(err, f.dir));
	fx_fini(&f);
}

static void test_term_vote_persist(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, "rlg-term");
	assert_int_equal(rlg_set_term(f.l, 5), 0);
	assert_false(rlg_pristine(f.l));
	assert_int_equal(rlg_set_vote(f.l, 2), 0);
	fx_reopen(&f);
	assert_int_equal(rlg_term(f.l), 5);
	assert_int_equal(rlg_vote(f.l), 2);
	/* A new term clears the vote, durably. */
	assert_int_equal(rlg_set_term(f.l, 6), 0);
	assert_int_equal(rlg_vote(f.l), 0);
	fx_reopen(&f);
	assert_int_equal(rlg_term(f.l), 6);
	assert_int_equal(rlg_vote(f.l), 0);
	assert_int_equal(rlg_set_vote(f.l, 3), 0);
	/* Terms never go back. */
	assert_int_equal(rlg_set_term(f.l, 4), RL_EORDER);
	fx_reopen(&f);
	assert_int_equal(rlg_term(f.l), 6);
	assert_int_equal(rlg_vote(f.l), 3);
	struct rlg_loaded ld;
	assert_int_equal(rlg_load(f.l, &ld), 0);
	assert_int_equal(ld.term, 6);
	assert_int_equal(ld.voted_for, 3);
	rlg_loaded_free(&ld);
	fx_fini(&f);
}

static void test_append_load(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, "rlg-append");
	append_range(f.l, 1, 20);
	assert_false(rlg_pristine(f.l));
	check_entries(f.l, 1, 20);
	fx_reopen(&f);
	assert_string_equal(f.err, "");
	assert_int_equal(rlg_stats(f.l)->rs_cut_bytes, 0);
	check_entries(f.l, 1, 20);
	append_range(f.l, 21, 25);
	fx_reopen(&f);
	check_entries(f.l, 1, 25);
	fx_fini(&f);
}

static void test_append_wrong_index(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, "rlg-order");
	struct rlg_entry e = entry_for(1);
	assert_int_equal(rlg_append(f.l, 2, &e, 1), RL_EORDER);
	assert_int_equal(rlg_append(f.l, 0, &e, 1), RL_EORDER);
	assert_true(rlg_pristine(f.l));
	append_range(f.l, 1, 3);
	assert_int_equal(rlg_append(f.l, 3, &e, 1), RL_EORDER);
	assert_int_equal(rlg_append(f.l, 5, &e, 1), RL_EORDER);
	assert_int_equal(rlg_append(f.l, 9, &e, 0), 0); /* nothing to do */
	struct rlg_entry bad = {.term = 1, .data = NULL, .len = 4};
	assert_int_equal(rlg_append(f.l, 4, &bad, 1), -EINVAL);
	struct rlg_entry big = {
		.term = 1, .data = (const uint8_t *)"", .len = RLG_ENTRY_MAX_BYTES + 1};
	assert_int_equal(rlg_append(f.l, 4, &big, 1), RL_ETOO_LARGE);
	/* Refusals change nothing and do not fence. */
	assert_int_equal(rlg_error(f.l), 0);
	check_entries(f.l, 1, 3);
	append_range(f.l, 4, 4);
	check_entries(f.l, 1, 4);
	fx_fini(&f);
}

static void test_truncate(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, "rlg-trunc");
	append_range(f.l, 1, 10);
	assert_int_equal(rlg_truncate(f.l, 11), 0); /* beyond the end: no-op */
	assert_int_equal(rlg_truncate(f.l, 100), 0);
	check_entries(f.l, 1, 10);
	assert_int_equal(rlg_truncate(f.l, 6), 0);
	check_entries(f.l, 1, 5);
	/* Replace 6.. with entries of another term. */
	struct rlg_entry e = {.term = 9, .type = 1, .data = (const uint8_t *)"new6", .len = 4};
	assert_int_equal(rlg_append(f.l, 7, &e, 1), RL_EORDER);
	assert_int_equal(rlg_append(f.l, 6, &e, 1), 0);
	fx_reopen(&f);
	struct rlg_loaded ld;
	assert_int_equal(rlg_load(f.l, &ld), 0);
	assert_int_equal(ld.n_entries, 6);
	assert_int_equal(ld.entries[5].term, 9);
	assert_int_equal(ld.entries[5].len, 4);
	assert_memory_equal(ld.entries[5].data, "new6", 4);
	assert_int_equal(ld.entries[4].term, entry_for(5).term);
	rlg_loaded_free(&ld);
	/* Truncating at the start empties the log; the next index stays 1. */
	assert_int_equal(rlg_truncate(f.l, 1), 0);
	assert_int_equal(rlg_last_index(f.l), 0);
	assert_int_equal(rlg_start_index(f.l), 1);
	assert_int_equal(rlg_truncate(f.l, 0), RL_ERANGE); /* index 0 never exists */
	fx_reopen(&f);
	assert_int_equal(rlg_last_index(f.l), 0);
	assert_int_equal(rlg_count(f.l), 0);
	append_range(f.l, 1, 2);
	check_entries(f.l, 1, 2);
	fx_fini(&f);
}

static void test_torn_tail(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, "rlg-torn");
	append_range(f.l, 1, 6);
	off_t six = file_size(&f, "log");
	rlg_close(f.l);
	f.l = NULL;

	/* A few bytes missing from the last frame. */
	file_truncate(&f, "log", six - 3);
	fx_open(&f);
	check_entries(f.l, 1, 5);
	const struct rlg_stats *st = rlg_stats(f.l);
	assert_int_equal(st->rs_torn_tail, 1);
	assert_int_equal(st->rs_corrupt, 0);
	assert_true(st->rs_cut_bytes > 0);
	assert_non_null(strstr(f.err, "torn tail"));
	off_t five = file_size(&f, "log");
	assert_true(five < six - 3);

	/* Garbage after the last frame: short, long, and zero-filled. */
	static const uint8_t junk[] = "\x07garbage-garbage-garbage-garbage-garbage";
	const size_t cuts[] = {5, sizeof(junk) - 1};
	for (size_t i = 0; i < 2; i++) {
		rlg_close(f.l);
		f.l = NULL;
		file_write_at(&f, "log", five, junk, cuts[i]);
		fx_open(&f);
		check_entries(f.l, 1, 5);
		assert_int_equal(rlg_stats(f.l)->rs_cut_bytes, cuts[i]);
		assert_int_equal(rlg_stats(f.l)->rs_torn_tail, 1);
		assert_int_equal(file_size(&f, "log"), five);
	}
	rlg_close(f.l);
	f.l = NULL;
	file_truncate(&f, "log", five + 4096);
	fx_open(&f);
	check_entries(f.l, 1, 5);
	assert_int_equal(rlg_stats(f.l)->rs_torn_tail, 1);
	assert_int_equal(rlg_stats(f.l)->rs_corrupt, 0);

	/* The repaired log takes appends, and they survive. */
	append_range(f.l, 6, 8);
	fx_reopen(&f);
	assert_int_equal(rlg_stats(f.l)->rs_cut_bytes, 0);
	assert_string_equal(f.err, "");
	check_entries(f.l, 1, 8);
	fx_fini(&f);
}

static void test_corrupt_frames(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, "rlg-crc");
	append_range(f.l, 1, 4);
	off_t four = file_size(&f, "log");
	append_range(f.l, 5, 5); /* 5 % 7 * 10 = 50 payload bytes */
	off_t five = file_size(&f, "log");
	rlg_close(f.l);
	f.l = NULL;

	/* A flipped byte in the last frame's payload: the frame is cut. */
	flip_byte(&f, "log", five - 10);
	fx_open(&f);
	check_entries(f.l, 1, 4);
	assert_int_equal(file_size(&f, "log"), four);
	assert_int_equal(rlg_stats(f.l)->rs_cut_bytes, (uint64_t)(five - four));

	/* A flipped byte in frame 2's header (its term): frames 2.. are cut and
	 * the loss of acknowledged entries is reported. */
	append_range(f.l, 5, 6);
	rlg_close(f.l);
	f.l = NULL;
	struct rlg_entry e1 = entry_for(1);
	off_t frame2 = 24 + 25 + e1.len;
	flip_byte(&f, "log", frame2 + 16);
	fx_open(&f);
	check_entries(f.l, 1, 1);
	assert_int_equal(rlg_stats(f.l)->rs_corrupt, 1);
	assert_int_equal(rlg_stats(f.l)->rs_torn_tail, 0);
	assert_non_null(strstr(f.err, "corrupt frame"));
	assert_non_null(strstr(f.err, "/log"));
	append_range(f.l, 2, 3);
	fx_reopen(&f);
	check_entries(f.l, 1, 3);
	fx_fini(&f);
}

static void test_snapshot_trailing(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, "rlg-trail");
	append_range(f.l, 1, 10);
	put_snap(f.l, 8, 2, "image@8", 3);
	/* Entries <= 8 - 3 dropped: 6..10 held. */
	check_entries(f.l, 6, 10);
	struct rlg_loaded ld;
	assert_int_equal(rlg_load(f.l, &ld), 0);
	assert_true(ld.has_snapshot);
	assert_int_equal(ld.snap.index, 8);
	assert_int_equal(ld.snap.term, 2);
	assert_int_equal(ld.start_index, 6);
	assert_int_equal(ld.n_entries, 5);
	assert_memory_equal(ld.snap.data, "image@8", 7);
	rlg_loaded_free(&ld);
	assert_false(rlg_pristine(f.l));
	/* Entries the snapshot covers can no longer be truncated. */
	assert_int_equal(rlg_truncate(f.l, 8), RL_ERANGE);
	assert_int_equal(rlg_truncate(f.l, 6), RL_ERANGE);
	assert_int_equal(rlg_truncate(f.l, 10), 0);
	check_entries(f.l, 6, 9);
	append_range(f.l, 10, 12);

	fx_reopen(&f);
	assert_string_equal(f.err, "");
	check_entries(f.l, 6, 12);
	check_snap(f.l, 8, 2, "image@8");
	/* trailing larger than the index keeps everything. */
	put_snap(f.l, 9, 3, "image@9", 100);
	check_entries(f.l, 6, 12);
	fx_reopen(&f);
	check_entries(f.l, 6, 12);
	check_snap(f.l, 9, 3, "image@9");
	fx_fini(&f);
}

static void test_snapshot_install(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, "rlg-install");
	append_range(f.l, 1, 10);
	/* From a leader: everything goes, including entries past the snapshot. */
	put_snap(f.l, 7, 2, "image@7", 0);
	assert_int_equal(rlg_count(f.l), 0);
	assert_int_equal(rlg_last_index(f.l), 7);
	assert_int_equal(rlg_start_index(f.l), 8);
	struct rlg_entry e = entry_for(8);
	assert_int_equal(rlg_append(f.l, 11, &e, 1), RL_EORDER);
	assert_int_equal(rlg_append(f.l, 7, &e, 1), RL_EORDER);
	assert_int_equal(rlg_truncate(f.l, 7), RL_ERANGE);
	assert_int_equal(rlg_truncate(f.l, 8), 0); /* at the end: no-op */
	fx_reopen(&f);
	assert_int_equal(rlg_last_index(f.l), 7);
	assert_int_equal(rlg_start_index(f.l), 8);
	struct rlg_loaded ld;
	assert_int_equal(rlg_load(f.l, &ld), 0);
	assert_true(ld.has_snapshot);
	assert_int_equal(ld.start_index, 8);
	assert_int_equal(ld.n_entries, 0);
	rlg_loaded_free(&ld);
	append_range(f.l, 8, 12);
	check_entries(f.l, 8, 12);
	/* Truncating at the start empties the log again, next index stays. */
	assert_int_equal(rlg_truncate(f.l, 8), 0);
	assert_int_equal(rlg_last_index(f.l), 7);
	append_range(f.l, 8, 9);
	/* A snapshot past the end of the log is an install even with trailing. */
	put_snap(f.l, 20, 5, "image@20", 4);
	assert_int_equal(rlg_count(f.l), 0);
	assert_int_equal(rlg_last_index(f.l), 20);
	fx_reopen(&f);
	assert_int_equal(rlg_start_index(f.l), 21);
	append_range(f.l, 21, 22);
	check_entries(f.l, 21, 22);
	check_snap(f.l, 20, 5, "image@20");
	fx_fini(&f);
}

static void test_snapshot_get_newest(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, "rlg-newest");
	append_range(f.l, 1, 12);
	put_snap(f.l, 5, 2, "five", 2);
	check_snap(f.l, 5, 2, "five");
	put_snap(f.l, 9, 3, "nine-nine", 2);
	check_snap(f.l, 9, 3, "nine-nine");
	check_entries(f.l, 8, 12);
	/* Older than the stored one: refused, nothing changes. */
	struct rlg_snapshot old = {.index = 3, .term = 1, .conf_index = 1};
	assert_int_equal(rlg_snapshot_put(f.l, &old, 2), RL_EORDER);
	struct rlg_snapshot bad = {.index = 10, .term = 3, .conf_index = 11};
	assert_int_equal(rlg_snapshot_put(f.l, &bad, 2), -EINVAL);
	assert_int_equal(rlg_error(f.l), 0);
	check_snap(f.l, 9, 3, "nine-nine");
	/* Only one snapshot file, no leftovers. */
	char p[PATH_MAX + 48];
	path_of(&f, "snapshot.tmp", p, sizeof(p));
	assert_int_not_equal(access(p, F_OK), 0);
	fx_reopen(&f);
	check_snap(f.l, 9, 3, "nine-nine");
	check_entries(f.l, 8, 12);
	/* Empty conf and data are fine. */
	struct rlg_snapshot empty = {.index = 12, .term = 4, .conf_index = 12};
	assert_int_equal(rlg_snapshot_put(f.l, &empty, 0), 0);
	fx_reopen(&f);
	struct rlg_snapshot s;
	assert_int_equal(rlg_snapshot_get(f.l, &s), 1);
	assert_int_equal(s.index, 12);
	assert_int_equal(s.conf_len, 0);
	assert_int_equal(s.data_len, 0);
	rlg_snapshot_free(&s);
	fx_fini(&f);
}

/* A crash after the snapshot's rename but before the log rewrite: the old
 * log is back in place next to the new snapshot, and open finishes the put. */
static void test_snapshot_crash_before_log_rewrite(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, "rlg-crash");
	append_range(f.l, 1, 10);
	size_t len;
	uint8_t *old_log = file_get(&f, "log", &len);

	put_snap(f.l, 6, 2, "six", 0); /* install */
	rlg_close(f.l);
	f.l = NULL;
	file_put(&f, "log", old_log, len);
	fx_open(&f);
	assert_int_equal(rlg_count(f.l), 0);
	assert_int_equal(rlg_start_index(f.l), 7);
	assert_int_equal(rlg_stats(f.l)->rs_dropped_open, 10);
	append_range(f.l, 7, 8);
	fx_reopen(&f);
	assert_int_equal(rlg_stats(f.l)->rs_dropped_open, 0);
	check_entries(f.l, 7, 8);
	rlg_close(f.l);
	f.l = NULL;

	/* Same with trailing entries: the prefix goes, the tail stays. */
	file_put(&f, "log", old_log, len);
	fx_open(&f); /* the old log restarts at 1: the install drops it all */
	assert_int_equal(rlg_start_index(f.l), 7);
	append_range(f.l, 7, 14);
	free(old_log);
	old_log = file_get(&f, "log", &len);
	put_snap(f.l, 12, 3, "twelve", 2);
	check_entries(f.l, 11, 14);
	rlg_close(f.l);
	f.l = NULL;
	file_put(&f, "log", old_log, len);
	fx_open(&f);
	assert_int_equal(rlg_stats(f.l)->rs_dropped_open, 4);
	check_entries(f.l, 11, 14);
	check_snap(f.l, 12, 3, "twelve");
	free(old_log);
	fx_fini(&f);
}

static void test_damaged_files(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, "rlg-damage");
	assert_int_equal(rlg_set_term(f.l, 3), 0);
	append_range(f.l, 1, 5);
	put_snap(f.l, 3, 1, "three", 1);
	rlg_close(f.l);
	f.l = NULL;
	struct rlg *l;

	/* state: replaced only by rename, so a bad byte is corruption. */
	flip_byte(&f, "state", 9);
	assert_int_equal(rlg_open(f.dir, &l, f.err, sizeof(f.err)), RL_ECORRUPT);
	assert_non_null(strstr(f.err, "/state"));
	flip_byte(&f, "state", 9);

	/* snapshot: a bad data byte, a wrong length. */
	flip_byte(&f, "snapshot", file_size(&f, "snapshot") - 1);
	assert_int_equal(rlg_open(f.dir, &l, f.err, sizeof(f.err)), RL_ECORRUPT);
	assert_non_null(strstr(f.err, "/snapshot"));
	assert_non_null(strstr(f.err, "crc"));
	flip_byte(&f, "snapshot", file_size(&f, "snapshot") - 1);
	file_truncate(&f, "snapshot", file_size(&f, "snapshot") - 1);
	assert_int_equal(rlg_open(f.dir, &l, f.err, sizeof(f.err)), RL_ECORRUPT);
	assert_non_null(strstr(f.err, "size"));
	file_truncate(&f, "snapshot", 30);
	assert_int_equal(rlg_open(f.dir, &l, f.err, sizeof(f.err)), RL_ECORRUPT);

	/* log header. */
	fx_fini(&f);
	fx_init(&f, "rlg-damage");
	append_range(f.l, 1, 2);
	rlg_close(f.l);
	f.l = NULL;
	flip_byte(&f, "log", 9);
	assert_int_equal(rlg_open(f.dir, &l, f.err, sizeof(f.err)), RL_ECORRUPT);
	assert_non_null(strstr(f.err, "/log: bad header"));
	flip_byte(&f, "log", 9);
	/* A leftover tmp file is ignored and removed. */
	file_put(&f, "log.tmp", (const uint8_t *)"junk", 4);
	fx_open(&f);
	check_entries(f.l, 1, 2);
	char p[PATH_MAX + 48];
	path_of(&f, "log.tmp", p, sizeof(p));
	assert_int_not_equal(access(p, F_OK), 0);
	fx_fini(&f);
}

/* A failure before a rename changes nothing and does not fence; the same
 * call works once the obstacle is gone. */
static void test_failure_before_rename(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, "rlg-nofence");
	append_range(f.l, 1, 5);
	assert_int_equal(rlg_set_term(f.l, 2), 0);
	char p[PATH_MAX + 48];
	/* Directories squat on the tmp names: openat(O_CREAT) fails. */
	path_of(&f, "snapshot.tmp", p, sizeof(p));
	assert_int_equal(mkdir(p, 0755), 0);
	struct rlg_snapshot s = {.index = 3, .term = 1, .conf_index = 1};
	assert_int_equal(rlg_snapshot_put(f.l, &s, 0), -EISDIR);
	assert_int_equal(rlg_error(f.l), 0);
	check_entries(f.l, 1, 5);
	assert_int_equal(rlg_snapshot_get(f.l, &s), 0);
	assert_int_equal(rmdir(p), 0);
	path_of(&f, "state.tmp", p, sizeof(p));
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(rlg_set_term(f.l, 3), -EISDIR);
	assert_int_equal(rlg_term(f.l), 2);
	assert_int_equal(rlg_error(f.l), 0);
	assert_int_equal(rmdir(p), 0);
	assert_int_equal(rlg_set_term(f.l, 3), 0);
	append_range(f.l, 6, 6);
	fx_reopen(&f);
	assert_int_equal(rlg_term(f.l), 3);
	check_entries(f.l, 1, 6);
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fresh_pristine),
		cmocka_unit_test(test_term_vote_persist),
		cmocka_unit_test(test_append_load),
		cmocka_unit_test(test_append_wrong_index),
		cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_torn_tail),
		cmocka_unit_test(test_corrupt_frames),
		cmocka_unit_test(test_snapshot_trailing),
		cmocka_unit_test(test_snapshot_install),
		cmocka_unit_test(test_snapshot_get_newest),
		cmocka_unit_test(test_snapshot_crash_before_log_rewrite),
		cmocka_unit_test(test_damaged_files),
		cmocka_unit_test(test_failure_before_rename),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
