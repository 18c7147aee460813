/*
 * index — a segment's sparse offset index and time index, in memory and on
 * disk, in Kafka's file formats (so the layout is familiar to operators):
 *
 *   <base>.index      N entries of 8 bytes:  relativeOffset u32 BE, position u32 BE
 *   <base>.timeindex  N entries of 12 bytes: timestamp i64 BE, relativeOffset u32 BE
 *
 * relativeOffset = batch base offset - segment base offset. An offset entry
 * names the file position where a batch starts; one is added for the first
 * batch of a segment and then whenever index_interval_bytes have been
 * appended since the last entry. A time entry (T, O) says: the largest
 * timestamp in the segment up to and including the batch at offset O is T;
 * entries are added with offset entries, only when T grew.
 *
 * Invariants: offset entries strictly increase in both fields; time entries
 * strictly increase in timestamp and do not decrease in offset. Memory holds
 * the entries in their file encoding, so persisting is a single write. The
 * index is a hint: a missing or inconsistent file is rebuilt from the log.
 */
#ifndef REPLOG_INDEX_H
#define REPLOG_INDEX_H

#include <stddef.h>
#include <stdint.h>

#define INDEX_OFFSET_ENTRY_BYTES 8
#define INDEX_TIME_ENTRY_BYTES	 12

struct seg_index {
	int64_t si_base_offset;
	uint8_t *si_off; /* owned: si_off_count entries, file encoding */
	uint32_t si_off_count;
	uint32_t si_off_cap;
	uint8_t *si_time; /* owned: si_time_count entries, file encoding */
	uint32_t si_time_count;
	uint32_t si_time_cap;
	uint32_t si_max_entries; /* bound for each of the two arrays */
};

void index_init(struct seg_index *ix, int64_t base_offset, uint32_t max_entries);
void index_deinit(struct seg_index *ix);

/* Add an offset entry. Returns 0, RL_EORDER if it would not increase,
 * RL_EFULL at si_max_entries, -ENOMEM. */
int index_add_offset(struct seg_index *ix, int64_t offset, uint32_t position);
/* Add a time entry if timestamp grew past the last one (else no-op, 0). */
int index_add_time(struct seg_index *ix, int64_t timestamp, int64_t offset);

/* Largest offset entry with offset <= target: its offset and position.
 * Returns 1 when found, 0 when target precedes every entry (then the
 * segment's start, base offset at position 0, is the answer). */
int index_lookup_offset(const struct seg_index *ix, int64_t target, int64_t *offset,
			uint32_t *position);
/* Last time entry whose timestamp < target: its offset. Returns 1, or 0 when
 * no entry is below target (scan from the segment's start). */
int index_lookup_time(const struct seg_index *ix, int64_t target, int64_t *offset);

/* Entry accessors (idx < count). */
void index_offset_entry(const struct seg_index *ix, uint32_t idx, int64_t *offset,
			uint32_t *position);
void index_time_entry(const struct seg_index *ix, uint32_t idx, int64_t *timestamp,
		      int64_t *offset);

/* Drop offset entries at or after `offset` and time entries whose offset is
 * at or after it. */
void index_truncate(struct seg_index *ix, int64_t offset);
void index_clear(struct seg_index *ix);

/* Load both files' bytes into ix (replacing its entries) and check the
 * invariants, positions < log_size, and that a non-empty offset index comes
 * with a non-empty time index. Returns 0, or RL_ECORRUPT when the
 * bytes break an invariant (ix is then left empty), or -ENOMEM. */
int index_load(struct seg_index *ix, const uint8_t *off_bytes, size_t off_len,
	       const uint8_t *time_bytes, size_t time_len, uint64_t log_size);

static inline size_t index_offset_bytes(const struct seg_index *ix)
{
	return (size_t)ix->si_off_count * INDEX_OFFSET_ENTRY_BYTES;
}
static inline size_t index_time_bytes(const struct seg_index *ix)
{
	return (size_t)ix->si_time_count * INDEX_TIME_ENTRY_BYTES;
}

#endif
