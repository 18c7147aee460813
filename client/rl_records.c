/*
 * rl_records — the records of a Fetch answer as a consumer sees them
 * (rl_records_walk() in rl_core.h): whole batches only, control batches
 * skipped, zstd batches decompressed into the caller's scratch buffer,
 * records before `start` skipped.
 */
#include <stdlib.h>

#include "batch.h"
#include "compress.h"
#include "record.h"
#include "rl_core.h"
#include "rlerr.h"

#define RL_SCRATCH_MIN (1 << 20)
#define RL_SCRATCH_MAX (256 << 20)

/* Decompress one batch's records region into *scratch. */
static int64_t rl_inflate(int codec, const uint8_t *src, size_t len, uint8_t **scratch, size_t *cap)
{
	size_t want = len * 4 > RL_SCRATCH_MIN ? len * 4 : RL_SCRATCH_MIN;
	for (;;) {
		if (*cap < want) {
			uint8_t *n = realloc(*scratch, want);
			if (!n)
				return REPLOG_ERR_NOMEM;
			*scratch = n;
			*cap = want;
		}
		int64_t got = decompress_records(codec, *scratch, *cap, src, len);
		if (got != RL_ETOO_LARGE || want >= RL_SCRATCH_MAX)
			return got;
		want *= 2;
	}
}

static int rl_walk_batch(const struct batch_header *h, const uint8_t *batch, size_t size,
			 int64_t start, uint8_t **scratch, size_t *cap, rl_record_fn fn, void *ctx)
{
	const uint8_t *region = batch + BATCH_HEADER_BYTES;
	size_t len = size - BATCH_HEADER_BYTES;
	int codec = batch_codec(h);
	if (codec != BATCH_CODEC_NONE) {
		int64_t n = rl_inflate(codec, region, len, scratch, cap);
		if (n < 0)
			return (int)n;
		region = *scratch;
		len = (size_t)n;
	}
	struct record_iter it;
	struct record r;
	record_iter_init(&it, region, len, h->bh_records_count);
	int rc;
	while ((rc = record_iter_next(&it, &r)) == 1) {
		struct rl_record_view v = {
			.offset = h->bh_base_offset + r.r_offset_delta,
			.timestamp_ms = (h->bh_attributes & BATCH_ATTR_LOG_APPEND_TIME)
						? h->bh_max_timestamp
						: h->bh_base_timestamp + r.r_timestamp_delta,
			.key = r.r_key,
			.key_len = r.r_key_len,
			.value = r.r_value,
			.value_len = r.r_value_len,
		};
		if (v.offset < start)
			continue;
		int frc = fn(ctx, &v, h->bh_partition_leader_epoch);
		if (frc)
			return frc;
	}
	return rc;
}

int64_t rl_records_walk(const uint8_t *data, size_t len, int64_t start, uint8_t **scratch,
			size_t *scratch_cap, rl_record_fn fn, void *ctx)
{
	struct batch_iter it;
	struct batch_header h;
	const uint8_t *batch;
	size_t size;
	int64_t next = start;
	batch_iter_init(&it, data, len);
	for (;;) {
		int rc = batch_iter_next(&it, &h, &batch, &size);
		if (rc == 0)
			return next;
		if (rc < 0) /* the last batch cut short by the size limit: fetched again */
			return rc == RL_ETRUNCATED && next >= start ? next : rc;
		if (batch_next_offset(&h) <= next)
			continue;
		if (!(h.bh_attributes & BATCH_ATTR_CONTROL)) {
			int wrc =
				rl_walk_batch(&h, batch, size, next, scratch, scratch_cap, fn, ctx);
			if (wrc < 0)
				return wrc;
		}
		next = batch_next_offset(&h);
	}
}
