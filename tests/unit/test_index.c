/* Description: segment offset/time index: lookups at every boundary, ordering and size refusals, truncation, Kafka's big-endian file encoding, index_load of valid and corrupt bytes, and a seeded random run against a linear model. */
#include "testutil.h"

#include "index.h"
#include "rlerr.h"

/* ---- helpers ---------------------------------------------------------- */

/* Kafka's .index entry: relativeOffset u32 BE, position u32 BE. */
static void enc_off(uint8_t *e, uint32_t rel, uint32_t pos)
{
	e[0] = (uint8_t)(rel >> 24);
	e[1] = (uint8_t)(rel >> 16);
	e[2] = (uint8_t)(rel >> 8);
	e[3] = (uint8_t)rel;
	e[4] = (uint8_t)(pos >> 24);
	e[5] = (uint8_t)(pos >> 16);
	e[6] = (uint8_t)(pos >> 8);
	e[7] = (uint8_t)pos;
}

/* Kafka's .timeindex entry: timestamp i64 BE, relativeOffset u32 BE. */
static void enc_time(uint8_t *e, int64_t ts, uint32_t rel)
{
	uint64_t u = (uint64_t)ts;
	for (int i = 0; i < 8; i++)
		e[i] = (uint8_t)(u >> (56 - 8 * i));
	e[8] = (uint8_t)(rel >> 24);
	e[9] = (uint8_t)(rel >> 16);
	e[10] = (uint8_t)(rel >> 8);
	e[11] = (uint8_t)rel;
}

static void expect_off(const struct seg_index *ix, uint32_t idx, int64_t offset, uint32_t pos)
{
	int64_t o;
	uint32_t p;
	assert_true(idx < ix->si_off_count);
	index_offset_entry(ix, idx, &o, &p);
	assert_int_equal(o, offset);
	assert_int_equal(p, pos);
}

static void expect_time(const struct seg_index *ix, uint32_t idx, int64_t ts, int64_t offset)
{
	int64_t t, o;
	assert_true(idx < ix->si_time_count);
	index_time_entry(ix, idx, &t, &o);
	assert_true(t == ts);
	assert_int_equal(o, offset);
}

/* Returns the lookup result; *offset and *pos are -7 when not found. */
static int lookup_off(const struct seg_index *ix, int64_t target, int64_t *offset, uint32_t *pos)
{
	*offset = -7;
	*pos = 7777;
	int rc = index_lookup_offset(ix, target, offset, pos);
	assert_true(rc == 0 || rc == 1);
	if (rc == 0) {
		/* Not found: the outputs are not meaningful, but must not be
		 * needed; reset them so callers compare to a sentinel. */
		*offset = -7;
		*pos = 7777;
	}
	return rc;
}

static int lookup_time(const struct seg_index *ix, int64_t target, int64_t *offset)
{
	*offset = -7;
	int rc = index_lookup_time(ix, target, offset);
	assert_true(rc == 0 || rc == 1);
	if (rc == 0)
		*offset = -7;
	return rc;
}

/* ---- lookups ---------------------------------------------------------- */

static void test_empty(void **state)
{
	(void)state;
	struct seg_index ix;
	index_init(&ix, 500, 16);
	int64_t o;
	uint32_t p;
	assert_int_equal(ix.si_off_count, 0);
	assert_int_equal(ix.si_time_count, 0);
	assert_int_equal(index_offset_bytes(&ix), 0);
	assert_int_equal(index_time_bytes(&ix), 0);
	assert_int_equal(lookup_off(&ix, 500, &o, &p), 0);
	assert_int_equal(lookup_off(&ix, INT64_MAX, &o, &p), 0);
	assert_int_equal(lookup_off(&ix, INT64_MIN, &o, &p), 0);
	assert_int_equal(lookup_time(&ix, 0, &o), 0);
	assert_int_equal(lookup_time(&ix, INT64_MAX, &o), 0);
	index_truncate(&ix, 0);
	assert_int_equal(ix.si_off_count, 0);
	index_deinit(&ix);
	index_deinit(&ix); /* idempotent */
}

