/*
 * fuzz_segment — libFuzzer target for log recovery: random bytes as the
 * only segment file of a partition log, then plog_open.
 *
 * Input: the bytes of 00000000000000000000.log (first byte: which of the
 * two recovery modes, cut-to-discarded or refuse_corrupt, then also as
 * file content). Contracts: plog_open returns 0 or a clean error, never
 * crashes; after a successful open every offset from the log start to its
 * end is readable as valid, increasing whole batches (what recovery kept is
 * a valid log); a second open of the recovered directory succeeds and
 * ends at the same offset (recovery is idempotent).
 */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "batch.h"
#include "io.h"
#include "plog.h"
#include "rlassert.h"
#include "rlerr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char base[64];
static struct io_engine *io;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* The scratch directory goes when the run ends. */
static void cleanup(void)
{
	nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void setup(void)
{
	if (io)
		return;
	/* One scratch directory per fuzzing process, named by its pid. */
	snprintf(base, sizeof(base), "/tmp/fuzz_segment.%ld", (long)getpid());
	nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS); /* a stale one of a reused pid */
	RL_ASSERT(mkdir(base, 0700) == 0);
	atexit(cleanup);
	io = io_sync_engine_create();
	RL_ASSERT(io != NULL);
}

static int64_t readable_end(struct plog *log)
{
	int64_t off = plog_start_offset(log), end = plog_end_offset(log);
	for (int guard = 0; off < end && guard < 100000; guard++) {
		struct plog_slice s;
		int rc = plog_read(log, off, 1 << 20, end, true, &s);
		RL_ASSERT(rc == 1); /* everything below the end is readable */
		RL_ASSERT(s.ps_next_offset > off);
		off = s.ps_next_offset;
		plog_slice_release(&s);
	}
	return off;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	char dir[128], file[192];
	snprintf(dir, sizeof(dir), "%s/p-0", base);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	RL_ASSERT(mkdir(dir, 0700) == 0);
	snprintf(file, sizeof(file), "%s/00000000000000000000.log", dir);
	FILE *f = fopen(file, "wb");
	RL_ASSERT(f != NULL);
	if (size)
		RL_ASSERT(fwrite(data, 1, size, f) == size);
	fclose(f);

	struct plog_config cfg;
	plog_config_default(&cfg);
	cfg.refuse_corrupt = size > 0 && (data[0] & 1);
	cfg.allow_offset_gaps = size > 0 && (data[0] & 2);
	struct plog *log = NULL;
	int rc = plog_open(dir, io, &cfg, &log, NULL);
	if (rc != 0) {
		RL_ASSERT(log == NULL || rc == 0);
		return 0;
	}
	int64_t end = readable_end(log);
	RL_ASSERT(end == plog_end_offset(log));
	RL_ASSERT(plog_close(log) == 0);
	/* What recovery left opens again, at the same end. */
	log = NULL;
	RL_ASSERT(plog_open(dir, io, &cfg, &log, NULL) == 0);
	RL_ASSERT(plog_end_offset(log) == end);
	RL_ASSERT(plog_close(log) == 0);
	return 0;
}
