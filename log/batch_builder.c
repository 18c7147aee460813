/*
 * batch_builder — writes a RecordBatch v2 the way a producer does, into a
 * buffer the caller owns (layout in batch.h, records in record.h).
 *
 * Life of a builder:
 *   init    writes a 61-byte header with placeholders; bb_len = 61.
 *   add     encodes one record right after the previous one: offsetDelta =
 *           its index, timestampDelta = timestamp - base_timestamp.
 *   finish  optionally zstd-compresses the records region, then fills the
 *           fields that depend on the records (attributes, lastOffsetDelta,
 *           maxTimestamp, recordsCount, batchLength) and the CRC last.
 *
 * The header fields match what librdkafka and kafka-python send (see the
 * captures in the protocol notes): baseOffset 0, partitionLeaderEpoch 0,
 * CreateTime, so a batch built here from the same records and timestamps is
 * byte-identical to theirs. The leader overwrites baseOffset and the epoch.
 *
 * The magic byte doubles as the "finished" mark: init leaves it 0 and finish
 * writes 2, so adding to (or finishing) a finished batch trips an assertion
 * instead of silently corrupting it. Re-init to reuse the buffer.
 *
 * Compression uses the free space after the records as scratch and is given
 * at most (plain size - 1) bytes of it, so zstd itself reports "would not be
 * smaller" (RL_ETOO_LARGE) and the batch then stays uncompressed, as
 * librdkafka does. Too little scratch space has the same effect.
 *
 * Size limits: a batch never exceeds INT32_MAX bytes (its length field), nor
 * the caller's capacity. add() refuses a record that would not fit and
 * leaves the builder as it was.
 */
#include "batch_builder.h"

#include <string.h>

#include "batch.h"
#include "compress.h"
#include "rlassert.h"
#include "rlerr.h"
#include "varint.h"

/* zstd's own default, and what librdkafka uses when compression.level is
 * left at -1. */
#define BATCH_BUILDER_ZSTD_LEVEL 3

static int builder_is_open(const struct batch_builder *b)
{
	return b->bb_buf[BATCH_OFF_MAGIC] == 0;
}

int batch_builder_init(struct batch_builder *b, uint8_t *buf, size_t cap, int codec,
		       int64_t base_timestamp, int64_t producer_id, int16_t producer_epoch,
		       int32_t base_sequence)
{
	if (codec != BATCH_CODEC_NONE && codec != BATCH_CODEC_ZSTD)
		return RL_EUNSUPPORTED;
	if (buf == NULL || cap < BATCH_HEADER_BYTES)
		return RL_ETOO_LARGE;

	memset(buf, 0, BATCH_HEADER_BYTES); /* baseOffset, epoch, magic (= open) */
	be64_store(buf + BATCH_OFF_BASE_TIMESTAMP, (uint64_t)base_timestamp);
	be64_store(buf + BATCH_OFF_PRODUCER_ID, (uint64_t)producer_id);
	be16_store(buf + BATCH_OFF_PRODUCER_EPOCH, (uint16_t)producer_epoch);
	be32_store(buf + BATCH_OFF_BASE_SEQUENCE, (uint32_t)base_sequence);

	b->bb_buf = buf;
	b->bb_cap = cap > INT32_MAX ? INT32_MAX : cap; /* batchLength is an int32 */
	b->bb_len = BATCH_HEADER_BYTES;
	b->bb_count = 0;
	b->bb_base_timestamp = base_timestamp;
	b->bb_max_timestamp = base_timestamp;
	b->bb_codec = codec;
	return 0;
}

/* Bytes of a nullable length-prefixed string; -1 when len is impossible. */
static int64_t bytes_field_size(const uint8_t *data, int32_t len, int nullable)
{
	if (len == -1 && nullable)
		return 1;
	if (len < 0 || (len > 0 && data == NULL))
		return -1;
	return (int64_t)varint_size32(len) + len;
}

/* Size of the record body (everything after its length varint), or a
 * negative RL_E* code for arguments no record can carry. */
static int64_t record_body_size(int64_t ts_delta, int32_t offset_delta, const uint8_t *key,
				int32_t key_len, const uint8_t *value, int32_t value_len,
				const struct batch_builder_header *headers, int header_count)
{
	if (header_count < 0 || (header_count > 0 && headers == NULL))
		return RL_EINVAL_RECORD;
	int64_t key_size = bytes_field_size(key, key_len, 1);
	int64_t value_size = bytes_field_size(value, value_len, 1);
	if (key_size < 0 || value_size < 0)
		return RL_EINVAL_RECORD;

	int64_t size = 1 /* attributes */ + varint_size64(ts_delta) + varint_size32(offset_delta) +
		       key_size + value_size + varint_size32(header_count);
	for (int i = 0; i < header_count; i++) {
		const struct batch_builder_header *h = &headers[i];
		int64_t hk = bytes_field_size(h->bbh_key, h->bbh_key_len, 0);
		int64_t hv = bytes_field_size(h->bbh_value, h->bbh_value_len, 1);
		if (hk < 0 || hv < 0)
			return RL_EINVAL_RECORD;
		size += hk + hv;
		if (size > INT32_MAX)
			return RL_ETOO_LARGE;
	}
	return size > INT32_MAX ? RL_ETOO_LARGE : size;
}