static void test_offset_lookup_boundaries(void **state)
{
	(void)state;
	const int64_t base = 1000;
	struct seg_index ix;
	index_init(&ix, base, 16);
	/* First entry not at the segment base: lookups of base..1002 precede it. */
	assert_int_equal(index_add_offset(&ix, 1003, 0), 0);
	assert_int_equal(index_add_offset(&ix, 1010, 4096), 0);
	assert_int_equal(index_add_offset(&ix, 1020, 9000), 0);
	assert_int_equal(ix.si_off_count, 3);

	static const struct {
		int64_t target;
		int found;
		int64_t offset;
		uint32_t pos;
	} cases[] = {
		{INT64_MIN, 0, -7, 7777},
		{-1, 0, -7, 7777},
		{999, 0, -7, 7777},
		{1000, 0, -7, 7777},  /* the base itself, before the first entry */
		{1002, 0, -7, 7777},
		{1003, 1, 1003, 0},   /* exact hit on the first */
		{1004, 1, 1003, 0},
		{1009, 1, 1003, 0},   /* just below the second */
		{1010, 1, 1010, 4096},/* exact hit in the middle */
		{1011, 1, 1010, 4096},
		{1019, 1, 1010, 4096},
		{1020, 1, 1020, 9000},/* exact hit on the last */
		{1021, 1, 1020, 9000},
		{(int64_t)1 << 40, 1, 1020, 9000},
		{INT64_MAX, 1, 1020, 9000},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t o;
		uint32_t p;
		assert_int_equal(lookup_off(&ix, cases[i].target, &o, &p), cases[i].found);
		assert_int_equal(o, cases[i].offset);
		assert_int_equal(p, cases[i].pos);
	}

	/* A single entry at the base. */
	index_clear(&ix);
	assert_int_equal(index_add_offset(&ix, base, 0), 0);
	int64_t o;
	uint32_t p;
	assert_int_equal(lookup_off(&ix, base - 1, &o, &p), 0);
	assert_int_equal(lookup_off(&ix, base, &o, &p), 1);
	assert_int_equal(o, base);
	assert_int_equal(p, 0);
	assert_int_equal(lookup_off(&ix, base + 100, &o, &p), 1);
	assert_int_equal(o, base);
	index_deinit(&ix);
}

static void test_time_lookup(void **state)
{
	(void)state;
	const int64_t base = 70;
	struct seg_index ix;
	index_init(&ix, base, 16);
	assert_int_equal(index_add_time(&ix, -50, base), 0);
	assert_int_equal(index_add_time(&ix, 100, base + 5), 0);
	assert_int_equal(index_add_time(&ix, 200, base + 10), 0);
	assert_int_equal(index_add_time(&ix, 300, base + 10), 0); /* same offset, later ts */
	assert_int_equal(ix.si_time_count, 4);

	/* "Last entry whose timestamp < target". */
	static const struct {
		int64_t target;
		int found;
		int64_t offset;
	} cases[] = {
		{INT64_MIN, 0, -7},
		{-51, 0, -7},
		{-50, 0, -7}, /* equal is not below */
		{-49, 1, 70},
		{100, 1, 70},
		{101, 1, 75},
		{200, 1, 75},
		{201, 1, 80},
		{300, 1, 80},
		{301, 1, 80},
		{INT64_MAX, 1, 80},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t o;
		assert_int_equal(lookup_time(&ix, cases[i].target, &o), cases[i].found);
		assert_int_equal(o, cases[i].offset);
	}
	/* The last of several entries below target wins even when their
	 * offsets tie: entry (300, 80) and (200, 80) both answer 80. */
	int64_t o;
	assert_int_equal(lookup_time(&ix, 250, &o), 1);
	assert_int_equal(o, 80);
	index_deinit(&ix);
}

/* ---- adding ----------------------------------------------------------- */

