/* Description: CRC-32C known vectors; hw and slicing-by-8 agree everywhere; chaining; races. */
#include "testutil.h"

#include <pthread.h>

#include "crc32c.h"

/* cmocka 1.1 reports skip() as "not ok N # SKIP", which meson's TAP parser
 * counts as a failure; so a test that cannot run here says why in a TAP
 * diagnostic and passes. */
#define SKIP_UNLESS(cond, why)                                                                     \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			print_message("# SKIP %s: %s\n", __func__, why);                           \
			return;                                                                    \
		}                                                                                  \
	} while (0)

typedef uint32_t (*crc_fn)(uint32_t, const void *, size_t);

struct crc_impl {
	const char *ci_name;
	crc_fn ci_fn;
};

/* The implementations this machine can run: dispatcher, software, and
 * hardware when the CPU has SSE4.2. */
static int crc_impls(struct crc_impl out[3])
{
	int n = 0;
	out[n++] = (struct crc_impl){"crc32c", crc32c};
	out[n++] = (struct crc_impl){"crc32c_sw", crc32c_sw};
	if (crc32c_hw_available())
		out[n++] = (struct crc_impl){"crc32c_hw", crc32c_hw};
	return n;
}

static void fill_random(uint8_t *buf, size_t len, uint64_t *seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)tu_rand(seed);
}

/* Runs first, before anything else has touched the module: eight threads
 * race through the one-time table set-up and must all get the right answer. */
struct race_arg {
	pthread_barrier_t *ra_barrier;
	uint32_t ra_result;
};

static void *race_thread(void *p)
{
	struct race_arg *a = p;
	pthread_barrier_wait(a->ra_barrier);
	a->ra_result = crc32c_sw(0, "123456789", 9) ^ crc32c(0, "123456789", 9);
	a->ra_result |= crc32c(0, "123456789", 9) == 0xE3069283u ? 0 : 1;
	return NULL;
}

