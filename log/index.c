/*
 * index — sparse offset and time indexes of one segment (formats and
 * invariants in index.h).
 *
 * The arrays grow by doubling up to si_max_entries, which the owner derives
 * from segment_bytes / index_interval_bytes: growth happens a handful of
 * times per segment, never per append. Lookups are binary searches over the
 * big-endian entries.
 */
#include "index.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "rlassert.h"
#include "rlerr.h"

void index_init(struct seg_index *ix, int64_t base_offset, uint32_t max_entries)
{
	*ix = (struct seg_index){.si_base_offset = base_offset, .si_max_entries = max_entries};
}

void index_deinit(struct seg_index *ix)
{
	free(ix->si_off);
	free(ix->si_time);
	ix->si_off = ix->si_time = NULL;
	ix->si_off_count = ix->si_off_cap = ix->si_time_count = ix->si_time_cap = 0;
}

void index_clear(struct seg_index *ix)
{
	ix->si_off_count = 0;
	ix->si_time_count = 0;
}

static int index_grow(uint8_t **arr, uint32_t *cap, uint32_t need, uint32_t max, size_t entry_bytes)
{
	/* The bound is checked first: the first allocation of 64 entries may
	 * exceed a smaller max, and capacity alone must not admit entries past
	 * it. */
	if (need > max)
		return RL_EFULL;
	if (need <= *cap)
		return 0;
	uint32_t ncap = *cap ? *cap : (max < 64 ? max : 64);
	while (ncap < need)
		ncap = ncap > max / 2 ? max : ncap * 2;
	uint8_t *n = realloc(*arr, (size_t)ncap * entry_bytes);
	if (!n)
		return -ENOMEM;
	*arr = n;
	*cap = ncap;
	return 0;
}

void index_offset_entry(const struct seg_index *ix, uint32_t idx, int64_t *offset,
			uint32_t *position)
{
	const uint8_t *e = ix->si_off + (size_t)idx * INDEX_OFFSET_ENTRY_BYTES;
	*offset = ix->si_base_offset + be32_load(e);
	*position = be32_load(e + 4);
}

void index_time_entry(const struct seg_index *ix, uint32_t idx, int64_t *timestamp, int64_t *offset)
{
	const uint8_t *e = ix->si_time + (size_t)idx * INDEX_TIME_ENTRY_BYTES;
	*timestamp = (int64_t)be64_load(e);
	*offset = ix->si_base_offset + be32_load(e + 8);
}

static int index_rel_offset(const struct seg_index *ix, int64_t offset, uint32_t *rel)
{
	int64_t d = offset - ix->si_base_offset;
	if (d < 0 || d > UINT32_MAX)
		return RL_EORDER;
	*rel = (uint32_t)d;
	return 0;
}

int index_add_offset(struct seg_index *ix, int64_t offset, uint32_t position)
{
	uint32_t rel;
	if (index_rel_offset(ix, offset, &rel) < 0)
		return RL_EORDER;
	if (ix->si_off_count > 0) {
		int64_t last_off;
		uint32_t last_pos;
		index_offset_entry(ix, ix->si_off_count - 1, &last_off, &last_pos);
		if (offset <= last_off || position <= last_pos)
			return RL_EORDER;
	}
	int rc = index_grow(&ix->si_off, &ix->si_off_cap, ix->si_off_count + 1, ix->si_max_entries,
			    INDEX_OFFSET_ENTRY_BYTES);
	if (rc < 0)
		return rc;
	uint8_t *e = ix->si_off + (size_t)ix->si_off_count * INDEX_OFFSET_ENTRY_BYTES;
	be32_store(e, rel);
	be32_store(e + 4, position);
	ix->si_off_count++;
	return 0;
}

int index_add_time(struct seg_index *ix, int64_t timestamp, int64_t offset)
{
	uint32_t rel;
	if (index_rel_offset(ix, offset, &rel) < 0)
		return RL_EORDER;
	if (ix->si_time_count > 0) {
		int64_t last_ts, last_off;
		index_time_entry(ix, ix->si_time_count - 1, &last_ts, &last_off);
		if (timestamp <= last_ts)
			return 0;
		if (offset < last_off)
			return RL_EORDER;
	}
	int rc = index_grow(&ix->si_time, &ix->si_time_cap, ix->si_time_count + 1,
			    ix->si_max_entries, INDEX_TIME_ENTRY_BYTES);
	if (rc < 0)
		return rc;
	uint8_t *e = ix->si_time + (size_t)ix->si_time_count * INDEX_TIME_ENTRY_BYTES;
	be64_store(e, (uint64_t)timestamp);
	be32_store(e + 8, rel);
	ix->si_time_count++;
	return 0;
}