static void test_add_offset_order(void **state)
{
	(void)state;
	const int64_t base = (int64_t)1 << 33;
	struct seg_index ix;
	index_init(&ix, base, 1000);
	/* Below the base: no relative offset. */
	assert_int_equal(index_add_offset(&ix, base - 1, 0), RL_EORDER);
	/* Relative offset does not fit 32 bits. */
	assert_int_equal(index_add_offset(&ix, base + ((int64_t)1 << 32), 0), RL_EORDER);
	assert_int_equal(ix.si_off_count, 0);

	assert_int_equal(index_add_offset(&ix, base + 10, 100), 0);
	assert_int_equal(index_add_offset(&ix, base + 10, 200), RL_EORDER); /* equal offset */
	assert_int_equal(index_add_offset(&ix, base + 9, 200), RL_EORDER);  /* lower offset */
	assert_int_equal(index_add_offset(&ix, base + 11, 100), RL_EORDER); /* equal position */
	assert_int_equal(index_add_offset(&ix, base + 11, 99), RL_EORDER);  /* lower position */
	assert_int_equal(index_add_offset(&ix, base + 11, 0), RL_EORDER);
	assert_int_equal(ix.si_off_count, 1);
	expect_off(&ix, 0, base + 10, 100);

	assert_int_equal(index_add_offset(&ix, base + 11, 101), 0);
	/* The largest relative offset and position that fit. */
	assert_int_equal(index_add_offset(&ix, base + UINT32_MAX, UINT32_MAX), 0);
	assert_int_equal(index_add_offset(&ix, base + UINT32_MAX + 1, UINT32_MAX), RL_EORDER);
	assert_int_equal(ix.si_off_count, 3);
	expect_off(&ix, 1, base + 11, 101);
	expect_off(&ix, 2, base + UINT32_MAX, UINT32_MAX);
	index_deinit(&ix);
}

static void test_add_time_rules(void **state)
{
	(void)state;
	const int64_t base = 0;
	struct seg_index ix;
	index_init(&ix, base, 1000);
	assert_int_equal(index_add_time(&ix, 10, -1), RL_EORDER);
	assert_int_equal(index_add_time(&ix, 10, (int64_t)1 << 32), RL_EORDER);
	assert_int_equal(ix.si_time_count, 0);

	assert_int_equal(index_add_time(&ix, 10, 5), 0);
	/* Timestamp did not grow: a no-op that succeeds, whatever the offset. */
	assert_int_equal(index_add_time(&ix, 10, 6), 0);
	assert_int_equal(index_add_time(&ix, 9, 7), 0);
	assert_int_equal(index_add_time(&ix, INT64_MIN, 8), 0);
	assert_int_equal(ix.si_time_count, 1);
	expect_time(&ix, 0, 10, 5);
	/* Timestamp grew but the offset went back. */
	assert_int_equal(index_add_time(&ix, 11, 4), RL_EORDER);
	assert_int_equal(ix.si_time_count, 1);
	/* Offsets may repeat (do not decrease). */
	assert_int_equal(index_add_time(&ix, 11, 5), 0);
	assert_int_equal(index_add_time(&ix, INT64_MAX, 9), 0);
	assert_int_equal(ix.si_time_count, 3);
	expect_time(&ix, 1, 11, 5);
	expect_time(&ix, 2, INT64_MAX, 9);
	/* Nothing grows past INT64_MAX. */
	assert_int_equal(index_add_time(&ix, INT64_MAX, 10), 0);
	assert_int_equal(ix.si_time_count, 3);
	index_deinit(&ix);
}

static void test_max_entries(void **state)
{
	(void)state;
	/* Bounds below, at and above the initial allocation of the arrays. */
	static const uint32_t maxes[] = {0, 1, 2, 3, 10, 63, 64, 65, 100, 128, 129, 1000};
	for (size_t m = 0; m < sizeof(maxes) / sizeof(maxes[0]); m++) {
		const uint32_t max = maxes[m];
		struct seg_index ix;
		index_init(&ix, 100, max);
		for (uint32_t i = 0; i < max; i++) {
			assert_int_equal(index_add_offset(&ix, 100 + i, i * 10), 0);
			assert_int_equal(index_add_time(&ix, 1000 + i, 100 + i), 0);
		}
		assert_int_equal(ix.si_off_count, max);
		assert_int_equal(ix.si_time_count, max);
		assert_int_equal(index_add_offset(&ix, 100 + max, max * 10), RL_EFULL);
		assert_int_equal(index_add_time(&ix, 1000 + max, 100 + max), RL_EFULL);
		assert_int_equal(ix.si_off_count, max);
		assert_int_equal(ix.si_time_count, max);
		/* A time entry that does not grow stays a no-op even when full. */
		if (max > 0)
			assert_int_equal(index_add_time(&ix, 1000, 100 + max), 0);
		/* Room again after a truncation. */
		if (max > 0) {
			index_truncate(&ix, 100 + max - 1);
			assert_int_equal(ix.si_off_count, max - 1);
			assert_int_equal(index_add_offset(&ix, 100 + max - 1, max * 10), 0);
			assert_int_equal(index_add_offset(&ix, 100 + max, max * 10 + 1), RL_EFULL);
		}
		index_deinit(&ix);
	}
}

