/*
 * batch_builder — encode records into a RecordBatch v2, as a producer does.
 * Used by tools (replog produce), benchmarks and tests; the broker never
 * builds batches from records.
 *
 * The caller owns the output buffer. batch_builder_init() sets the header
 * fields; batch_builder_add() appends one record (plain) and fails with
 * RL_ETOO_LARGE when it would not fit; batch_builder_finish() compresses
 * the records region if asked (zstd; falls back to no compression when the
 * result would not be smaller, as librdkafka does), fills recordsCount,
 * lastOffsetDelta, maxTimestamp, batchLength and the CRC, and returns the
 * total batch size. With compression the builder needs scratch space: it
 * uses the tail of the caller's buffer, so give it room for twice the
 * records.
 */
#ifndef REPLOG_BATCH_BUILDER_H
#define REPLOG_BATCH_BUILDER_H

#include <stddef.h>
#include <stdint.h>

struct batch_builder_header {
	const uint8_t *bbh_key;
	int32_t bbh_key_len;
	const uint8_t *bbh_value; /* NULL = null value */
	int32_t bbh_value_len;
};

struct batch_builder {
	uint8_t *bb_buf;
	size_t bb_cap;
	size_t bb_len; /* bytes used so far, header included */
	int32_t bb_count;
	int64_t bb_base_timestamp;
	int64_t bb_max_timestamp;
	int bb_codec; /* enum batch_codec: NONE or ZSTD */
};

/* producer_id -1 / epoch -1 / base_sequence -1 for a non-idempotent batch.
 * Returns 0, RL_ETOO_LARGE if cap < BATCH_HEADER_BYTES, or RL_EUNSUPPORTED
 * for a codec other than NONE and ZSTD. */
int batch_builder_init(struct batch_builder *b, uint8_t *buf, size_t cap, int codec,
		       int64_t base_timestamp, int64_t producer_id, int16_t producer_epoch,
		       int32_t base_sequence);

/* key/value NULL with len -1 encode null. Returns 0 or RL_ETOO_LARGE (the
 * builder is then unchanged), or RL_EINVAL_RECORD for arguments no record
 * can carry: a length below -1, a NULL pointer with a positive length, a
 * null or negative header key length, a negative header_count, or a
 * timestamp whose delta from base_timestamp overflows int64. */
int batch_builder_add(struct batch_builder *b, int64_t timestamp, const uint8_t *key,
		      int32_t key_len, const uint8_t *value, int32_t value_len,
		      const struct batch_builder_header *headers, int header_count);

/* Returns the total batch size (> 0) or a negative RL_E* code (RL_EINVAL_BATCH
 * when no record was added). A successful finish seals the builder: adding
 * to it or finishing it again is a programming error (asserted); init it
 * again to reuse the buffer. */
int64_t batch_builder_finish(struct batch_builder *b);

#endif
