/* Description: zstd for records regions: round trips, output caps, hostile and corrupt frames. */
#include "testutil.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <zstd.h>

#include "batch.h"
#include "compress.h"
#include "rlerr.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

static uint8_t *xmalloc(size_t n)
{
	uint8_t *p = malloc(n ? n : 1);
	assert_non_null(p);
	return p;
}

/* Data of a given flavour: 0 zeros, 1 repetitive text, 2 random bytes. */
static void fill(uint8_t *p, size_t n, int flavour, uint64_t *seed)
{
	static const char text[] = "zstd-payload-";
	for (size_t i = 0; i < n; i++) {
		if (flavour == 0)
			p[i] = 0;
		else if (flavour == 1)
			p[i] = (uint8_t)text[i % (sizeof(text) - 1)];
		else
			p[i] = (uint8_t)tu_rand(seed);
	}
}

/* Compress with zstd's own API, optionally without a content size, to get
 * frames our compress_zstd would never write. */
static size_t zstd_frame(uint8_t *dst, size_t cap, const uint8_t *src, size_t len, int with_size,
                         int with_checksum)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	assert_non_null(c);
	assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, with_size)));
	assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, with_checksum)));
	size_t n = ZSTD_compress2(c, dst, cap, src, len);
	ZSTD_freeCCtx(c);
	assert_false(ZSTD_isError(n));
	return n;
}

static void test_roundtrip(void **state)
{
	(void)state;
	uint64_t seed = tu_seed(0xC0DEC);
	const size_t sizes[] = {0, 1, 7, 100, 1345, 4096, 65537, 1 << 20};
	const int levels[] = {-5, 1, 3, 9};
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		for (int flavour = 0; flavour < 3; flavour++) {
			size_t n = sizes[s];
			uint8_t *src = xmalloc(n);
			fill(src, n, flavour, &seed);
			int level = levels[(s + (size_t)flavour) % 4];
			size_t zcap = ZSTD_compressBound(n);
			uint8_t *z = xmalloc(zcap);
			int64_t zn = compress_zstd(z, zcap, src, n, level);
			assert_true(zn > 0);
			assert_memory_equal(z, "\x28\xb5\x2f\xfd", 4);
			assert_int_equal(ZSTD_getFrameContentSize(z, (size_t)zn), n);
			if (flavour != 2 && n >= 1000)
				assert_true((size_t)zn < n / 4);

			/* Into a block of exactly the content size: writes stay inside. */
			uint8_t *out = xmalloc(n);
			assert_int_equal(decompress_zstd(out, n, z, (size_t)zn), (int64_t)n);
			if (n)
				assert_memory_equal(out, src, n);
			/* One byte less room: refused from the declared size. */
			if (n > 0)
				assert_int_equal(decompress_zstd(out, n - 1, z, (size_t)zn),
				                 RL_ETOO_LARGE);
			/* Through the codec dispatcher too. */
			assert_int_equal(
			        decompress_records(BATCH_CODEC_ZSTD, out, n, z, (size_t)zn),
			        (int64_t)n);
			free(out);
			free(z);
			free(src);
		}
	}
}

static void test_compress_cap(void **state)
{
	(void)state;
	uint64_t seed = 1;
	uint8_t src[4096], dst[8192];
	fill(src, sizeof(src), 2, &seed);
	/* Random data does not shrink: less room than the input is refused. */
	assert_int_equal(compress_zstd(dst, sizeof(src) - 1, src, sizeof(src), 3), RL_ETOO_LARGE);
	assert_int_equal(compress_zstd(dst, 0, src, sizeof(src), 3), RL_ETOO_LARGE);
	assert_int_equal(compress_zstd(NULL, 0, src, sizeof(src), 3), RL_ETOO_LARGE);
	int64_t n = compress_zstd(dst, sizeof(dst), src, sizeof(src), 3);
	assert_true(n > (int64_t)sizeof(src));
	/* Exactly enough room works. */
	uint8_t *exact = xmalloc((size_t)n);
	assert_int_equal(compress_zstd(exact, (size_t)n, src, sizeof(src), 3), n);
	assert_memory_equal(exact, dst, (size_t)n);
	free(exact);
}

