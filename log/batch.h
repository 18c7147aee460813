/*
 * batch — the Kafka RecordBatch v2 (magic 2) header: decode, validate, stamp.
 *
 * On-wire = on-disk. All integers big-endian. 61 header bytes, then records:
 *
 *   off size field                 notes
 *     0   8  baseOffset            set by the leader (not covered by the CRC)
 *     8   4  batchLength           bytes after this field; total = batchLength + 12
 *    12   4  partitionLeaderEpoch  set by the leader (not covered by the CRC)
 *    16   1  magic                 2
 *    17   4  crc                   CRC-32C of bytes [21, total)
 *    21   2  attributes            bits 0-2 codec, 3 timestamp type, 4 transactional,
 *                                  5 control, 6 delete horizon
 *    23   4  lastOffsetDelta
 *    27   8  baseTimestamp
 *    35   8  maxTimestamp
 *    43   8  producerId
 *    51   2  producerEpoch
 *    53   4  baseSequence
 *    57   4  recordsCount          outside the compressed region
 *    61   .  records               plain records, or one compressed blob of them
 *
 * A batch is valid when: at least 12 bytes are there to read its length;
 * batchLength >= 49 (a header with no records) and the whole batch fits the
 * bytes given; magic == 2; the CRC matches; recordsCount >= 0;
 * lastOffsetDelta >= 0 and >= recordsCount - 1 (compaction can leave gaps,
 * never overlaps); the compression codec is 0..4; 0 <= baseOffset <=
 * BATCH_MAX_BASE_OFFSET. Because baseOffset and the
 * leader epoch are outside the CRC, a leader stamps them in place without
 * re-encoding or re-checksumming anything.
 */
#ifndef REPLOG_BATCH_H
#define REPLOG_BATCH_H

#include <stddef.h>
#include <stdint.h>

#define BATCH_HEADER_BYTES 61
#define BATCH_LOG_OVERHEAD 12 /* baseOffset + batchLength */
#define BATCH_MAGIC	   2
#define BATCH_CRC_START	   21 /* the CRC covers [21, end) */
#define BATCH_MIN_LENGTH   (BATCH_HEADER_BYTES - BATCH_LOG_OVERHEAD)
/* Largest baseOffset a valid batch may carry: base + lastOffsetDelta + 1
 * then always fits an int64. */
#define BATCH_MAX_BASE_OFFSET (INT64_MAX - INT32_MAX - 1)

/* Byte offsets of the fields, for code that reads or stamps in place. */
#define BATCH_OFF_BASE_OFFSET	    0
#define BATCH_OFF_LENGTH	    8
#define BATCH_OFF_LEADER_EPOCH	    12
#define BATCH_OFF_MAGIC		    16
#define BATCH_OFF_CRC		    17
#define BATCH_OFF_ATTRIBUTES	    21
#define BATCH_OFF_LAST_OFFSET_DELTA 23
#define BATCH_OFF_BASE_TIMESTAMP    27
#define BATCH_OFF_MAX_TIMESTAMP	    35
#define BATCH_OFF_PRODUCER_ID	    43
#define BATCH_OFF_PRODUCER_EPOCH    51
#define BATCH_OFF_BASE_SEQUENCE	    53
#define BATCH_OFF_RECORDS_COUNT	    57

enum batch_codec {
	BATCH_CODEC_NONE = 0,
	BATCH_CODEC_GZIP = 1,
	BATCH_CODEC_SNAPPY = 2,
	BATCH_CODEC_LZ4 = 3,
	BATCH_CODEC_ZSTD = 4,
};

#define BATCH_ATTR_CODEC_MASK	   0x07
#define BATCH_ATTR_LOG_APPEND_TIME 0x08
#define BATCH_ATTR_TRANSACTIONAL   0x10
#define BATCH_ATTR_CONTROL	   0x20
#define BATCH_ATTR_DELETE_HORIZON  0x40