static void test_concurrent_first_use(void **state)
{
	(void)state;
	enum { THREADS = 8 };
	pthread_t t[THREADS];
	struct race_arg args[THREADS];
	pthread_barrier_t barrier;
	assert_int_equal(pthread_barrier_init(&barrier, NULL, THREADS), 0);
	for (int i = 0; i < THREADS; i++) {
		args[i] = (struct race_arg){&barrier, 0xffffffffu};
		assert_int_equal(pthread_create(&t[i], NULL, race_thread, &args[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(args[i].ra_result, 0);
	}
	pthread_barrier_destroy(&barrier);
}

static void test_check_value(void **state)
{
	(void)state;
	struct crc_impl impls[3];
	int n = crc_impls(impls);
	for (int i = 0; i < n; i++) {
		assert_int_equal(impls[i].ci_fn(0, "123456789", 9), 0xE3069283u);
		assert_int_equal(impls[i].ci_fn(0, "", 0), 0);
		assert_int_equal(impls[i].ci_fn(0, NULL, 0), 0);
		/* An empty buffer leaves any running CRC unchanged. */
		assert_int_equal(impls[i].ci_fn(0xDEADBEEFu, "", 0), 0xDEADBEEFu);
		assert_int_equal(impls[i].ci_fn(0, "a", 1), 0xC1D04330u);
	}
}

/* RFC 3720 (iSCSI), appendix B.4. */
static void test_rfc3720_vectors(void **state)
{
	(void)state;
	uint8_t zeros[32], ones[32], inc[32], dec[32];
	memset(zeros, 0, sizeof(zeros));
	memset(ones, 0xff, sizeof(ones));
	for (int i = 0; i < 32; i++) {
		inc[i] = (uint8_t)i;
		dec[i] = (uint8_t)(31 - i);
	}
	/* An iSCSI SCSI Read (10) command PDU, also from B.4. */
	static const uint8_t read10[48] = {
		0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
		0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};

	struct crc_impl impls[3];
	int n = crc_impls(impls);
	for (int i = 0; i < n; i++) {
		assert_int_equal(impls[i].ci_fn(0, zeros, 32), 0x8A9136AAu);
		assert_int_equal(impls[i].ci_fn(0, ones, 32), 0x62A8AB43u);
		assert_int_equal(impls[i].ci_fn(0, inc, 32), 0x46DD794Eu);
		assert_int_equal(impls[i].ci_fn(0, dec, 32), 0x113FDB5Cu);
		assert_int_equal(impls[i].ci_fn(0, read10, 48), 0xD9963A56u);
	}
}

/* The definition, one bit at a time: an oracle sharing no code or tables
 * with the library. */
static uint32_t crc32c_bitwise(uint32_t crc, const uint8_t *p, size_t len)
{
	crc = ~crc;
	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (int bit = 0; bit < 8; bit++)
			crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
	}
	return ~crc;
}

static void test_sw_matches_bitwise_definition(void **state)
{
	(void)state;
	uint64_t seed = tu_seed(0xB1715E);
	uint8_t buf[300 + 8];
	for (size_t len = 0; len <= 300; len++) {
		size_t align = tu_rand(&seed) % 8;
		fill_random(buf + align, len, &seed);
		uint32_t init = len % 3 ? (uint32_t)tu_rand(&seed) : 0;
		uint32_t want = crc32c_bitwise(init, buf + align, len);
		assert_int_equal(crc32c_sw(init, buf + align, len), want);
		assert_int_equal(crc32c(init, buf + align, len), want);
	}
}

static void test_hw_matches_sw_every_length_and_alignment(void **state)
{
	(void)state;
	SKIP_UNLESS(crc32c_hw_available(), "no SSE4.2 crc32 on this CPU");
	uint64_t seed = tu_seed(0xC4C32C);
	static uint8_t buf[300 + 16];
	for (size_t len = 0; len <= 300; len++) {
		for (size_t align = 0; align < 8; align++) {
			uint8_t *p = buf + align;
			fill_random(p, len, &seed);
			uint32_t init = (uint32_t)tu_rand(&seed);
			uint32_t sw = crc32c_sw(init, p, len);
			uint32_t hw = crc32c_hw(init, p, len);
			if (sw != hw)
				fail_msg("len %zu align %zu init %08x: sw %08x hw %08x", len, align,
					 init, sw, hw);
			assert_int_equal(crc32c(init, p, len), sw);
		}
	}
}

static void test_hw_lanes_join_at_every_boundary(void **state)
{
	(void)state;
	SKIP_UNLESS(crc32c_hw_available(), "no SSE4.2 crc32 on this CPU");
	/* The hardware path runs three 2 KiB lanes at once and joins them:
	 * lengths just around whole blocks of 6 KiB, at every alignment, with
	 * any starting CRC, must match the software path. */
	uint64_t seed = tu_seed(0x1A4E5);
	static uint8_t buf[4 * 6144 + 64];
	fill_random(buf, sizeof(buf), &seed);
	for (size_t blocks = 1; blocks <= 4; blocks++)
		for (size_t delta = 0; delta < 24; delta++)
			for (size_t align = 0; align < 8; align++) {
				size_t len = blocks * 6144 + delta - 12;
				uint32_t init = (uint32_t)tu_rand(&seed);
				uint32_t sw = crc32c_sw(init, buf + align, len);
				uint32_t hw = crc32c_hw(init, buf + align, len);
				if (sw != hw)
					fail_msg("len %zu align %zu: sw %08x hw %08x", len, align,
						 sw, hw);
			}
}

static void test_hw_matches_sw_large_random(void **state)
{
	(void)state;
	SKIP_UNLESS(crc32c_hw_available(), "no SSE4.2 crc32 on this CPU");
	uint64_t seed = tu_seed(0x5EED);
	enum { BIG = 1 << 20 };
	uint8_t *buf = malloc(BIG + 8);
	assert_non_null(buf);
	fill_random(buf, BIG + 8, &seed);
	for (int round = 0; round < 16; round++) {
		size_t off = tu_rand(&seed) % 8;
		size_t len = tu_rand(&seed) % BIG;
		assert_int_equal(crc32c_hw(0, buf + off, len), crc32c_sw(0, buf + off, len));
	}
	free(buf);
}

/* crc(crc(a), b) == crc(a || b) for every split point, every implementation. */
static void test_chaining(void **state)
{
	(void)state;
	uint64_t seed = tu_seed(0xC0FFEE);
	uint8_t buf[257];
	fill_random(buf, sizeof(buf), &seed);
	struct crc_impl impls[3];
	int n = crc_impls(impls);
	for (int i = 0; i < n; i++) {
		uint32_t whole = impls[i].ci_fn(0, buf, sizeof(buf));
		for (size_t cut = 0; cut <= sizeof(buf); cut++) {
			uint32_t c = impls[i].ci_fn(0, buf, cut);
			c = impls[i].ci_fn(c, buf + cut, sizeof(buf) - cut);
			if (c != whole)
				fail_msg("%s: split at %zu gives %08x, whole %08x",
					 impls[i].ci_name, cut, c, whole);
		}
		/* Three pieces, and byte by byte. */
		uint32_t c = impls[i].ci_fn(0, buf, 3);
		c = impls[i].ci_fn(c, buf + 3, 100);
		c = impls[i].ci_fn(c, buf + 103, sizeof(buf) - 103);
		assert_int_equal(c, whole);
		c = 0;
		for (size_t k = 0; k < sizeof(buf); k++)
			c = impls[i].ci_fn(c, buf + k, 1);
		assert_int_equal(c, whole);
	}
	/* And implementations can hand a running CRC to one another. */
	uint32_t mixed = crc32c_sw(0, buf, 77);
	mixed = crc32c(mixed, buf + 77, sizeof(buf) - 77);
	assert_int_equal(mixed, crc32c_sw(0, buf, sizeof(buf)));
}

/* Every single-bit flip changes the CRC (a CRC detects all 1-bit errors). */
static void test_detects_single_bit_flips(void **state)
{
	(void)state;
	uint8_t buf[64];
	uint64_t seed = tu_seed(0xB17);
	fill_random(buf, sizeof(buf), &seed);
	uint32_t good = crc32c(0, buf, sizeof(buf));
	for (size_t bit = 0; bit < sizeof(buf) * 8; bit++) {
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_not_equal(crc32c(0, buf, sizeof(buf)), good);
		assert_int_not_equal(crc32c_sw(0, buf, sizeof(buf)), good);
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	assert_int_equal(crc32c(0, buf, sizeof(buf)), good);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrent_first_use),
		cmocka_unit_test(test_check_value),
		cmocka_unit_test(test_rfc3720_vectors),
		cmocka_unit_test(test_sw_matches_bitwise_definition),
		cmocka_unit_test(test_hw_matches_sw_every_length_and_alignment),
		cmocka_unit_test(test_hw_lanes_join_at_every_boundary),
		cmocka_unit_test(test_hw_matches_sw_large_random),
		cmocka_unit_test(test_chaining),
		cmocka_unit_test(test_detects_single_bit_flips),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
