/* Description: leader-epoch cache: assign/latest, OffsetForLeaderEpoch end offsets (KIP-279), epoch_at, truncation at both ends, the exact Kafka checkpoint text on disk, refusal of malformed files, memory-only mode, and a seeded check against a linear model. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "checkpoint.h"
#include "epoch_cache.h"
#include "rlerr.h"

/* ---- helpers ---------------------------------------------------------- */

static int open_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

/* Write exactly len raw bytes to dir/EPOCH_CACHE_FILE (no atomic dance:
 * tests put arbitrary, possibly damaged, content there). */
static void put_file(int dir_fd, const char *bytes, size_t len)
{
	int fd = openat(dir_fd, EPOCH_CACHE_FILE, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, bytes, len), (ssize_t)len);
	close(fd);
}

/* The file's full content, NUL-terminated, in a malloc'd buffer. */
static char *get_file(int dir_fd, const char *name)
{
	int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	char *buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	buf[st.st_size] = '\0';
	close(fd);
	return buf;
}

static void expect_file(int dir_fd, const char *want)
{
	char *got = get_file(dir_fd, EPOCH_CACHE_FILE);
	assert_string_equal(got, want);
	free(got);
	/* The atomic replace leaves no temporary behind. */
	assert_int_equal(faccessat(dir_fd, EPOCH_CACHE_FILE ".tmp", F_OK, 0), -1);
	assert_int_equal(errno, ENOENT);
}

static void expect_entries(const struct epoch_cache *ec, const struct epoch_entry *want, uint32_t n)
{
	assert_int_equal(ec->ec_count, n);
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(ec->ec_entries[i].ee_epoch, want[i].ee_epoch);
		assert_int_equal(ec->ec_entries[i].ee_start_offset, want[i].ee_start_offset);
	}
}

static void expect_end(const struct epoch_cache *ec, int32_t epoch, int64_t leo, int32_t want_epoch,
		       int64_t want_end)
{
	int32_t fe = 12345;
	int64_t eo = 12345;
	epoch_cache_end_offset(ec, epoch, leo, &fe, &eo);
	assert_int_equal(fe, want_epoch);
	assert_int_equal(eo, want_end);
}

/* A memory-only cache holding n entries. */
static void mem_cache(struct epoch_cache *ec, const struct epoch_entry *e, uint32_t n)
{
	assert_int_equal(epoch_cache_load(ec, -1), 0);
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(epoch_cache_assign(ec, e[i].ee_epoch, e[i].ee_start_offset), 0);
	expect_entries(ec, e, n);
}

/* ---- memory-only behaviour ---------------------------------------------- */

static void test_empty(void **state)
{
	(void)state;
	struct epoch_cache ec;
	assert_int_equal(epoch_cache_load(&ec, -1), 0);
	assert_int_equal(ec.ec_count, 0);
	assert_int_equal(ec.ec_dir_fd, -1);
	assert_int_equal(epoch_cache_latest(&ec), -1);
	expect_end(&ec, 0, 100, -1, -1);
	expect_end(&ec, 5, 100, -1, -1);
	expect_end(&ec, -1, 100, -1, -1);
	assert_int_equal(epoch_cache_epoch_at(&ec, 0), -1);
	assert_int_equal(epoch_cache_epoch_at(&ec, INT64_MAX), -1);
	assert_int_equal(epoch_cache_truncate_end(&ec, 0), 0);
	assert_int_equal(epoch_cache_truncate_start(&ec, 10), 0);
	assert_int_equal(ec.ec_count, 0);
	epoch_cache_deinit(&ec);
	epoch_cache_deinit(&ec);
}

