/*
 * record — decoding the records inside a RecordBatch v2, for validation and
 * inspection. The broker's data path never decodes records; the broker only
 * validates uncompressed produce batches with record_validate(), and tools
 * decode everything.
 *
 * Record layout (signed zig-zag varints, see varint.h):
 *   length varint (bytes of the rest of this record)
 *   attributes int8 (unused, 0)
 *   timestampDelta varlong, offsetDelta varint
 *   keyLength varint (-1 = null), key bytes
 *   valueLength varint (-1 = null), value bytes
 *   headerCount varint, then per header:
 *     headerKeyLength varint (>= 0), key bytes, headerValueLength varint (-1 = null), value
 *
 * All pointers handed out point into the caller's buffer and live as long as
 * it does.
 */
#ifndef REPLOG_RECORD_H
#define REPLOG_RECORD_H

#include <stddef.h>
#include <stdint.h>

struct record {
	int8_t r_attributes;
	int64_t r_timestamp_delta;
	int32_t r_offset_delta;
	const uint8_t *r_key; /* NULL when r_key_len == -1 */
	int32_t r_key_len;
	const uint8_t *r_value; /* NULL when r_value_len == -1 */
	int32_t r_value_len;
	int32_t r_header_count;
	const uint8_t *r_headers; /* the encoded headers, r_headers_len bytes */
	size_t r_headers_len;
	size_t r_size; /* encoded size of the record including its length varint */
};

struct record_header {
	const uint8_t *rh_key;
	int32_t rh_key_len;
	const uint8_t *rh_value; /* NULL when rh_value_len == -1 */
	int32_t rh_value_len;
};

/* Iterate the plain (uncompressed) records region: `buf`/`len` are the bytes
 * after the batch header, `count` is recordsCount. */
struct record_iter {
	const uint8_t *ri_buf;
	size_t ri_len;
	size_t ri_pos;
	int32_t ri_count; /* records the batch header promised */
	int32_t ri_seen;  /* records returned so far */
};

void record_iter_init(struct record_iter *it, const uint8_t *buf, size_t len, int32_t count);

/* 1 with *r filled; 0 when exactly `count` records consumed exactly `len`
 * bytes; RL_EINVAL_RECORD / RL_ETRUNCATED when a record is malformed, when
 * the bytes end before `count` records, or when bytes remain after them
 * (RL_ETRUNCATED: the region ends early; RL_EINVAL_RECORD: anything wrong
 * inside a record, or bytes left over); RL_EINVAL_BATCH when `count` < 0.
 * A record returned has had its headers checked too. On error the iterator
 * stays on the bad record and returns the same error again. */
int record_iter_next(struct record_iter *it, struct record *r);

struct record_header_iter {
	const uint8_t *rhi_buf;
	size_t rhi_len;
	size_t rhi_pos;
	int32_t rhi_count;
	int32_t rhi_seen;
};

void record_header_iter_init(struct record_header_iter *it, const struct record *r);
/* 1 / 0 / negative as record_iter_next. */
int record_header_iter_next(struct record_header_iter *it, struct record_header *h);

/* Check a whole uncompressed records region as a producer must send it:
 * exactly `count` well-formed records, offset deltas 0, 1, ..., count-1 in
 * order, and the last equal to `last_offset_delta`. Returns 0 or a negative
 * RL_E* code; on error *bad_index (may be NULL) is the index of the first bad
 * record (== count when bytes remain after the last one). count <= 0 or
 * last_offset_delta != count - 1 is RL_EINVAL_BATCH with *bad_index = -1:
 * Kafka refuses a produced batch with no records or with gaps. */
int record_validate(const uint8_t *buf, size_t len, int32_t count, int32_t last_offset_delta,
		    int32_t *bad_index);

#endif
