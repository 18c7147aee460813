/*
 * crc32c — CRC-32C (Castagnoli; reflected polynomial 0x82F63B78), the
 * checksum of Kafka record batches v2.
 *
 * Two implementations with one answer: the SSE4.2 crc32 instruction where the
 * CPU has it (checked once at first use with cpuid), and a slicing-by-8 table
 * fallback. crc32c() picks the fast one; the other two are public so tests
 * can check both against known vectors and against each other.
 *
 * Convention: crc32c(0, buf, len) is the CRC of buf (initial value and final
 * xor are applied inside). Chaining works: crc32c(crc32c(0, a, n), b, m) ==
 * crc32c(0, a||b, n+m).
 */
#ifndef REPLOG_CRC32C_H
#define REPLOG_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t crc32c(uint32_t crc, const void *buf, size_t len);
uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len);
/* Only valid when crc32c_hw_available() returns 1. */
uint32_t crc32c_hw(uint32_t crc, const void *buf, size_t len);
int crc32c_hw_available(void);

#endif