static uint8_t *put_bytes(uint8_t *p, const uint8_t *data, int32_t len)
{
	p += varint_encode32(p, len);
	if (len > 0) {
		memcpy(p, data, (size_t)len);
		p += len;
	}
	return p;
}

int batch_builder_add(struct batch_builder *b, int64_t timestamp, const uint8_t *key,
		      int32_t key_len, const uint8_t *value, int32_t value_len,
		      const struct batch_builder_header *headers, int header_count)
{
	RL_ASSERT(builder_is_open(b));
	RL_ASSERT(b->bb_len >= BATCH_HEADER_BYTES && b->bb_len <= b->bb_cap);
	if (b->bb_count == INT32_MAX)
		return RL_ETOO_LARGE;
	int64_t ts_delta;
	if (__builtin_sub_overflow(timestamp, b->bb_base_timestamp, &ts_delta))
		return RL_EINVAL_RECORD;

	int32_t offset_delta = b->bb_count;
	int64_t body = record_body_size(ts_delta, offset_delta, key, key_len, value, value_len,
					headers, header_count);
	if (body < 0)
		return (int)body;
	size_t need = (size_t)varint_size32((int32_t)body) + (size_t)body;
	if (need > b->bb_cap - b->bb_len)
		return RL_ETOO_LARGE;

	uint8_t *start = b->bb_buf + b->bb_len;
	uint8_t *p = start;
	p += varint_encode32(p, (int32_t)body);
	*p++ = 0; /* attributes: unused */
	p += varint_encode64(p, ts_delta);
	p += varint_encode32(p, offset_delta);
	p = key_len < 0 ? p + varint_encode32(p, -1) : put_bytes(p, key, key_len);
	p = value_len < 0 ? p + varint_encode32(p, -1) : put_bytes(p, value, value_len);
	p += varint_encode32(p, header_count);
	for (int i = 0; i < header_count; i++) {
		const struct batch_builder_header *h = &headers[i];
		p = put_bytes(p, h->bbh_key, h->bbh_key_len);
		p = h->bbh_value_len < 0 ? p + varint_encode32(p, -1)
					 : put_bytes(p, h->bbh_value, h->bbh_value_len);
	}
	RL_ASSERT((size_t)(p - start) == need);

	b->bb_len += need;
	if (b->bb_count == 0 || timestamp > b->bb_max_timestamp)
		b->bb_max_timestamp = timestamp;
	b->bb_count++;
	return 0;
}

/* Replace the plain records with their zstd frame when that is smaller.
 * Returns the codec the batch ends up with, or a negative RL_E* code. */
static int builder_try_compress(struct batch_builder *b)
{
	uint8_t *records = b->bb_buf + BATCH_HEADER_BYTES;
	size_t plain = b->bb_len - BATCH_HEADER_BYTES;
	size_t scratch_cap = b->bb_cap - b->bb_len;
	if (scratch_cap > plain - 1)
		scratch_cap = plain - 1; /* only a strictly smaller result is worth it */
	if (scratch_cap == 0)
		return BATCH_CODEC_NONE;

	uint8_t *scratch = b->bb_buf + b->bb_len;
	int64_t n = compress_zstd(scratch, scratch_cap, records, plain, BATCH_BUILDER_ZSTD_LEVEL);
	if (n == RL_ETOO_LARGE)
		return BATCH_CODEC_NONE;
	if (n < 0)
		return (int)n;
	RL_ASSERT((size_t)n < plain);
	memmove(records, scratch, (size_t)n);
	b->bb_len = BATCH_HEADER_BYTES + (size_t)n;
	return BATCH_CODEC_ZSTD;
}

int64_t batch_builder_finish(struct batch_builder *b)
{
	RL_ASSERT(builder_is_open(b));
	if (b->bb_count == 0)
		return RL_EINVAL_BATCH; /* producers never send empty batches */

	int codec = BATCH_CODEC_NONE;
	if (b->bb_codec == BATCH_CODEC_ZSTD) {
		codec = builder_try_compress(b);
		if (codec < 0)
			return codec;
	}

	uint8_t *buf = b->bb_buf;
	be32_store(buf + BATCH_OFF_LENGTH, (uint32_t)(b->bb_len - BATCH_LOG_OVERHEAD));
	buf[BATCH_OFF_MAGIC] = BATCH_MAGIC;
	be16_store(buf + BATCH_OFF_ATTRIBUTES, (uint16_t)codec);
	be32_store(buf + BATCH_OFF_LAST_OFFSET_DELTA, (uint32_t)(b->bb_count - 1));
	be64_store(buf + BATCH_OFF_MAX_TIMESTAMP, (uint64_t)b->bb_max_timestamp);
	be32_store(buf + BATCH_OFF_RECORDS_COUNT, (uint32_t)b->bb_count);
	batch_crc_update(buf, b->bb_len);

	RL_DEBUG_ASSERT(batch_validate(buf, b->bb_len, NULL) == (int64_t)b->bb_len);
	return (int64_t)b->bb_len;
}