static void test_assign_and_order(void **state)
{
	(void)state;
	struct epoch_cache ec;
	assert_int_equal(epoch_cache_load(&ec, -1), 0);
	assert_int_equal(epoch_cache_assign(&ec, -1, 0), RL_EORDER);
	assert_int_equal(epoch_cache_assign(&ec, 0, -1), RL_EORDER);
	assert_int_equal(ec.ec_count, 0);

	assert_int_equal(epoch_cache_assign(&ec, 0, 0), 0);
	assert_int_equal(epoch_cache_latest(&ec), 0);
	assert_int_equal(epoch_cache_assign(&ec, 1, 10), 0);
	assert_int_equal(epoch_cache_assign(&ec, 3, 25), 0);
	assert_int_equal(epoch_cache_latest(&ec), 3);
	const struct epoch_entry want[] = {{0, 0}, {1, 10}, {3, 25}};
	expect_entries(&ec, want, 3);

	/* A repeat of the latest epoch is a no-op, also at a later offset (a
	 * leader appending its second batch). */
	assert_int_equal(epoch_cache_assign(&ec, 3, 25), 0);
	assert_int_equal(epoch_cache_assign(&ec, 3, 90), 0);
	expect_entries(&ec, want, 3);

	/* Refusals leave the cache as it was. */
	assert_int_equal(epoch_cache_assign(&ec, 2, 100), RL_EORDER); /* older epoch */
	assert_int_equal(epoch_cache_assign(&ec, 0, 100), RL_EORDER);
	assert_int_equal(epoch_cache_assign(&ec, 4, 25), RL_EORDER);  /* start does not exceed */
	assert_int_equal(epoch_cache_assign(&ec, 4, 24), RL_EORDER);
	assert_int_equal(epoch_cache_assign(&ec, 4, 0), RL_EORDER);
	assert_int_equal(epoch_cache_assign(&ec, 3, 24), RL_EORDER);  /* latest epoch, earlier start */
	assert_int_equal(epoch_cache_assign(&ec, -1, 200), RL_EORDER);
	expect_entries(&ec, want, 3);

	/* Gaps in epochs are normal (elections that wrote nothing). */
	assert_int_equal(epoch_cache_assign(&ec, INT32_MAX, INT64_MAX), 0);
	assert_int_equal(epoch_cache_latest(&ec), INT32_MAX);
	assert_int_equal(ec.ec_count, 4);
	epoch_cache_deinit(&ec);
}

static void test_end_offset(void **state)
{
	(void)state;
	const struct epoch_entry e[] = {{1, 0}, {3, 10}, {7, 25}};
	struct epoch_cache ec;
	mem_cache(&ec, e, 3);
	const int64_t leo = 40;
	expect_end(&ec, -1, leo, -1, -1);         /* UNDEFINED_EPOCH */
	expect_end(&ec, INT32_MIN, leo, -1, -1);
	expect_end(&ec, 1, leo, 1, 10);           /* exact: next epoch's start */
	expect_end(&ec, 2, leo, 1, 10);           /* between: the floor epoch */
	expect_end(&ec, 3, leo, 3, 25);
	expect_end(&ec, 6, leo, 3, 25);
	expect_end(&ec, 7, leo, 7, leo);          /* latest: the log end */
	expect_end(&ec, 8, leo, -1, -1);          /* past the latest: undefined (Kafka) */
	expect_end(&ec, INT32_MAX, leo, -1, -1);
	expect_end(&ec, 7, 1000, 7, 1000);

	/* One entry that does not start at 0. */
	epoch_cache_deinit(&ec);
	const struct epoch_entry one[] = {{5, 100}};
	mem_cache(&ec, one, 1);
	expect_end(&ec, 4, 150, 4, 100);          /* before the first: ends where it starts */
	expect_end(&ec, 0, 150, 0, 100);
	expect_end(&ec, 5, 150, 5, 150);
	expect_end(&ec, 6, 150, -1, -1);
	epoch_cache_deinit(&ec);
}