/* A frame without a declared size is still held to `cap` while decoding. */
static void test_undeclared_size_capped(void **state)
{
	(void)state;
	uint64_t seed = 2;
	enum { N = 50000 };
	uint8_t *src = xmalloc(N);
	fill(src, N, 1, &seed);
	uint8_t z[4096];
	size_t zn = zstd_frame(z, sizeof(z), src, N, 0, 0);
	assert_true(ZSTD_getFrameContentSize(z, zn) == ZSTD_CONTENTSIZE_UNKNOWN);

	uint8_t *out = xmalloc(N);
	assert_int_equal(decompress_zstd(out, N, z, zn), N);
	assert_memory_equal(out, src, N);
	const size_t small_caps[] = {0, 1, 100, N / 2, N - 1};
	for (size_t i = 0; i < sizeof(small_caps) / sizeof(small_caps[0]); i++) {
		uint8_t *o = xmalloc(small_caps[i]);
		assert_int_equal(decompress_zstd(o, small_caps[i], z, zn), RL_ETOO_LARGE);
		free(o);
	}
	free(out);
	free(src);
}

/* Several frames back to back decode as their concatenation; skippable
 * frames are skipped; the cap applies to the sum. */
static void test_concatenated_frames(void **state)
{
	(void)state;
	uint64_t seed = 3;
	enum { A = 3000, B = 777, C = 5000 };
	uint8_t *plain = xmalloc(A + B + C);
	fill(plain, A, 1, &seed);
	fill(plain + A, B, 2, &seed);
	fill(plain + A + B, C, 0, &seed);

	uint8_t blob[16384];
	size_t len = 0;
	len += zstd_frame(blob + len, sizeof(blob) - len, plain, A, 1, 0);
	/* A skippable frame: magic 0x184D2A5?, 4-byte size, payload. */
	static const uint8_t skippable[] = {0x53, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 'x', 'y', 'z'};
	memcpy(blob + len, skippable, sizeof(skippable));
	len += sizeof(skippable);
	len += zstd_frame(blob + len, sizeof(blob) - len, plain + A, B, 0, 1);
	len += zstd_frame(blob + len, sizeof(blob) - len, plain + A + B, C, 1, 1);

	uint8_t *out = xmalloc(A + B + C);
	assert_int_equal(decompress_zstd(out, A + B + C, blob, len), A + B + C);
	assert_memory_equal(out, plain, A + B + C);

	/* Each declared frame fits on its own; together they do not. */
	assert_int_equal(decompress_zstd(out, A + C - 1, blob, len), RL_ETOO_LARGE);
	/* Declared ones fit, the undeclared middle one tips it over. */
	assert_int_equal(decompress_zstd(out, A + B + C - 1, blob, len), RL_ETOO_LARGE);

	/* Junk after the last frame is not a frame. */
	blob[len] = 0x00;
	assert_int_equal(decompress_zstd(out, A + B + C, blob, len + 1), RL_ECOMPRESSION);
	free(out);
	free(plain);
}

/* A hand-made frame: 4-byte magic, descriptor, optional window byte, an
 * 8-byte content size, then one raw last block holding `payload`. */
static size_t raw_frame(uint8_t *out, uint64_t content_size, const char *payload)
{
	size_t n = 0, plen = strlen(payload);
	memcpy(out, "\x28\xb5\x2f\xfd", 4);
	n = 4;
	out[n++] = 0xc0; /* FCS 8 bytes, not single-segment, no checksum */
	out[n++] = 0x00; /* window 1 KiB */
	for (int i = 0; i < 8; i++)
		out[n++] = (uint8_t)(content_size >> (8 * i));
	uint32_t bh = 1u | 0u << 1 | (uint32_t)plen << 3; /* last, raw, size */
	out[n++] = (uint8_t)bh;
	out[n++] = (uint8_t)(bh >> 8);
	out[n++] = (uint8_t)(bh >> 16);
	memcpy(out + n, payload, plen);
	return n + plen;
}

static void test_huge_declared_size_refused(void **state)
{
	(void)state;
	uint8_t frame[64];
	uint8_t out[64];
	const uint64_t claims[] = {65, 1u << 20, 1ull << 40, (1ull << 63) + 5, UINT64_MAX - 2};
	for (size_t i = 0; i < sizeof(claims) / sizeof(claims[0]); i++) {
		size_t n = raw_frame(frame, claims[i], "abc");
		int64_t rc = decompress_zstd(out, sizeof(out), frame, n);
		if (rc != RL_ETOO_LARGE)
			fail_msg("claim %llu: %s", (unsigned long long)claims[i],
			         rl_strerror((int)rc));
	}
	/* A frame that declares 60 bytes but holds 3 is corrupt, not short. */
	size_t n = raw_frame(frame, 60, "abc");
	assert_int_equal(decompress_zstd(out, sizeof(out), frame, n), RL_ECOMPRESSION);
	/* Declares what it holds: fine. */
	n = raw_frame(frame, 3, "abc");
	assert_int_equal(decompress_zstd(out, sizeof(out), frame, n), 3);
	assert_memory_equal(out, "abc", 3);
}

