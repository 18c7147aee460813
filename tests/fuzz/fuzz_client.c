/*
 * fuzz_client — libFuzzer target for what libreplog reads from the network
 * and from users: broker responses, the record sets of Fetch answers, and
 * receipt text.
 *
 * Input: one selector byte, then
 *   0: a Fetch answer's record bytes: 8 bytes of start offset (big-endian),
 *      then the records. rl_records_walk must return a negative code or an
 *      offset >= start, and every record it hands out lies inside the input
 *      (or the decompression buffer) and is at or after start, in order.
 *   1: receipt text: a receipt that parses formats back to text that parses
 *      to the same receipt.
 *   2: a response frame (after its size prefix) for api key and version
 *      (next 2 + 2 bytes): decoded as libreplog's connections do, with an
 *      arena sized like theirs; it must not crash, whatever it says.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kp_api.h"
#include "kp_message.h"
#include "replog.h"
#include "rl_core.h"
#include "rlassert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct walk_check {
	const uint8_t *in;
	size_t in_len;
	uint8_t **scratch;
	size_t *scratch_cap;
	int64_t start;
	int64_t last;
};

static int inside(const uint8_t *p, int32_t len, const uint8_t *base, size_t cap)
{
	return len <= 0 ||
	       (p >= base && (size_t)(p - base) <= cap && (size_t)len <= cap - (size_t)(p - base));
}

static int walk_one(void *ctx, const struct rl_record_view *r, int32_t epoch)
{
	struct walk_check *w = ctx;
	(void)epoch;
	RL_ASSERT(r->offset >= w->start);
	RL_ASSERT(r->offset > w->last);
	w->last = r->offset;
	RL_ASSERT(inside(r->key, r->key_len, w->in, w->in_len) ||
		  inside(r->key, r->key_len, *w->scratch, *w->scratch_cap));
	RL_ASSERT(inside(r->value, r->value_len, w->in, w->in_len) ||
		  inside(r->value, r->value_len, *w->scratch, *w->scratch_cap));
	return 0;
}

static void fuzz_records(const uint8_t *data, size_t size)
{
	if (size < 8)
		return;
	int64_t start = 0;
	for (int i = 0; i < 8; i++)
		start = (int64_t)((uint64_t)start << 8 | data[i]);
	start &= INT64_MAX >> 1;
	uint8_t *scratch = NULL;
	size_t cap = 0;
	struct walk_check w = {.in = data + 8,
			       .in_len = size - 8,
			       .scratch = &scratch,
			       .scratch_cap = &cap,
			       .start = start,
			       .last = INT64_MIN};
	int64_t next = rl_records_walk(data + 8, size - 8, start, &scratch, &cap, walk_one, &w);
	RL_ASSERT(next < 0 || next >= start);
	free(scratch);
}

static void fuzz_receipt(const uint8_t *data, size_t size)
{
	char text[512];
	if (size >= sizeof(text))
		size = sizeof(text) - 1;
	memcpy(text, data, size);
	text[size] = '\0';
	struct replog_receipt r, back;
	if (replog_receipt_parse(text, &r) != REPLOG_OK)
		return;
	char out[REPLOG_TOPIC_MAX + 64];
	RL_ASSERT(replog_receipt_format(&r, out, sizeof(out)) > 0);
	RL_ASSERT(replog_receipt_parse(out, &back) == REPLOG_OK);
	RL_ASSERT(memcmp(&r, &back, sizeof(r)) == 0);
}

static void fuzz_response(const uint8_t *data, size_t size)
{
	if (size < 4)
		return;
	int16_t api = (int16_t)(data[0] << 8 | data[1]);
	int16_t version = (int16_t)(data[2] << 8 | data[3]);
	data += 4;
	size -= 4;
	size_t cap = size * 24 + (64 << 10);
	void *mem = malloc(cap);
	uint8_t *frame = malloc(size ? size : 1);
	if (!mem || !frame) {
		free(mem);
		free(frame);
		return;
	}
	memcpy(frame, data, size);
	struct kp_arena arena;
	kp_arena_init(&arena, mem, cap);
	struct kp_reader r;
	kp_reader_init(&r, frame, size, &arena);
	struct kp_response_header h;
	union kp_response_body body;
	memset(&body, 0, sizeof(body));
	(void)kp_response_decode(&r, api, version, &h, &body);
	free(mem);
	free(frame);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		fuzz_records(data + 1, size - 1);
		break;
	case 1:
		fuzz_receipt(data + 1, size - 1);
		break;
	default:
		fuzz_response(data + 1, size - 1);
		break;
	}
	return 0;
}
