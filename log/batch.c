/*
 * batch — decoding, validating and checksumming RecordBatch v2 headers.
 *
 * The layout is in batch.h. What this file adds is the order of the checks
 * in batch_validate(), which decides the error a caller sees when several
 * things are wrong at once:
 *
 *   1. fewer than 12 bytes                       RL_ETRUNCATED
 *   2. batchLength < 49 or total > INT32_MAX     RL_EINVAL_BATCH
 *   3. total > the bytes given                   RL_ETRUNCATED
 *   4. magic != 2                                RL_EMAGIC
 *   5. CRC-32C of [21, total) != crc             RL_ECRC
 *   6. codec 5..7, recordsCount < 0,
 *      lastOffsetDelta < max(0, recordsCount-1)  RL_EINVAL_BATCH
 *
 * Size first, so that a reader of a Fetch response or of a segment tail can
 * tell "the rest has not arrived" (RL_ETRUNCATED) from "this is garbage";
 * this is also the order Kafka's own log readers use. The CRC before the
 * header fields, because fields of a batch whose CRC fails are not evidence
 * of anything. Field checks after it only reject what a correct producer
 * cannot send.
 *
 * What is *not* checked here, on purpose: the records themselves (record.c,
 * and only for uncompressed batches), timestamps, producer state, and the
 * attribute bits above the codec (unknown flags are left to the layers that
 * know them). Nothing here allocates or keeps global state; validation reads
 * each byte once, in the CRC.
 */
#include "batch.h"

#include "crc32c.h"
#include "rlassert.h"
#include "rlerr.h"

_Static_assert(BATCH_OFF_RECORDS_COUNT + 4 == BATCH_HEADER_BYTES, "header ends after recordsCount");
_Static_assert(BATCH_OFF_CRC + 4 == BATCH_CRC_START, "the CRC covers what follows it");
_Static_assert(BATCH_MIN_LENGTH == 49, "an empty batch has batchLength 49");

int batch_header_decode(const uint8_t *buf, size_t len, struct batch_header *h)
{
	if (len < BATCH_HEADER_BYTES)
		return RL_ETRUNCATED;
	h->bh_base_offset = (int64_t)be64_load(buf + BATCH_OFF_BASE_OFFSET);
	h->bh_batch_length = (int32_t)be32_load(buf + BATCH_OFF_LENGTH);
	h->bh_partition_leader_epoch = (int32_t)be32_load(buf + BATCH_OFF_LEADER_EPOCH);
	h->bh_magic = (int8_t)buf[BATCH_OFF_MAGIC];
	h->bh_crc = be32_load(buf + BATCH_OFF_CRC);
	h->bh_attributes = (int16_t)be16_load(buf + BATCH_OFF_ATTRIBUTES);
	h->bh_last_offset_delta = (int32_t)be32_load(buf + BATCH_OFF_LAST_OFFSET_DELTA);
	h->bh_base_timestamp = (int64_t)be64_load(buf + BATCH_OFF_BASE_TIMESTAMP);
	h->bh_max_timestamp = (int64_t)be64_load(buf + BATCH_OFF_MAX_TIMESTAMP);
	h->bh_producer_id = (int64_t)be64_load(buf + BATCH_OFF_PRODUCER_ID);
	h->bh_producer_epoch = (int16_t)be16_load(buf + BATCH_OFF_PRODUCER_EPOCH);
	h->bh_base_sequence = (int32_t)be32_load(buf + BATCH_OFF_BASE_SEQUENCE);
	h->bh_records_count = (int32_t)be32_load(buf + BATCH_OFF_RECORDS_COUNT);
	return 0;
}

int64_t batch_total_size(const uint8_t *buf, size_t len)
{
	if (len < BATCH_LOG_OVERHEAD)
		return RL_ETRUNCATED;
	int32_t batch_length = (int32_t)be32_load(buf + BATCH_OFF_LENGTH);
	if (batch_length < BATCH_MIN_LENGTH)
		return RL_EINVAL_BATCH;
	int64_t total = (int64_t)batch_length + BATCH_LOG_OVERHEAD;
	if (total > INT32_MAX)
		return RL_EINVAL_BATCH;
	return total;
}

