/*
 * varint — the two variable-length integer encodings of the Kafka protocol.
 *
 * - Signed varint/varlong (inside record batches): zig-zag, then base-128
 *   little-endian groups, high bit = continuation. -1 encodes as 0x01.
 *   A varint (32-bit) takes at most 5 bytes, a varlong at most 10.
 * - Unsigned varint (flexible protocol versions: compact lengths, tagged
 *   fields): base-128 groups without zig-zag; at most 5 bytes for 32 bits.
 *
 * Decoders never read past `len` and refuse overlong or overflowing
 * encodings. They return the number of bytes consumed (>0), or RL_ETRUNCATED
 * when the bytes end mid-number, or RL_EINVAL_RECORD when the encoding is too
 * long or does not fit the type. Encoders write at most VARINT_MAX32 /
 * VARINT_MAX64 bytes and return how many they wrote.
 */
#ifndef REPLOG_VARINT_H
#define REPLOG_VARINT_H

#include <stddef.h>
#include <stdint.h>

#define VARINT_MAX32 5
#define VARINT_MAX64 10

int varint_decode32(const uint8_t *buf, size_t len, int32_t *out);
int varint_decode64(const uint8_t *buf, size_t len, int64_t *out);
int uvarint_decode32(const uint8_t *buf, size_t len, uint32_t *out);

int varint_encode32(uint8_t *buf, int32_t v);
int varint_encode64(uint8_t *buf, int64_t v);
int uvarint_encode32(uint8_t *buf, uint32_t v);

/* Bytes the encoders above would write for v. */
int varint_size32(int32_t v);
int varint_size64(int64_t v);
int uvarint_size32(uint32_t v);

#endif
