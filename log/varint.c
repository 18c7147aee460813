/*
 * varint — Kafka's variable-length integers (see varint.h for the formats).
 *
 * Every number is a run of base-128 groups, least significant first; a set
 * high bit means another byte follows. Signed values are zig-zag mapped
 * first ((n << 1) ^ (n >> 63): 0, -1, 1, -2 ... become 0, 1, 2, 3 ...) so
 * small negatives stay short; -1 (a null length) is the single byte 0x01.
 *
 * What the decoders accept — stricter than the Java client, which silently
 * drops the high bits of a fifth (tenth) byte:
 *   - at most VARINT_MAX32 bytes for 32-bit numbers and VARINT_MAX64 for
 *     64-bit ones; a continuation bit on the last allowed byte is refused;
 *   - the last allowed byte may only carry the bits the type still has room
 *     for: 4 for 32-bit (4 x 7 = 28 bits before it), 1 for 64-bit (9 x 7 = 63);
 *   - non-minimal encodings within those limits (0x80 0x00 for 0) are
 *     accepted, as every Kafka implementation accepts them; encoders here
 *     always write the minimal form.
 * Outcomes: bytes consumed (> 0); RL_ETRUNCATED when `len` ends while a
 * continuation bit is still set (including len == 0); RL_EINVAL_RECORD for
 * too many bytes or bits. Nothing allocates and nothing reads past `len`.
 */
#include "varint.h"

#include "rlassert.h"
#include "rlerr.h"

/* Decode up to `max_bytes` groups into *out. `last_mask` is the set of bits
 * the final allowed byte may carry. */
static int uvarint_decode_bounded(const uint8_t *buf, size_t len, int max_bytes, uint8_t last_mask,
				  uint64_t *out)
{
	uint64_t v = 0;
	for (int i = 0; i < max_bytes; i++) {
		if ((size_t)i >= len)
			return RL_ETRUNCATED;
		uint8_t b = buf[i];
		if (i == max_bytes - 1 && (b & ~last_mask) != 0)
			return RL_EINVAL_RECORD; /* overflow, or a continuation past the limit */
		v |= (uint64_t)(b & 0x7f) << (7 * i);
		if ((b & 0x80) == 0) {
			*out = v;
			return i + 1;
		}
	}
	RL_ASSERT(!"unreachable: the last byte either ends the number or is refused");
	return RL_EINVAL_RECORD;
}

int uvarint_decode32(const uint8_t *buf, size_t len, uint32_t *out)
{
	uint64_t v;
	int n = uvarint_decode_bounded(buf, len, VARINT_MAX32, 0x0f, &v);
	if (n > 0) {
		RL_DEBUG_ASSERT(v <= UINT32_MAX);
		*out = (uint32_t)v;
	}
	return n;
}

int varint_decode32(const uint8_t *buf, size_t len, int32_t *out)
{
	uint32_t u;
	int n = uvarint_decode32(buf, len, &u);
	if (n > 0)
		*out = (int32_t)((u >> 1) ^ (0u - (u & 1)));
	return n;
}

int varint_decode64(const uint8_t *buf, size_t len, int64_t *out)
{
	uint64_t u;
	int n = uvarint_decode_bounded(buf, len, VARINT_MAX64, 0x01, &u);
	if (n > 0)
		*out = (int64_t)((u >> 1) ^ (0ull - (u & 1)));
	return n;
}

static int uvarint_encode64(uint8_t *buf, uint64_t v)
{
	int n = 0;
	while (v >= 0x80) {
		buf[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	buf[n++] = (uint8_t)v;
	RL_DEBUG_ASSERT(n <= VARINT_MAX64);
	return n;
}

static int uvarint_size64(uint64_t v)
{
	int n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* Zig-zag through unsigned arithmetic: no signed shift of a negative value. */
static inline uint32_t zigzag32(int32_t v)
{
	return ((uint32_t)v << 1) ^ (v < 0 ? UINT32_MAX : 0);
}

static inline uint64_t zigzag64(int64_t v)
{
	return ((uint64_t)v << 1) ^ (v < 0 ? UINT64_MAX : 0);
}

int uvarint_encode32(uint8_t *buf, uint32_t v)
{
	return uvarint_encode64(buf, v);
}

int varint_encode32(uint8_t *buf, int32_t v)
{
	return uvarint_encode64(buf, zigzag32(v));
}

int varint_encode64(uint8_t *buf, int64_t v)
{
	return uvarint_encode64(buf, zigzag64(v));
}

int uvarint_size32(uint32_t v)
{
	return uvarint_size64(v);
}

int varint_size32(int32_t v)
{
	return uvarint_size64(zigzag32(v));
}

int varint_size64(int64_t v)
{
	return uvarint_size64(zigzag64(v));
}