/* ---- encoding --------------------------------------------------------- */

static void test_file_encoding(void **state)
{
	(void)state;
	const int64_t base = 0x123456789aLL;
	struct seg_index ix;
	index_init(&ix, base, 64);
	assert_int_equal(index_add_offset(&ix, base, 0), 0);
	assert_int_equal(index_add_offset(&ix, base + 0x01020304, 0x0a0b0c0d), 0);
	assert_int_equal(index_add_offset(&ix, base + 0xfffffffeLL, 0xfffffff0u), 0);
	assert_int_equal(index_add_time(&ix, -2, base), 0);
	assert_int_equal(index_add_time(&ix, 0x0102030405060708LL, base + 0x01020304), 0);

	static const uint8_t want_off[] = {
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x01, 0x02, 0x03, 0x04, 0x0a, 0x0b, 0x0c, 0x0d,
		0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xf0,
	};
	static const uint8_t want_time[] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0x00, 0x00, 0x00, 0x00,
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x01, 0x02, 0x03, 0x04,
	};
	assert_int_equal(INDEX_OFFSET_ENTRY_BYTES, 8);
	assert_int_equal(INDEX_TIME_ENTRY_BYTES, 12);
	assert_int_equal(index_offset_bytes(&ix), sizeof(want_off));
	assert_int_equal(index_time_bytes(&ix), sizeof(want_time));
	assert_memory_equal(ix.si_off, want_off, sizeof(want_off));
	assert_memory_equal(ix.si_time, want_time, sizeof(want_time));

	/* The accessors decode what the helpers here encode. */
	uint8_t e[12];
	enc_off(e, 0x01020304, 0x0a0b0c0d);
	assert_memory_equal(ix.si_off + 8, e, 8);
	enc_time(e, -2, 0);
	assert_memory_equal(ix.si_time, e, 12);
	expect_off(&ix, 2, base + 0xfffffffeLL, 0xfffffff0u);
	expect_time(&ix, 0, -2, base);
	expect_time(&ix, 1, 0x0102030405060708LL, base + 0x01020304);
	index_deinit(&ix);
}

/* ---- truncation ------------------------------------------------------- */

static void test_truncate(void **state)
{
	(void)state;
	const int64_t b = 5000;
	struct seg_index ix;
	index_init(&ix, b, 64);
	for (int i = 0; i < 4; i++)
		assert_int_equal(index_add_offset(&ix, b + 10 * i, (uint32_t)(1000 * i)), 0);
	assert_int_equal(index_add_time(&ix, 100, b + 0), 0);
	assert_int_equal(index_add_time(&ix, 150, b + 10), 0);
	assert_int_equal(index_add_time(&ix, 200, b + 10), 0);
	assert_int_equal(index_add_time(&ix, 250, b + 25), 0);
	assert_int_equal(index_add_time(&ix, 300, b + 30), 0);

	/* Past the end: nothing changes. */
	index_truncate(&ix, b + 31);
	assert_int_equal(ix.si_off_count, 4);
	assert_int_equal(ix.si_time_count, 5);
	/* At an entry: that entry goes ("at or after"). */
	index_truncate(&ix, b + 30);
	assert_int_equal(ix.si_off_count, 3);
	assert_int_equal(ix.si_time_count, 4);
	expect_time(&ix, 3, 250, b + 25);
	/* Between entries: offset entry b+20 goes, b+10 stays; time entry
	 * at b+25 goes, the two at b+10 stay. */
	index_truncate(&ix, b + 11);
	assert_int_equal(ix.si_off_count, 2);
	assert_int_equal(ix.si_time_count, 3);
	expect_off(&ix, 1, b + 10, 1000);
	expect_time(&ix, 2, 200, b + 10);
	int64_t o;
	uint32_t p;
	assert_int_equal(lookup_off(&ix, b + 30, &o, &p), 1);
	assert_int_equal(o, b + 10);
	assert_int_equal(lookup_time(&ix, INT64_MAX, &o), 1);
	assert_int_equal(o, b + 10);

	/* Adding after a truncation is ordered against the new last entry. */
	assert_int_equal(index_add_offset(&ix, b + 10, 5000), RL_EORDER);
	assert_int_equal(index_add_offset(&ix, b + 12, 1000), RL_EORDER);
	assert_int_equal(index_add_offset(&ix, b + 12, 1500), 0);
	assert_int_equal(index_add_time(&ix, 200, b + 12), 0); /* no-op */
	assert_int_equal(ix.si_time_count, 3);
	assert_int_equal(index_add_time(&ix, 201, b + 12), 0);
	assert_int_equal(ix.si_time_count, 4);

	/* At the first entry's offset: everything goes. */
	index_truncate(&ix, b);
	assert_int_equal(ix.si_off_count, 0);
	assert_int_equal(ix.si_time_count, 0);
	assert_int_equal(lookup_off(&ix, b + 100, &o, &p), 0);
	assert_int_equal(lookup_time(&ix, INT64_MAX, &o), 0);
	/* And the index takes entries from scratch again. */
	assert_int_equal(index_add_offset(&ix, b, 0), 0);
	assert_int_equal(index_add_time(&ix, 1, b), 0);

	index_clear(&ix);
	assert_int_equal(ix.si_off_count, 0);
	assert_int_equal(ix.si_time_count, 0);
	assert_int_equal(index_add_offset(&ix, b + 3, 7), 0);
	expect_off(&ix, 0, b + 3, 7);
	index_deinit(&ix);
}

