/*
 * compress — zstd for record-batch payloads. The broker stores compressed
 * batches exactly as producers sent them; only tools (dump-log, consume),
 * tests and benchmarks decompress or compress.
 *
 * Every call is bounded by the caller's capacity: a zstd frame that claims
 * or produces more than `cap` bytes is refused (RL_ETOO_LARGE), never grown
 * into. Returns the number of bytes written, or a negative RL_E* code
 * (RL_ECOMPRESSION for a corrupt frame, RL_EUNSUPPORTED for codecs other
 * than none and zstd).
 *
 * Decompression accepts one or more concatenated zstd frames (skippable
 * frames included); empty input, legacy (pre-v0.8) frames and trailing bytes
 * that are not a frame are RL_ECOMPRESSION. -ENOMEM if zstd cannot allocate
 * its (fixed-size) context; each call creates and frees one.
 */
#ifndef REPLOG_COMPRESS_H
#define REPLOG_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

int64_t compress_zstd(uint8_t *dst, size_t cap, const uint8_t *src, size_t len, int level);
int64_t decompress_zstd(uint8_t *dst, size_t cap, const uint8_t *src, size_t len);

/* Decompress a batch's records region for `codec` (enum batch_codec):
 * BATCH_CODEC_NONE copies, ZSTD decompresses, others are RL_EUNSUPPORTED. */
int64_t decompress_records(int codec, uint8_t *dst, size_t cap, const uint8_t *src, size_t len);

#endif