/* Under ASan the address-space limit below cannot work (ASan reserves
 * terabytes for its shadow), so cap single allocations in ASan's own
 * allocator instead; a refused malloc then returns NULL, which zstd reports
 * as an allocation error and the test sees as a failure. */
#if UNDER_ASAN
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1:max_allocation_size_mb=256";
}
#endif

/* A frame that asks for a 2 GiB window but holds 3 bytes decodes into a
 * small buffer without that window ever being allocated. Streaming
 * decompression would try to allocate the window; one-shot decoding into
 * the caller's buffer must not. Checked in a child whose address space
 * cannot hold 2 GiB (or, under ASan, with allocations capped at 256 MiB). */
static int decode_huge_window_frame(void)
{
	static const uint8_t frame[] = {
	        0x28, 0xb5, 0x2f, 0xfd, /* magic */
	        0x00,                   /* no content size, windowed */
	        0xa8,                   /* window log 10 + 21 = 31: 2 GiB */
	        0x19, 0x00, 0x00,       /* last raw block of 3 bytes */
	        'a',  'b',  'c',
	};
	uint8_t out[16];
	int64_t rc = decompress_zstd(out, sizeof(out), frame, sizeof(frame));
	return rc == 3 && memcmp(out, "abc", 3) == 0 ? 0 : 1;
}

static void test_huge_window_not_allocated(void **state)
{
	(void)state;
	if (UNDER_ASAN) {
		assert_int_equal(decode_huge_window_frame(), 0);
		return;
	}
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		long pages = 0;
		FILE *f = fopen("/proc/self/statm", "r");
		if (!f || fscanf(f, "%ld", &pages) != 1)
			_exit(2);
		fclose(f);
		rlim_t now = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE);
		struct rlimit lim = {now + (256u << 20), now + (256u << 20)};
		if (setrlimit(RLIMIT_AS, &lim) != 0)
			_exit(3);
		_exit(decode_huge_window_frame());
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_corrupt_frames(void **state)
{
	(void)state;
	uint64_t seed = tu_seed(0xBAD);
	uint8_t src[2000];
	fill(src, sizeof(src), 1, &seed);
	uint8_t z[1024];
	int64_t zn = compress_zstd(z, sizeof(z), src, sizeof(src), 3);
	assert_true(zn > 8);
	uint8_t out[4096];

	/* Empty input, and no frame at all. */
	assert_int_equal(decompress_zstd(out, sizeof(out), z, 0), RL_ECOMPRESSION);
	assert_int_equal(decompress_zstd(out, sizeof(out), NULL, 0), RL_ECOMPRESSION);
	assert_int_equal(decompress_zstd(out, sizeof(out), (const uint8_t *)"hello, world", 12),
	                 RL_ECOMPRESSION);

	/* Wrong magic; a legacy (v0.7) magic; gzip's magic. */
	uint8_t bad[1024];
	memcpy(bad, z, (size_t)zn);
	bad[0] ^= 1;
	assert_int_equal(decompress_zstd(out, sizeof(out), bad, (size_t)zn), RL_ECOMPRESSION);
	memcpy(bad, "\x27\xb5\x2f\xfd", 4);
	assert_int_equal(decompress_zstd(out, sizeof(out), bad, (size_t)zn), RL_ECOMPRESSION);
	memcpy(bad, "\x1f\x8b\x08\x00", 4);
	assert_int_equal(decompress_zstd(out, sizeof(out), bad, (size_t)zn), RL_ECOMPRESSION);

	/* Every proper prefix of a frame, in an exact-size block. */
	for (size_t cut = 0; cut < (size_t)zn; cut++) {
		uint8_t *p = xmalloc(cut);
		memcpy(p, z, cut);
		int64_t rc = decompress_zstd(out, sizeof(out), p, cut);
		if (rc != RL_ECOMPRESSION)
			fail_msg("prefix %zu of %lld: %s", cut, (long long)zn,
			         rl_strerror((int)rc));
		free(p);
	}

	/* A reserved block type. */
	uint8_t frame[64];
	size_t n = raw_frame(frame, 3, "abc");
	frame[14] |= 0x06;
	assert_int_equal(decompress_zstd(out, sizeof(out), frame, n), RL_ECOMPRESSION);

	/* With a content checksum, a flipped payload byte is always caught. */
	uint8_t zc[1024];
	size_t zcn = zstd_frame(zc, sizeof(zc), src, sizeof(src), 1, 1);
	for (size_t i = 6; i < zcn; i++) {
		zc[i] ^= 0x10;
		int64_t rc = decompress_zstd(out, sizeof(out), zc, zcn);
		assert_true(rc == RL_ECOMPRESSION || rc == RL_ETOO_LARGE);
		zc[i] ^= 0x10;
	}
	assert_int_equal(decompress_zstd(out, sizeof(out), zc, zcn), (int64_t)sizeof(src));
}