/* ---- loading ---------------------------------------------------------- */

static void test_load_valid(void **state)
{
	(void)state;
	const int64_t base = 42;
	uint8_t off[3 * 8], tim[2 * 12];
	enc_off(off + 0, 0, 0);
	enc_off(off + 8, 7, 4000);
	enc_off(off + 16, 20, 9999);
	enc_time(tim + 0, 1000, 0);
	enc_time(tim + 12, 1001, 7);

	struct seg_index ix;
	index_init(&ix, base, 16);
	assert_int_equal(index_add_offset(&ix, base + 1, 1), 0); /* replaced by the load */
	assert_int_equal(index_load(&ix, off, sizeof(off), tim, sizeof(tim), 10000), 0);
	assert_int_equal(ix.si_off_count, 3);
	assert_int_equal(ix.si_time_count, 2);
	expect_off(&ix, 0, base, 0);
	expect_off(&ix, 1, base + 7, 4000);
	expect_off(&ix, 2, base + 20, 9999);
	expect_time(&ix, 0, 1000, base);
	expect_time(&ix, 1, 1001, base + 7);
	assert_memory_equal(ix.si_off, off, sizeof(off));
	assert_memory_equal(ix.si_time, tim, sizeof(tim));
	/* Appending continues from the loaded entries. */
	assert_int_equal(index_add_offset(&ix, base + 20, 10500), RL_EORDER);
	assert_int_equal(index_add_offset(&ix, base + 21, 10500), 0);

	/* Both empty; a time index without offset entries. */
	assert_int_equal(index_load(&ix, NULL, 0, NULL, 0, 0), 0);
	assert_int_equal(ix.si_off_count, 0);
	assert_int_equal(ix.si_time_count, 0);
	assert_int_equal(index_load(&ix, NULL, 0, tim, sizeof(tim), 0), 0);
	assert_int_equal(ix.si_time_count, 2);

	/* Round trip of what the index itself built, at exactly max entries. */
	struct seg_index a, b2;
	index_init(&a, 1 << 20, 100);
	index_init(&b2, 1 << 20, 100);
	for (uint32_t i = 0; i < 100; i++) {
		assert_int_equal(index_add_offset(&a, (1 << 20) + 3 * i, 17 * i), 0);
		assert_int_equal(index_add_time(&a, 1700000000000LL + i * (i % 3), (1 << 20) + 3 * i),
				 0);
	}
	assert_int_equal(index_load(&b2, a.si_off, index_offset_bytes(&a), a.si_time,
				    index_time_bytes(&a), 17 * 99 + 1),
			 0);
	assert_int_equal(b2.si_off_count, a.si_off_count);
	assert_int_equal(b2.si_time_count, a.si_time_count);
	assert_memory_equal(b2.si_off, a.si_off, index_offset_bytes(&a));
	assert_memory_equal(b2.si_time, a.si_time, index_time_bytes(&a));
	index_deinit(&a);
	index_deinit(&b2);
	index_deinit(&ix);
}

