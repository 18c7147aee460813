/*
 * testutil — shared helpers for the cmocka unit tests: cmocka's headers in
 * the order it needs, scratch directories under the build tree, a seeded
 * PRNG so every randomized test replays from its seed.
 */
#ifndef REPLOG_TESTUTIL_H
#define REPLOG_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Make a fresh, empty scratch directory named after `tag` under
 * $REPLOG_TEST_TMP (or /tmp) and write its path into out. */
static inline void tu_tmpdir(char *out, size_t cap, const char *tag)
{
	const char *base = getenv("REPLOG_TEST_TMP");
	char cmd[3 * PATH_MAX + 64];
	if (!base || !*base)
		base = "/tmp";
	if ((size_t)snprintf(out, cap, "%s/%s-%d", base, tag, (int)getpid()) >= cap)
		fail_msg("scratch path too long under %s", base);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", out, out);
	assert_int_equal(system(cmd), 0);
}

static inline void tu_rmdir(const char *path)
{
	char cmd[PATH_MAX + 64];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	assert_int_equal(system(cmd), 0);
}

/* xorshift64*: deterministic from its seed. */
static inline uint64_t tu_rand(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9E3779B97F4A7C15ull;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

static inline uint64_t tu_seed(uint64_t dflt)
{
	const char *s = getenv("REPLOG_SEED");
	return s && *s ? strtoull(s, NULL, 0) : dflt;
}

#endif