int index_lookup_offset(const struct seg_index *ix, int64_t target, int64_t *offset,
			uint32_t *position)
{
	/* Find the last entry with entry offset <= target. */
	uint32_t lo = 0, hi = ix->si_off_count;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int64_t o;
		uint32_t p;
		index_offset_entry(ix, mid, &o, &p);
		if (o <= target)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return 0;
	index_offset_entry(ix, lo - 1, offset, position);
	return 1;
}

int index_lookup_time(const struct seg_index *ix, int64_t target, int64_t *offset)
{
	uint32_t lo = 0, hi = ix->si_time_count;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int64_t t, o;
		index_time_entry(ix, mid, &t, &o);
		if (t < target)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return 0;
	int64_t t;
	index_time_entry(ix, lo - 1, &t, offset);
	return 1;
}

void index_truncate(struct seg_index *ix, int64_t offset)
{
	while (ix->si_off_count > 0) {
		int64_t o;
		uint32_t p;
		index_offset_entry(ix, ix->si_off_count - 1, &o, &p);
		if (o < offset)
			break;
		ix->si_off_count--;
	}
	while (ix->si_time_count > 0) {
		int64_t t, o;
		index_time_entry(ix, ix->si_time_count - 1, &t, &o);
		if (o < offset)
			break;
		ix->si_time_count--;
	}
}

static int index_check(const struct seg_index *ix, uint64_t log_size)
{
	/* The first offset entry always comes with a time entry; without it
	 * the segment's largest timestamp would be under-estimated and time
	 * retention could delete it early. */
	if (ix->si_off_count > 0 && ix->si_time_count == 0)
		return RL_ECORRUPT;
	for (uint32_t i = 0; i < ix->si_off_count; i++) {
		int64_t o;
		uint32_t p;
		index_offset_entry(ix, i, &o, &p);
		if (p >= log_size)
			return RL_ECORRUPT;
		if (i > 0) {
			int64_t po;
			uint32_t pp;
			index_offset_entry(ix, i - 1, &po, &pp);
			if (o <= po || p <= pp)
				return RL_ECORRUPT;
		}
	}
	for (uint32_t i = 1; i < ix->si_time_count; i++) {
		int64_t t, o, pt, po;
		index_time_entry(ix, i, &t, &o);
		index_time_entry(ix, i - 1, &pt, &po);
		if (t <= pt || o < po)
			return RL_ECORRUPT;
	}
	return 0;
}

int index_load(struct seg_index *ix, const uint8_t *off_bytes, size_t off_len,
	       const uint8_t *time_bytes, size_t time_len, uint64_t log_size)
{
	index_clear(ix);
	if (off_len % INDEX_OFFSET_ENTRY_BYTES || time_len % INDEX_TIME_ENTRY_BYTES)
		return RL_ECORRUPT;
	uint32_t noff = (uint32_t)(off_len / INDEX_OFFSET_ENTRY_BYTES);
	uint32_t ntime = (uint32_t)(time_len / INDEX_TIME_ENTRY_BYTES);
	if (noff > ix->si_max_entries || ntime > ix->si_max_entries)
		return RL_ECORRUPT;
	int rc = index_grow(&ix->si_off, &ix->si_off_cap, noff, ix->si_max_entries,
			    INDEX_OFFSET_ENTRY_BYTES);
	if (rc == 0)
		rc = index_grow(&ix->si_time, &ix->si_time_cap, ntime, ix->si_max_entries,
				INDEX_TIME_ENTRY_BYTES);
	if (rc < 0)
		return rc;
	if (off_len)
		memcpy(ix->si_off, off_bytes, off_len);
	if (time_len)
		memcpy(ix->si_time, time_bytes, time_len);
	ix->si_off_count = noff;
	ix->si_time_count = ntime;
	rc = index_check(ix, log_size);
	if (rc < 0)
		index_clear(ix);
	return rc;
}