static void expect_corrupt(const uint8_t *off, size_t off_len, const uint8_t *tim, size_t tim_len,
			   uint64_t log_size, uint32_t max)
{
	struct seg_index ix;
	index_init(&ix, 0, max);
	/* Start non-empty: a refused load must leave the index empty. */
	assert_int_equal(index_add_offset(&ix, 0, 0), 0);
	assert_int_equal(index_add_time(&ix, 1, 0), 0);
	/* Exact-size heap copies so that ASan sees any over-read. */
	uint8_t *o = malloc(off_len ? off_len : 1), *t = malloc(tim_len ? tim_len : 1);
	assert_non_null(o);
	assert_non_null(t);
	if (off_len)
		memcpy(o, off, off_len);
	if (tim_len)
		memcpy(t, tim, tim_len);
	assert_int_equal(index_load(&ix, o, off_len, t, tim_len, log_size), RL_ECORRUPT);
	assert_int_equal(ix.si_off_count, 0);
	assert_int_equal(ix.si_time_count, 0);
	int64_t ro;
	uint32_t rp;
	assert_int_equal(lookup_off(&ix, INT64_MAX, &ro, &rp), 0);
	free(o);
	free(t);
	index_deinit(&ix);
}

static void test_load_corrupt(void **state)
{
	(void)state;
	uint8_t off[4 * 8], tim[3 * 12];
	enc_off(off + 0, 0, 0);
	enc_off(off + 8, 5, 100);
	enc_off(off + 16, 9, 200);
	enc_off(off + 24, 12, 300);
	enc_time(tim + 0, 10, 0);
	enc_time(tim + 12, 20, 5);
	enc_time(tim + 24, 30, 9);
	/* The base case is valid. */
	{
		struct seg_index ix;
		index_init(&ix, 0, 16);
		assert_int_equal(index_load(&ix, off, sizeof(off), tim, sizeof(tim), 301), 0);
		index_deinit(&ix);
	}

	/* Sizes that are not a multiple of the entry size. */
	for (size_t len = 1; len < sizeof(off); len++)
		if (len % 8)
			expect_corrupt(off, len, tim, sizeof(tim), 301, 16);
	for (size_t len = 1; len < sizeof(tim); len++)
		if (len % 12)
			expect_corrupt(off, sizeof(off), tim, len, 301, 16);

	uint8_t bad[sizeof(off)];
	/* Offsets not increasing: equal, then lower. */
	memcpy(bad, off, sizeof(off));
	enc_off(bad + 16, 5, 200);
	expect_corrupt(bad, sizeof(bad), tim, sizeof(tim), 301, 16);
	enc_off(bad + 16, 4, 200);
	expect_corrupt(bad, sizeof(bad), tim, sizeof(tim), 301, 16);
	/* Positions not increasing: equal, then lower. */
	memcpy(bad, off, sizeof(off));
	enc_off(bad + 24, 12, 200);
	expect_corrupt(bad, sizeof(bad), tim, sizeof(tim), 301, 16);
	enc_off(bad + 24, 12, 150);
	expect_corrupt(bad, sizeof(bad), tim, sizeof(tim), 301, 16);
	/* A first entry that is fine alone, then a wrap-around. */
	memcpy(bad, off, sizeof(off));
	enc_off(bad + 8, 0xffffffffu, 100);
	expect_corrupt(bad, sizeof(bad), tim, sizeof(tim), 301, 16);

	/* Positions at or past the log size. */
	expect_corrupt(off, sizeof(off), tim, sizeof(tim), 300, 16);
	expect_corrupt(off, sizeof(off), tim, sizeof(tim), 10, 16);
	expect_corrupt(off, 8, tim, 12, 0, 16); /* position 0 of an empty log */

	/* Offset entries without time entries. */
	expect_corrupt(off, sizeof(off), NULL, 0, 301, 16);
	expect_corrupt(off, 8, NULL, 0, 301, 16);

	/* Time entries: timestamps not increasing, offsets decreasing. */
	uint8_t tbad[sizeof(tim)];
	memcpy(tbad, tim, sizeof(tim));
	enc_time(tbad + 24, 20, 9);
	expect_corrupt(off, sizeof(off), tbad, sizeof(tbad), 301, 16);
	enc_time(tbad + 24, 19, 9);
	expect_corrupt(off, sizeof(off), tbad, sizeof(tbad), 301, 16);
	memcpy(tbad, tim, sizeof(tim));
	enc_time(tbad + 24, 30, 4);
	expect_corrupt(off, sizeof(off), tbad, sizeof(tbad), 301, 16);
	/* ... but an offset that repeats with a larger timestamp is valid. */
	enc_time(tbad + 24, 30, 5);
	{
		struct seg_index ix;
		index_init(&ix, 0, 16);
		assert_int_equal(index_load(&ix, off, sizeof(off), tbad, sizeof(tbad), 301), 0);
		index_deinit(&ix);
	}

	/* More entries than the index may hold. */
	expect_corrupt(off, sizeof(off), tim, sizeof(tim), 301, 3);
	expect_corrupt(off, 8, tim, sizeof(tim), 301, 2);
}

