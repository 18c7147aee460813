/*
 * fuzz_record — libFuzzer target for the records-region decoder, without
 * the batch header and CRC in the way.
 *
 * Input: 4 bytes of recordsCount (big-endian int32), then the records
 * region. The region is iterated with its headers and checked with
 * record_validate; the same contracts as fuzz_batch are asserted (pointers
 * inside the region, sizes adding up on a clean end, sticky errors, a
 * producer-valid region is iterable and has offset deltas 0..count-1).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "record.h"
#include "rlassert.h"
#include "rlerr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int in_range(const uint8_t *p, size_t n, const uint8_t *base, size_t len)
{
	return p >= base && n <= len && (size_t)(p - base) <= len - n;
}

static void walk(const uint8_t *region, size_t len, int32_t count)
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
		else
			RL_ASSERT(r.r_key == NULL && r.r_key_len == -1);
		if (r.r_value_len >= 0)
			RL_ASSERT(in_range(r.r_value, (size_t)r.r_value_len, region, len));
		else
			RL_ASSERT(r.r_value == NULL && r.r_value_len == -1);
		RL_ASSERT(in_range(r.r_headers, r.r_headers_len, region, len));

		struct record_header_iter hi;
		struct record_header h;
		int hrc, nh = 0;
		record_header_iter_init(&hi, &r);
		while ((hrc = record_header_iter_next(&hi, &h)) == 1) {
			RL_ASSERT(in_range(h.rh_key, (size_t)h.rh_key_len, r.r_headers,
			                   r.r_headers_len));
			if (h.rh_value_len >= 0)
				RL_ASSERT(in_range(h.rh_value, (size_t)h.rh_value_len, r.r_headers,
				                   r.r_headers_len));
			nh++;
		}
		RL_ASSERT(hrc == 0 && nh == r.r_header_count);
		total += r.r_size;
	}
	if (rc == 0) {
		RL_ASSERT(total == len && it.ri_seen == count);
	} else {
		RL_ASSERT(rc == RL_ETRUNCATED || rc == RL_EINVAL_RECORD || rc == RL_EINVAL_BATCH);
		RL_ASSERT(record_iter_next(&it, &r) == rc);
	}

	/* The lastOffsetDelta a correct producer would send (no overflow at
	 * INT32_MIN: any value is wrong for a negative count). */
	int32_t lod = count > INT32_MIN ? count - 1 : INT32_MAX;
	int32_t bad = 0;
	int vrc = record_validate(region, len, count, lod, &bad);
	if (vrc == 0) {
		RL_ASSERT(rc == 0 && count > 0);
		/* Offset deltas are exactly 0..count-1. */
		record_iter_init(&it, region, len, count);
		for (int32_t i = 0; record_iter_next(&it, &r) == 1; i++)
			RL_ASSERT(r.r_offset_delta == i);
	} else {
		RL_ASSERT(vrc < 0 && (bad == -1 || (bad >= 0 && bad <= count)));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	int32_t count = (int32_t)be32_load(data);
	size_t len = size - 4;
	uint8_t *region = malloc(len ? len : 1); /* exact size: overreads are reports */
	if (!region)
		return 0;
	if (len)
		memcpy(region, data + 4, len);
	walk(region, len, count);
	free(region);
	return 0;
}