/* Random damage never escapes the cap or the input. */
static void test_random_damage_is_bounded(void **state)
{
	(void)state;
	uint64_t seed = tu_seed(0xDA4A6E);
	uint8_t src[3000];
	fill(src, sizeof(src), 1, &seed);
	fill(src + 1500, 300, 2, &seed);
	uint8_t z[2048];
	int64_t zn = compress_zstd(z, sizeof(z), src, sizeof(src), 5);
	assert_true(zn > 0);
	for (int round = 0; round < 3000; round++) {
		uint8_t *p = xmalloc((size_t)zn);
		memcpy(p, z, (size_t)zn);
		int flips = 1 + (int)(tu_rand(&seed) % 4);
		for (int f = 0; f < flips; f++)
			p[tu_rand(&seed) % (uint64_t)zn] ^= (uint8_t)(1 + tu_rand(&seed) % 255);
		size_t cap = 1 + tu_rand(&seed) % 4000;
		uint8_t *out = xmalloc(cap);
		int64_t rc = decompress_zstd(out, cap, p, (size_t)zn);
		assert_true(rc == RL_ECOMPRESSION || rc == RL_ETOO_LARGE ||
		            (rc >= 0 && (size_t)rc <= cap));
		free(out);
		free(p);
	}
	/* Pure noise, of every small length. */
	for (size_t len = 0; len < 200; len++) {
		uint8_t *p = xmalloc(len);
		fill(p, len, 2, &seed);
		if (len >= 4 && len % 2)
			memcpy(p, "\x28\xb5\x2f\xfd", 4);
		uint8_t out[256];
		int64_t rc = decompress_zstd(out, sizeof(out), p, len);
		assert_true(rc == RL_ECOMPRESSION || rc == RL_ETOO_LARGE ||
		            (rc >= 0 && rc <= (int64_t)sizeof(out)));
		free(p);
	}
}

static void test_decompress_records_dispatch(void **state)
{
	(void)state;
	static const uint8_t plain[] = "\x0e\x00\x00\x00\x01\x02\x61\x00";
	uint8_t out[64];
	memset(out, 0xee, sizeof(out));
	assert_int_equal(decompress_records(BATCH_CODEC_NONE, out, 8, plain, 8), 8);
	assert_memory_equal(out, plain, 8);
	assert_int_equal(out[8], 0xee);
	assert_int_equal(decompress_records(BATCH_CODEC_NONE, out, 7, plain, 8), RL_ETOO_LARGE);
	assert_int_equal(decompress_records(BATCH_CODEC_NONE, out, 0, NULL, 0), 0);

	const int unsupported[] = {
	        BATCH_CODEC_GZIP, BATCH_CODEC_SNAPPY, BATCH_CODEC_LZ4, 5, 6, 7, -1, 1000};
	static const uint8_t gzip_start[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00};
	for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
		assert_int_equal(decompress_records(unsupported[i], out, sizeof(out), gzip_start,
		                                    sizeof(gzip_start)),
		                 RL_EUNSUPPORTED);

	uint8_t z[64];
	int64_t zn = compress_zstd(z, sizeof(z), plain, 8, 1);
	assert_true(zn > 0);
	assert_int_equal(decompress_records(BATCH_CODEC_ZSTD, out, sizeof(out), z, (size_t)zn), 8);
	assert_memory_equal(out, plain, 8);
	assert_int_equal(decompress_records(BATCH_CODEC_ZSTD, out, 7, z, (size_t)zn),
	                 RL_ETOO_LARGE);
	/* zstd bytes labelled "none" are just copied; plain bytes labelled
	 * zstd are not a frame. */
	assert_int_equal(decompress_records(BATCH_CODEC_NONE, out, sizeof(out), z, (size_t)zn), zn);
	assert_int_equal(decompress_records(BATCH_CODEC_ZSTD, out, sizeof(out), plain, 8),
	                 RL_ECOMPRESSION);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_roundtrip),
	        cmocka_unit_test(test_compress_cap),
	        cmocka_unit_test(test_undeclared_size_capped),
	        cmocka_unit_test(test_concatenated_frames),
	        cmocka_unit_test(test_huge_declared_size_refused),
	        cmocka_unit_test(test_huge_window_not_allocated),
	        cmocka_unit_test(test_corrupt_frames),
	        cmocka_unit_test(test_random_damage_is_bounded),
	        cmocka_unit_test(test_decompress_records_dispatch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