/* ---- randomized, against a model -------------------------------------- */

struct model {
	int64_t base;
	uint32_t max;
	uint32_t noff, ntime;
	int64_t *off_o;
	uint32_t *off_p;
	int64_t *time_t;
	int64_t *time_o;
};

static int model_add_offset(struct model *m, int64_t offset, uint32_t pos)
{
	int64_t d = offset - m->base;
	if (d < 0 || d > (int64_t)UINT32_MAX)
		return RL_EORDER;
	if (m->noff && (offset <= m->off_o[m->noff - 1] || pos <= m->off_p[m->noff - 1]))
		return RL_EORDER;
	if (m->noff == m->max)
		return RL_EFULL;
	m->off_o[m->noff] = offset;
	m->off_p[m->noff] = pos;
	m->noff++;
	return 0;
}

static int model_add_time(struct model *m, int64_t ts, int64_t offset)
{
	int64_t d = offset - m->base;
	if (d < 0 || d > (int64_t)UINT32_MAX)
		return RL_EORDER;
	if (m->ntime && ts <= m->time_t[m->ntime - 1])
		return 0;
	if (m->ntime && offset < m->time_o[m->ntime - 1])
		return RL_EORDER;
	if (m->ntime == m->max)
		return RL_EFULL;
	m->time_t[m->ntime] = ts;
	m->time_o[m->ntime] = offset;
	m->ntime++;
	return 0;
}

static void model_truncate(struct model *m, int64_t offset)
{
	while (m->noff && m->off_o[m->noff - 1] >= offset)
		m->noff--;
	while (m->ntime && m->time_o[m->ntime - 1] >= offset)
		m->ntime--;
}

static void model_check(const struct model *m, const struct seg_index *ix)
{
	assert_int_equal(ix->si_off_count, m->noff);
	assert_int_equal(ix->si_time_count, m->ntime);
	for (uint32_t i = 0; i < m->noff; i++) {
		uint8_t e[8];
		enc_off(e, (uint32_t)(m->off_o[i] - m->base), m->off_p[i]);
		assert_memory_equal(ix->si_off + (size_t)i * 8, e, 8);
	}
	for (uint32_t i = 0; i < m->ntime; i++) {
		uint8_t e[12];
		enc_time(e, m->time_t[i], (uint32_t)(m->time_o[i] - m->base));
		assert_memory_equal(ix->si_time + (size_t)i * 12, e, 12);
	}
}

static void model_lookups(const struct model *m, const struct seg_index *ix, int64_t target)
{
	/* Linear scans: the obvious reading of the contract. */
	int found = 0;
	int64_t want_o = -7;
	uint32_t want_p = 7777;
	for (uint32_t i = 0; i < m->noff; i++)
		if (m->off_o[i] <= target) {
			found = 1;
			want_o = m->off_o[i];
			want_p = m->off_p[i];
		}
	int64_t o;
	uint32_t p;
	assert_int_equal(lookup_off(ix, target, &o, &p), found);
	assert_int_equal(o, want_o);
	assert_int_equal(p, want_p);
}

static void model_time_lookup(const struct model *m, const struct seg_index *ix, int64_t target)
{
	int found = 0;
	int64_t want = -7;
	for (uint32_t i = 0; i < m->ntime; i++)
		if (m->time_t[i] < target) {
			found = 1;
			want = m->time_o[i];
		}
	int64_t o;
	assert_int_equal(lookup_time(ix, target, &o), found);
	assert_int_equal(o, want);
}