static void test_epoch_at(void **state)
{
	(void)state;
	const struct epoch_entry e[] = {{1, 5}, {3, 10}, {7, 25}};
	struct epoch_cache ec;
	mem_cache(&ec, e, 3);
	static const struct {
		int64_t offset;
		int32_t epoch;
	} cases[] = {
		{INT64_MIN, -1}, {-1, -1}, {0, -1}, {4, -1}, {5, 1},   {9, 1},
		{10, 3},         {24, 3},  {25, 7}, {26, 7}, {INT64_MAX, 7},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(epoch_cache_epoch_at(&ec, cases[i].offset), cases[i].epoch);
	epoch_cache_deinit(&ec);
}

static void test_truncate_end(void **state)
{
	(void)state;
	char dir[256];
	tu_tmpdir(dir, sizeof(dir), "epoch-trunc-end");
	int dfd = open_dir(dir);
	const struct epoch_entry e[] = {{1, 0}, {3, 10}, {7, 25}};
	struct epoch_cache ec;
	assert_int_equal(epoch_cache_load(&ec, dfd), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(epoch_cache_assign(&ec, e[i].ee_epoch, e[i].ee_start_offset), 0);
	expect_file(dfd, "0\n3\n1 0\n3 10\n7 25\n");

	/* Above the last start: nothing to drop. */
	assert_int_equal(epoch_cache_truncate_end(&ec, 26), 0);
	expect_entries(&ec, e, 3);
	assert_int_equal(epoch_cache_truncate_end(&ec, INT64_MAX), 0);
	expect_entries(&ec, e, 3);
	/* At a start: that entry goes. */
	assert_int_equal(epoch_cache_truncate_end(&ec, 25), 0);
	expect_entries(&ec, e, 2);
	expect_file(dfd, "0\n2\n1 0\n3 10\n");
	assert_int_equal(epoch_cache_latest(&ec), 3);
	/* Inside an epoch: it stays. */
	assert_int_equal(epoch_cache_truncate_end(&ec, 11), 0);
	expect_entries(&ec, e, 2);
	assert_int_equal(epoch_cache_truncate_end(&ec, 10), 0);
	expect_entries(&ec, e, 1);
	expect_file(dfd, "0\n1\n1 0\n");
	/* To the start: empty. */
	assert_int_equal(epoch_cache_truncate_end(&ec, 0), 0);
	assert_int_equal(ec.ec_count, 0);
	assert_int_equal(epoch_cache_latest(&ec), -1);
	expect_file(dfd, "0\n0\n");
	/* The epochs can be assigned again, even the dropped ones. */
	assert_int_equal(epoch_cache_assign(&ec, 1, 0), 0);
	assert_int_equal(epoch_cache_assign(&ec, 2, 3), 0);
	expect_file(dfd, "0\n2\n1 0\n2 3\n");
	epoch_cache_deinit(&ec);

	/* What is on disk is what a fresh load sees. */
	assert_int_equal(epoch_cache_load(&ec, dfd), 0);
	const struct epoch_entry after[] = {{1, 0}, {2, 3}};
	expect_entries(&ec, after, 2);
	epoch_cache_deinit(&ec);
	close(dfd);
	tu_rmdir(dir);
}

static void test_truncate_start(void **state)
{
	(void)state;
	char dir[256];
	tu_tmpdir(dir, sizeof(dir), "epoch-trunc-start");
	int dfd = open_dir(dir);
	struct epoch_cache ec;
	assert_int_equal(epoch_cache_load(&ec, dfd), 0);
	assert_int_equal(epoch_cache_assign(&ec, 1, 0), 0);
	assert_int_equal(epoch_cache_assign(&ec, 3, 10), 0);
	assert_int_equal(epoch_cache_assign(&ec, 7, 25), 0);

	/* At the first start: nothing changes. */
	assert_int_equal(epoch_cache_truncate_start(&ec, 0), 0);
	expect_file(dfd, "0\n3\n1 0\n3 10\n7 25\n");
	/* Inside the first epoch: it now starts at the new log start. */
	assert_int_equal(epoch_cache_truncate_start(&ec, 5), 0);
	const struct epoch_entry a[] = {{1, 5}, {3, 10}, {7, 25}};
	expect_entries(&ec, a, 3);
	expect_file(dfd, "0\n3\n1 5\n3 10\n7 25\n");
	/* Exactly at the second start: the first is wholly before it. */
	assert_int_equal(epoch_cache_truncate_start(&ec, 10), 0);
	const struct epoch_entry b[] = {{3, 10}, {7, 25}};
	expect_entries(&ec, b, 2);
	expect_file(dfd, "0\n2\n3 10\n7 25\n");
	assert_int_equal(epoch_cache_epoch_at(&ec, 9), -1);
	/* Moving backwards is not a truncation. */
	assert_int_equal(epoch_cache_truncate_start(&ec, 3), 0);
	expect_entries(&ec, b, 2);
	/* Past every start: only the latest remains, starting there. */
	assert_int_equal(epoch_cache_truncate_start(&ec, 30), 0);
	const struct epoch_entry c[] = {{7, 30}};
	expect_entries(&ec, c, 1);
	expect_file(dfd, "0\n1\n7 30\n");
	expect_end(&ec, 7, 40, 7, 40);
	expect_end(&ec, 3, 40, 3, 30); /* before the first entry: ends at its start */
	epoch_cache_deinit(&ec);

	assert_int_equal(epoch_cache_load(&ec, dfd), 0);
	expect_entries(&ec, c, 1);
	epoch_cache_deinit(&ec);

	/* Memory-only, with a first entry after the new start. */
	const struct epoch_entry d[] = {{2, 5}, {4, 8}};
	mem_cache(&ec, d, 2);
	assert_int_equal(epoch_cache_truncate_start(&ec, 3), 0);
	expect_entries(&ec, d, 2);
	assert_int_equal(epoch_cache_truncate_start(&ec, 8), 0);
	expect_entries(&ec, d + 1, 1);
	epoch_cache_deinit(&ec);
	close(dfd);
	tu_rmdir(dir);
}

/* ---- persistence -------------------------------------------------------- */

static void test_persist_format(void **state)
{
	(void)state;
	char dir[256];
	tu_tmpdir(dir, sizeof(dir), "epoch-persist");
	int dfd = open_dir(dir);
	struct epoch_cache ec;
	/* A missing file is an empty cache; loading does not create it. */
	assert_int_equal(epoch_cache_load(&ec, dfd), 0);
	assert_int_equal(ec.ec_count, 0);
	assert_int_equal(ec.ec_dir_fd, dfd);
	assert_int_equal(faccessat(dfd, EPOCH_CACHE_FILE, F_OK, 0), -1);

	assert_int_equal(epoch_cache_assign(&ec, 0, 0), 0);
	expect_file(dfd, "0\n1\n0 0\n");
	assert_int_equal(epoch_cache_assign(&ec, 5, 100), 0);
	/* Refused and repeated assigns do not touch the file. */
	assert_int_equal(epoch_cache_assign(&ec, 4, 200), RL_EORDER);
	assert_int_equal(epoch_cache_assign(&ec, 5, 150), 0);
	expect_file(dfd, "0\n2\n0 0\n5 100\n");
	/* The widest values. */
	assert_int_equal(epoch_cache_assign(&ec, INT32_MAX, INT64_MAX), 0);
	expect_file(dfd, "0\n3\n0 0\n5 100\n2147483647 9223372036854775807\n");

	struct epoch_cache ld;
	assert_int_equal(epoch_cache_load(&ld, dfd), 0);
	expect_entries(&ld, ec.ec_entries, ec.ec_count);
	assert_int_equal(epoch_cache_latest(&ld), INT32_MAX);
	/* The loaded cache persists to the same text. */
	assert_int_equal(epoch_cache_truncate_end(&ld, INT64_MAX - 1), 0);
	expect_file(dfd, "0\n2\n0 0\n5 100\n");
	epoch_cache_deinit(&ld);
	epoch_cache_deinit(&ec);

	/* Many entries: what assign wrote, load reads back identically. */
	char dir2[256];
	tu_tmpdir(dir2, sizeof(dir2), "epoch-persist-many");
	int dfd2 = open_dir(dir2);
	uint64_t seed = tu_seed(0xe90c4);
	assert_int_equal(epoch_cache_load(&ec, dfd2), 0);
	int32_t epoch = 0;
	int64_t start = 0;
	for (int i = 0; i < 300; i++) {
		epoch += 1 + (int32_t)(tu_rand(&seed) % 3);
		start += 1 + (int64_t)(tu_rand(&seed) % 100000);
		assert_int_equal(epoch_cache_assign(&ec, epoch, start), 0);
	}
	assert_int_equal(epoch_cache_load(&ld, dfd2), 0);
	expect_entries(&ld, ec.ec_entries, ec.ec_count);
	/* And the text is the format, line by line. */
	char *text = get_file(dfd2, EPOCH_CACHE_FILE);
	char line[64];
	size_t pos = 0;
	int n = snprintf(line, sizeof(line), "0\n300\n");
	assert_memory_equal(text, line, (size_t)n);
	pos += (size_t)n;
	for (uint32_t i = 0; i < ec.ec_count; i++) {
		n = snprintf(line, sizeof(line), "%d %" PRId64 "\n", ec.ec_entries[i].ee_epoch,
			     ec.ec_entries[i].ee_start_offset);
		assert_memory_equal(text + pos, line, (size_t)n);
		pos += (size_t)n;
	}
	assert_int_equal(strlen(text), pos);
	free(text);
	epoch_cache_deinit(&ld);
	epoch_cache_deinit(&ec);
	close(dfd2);
	tu_rmdir(dir2);
	close(dfd);
	tu_rmdir(dir);
}

static void test_load_valid_files(void **state)
{
	(void)state;
	char dir[256];
	tu_tmpdir(dir, sizeof(dir), "epoch-load-valid");
	int dfd = open_dir(dir);
	struct epoch_cache ec;
	put_file(dfd, "0\n0\n", 4);
	assert_int_equal(epoch_cache_load(&ec, dfd), 0);
	assert_int_equal(ec.ec_count, 0);
	epoch_cache_deinit(&ec);

	/* As Kafka writes it. */
	static const char kafka[] = "0\n3\n0 0\n2 1500\n9 88231\n";
	put_file(dfd, kafka, sizeof(kafka) - 1);
	assert_int_equal(epoch_cache_load(&ec, dfd), 0);
	const struct epoch_entry want[] = {{0, 0}, {2, 1500}, {9, 88231}};
	expect_entries(&ec, want, 3);
	expect_end(&ec, 5, 90000, 2, 88231);
	/* A loaded cache keeps refusing what would not increase. */
	assert_int_equal(epoch_cache_assign(&ec, 8, 90000), RL_EORDER);
	assert_int_equal(epoch_cache_assign(&ec, 10, 88231), RL_EORDER);
	assert_int_equal(epoch_cache_assign(&ec, 10, 88232), 0);
	expect_file(dfd, "0\n4\n0 0\n2 1500\n9 88231\n10 88232\n");
	epoch_cache_deinit(&ec);
	close(dfd);
	tu_rmdir(dir);
}

static void test_load_malformed(void **state)
{
	(void)state;
	char dir[256];
	tu_tmpdir(dir, sizeof(dir), "epoch-load-bad");
	int dfd = open_dir(dir);
	static const struct {
		const char *text;
		size_t len; /* 0 = strlen */
	} bad[] = {
		{"", 0},
		{"garbage", 0},
		{"\n", 0},
		{"0\n", 0},                      /* no count */
		{"1\n0\n", 0},                   /* unknown version */
		{"-1\n0\n", 0},
		{"x\n0\n", 0},
		{"0\nx\n", 0},
		{"0\n-1\n", 0},                  /* negative count */
		{"0\n2\n0 0\n", 0},              /* fewer entries than the count */
		{"0\n1\n0 0\n1 5\n", 0},         /* more entries than the count */
		{"0\n0\n0 0\n", 0},
		{"0\n2\n1 5\n1 6\n", 0},         /* epochs equal */
		{"0\n2\n2 5\n1 6\n", 0},         /* epochs decrease */
		{"0\n2\n1 5\n2 5\n", 0},         /* starts equal */
		{"0\n2\n1 6\n2 5\n", 0},         /* starts decrease */
		{"0\n1\n-1 5\n", 0},             /* negative epoch */
		{"0\n1\n1 -5\n", 0},             /* negative offset */
		{"0\n1\n2147483648 5\n", 0},     /* epoch past int32 */
		{"0\n1\n1 5x\n", 0},
		{"0\n1\n1,5\n", 0},
		{"0\n1\n1\n", 0},
		{"0\n1\n1 5\nextra", 0},
		{"0\n1\n1 5\n\0\0\0\0", 12},     /* zero-filled tail */
		{"0\n1\n1 5\n\0garbage", 16},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = bad[i].len ? bad[i].len : strlen(bad[i].text);
		put_file(dfd, bad[i].text, len);
		struct epoch_cache ec;
		int rc = epoch_cache_load(&ec, dfd);
		if (rc != RL_ECORRUPT)
			fail_msg("case %zu (%zu bytes): got %d", i, len, rc);
		assert_int_equal(ec.ec_count, 0);
		assert_int_equal(epoch_cache_latest(&ec), -1);
		epoch_cache_deinit(&ec);
	}

	/* A file larger than any valid one is malformed too, not an error. */
	size_t big = 3u << 20;
	char *huge = malloc(big);
	assert_non_null(huge);
	memset(huge, '\n', big);
	memcpy(huge, "0\n1\n1 5\n", 8);
	put_file(dfd, huge, big);
	free(huge);
	struct epoch_cache ec;
	assert_int_equal(epoch_cache_load(&ec, dfd), RL_ECORRUPT);
	assert_int_equal(ec.ec_count, 0);
	epoch_cache_deinit(&ec);
	close(dfd);
	tu_rmdir(dir);
}

/* A failed write leaves both the cache and the file as they were. */
static void test_persist_failure(void **state)
{
	(void)state;
	char dir[256];
	tu_tmpdir(dir, sizeof(dir), "epoch-fail");
	char sub[300];
	snprintf(sub, sizeof(sub), "%s/gone", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	int dfd = open_dir(sub);
	struct epoch_cache ec;
	assert_int_equal(epoch_cache_load(&ec, dfd), 0);
	assert_int_equal(epoch_cache_assign(&ec, 1, 0), 0);
	assert_int_equal(epoch_cache_assign(&ec, 2, 10), 0);
	/* Creating files in a removed directory fails with ENOENT. */
	tu_rmdir(sub);
	const struct epoch_entry want[] = {{1, 0}, {2, 10}};
	assert_int_equal(epoch_cache_assign(&ec, 3, 20), -ENOENT);
	expect_entries(&ec, want, 2);
	assert_int_equal(epoch_cache_latest(&ec), 2);
	assert_int_equal(epoch_cache_truncate_end(&ec, 5), -ENOENT);
	expect_entries(&ec, want, 2);
	/* A no-op does not need the disk. */
	assert_int_equal(epoch_cache_assign(&ec, 2, 15), 0);
	assert_int_equal(epoch_cache_truncate_end(&ec, 100), 0);
	assert_true(epoch_cache_truncate_start(&ec, 5) < 0);
	epoch_cache_deinit(&ec);
	close(dfd);
	tu_rmdir(dir);
}

static void test_memory_only(void **state)
{
	(void)state;
	char dir[256], cwd[PATH_MAX];
	tu_tmpdir(dir, sizeof(dir), "epoch-mem");
	/* Nothing is written anywhere: run from an empty directory and check. */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	struct epoch_cache ec;
	assert_int_equal(epoch_cache_load(&ec, -1), 0);
	assert_int_equal(epoch_cache_assign(&ec, 1, 0), 0);
	assert_int_equal(epoch_cache_assign(&ec, 2, 7), 0);
	assert_int_equal(epoch_cache_truncate_start(&ec, 3), 0);
	assert_int_equal(epoch_cache_truncate_end(&ec, 7), 0);
	const struct epoch_entry want[] = {{1, 3}};
	expect_entries(&ec, want, 1);
	assert_int_equal(access(EPOCH_CACHE_FILE, F_OK), -1);
	assert_int_equal(access(EPOCH_CACHE_FILE ".tmp", F_OK), -1);
	assert_int_equal(chdir(cwd), 0);
	epoch_cache_deinit(&ec);

	/* The entry bound. */
	assert_int_equal(epoch_cache_load(&ec, -1), 0);
	for (int32_t i = 0; i < EPOCH_CACHE_MAX_ENTRIES; i++)
		assert_int_equal(epoch_cache_assign(&ec, i, (int64_t)i * 2), 0);
	assert_int_equal(ec.ec_count, EPOCH_CACHE_MAX_ENTRIES);
	assert_int_equal(epoch_cache_assign(&ec, EPOCH_CACHE_MAX_ENTRIES,
					    (int64_t)EPOCH_CACHE_MAX_ENTRIES * 2),
			 RL_EFULL);
	assert_int_equal(ec.ec_count, EPOCH_CACHE_MAX_ENTRIES);
	/* Still a no-op for the latest epoch. */
	assert_int_equal(epoch_cache_assign(&ec, EPOCH_CACHE_MAX_ENTRIES - 1, INT64_MAX), 0);
	expect_end(&ec, 1000, 1 << 30, 1000, 2002);
	epoch_cache_deinit(&ec);
	tu_rmdir(dir);
}

/* Seeded queries against a linear scan of the entries. */
static void test_random_queries(void **state)
{
	(void)state;
	uint64_t seed = tu_seed(0xe0c4e0c4ULL);
	for (int round = 0; round < 40; round++) {
		struct epoch_cache ec;
		assert_int_equal(epoch_cache_load(&ec, -1), 0);
		uint32_t n = (uint32_t)(tu_rand(&seed) % 50);
		int32_t epoch = (int32_t)(tu_rand(&seed) % 3);
		int64_t start = (int64_t)(tu_rand(&seed) % 5);
		for (uint32_t i = 0; i < n; i++) {
			assert_int_equal(epoch_cache_assign(&ec, epoch, start), 0);
			epoch += 1 + (int32_t)(tu_rand(&seed) % 4);
			start += 1 + (int64_t)(tu_rand(&seed) % 20);
		}
		assert_int_equal(ec.ec_count, n);
		const int64_t leo = start + 7;
		for (int q = 0; q < 200; q++) {
			int32_t qe = (int32_t)(tu_rand(&seed) % (uint64_t)(epoch + 3)) - 1;
			/* Kafka's answer, by linear scan: undefined beyond the
			 * latest or for -1; before the first entry, (qe, first
			 * start); else the floor epoch and the next start. */
			int32_t want_e = -1;
			int64_t want_o = -1;
			if (n > 0 && qe >= 0 && qe <= ec.ec_entries[n - 1].ee_epoch) {
				want_e = qe;
				want_o = ec.ec_entries[0].ee_start_offset;
				for (uint32_t i = 0; i < n; i++)
					if (ec.ec_entries[i].ee_epoch <= qe) {
						want_e = ec.ec_entries[i].ee_epoch;
						want_o = i + 1 < n ? ec.ec_entries[i + 1].ee_start_offset
								   : leo;
					}
			}
			expect_end(&ec, qe, leo, want_e, want_o);

			int64_t qo = (int64_t)(tu_rand(&seed) % (uint64_t)(start + 3)) - 1;
			int32_t at = -1;
			for (uint32_t i = 0; i < n; i++)
				if (ec.ec_entries[i].ee_start_offset <= qo)
					at = ec.ec_entries[i].ee_epoch;
			assert_int_equal(epoch_cache_epoch_at(&ec, qo), at);
		}
		epoch_cache_deinit(&ec);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_assign_and_order),
		cmocka_unit_test(test_end_offset),
		cmocka_unit_test(test_epoch_at),
		cmocka_unit_test(test_truncate_end),
		cmocka_unit_test(test_truncate_start),
		cmocka_unit_test(test_persist_format),
		cmocka_unit_test(test_load_valid_files),
		cmocka_unit_test(test_load_malformed),
		cmocka_unit_test(test_persist_failure),
		cmocka_unit_test(test_memory_only),
		cmocka_unit_test(test_random_queries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
