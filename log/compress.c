/*
 * compress — zstd for the records region of a batch, always bounded by the
 * caller's buffer.
 *
 * Decompression never sizes anything from the input. It runs in two passes:
 *   1. Walk the frames (a blob may hold several concatenated frames, and
 *      skippable frames, as the zstd format allows) with
 *      ZSTD_findFrameCompressedSize / ZSTD_getFrameContentSize. A frame that
 *      does not start with the zstd (or skippable) magic, or cannot be
 *      delimited, is RL_ECOMPRESSION; declared content sizes that add up to
 *      more than `cap` are RL_ETOO_LARGE before a byte is decoded.
 *   2. Decode all frames in one shot with ZSTD_decompressDCtx straight into
 *      the caller's `dst`, capped at `cap`. One-shot decoding uses `dst` as
 *      its window, so a frame that declares a huge window allocates nothing
 *      extra; a frame without a declared size that expands past `cap` stops
 *      with dstSize_tooSmall, which we report as RL_ETOO_LARGE.
 * (test_compress decodes a frame declaring a 2 GiB window under a 256 MiB
 * address-space limit; streaming decompression fails that test.)
 *
 * The only allocation is the zstd context itself: fixed in size (about
 * 100 KiB to decode), independent of the input, created and freed per call.
 * That is acceptable because, as the header says, only tools, tests and
 * benchmarks come here; the broker stores compressed batches as producers
 * sent them. A caller that needs no allocation at all would want an API
 * taking a context created at start-up.
 *
 * Empty input is refused (RL_ECOMPRESSION): a compressed records region
 * holds at least one frame. Compression is one-shot too, so every frame we
 * write records its content size for the reader's check in pass 1.
 */
#include "compress.h"

#include <errno.h>
#include <string.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "batch.h"
#include "rlassert.h"
#include "rlerr.h"

static int64_t zstd_error_to_rl(size_t zrc)
{
	RL_DEBUG_ASSERT(ZSTD_isError(zrc));
	if (ZSTD_getErrorCode(zrc) == ZSTD_error_dstSize_tooSmall)
		return RL_ETOO_LARGE;
	if (ZSTD_getErrorCode(zrc) == ZSTD_error_memory_allocation)
		return -ENOMEM;
	return RL_ECOMPRESSION;
}

/* Only current zstd frames and skippable frames. The pre-1.0 "legacy"
 * formats libzstd may still decode are not something any Kafka client
 * writes, and refusing them keeps that older decoder out of reach. */
static int zstd_frame_magic_ok(const uint8_t *p, size_t len)
{
	if (len < 4)
		return 0;
	uint32_t magic =
		(uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	return magic == ZSTD_MAGICNUMBER ||
	       (magic & ZSTD_MAGIC_SKIPPABLE_MASK) == ZSTD_MAGIC_SKIPPABLE_START;
}

/* Pass 1: delimit every frame and add up the sizes they declare. */
static int64_t zstd_check_declared_sizes(const uint8_t *src, size_t len, size_t cap)
{
	uint64_t declared = 0;
	size_t pos = 0;
	while (pos < len) {
		if (!zstd_frame_magic_ok(src + pos, len - pos))
			return RL_ECOMPRESSION;
		size_t frame_len = ZSTD_findFrameCompressedSize(src + pos, len - pos);
		if (ZSTD_isError(frame_len) || frame_len == 0)
			return RL_ECOMPRESSION;
		unsigned long long content = ZSTD_getFrameContentSize(src + pos, frame_len);
		if (content == ZSTD_CONTENTSIZE_ERROR)
			return RL_ECOMPRESSION;
		if (content != ZSTD_CONTENTSIZE_UNKNOWN) {
			if (content > cap - declared)
				return RL_ETOO_LARGE;
			declared += content;
		}
		RL_ASSERT(frame_len <= len - pos);
		pos += frame_len;
	}
	return 0;
}

int64_t decompress_zstd(uint8_t *dst, size_t cap, const uint8_t *src, size_t len)
{
	RL_ASSERT(dst != NULL || cap == 0);
	if (len == 0 || src == NULL)
		return RL_ECOMPRESSION;
	int64_t rc = zstd_check_declared_sizes(src, len, cap);
	if (rc < 0)
		return rc;

	ZSTD_DCtx *dctx = ZSTD_createDCtx();
	if (dctx == NULL)
		return -ENOMEM;
	size_t out = ZSTD_decompressDCtx(dctx, dst, cap, src, len);
	ZSTD_freeDCtx(dctx);
	if (ZSTD_isError(out))
		return zstd_error_to_rl(out);
	RL_ASSERT(out <= cap);
	return (int64_t)out;
}

int64_t compress_zstd(uint8_t *dst, size_t cap, const uint8_t *src, size_t len, int level)
{
	RL_ASSERT(dst != NULL || cap == 0);
	RL_ASSERT(src != NULL || len == 0);
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	if (cctx == NULL)
		return -ENOMEM;
	/* One-shot: the frame records its content size, which is what lets a
	 * reader refuse an oversized frame before decoding it. */
	size_t out = ZSTD_compressCCtx(cctx, dst, cap, src, len, level);
	ZSTD_freeCCtx(cctx);
	if (ZSTD_isError(out))
		return zstd_error_to_rl(out);
	RL_ASSERT(out <= cap);
	return (int64_t)out;
}

int64_t decompress_records(int codec, uint8_t *dst, size_t cap, const uint8_t *src, size_t len)
{
	switch (codec) {
	case BATCH_CODEC_NONE:
		if (len > cap)
			return RL_ETOO_LARGE;
		if (len > 0)
			memcpy(dst, src, len);
		return (int64_t)len;
	case BATCH_CODEC_ZSTD:
		return decompress_zstd(dst, cap, src, len);
	default:
		return RL_EUNSUPPORTED;
	}
}
