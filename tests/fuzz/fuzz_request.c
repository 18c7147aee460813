/*
 * fuzz_request — libFuzzer target for the Kafka request codec (client/kp_*).
 *
 * Input: one request frame as the broker sees it after the 4-byte size
 * prefix: header, then body. The header is decoded; if it names an
 * api/version the codec supports, the body is decoded with a fixed-size
 * arena (as the broker will), and the same body bytes are also decoded as
 * that API's *response* (the client side), so both directions are fuzzed.
 * Checked beyond "no crash, no sanitizer report, no leak":
 *   - header outcomes: 8 bytes or more always yield the api key, version
 *     and correlation id, whatever else fails;
 *   - the arena never hands out more than its block;
 *   - whatever decodes (with or without trailing bytes) re-encodes without
 *     error, to at most the input's size (encoders write minimal varints),
 *     and that encoding decodes cleanly and re-encodes to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kp_api.h"
#include "kp_message.h"
#include "rlassert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ARENA_BYTES (64 * 1024)
#define WRITER_CAP  (4 * 1024 * 1024)

static uint8_t arena_mem[ARENA_BYTES];
static uint8_t arena2_mem[ARENA_BYTES];

static bool decoded(int rc)
{
	return rc == 0 || rc == KP_ETRAILING;
}

/* Encode twice through a decode and demand the same bytes. */
static void request_stable(const struct kp_request_header *h, const union kp_request_body *b,
			   size_t input_len)
{
	struct kp_writer w1, w2;
	kp_writer_init(&w1, WRITER_CAP);
	kp_writer_init(&w2, WRITER_CAP);
	RL_ASSERT(kp_request_encode(&w1, h, b) == 0);
	RL_ASSERT(w1.kw_len - KP_FRAME_PREFIX_BYTES <= input_len);

	struct kp_arena arena;
	struct kp_reader r;
	struct kp_request_header h2;
	union kp_request_body b2;
	kp_arena_init(&arena, arena2_mem, sizeof(arena2_mem));
	kp_reader_init(&r, w1.kw_buf + KP_FRAME_PREFIX_BYTES, w1.kw_len - KP_FRAME_PREFIX_BYTES,
		       &arena);
	RL_ASSERT(kp_request_decode(&r, &h2, &b2) == 0);
	RL_ASSERT(h2.request_api_key == h->request_api_key &&
		  h2.request_api_version == h->request_api_version &&
		  h2.correlation_id == h->correlation_id);
	RL_ASSERT(kp_request_encode(&w2, &h2, &b2) == 0);
	RL_ASSERT(w1.kw_len == w2.kw_len && memcmp(w1.kw_buf, w2.kw_buf, w1.kw_len) == 0);
	kp_writer_deinit(&w1);
	kp_writer_deinit(&w2);
}

static void response_stable(int16_t key, int16_t version, const union kp_response_body *b,
			    size_t input_len)
{
	struct kp_writer w1, w2;
	kp_writer_init(&w1, WRITER_CAP);
	kp_writer_init(&w2, WRITER_CAP);
	RL_ASSERT(kp_response_body_encode(&w1, key, version, b) == 0);
	RL_ASSERT(w1.kw_len <= input_len);

	struct kp_arena arena;
	struct kp_reader r;
	union kp_response_body b2;
	kp_arena_init(&arena, arena2_mem, sizeof(arena2_mem));
	kp_reader_init(&r, w1.kw_buf, w1.kw_len, &arena);
	RL_ASSERT(kp_response_body_decode(&r, key, version, &b2) == 0);
	RL_ASSERT(kp_response_body_encode(&w2, key, version, &b2) == 0);
	RL_ASSERT(w1.kw_len == w2.kw_len && memcmp(w1.kw_buf, w2.kw_buf, w1.kw_len) == 0);
	kp_writer_deinit(&w1);
	kp_writer_deinit(&w2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy, so any read past the frame is an ASan report;
	 * writable, as the broker's receive buffer is. */
	uint8_t *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	if (size)
		memcpy(buf, data, size);

	struct kp_arena arena;
	struct kp_reader r;
	struct kp_request_header h;
	kp_arena_init(&arena, arena_mem, sizeof(arena_mem));
	kp_reader_init(&r, buf, size, &arena);
	int rc = kp_request_header_decode(&r, &h);
	if (size < 8) {
		RL_ASSERT(rc == KP_ETRUNCATED);
	} else {
		RL_ASSERT(h.request_api_key == (int16_t)(data[0] << 8 | data[1]));
		RL_ASSERT(h.correlation_id ==
			  (int32_t)((uint32_t)data[4] << 24 | (uint32_t)data[5] << 16 |
				    (uint32_t)data[6] << 8 | data[7]));
	}
	if (rc != 0) {
		RL_ASSERT(rc < 0);
		free(buf);
		return 0;
	}
	uint8_t *body = r.kr_pos;
	size_t body_len = kp_reader_remaining(&r);

	union kp_request_body req;
	rc = kp_request_body_decode(&r, h.request_api_key, h.request_api_version, &req);
	RL_ASSERT(rc <= 0 && kp_arena_used(&arena) <= ARENA_BYTES);
	if (decoded(rc))
		request_stable(&h, &req, size);

	/* The same bytes as the response body of that api/version. */
	union kp_response_body resp;
	kp_arena_init(&arena, arena_mem, sizeof(arena_mem));
	kp_reader_init(&r, body, body_len, &arena);
	rc = kp_response_body_decode(&r, h.request_api_key, h.request_api_version, &resp);
	RL_ASSERT(rc <= 0);
	if (decoded(rc))
		response_stable(h.request_api_key, h.request_api_version, &resp, body_len);

	free(buf);
	return 0;
}