static void test_random_against_model(void **state)
{
	(void)state;
	uint64_t seed = tu_seed(0x1dec5eedULL);
	static const uint32_t maxes[] = {1, 5, 40, 64, 100, 700};
	for (int round = 0; round < 60; round++) {
		struct model m = {
			.base = (int64_t)(tu_rand(&seed) % ((uint64_t)1 << 40)),
			.max = maxes[tu_rand(&seed) % (sizeof(maxes) / sizeof(maxes[0]))],
		};
		m.off_o = calloc(m.max, sizeof(*m.off_o));
		m.off_p = calloc(m.max, sizeof(*m.off_p));
		m.time_t = calloc(m.max, sizeof(*m.time_t));
		m.time_o = calloc(m.max, sizeof(*m.time_o));
		assert_true(m.off_o && m.off_p && m.time_t && m.time_o);
		struct seg_index ix;
		index_init(&ix, m.base, m.max);
		int64_t last_off = m.base, last_ts = (int64_t)(tu_rand(&seed) % 1000) - 500;
		uint32_t last_pos = 0;

		for (int step = 0; step < 1500; step++) {
			uint64_t r = tu_rand(&seed);
			int kind = (int)(r % 100);
			if (kind < 35) {
				int64_t offset = last_off + (int64_t)(tu_rand(&seed) % 6) - 1;
				uint32_t pos = last_pos + (uint32_t)(tu_rand(&seed) % 5000);
				if (tu_rand(&seed) % 50 == 0)
					offset = m.base + (int64_t)(tu_rand(&seed) % 3) - 1 +
						 (tu_rand(&seed) % 2 ? (int64_t)UINT32_MAX : 0);
				int want = model_add_offset(&m, offset, pos);
				assert_int_equal(index_add_offset(&ix, offset, pos), want);
				if (want == 0) {
					last_off = offset;
					last_pos = pos;
				}
			} else if (kind < 70) {
				int64_t ts = last_ts + (int64_t)(tu_rand(&seed) % 7) - 3;
				int64_t offset = last_off + (int64_t)(tu_rand(&seed) % 4) - 1;
				int want = model_add_time(&m, ts, offset);
				assert_int_equal(index_add_time(&ix, ts, offset), want);
				if (m.ntime)
					last_ts = m.time_t[m.ntime - 1];
			} else if (kind < 73) {
				int64_t span = last_off - m.base + 3;
				int64_t at = m.base - 1 + (int64_t)(tu_rand(&seed) % (uint64_t)span);
				model_truncate(&m, at);
				index_truncate(&ix, at);
				last_off = m.noff ? m.off_o[m.noff - 1] : m.base;
				last_pos = m.noff ? m.off_p[m.noff - 1] : 0;
			} else if (kind < 74) {
				/* Persist and load into a fresh index. */
				uint64_t log_size = m.noff ? (uint64_t)m.off_p[m.noff - 1] + 1 : 0;
				struct seg_index ld;
				index_init(&ld, m.base, m.max);
				int want = m.noff && !m.ntime ? RL_ECORRUPT : 0;
				assert_int_equal(index_load(&ld, ix.si_off, index_offset_bytes(&ix),
							    ix.si_time, index_time_bytes(&ix),
							    log_size),
						 want);
				if (want == 0)
					model_check(&m, &ld);
				if (m.noff)
					assert_int_equal(index_load(&ld, ix.si_off,
								    index_offset_bytes(&ix),
								    ix.si_time, index_time_bytes(&ix),
								    log_size - 1),
							 RL_ECORRUPT);
				index_deinit(&ld);
			} else {
				int64_t span = last_off - m.base + 10;
				model_lookups(&m, &ix, m.base - 5 + (int64_t)(tu_rand(&seed) % (uint64_t)span));
				model_time_lookup(&m, &ix, last_ts - 20 + (int64_t)(tu_rand(&seed) % 40));
			}
			model_check(&m, &ix);
		}
		model_lookups(&m, &ix, INT64_MIN);
		model_lookups(&m, &ix, INT64_MAX);
		model_time_lookup(&m, &ix, INT64_MIN);
		model_time_lookup(&m, &ix, INT64_MAX);
		index_deinit(&ix);
		free(m.off_o);
		free(m.off_p);
		free(m.time_t);
		free(m.time_o);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_offset_lookup_boundaries),
		cmocka_unit_test(test_time_lookup),
		cmocka_unit_test(test_add_offset_order),
		cmocka_unit_test(test_add_time_rules),
		cmocka_unit_test(test_max_entries),
		cmocka_unit_test(test_file_encoding),
		cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_load_valid),
		cmocka_unit_test(test_load_corrupt),
		cmocka_unit_test(test_random_against_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