/* Decoded header; field names keep Kafka's spelling in snake_case. */
struct batch_header {
	int64_t bh_base_offset;
	int32_t bh_batch_length;
	int32_t bh_partition_leader_epoch;
	int8_t bh_magic;
	uint32_t bh_crc;
	int16_t bh_attributes;
	int32_t bh_last_offset_delta;
	int64_t bh_base_timestamp;
	int64_t bh_max_timestamp;
	int64_t bh_producer_id;
	int16_t bh_producer_epoch;
	int32_t bh_base_sequence;
	int32_t bh_records_count;
};

/* Big-endian loads and stores, shared with the index and wire codecs. */
static inline uint16_t be16_load(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}
static inline uint32_t be32_load(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t be64_load(const uint8_t *p)
{
	return (uint64_t)be32_load(p) << 32 | be32_load(p + 4);
}
static inline void be16_store(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void be32_store(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}
static inline void be64_store(uint8_t *p, uint64_t v)
{
	be32_store(p, (uint32_t)(v >> 32));
	be32_store(p + 4, (uint32_t)v);
}

/* Decode the 61 header bytes without judging them. Returns 0, or
 * RL_ETRUNCATED if len < BATCH_HEADER_BYTES. */
int batch_header_decode(const uint8_t *buf, size_t len, struct batch_header *h);

/* Total size of the batch that starts at buf (batchLength + 12), read from
 * its length field alone. Returns the size (>= 61), RL_ETRUNCATED if fewer
 * than 12 bytes are given, RL_EINVAL_BATCH if batchLength < 49 or the total
 * would exceed INT32_MAX. Does not require the whole batch to be present. */
int64_t batch_total_size(const uint8_t *buf, size_t len);

/* Full validation of the batch at the start of buf (see the rules above).
 * On success returns the batch's total size and fills *h (h may be NULL).
 * Errors: RL_ETRUNCATED (length overruns len), RL_EINVAL_BATCH, RL_EMAGIC,
 * RL_ECRC. */
int64_t batch_validate(const uint8_t *buf, size_t len, struct batch_header *h);

/* CRC-32C over [BATCH_CRC_START, total). */
uint32_t batch_crc_compute(const uint8_t *batch, size_t total);

/* Recompute and store the CRC (for builders; the broker never calls this). */
void batch_crc_update(uint8_t *batch, size_t total);

static inline void batch_set_base_offset(uint8_t *batch, int64_t base_offset)
{
	be64_store(batch + BATCH_OFF_BASE_OFFSET, (uint64_t)base_offset);
}
static inline void batch_set_leader_epoch(uint8_t *batch, int32_t epoch)
{
	be32_store(batch + BATCH_OFF_LEADER_EPOCH, (uint32_t)epoch);
}
static inline int64_t batch_last_offset(const struct batch_header *h)
{
	return h->bh_base_offset + h->bh_last_offset_delta;
}
static inline int64_t batch_next_offset(const struct batch_header *h)
{
	return h->bh_base_offset + h->bh_last_offset_delta + 1;
}
static inline enum batch_codec batch_codec(const struct batch_header *h)
{
	return (enum batch_codec)(h->bh_attributes & BATCH_ATTR_CODEC_MASK);
}

/* "none", "gzip", "snappy", "lz4", "zstd", or "unknown". */
const char *batch_codec_name(int codec);

/* Walk a buffer of batches laid end to end (a Produce `records` field, a
 * segment region, a Fetch response's records). */
struct batch_iter {
	const uint8_t *bi_buf;
	size_t bi_len;
	size_t bi_pos; /* offset of the next batch in bi_buf */
};

void batch_iter_init(struct batch_iter *it, const uint8_t *buf, size_t len);

/* Validates and returns the next batch: 1 with *h, *batch and *size set; 0
 * at the clean end of the buffer; a negative RL_E* code when the batch at
 * it->bi_pos is invalid (bi_pos then still names its start). */
int batch_iter_next(struct batch_iter *it, struct batch_header *h, const uint8_t **batch,
		    size_t *size);

#endif