uint32_t batch_crc_compute(const uint8_t *batch, size_t total)
{
	RL_ASSERT(total >= BATCH_CRC_START);
	return crc32c(0, batch + BATCH_CRC_START, total - BATCH_CRC_START);
}

void batch_crc_update(uint8_t *batch, size_t total)
{
	RL_ASSERT(total >= BATCH_HEADER_BYTES);
	be32_store(batch + BATCH_OFF_CRC, batch_crc_compute(batch, total));
}

/* Step 6 of the order above: fields a producer cannot legitimately send. */
static int batch_check_fields(const struct batch_header *h)
{
	int codec = h->bh_attributes & BATCH_ATTR_CODEC_MASK;
	if (codec > BATCH_CODEC_ZSTD)
		return RL_EINVAL_BATCH;
	if (h->bh_records_count < 0)
		return RL_EINVAL_BATCH;
	if (h->bh_last_offset_delta < 0)
		return RL_EINVAL_BATCH;
	/* Compaction may leave gaps (delta > count - 1), never overlaps. */
	if ((int64_t)h->bh_last_offset_delta < (int64_t)h->bh_records_count - 1)
		return RL_EINVAL_BATCH;
	/* baseOffset is outside the CRC: keep it where offset arithmetic
	 * (base + lastOffsetDelta + 1) cannot overflow. */
	if (h->bh_base_offset < 0 || h->bh_base_offset > BATCH_MAX_BASE_OFFSET)
		return RL_EINVAL_BATCH;
	return 0;
}

int64_t batch_validate(const uint8_t *buf, size_t len, struct batch_header *h)
{
	int64_t total = batch_total_size(buf, len);
	if (total < 0)
		return total;
	if ((uint64_t)total > len)
		return RL_ETRUNCATED;
	RL_DEBUG_ASSERT(total >= BATCH_HEADER_BYTES);

	struct batch_header local;
	struct batch_header *hp = h ? h : &local;
	int rc = batch_header_decode(buf, (size_t)total, hp);
	RL_ASSERT(rc == 0); /* total >= 61 was established above */

	if (hp->bh_magic != BATCH_MAGIC)
		return RL_EMAGIC;
	if (batch_crc_compute(buf, (size_t)total) != hp->bh_crc)
		return RL_ECRC;
	rc = batch_check_fields(hp);
	if (rc < 0)
		return rc;
	return total;
}

const char *batch_codec_name(int codec)
{
	switch (codec) {
	case BATCH_CODEC_NONE:
		return "none";
	case BATCH_CODEC_GZIP:
		return "gzip";
	case BATCH_CODEC_SNAPPY:
		return "snappy";
	case BATCH_CODEC_LZ4:
		return "lz4";
	case BATCH_CODEC_ZSTD:
		return "zstd";
	default:
		return "unknown";
	}
}

void batch_iter_init(struct batch_iter *it, const uint8_t *buf, size_t len)
{
	RL_ASSERT(buf != NULL || len == 0);
	it->bi_buf = buf;
	it->bi_len = len;
	it->bi_pos = 0;
}

int batch_iter_next(struct batch_iter *it, struct batch_header *h, const uint8_t **batch,
		    size_t *size)
{
	RL_ASSERT(it->bi_pos <= it->bi_len);
	if (it->bi_pos == it->bi_len)
		return 0;

	const uint8_t *start = it->bi_buf + it->bi_pos;
	int64_t total = batch_validate(start, it->bi_len - it->bi_pos, h);
	if (total < 0)
		return (int)total; /* bi_pos still names the bad batch */

	*batch = start;
	*size = (size_t)total;
	it->bi_pos += (size_t)total;
	RL_ASSERT(it->bi_pos <= it->bi_len);
	return 1;
}
