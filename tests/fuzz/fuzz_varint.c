/*
 * fuzz_varint — libFuzzer target for the varint decoders and encoders.
 *
 * Input: raw bytes. Every suffix is decoded as a signed varint, a signed
 * varlong and an unsigned varint. Checked beyond "no crash": a decoder
 * never claims more bytes than it was given nor more than the type's
 * limit; a decoded value re-encodes (minimally, so in at most the bytes
 * consumed) to an encoding that decodes to the same value, and the size
 * functions agree with the encoders.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rlassert.h"
#include "rlerr.h"
#include "varint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check32(const uint8_t *p, size_t len)
{
	int32_t v;
	int n = varint_decode32(p, len, &v);
	RL_ASSERT(n == RL_ETRUNCATED || n == RL_EINVAL_RECORD || (n > 0 && (size_t)n <= len));
	if (n <= 0)
		return;
	RL_ASSERT(n <= VARINT_MAX32);
	uint8_t enc[VARINT_MAX32];
	int m = varint_encode32(enc, v);
	RL_ASSERT(m == varint_size32(v) && m <= n);
	int32_t back;
	RL_ASSERT(varint_decode32(enc, (size_t)m, &back) == m && back == v);
	/* A 32-bit encoding is also a valid 64-bit one, with the same value. */
	int64_t wide;
	RL_ASSERT(varint_decode64(p, len, &wide) == n && wide == v);
}

static void check64(const uint8_t *p, size_t len)
{
	int64_t v;
	int n = varint_decode64(p, len, &v);
	RL_ASSERT(n == RL_ETRUNCATED || n == RL_EINVAL_RECORD || (n > 0 && (size_t)n <= len));
	if (n <= 0)
		return;
	RL_ASSERT(n <= VARINT_MAX64);
	uint8_t enc[VARINT_MAX64];
	int m = varint_encode64(enc, v);
	RL_ASSERT(m == varint_size64(v) && m <= n);
	int64_t back;
	RL_ASSERT(varint_decode64(enc, (size_t)m, &back) == m && back == v);
}

static void check_unsigned(const uint8_t *p, size_t len)
{
	uint32_t v;
	int n = uvarint_decode32(p, len, &v);
	RL_ASSERT(n == RL_ETRUNCATED || n == RL_EINVAL_RECORD || (n > 0 && (size_t)n <= len));
	if (n <= 0)
		return;
	RL_ASSERT(n <= VARINT_MAX32);
	uint8_t enc[VARINT_MAX32];
	int m = uvarint_encode32(enc, v);
	RL_ASSERT(m == uvarint_size32(v) && m <= n);
	uint32_t back;
	RL_ASSERT(uvarint_decode32(enc, (size_t)m, &back) == m && back == v);
	/* Same bits as the signed decoder, before zig-zag. */
	int32_t s;
	RL_ASSERT(varint_decode32(p, len, &s) == n);
	RL_ASSERT((uint32_t)s == ((v >> 1) ^ (0u - (v & 1))));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy, so a read past `len` is an ASan report even for
	 * the last suffix. */
	uint8_t *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	if (size)
		memcpy(buf, data, size);
	for (size_t off = 0; off <= size; off++) {
		check32(buf + off, size - off);
		check64(buf + off, size - off);
		check_unsigned(buf + off, size - off);
	}
	free(buf);
	return 0;
}
