/*
 * fuzz_batch — libFuzzer target for the batch, record and zstd decoders.
 *
 * Input: raw bytes, read as batches laid end to end (a Produce `records`
 * field, a segment, a Fetch response). They are walked twice:
 *   1. as given, the way the broker sees a producer's bytes;
 *   2. from a copy whose CRCs have been recomputed wherever a batch's length
 *      fits, so the fuzzer's mutations reach the field checks, the records
 *      and the zstd decoder instead of dying at the checksum.
 * For every valid batch: uncompressed records are iterated with their
 * headers and checked by record_validate; zstd regions are decompressed
 * into a bounded buffer and the result iterated the same way.
 *
 * Beyond "no crash, no sanitizer report" the target checks the contracts:
 * an iterator that fails stays on the bad batch; a returned batch lies
 * inside the input; record and header pointers lie inside their region; the
 * sizes of the records returned add up to the region when iteration ends
 * cleanly; decompression never reports more than its cap.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "compress.h"
#include "record.h"
#include "rlassert.h"
#include "rlerr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decompressed records land here; a frame that wants more is refused. */
#define FUZZ_DECOMPRESS_CAP (1u << 20)
static uint8_t fuzz_plain[FUZZ_DECOMPRESS_CAP];

static int in_range(const uint8_t *p, size_t n, const uint8_t *base, size_t len)
{
	return p >= base && n <= len && (size_t)(p - base) <= len - n;
}

static void walk_headers(const struct record *r)
{
	struct record_header_iter hi;
	struct record_header h;
	int rc, seen = 0;
	record_header_iter_init(&hi, r);
	while ((rc = record_header_iter_next(&hi, &h)) == 1) {
		RL_ASSERT(h.rh_key_len >= 0);
		RL_ASSERT(in_range(h.rh_key, (size_t)h.rh_key_len, r->r_headers, r->r_headers_len));
		if (h.rh_value_len >= 0)
			RL_ASSERT(in_range(h.rh_value, (size_t)h.rh_value_len, r->r_headers,
			                   r->r_headers_len));
		else
			RL_ASSERT(h.rh_value == NULL && h.rh_value_len == -1);
		seen++;
	}
	/* record_iter_next already walked these headers: they cannot fail. */
	RL_ASSERT(rc == 0 && seen == r->r_header_count);
}

static void walk_records(const uint8_t *region, size_t len, int32_t count, int32_t lod)
{
	struct record_iter it;
	struct record r;
	size_t total = 0;
	int rc;
	record_iter_init(&it, region, len, count);
	while ((rc = record_iter_next(&it, &r)) == 1) {
		RL_ASSERT(in_range(region + total, r.r_size, region, len));
		if (r.r_key_len >= 0)
			RL_ASSERT(in_range(r.r_key, (size_t)r.r_key_len, region, len));
		if (r.r_value_len >= 0)
			RL_ASSERT(in_range(r.r_value, (size_t)r.r_value_len, region, len));
		RL_ASSERT(in_range(r.r_headers, r.r_headers_len, region, len));
		walk_headers(&r);
		total += r.r_size;
	}
	if (rc == 0)
		RL_ASSERT(total == len && it.ri_seen == count);
	else
		RL_ASSERT(record_iter_next(&it, &r) == rc); /* sticky */

	int32_t bad = 0;
	int vrc = record_validate(region, len, count, lod, &bad);
	RL_ASSERT(vrc <= 0);
	if (vrc < 0)
		RL_ASSERT(bad == -1 || (bad >= 0 && bad <= count));
	/* A producer-valid region is also iterable. */
	if (vrc == 0)
		RL_ASSERT(rc == 0);
}

static void inspect_batch(const uint8_t *batch, size_t size, const struct batch_header *h)
{
	RL_ASSERT(size >= BATCH_HEADER_BYTES);
	RL_ASSERT(batch_crc_compute(batch, size) == h->bh_crc);
	const uint8_t *region = batch + BATCH_HEADER_BYTES;
	size_t region_len = size - BATCH_HEADER_BYTES;
	int codec = batch_codec(h);
	RL_ASSERT(strcmp(batch_codec_name(codec), "unknown") != 0);

	if (codec == BATCH_CODEC_NONE) {
		walk_records(region, region_len, h->bh_records_count, h->bh_last_offset_delta);
	} else if (codec == BATCH_CODEC_ZSTD) {
		int64_t n = decompress_records(codec, fuzz_plain, sizeof(fuzz_plain), region,
		                               region_len);
		RL_ASSERT(n <= (int64_t)sizeof(fuzz_plain));
		if (n >= 0)
			walk_records(fuzz_plain, (size_t)n, h->bh_records_count,
			             h->bh_last_offset_delta);
		else
			RL_ASSERT(n == RL_ECOMPRESSION || n == RL_ETOO_LARGE);
	} else {
		uint8_t out[8];
		RL_ASSERT(decompress_records(codec, out, sizeof(out), region, region_len) ==
		          RL_EUNSUPPORTED);
	}
}

static void walk_batches(const uint8_t *buf, size_t len)
{
	struct batch_iter it;
	struct batch_header h;
	const uint8_t *batch;
	size_t size;
	int rc;
	batch_iter_init(&it, buf, len);
	while ((rc = batch_iter_next(&it, &h, &batch, &size)) == 1) {
		RL_ASSERT(in_range(batch, size, buf, len));
		RL_ASSERT(batch + size == buf + it.bi_pos);
		RL_ASSERT((int64_t)h.bh_batch_length + BATCH_LOG_OVERHEAD == (int64_t)size);
		inspect_batch(batch, size, &h);
	}
	if (rc < 0) {
		size_t pos = it.bi_pos;
		RL_ASSERT(rc == RL_ETRUNCATED || rc == RL_EINVAL_BATCH || rc == RL_EMAGIC ||
		          rc == RL_ECRC);
		RL_ASSERT(batch_iter_next(&it, &h, &batch, &size) == rc && it.bi_pos == pos);
	} else {
		RL_ASSERT(it.bi_pos == len);
	}
}

/* Recompute the CRC of every batch whose length fits, in order, stopping at
 * the first that does not: this turns most mutations into CRC-valid ones. */
static void fix_crcs(uint8_t *buf, size_t len)
{
	size_t pos = 0;
	while (pos < len) {
		int64_t total = batch_total_size(buf + pos, len - pos);
		if (total < 0 || (uint64_t)total > len - pos)
			return;
		batch_crc_update(buf + pos, (size_t)total);
		pos += (size_t)total;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct batch_header h;
	(void)batch_header_decode(data, size, &h);
	(void)batch_total_size(data, size);

	walk_batches(data, size);

	uint8_t *copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	if (size)
		memcpy(copy, data, size);
	fix_crcs(copy, size);
	walk_batches(copy, size);
	free(copy);
	return 0;
}
