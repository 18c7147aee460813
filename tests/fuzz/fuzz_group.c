/*
 * fuzz_group — libFuzzer target for the consumer-group codecs (client/
 * kp_group.*): FindCoordinator, JoinGroup, Heartbeat, LeaveGroup,
 * SyncGroup, OffsetCommit, OffsetFetch, ListGroups, DescribeGroups.
 *
 * Input: a bare body (no size prefix, no header). It is decoded as the
 * request and as the response of every group API at every version in the
 * api table (kp_api.c), each time from an exact-size copy (so a read past
 * the end is an ASan report) with a fixed-size arena, as the broker and
 * the client library will. Checked beyond "no crash, no sanitizer report,
 * no leak":
 *   - every outcome is 0 or a negative KP_E* code, and the arena never
 *     hands out more than its block;
 *   - whatever decodes (with or without trailing bytes) re-encodes without
 *     error to at most the input's size (encoders write minimal varints),
 *     and that encoding decodes cleanly and re-encodes to the same bytes.
 * Seeds (seeds/group/) are bodies from test_kp_group (KP_WRITE_SEEDS=dir):
 * every api/version built there, the golden bodies and the captured
 * client requests.
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

static const int16_t group_keys[] = {
	KP_API_FIND_COORDINATOR, KP_API_JOIN_GROUP,    KP_API_HEARTBEAT,    KP_API_LEAVE_GROUP,
	KP_API_SYNC_GROUP,	 KP_API_OFFSET_COMMIT, KP_API_OFFSET_FETCH, KP_API_LIST_GROUPS,
	KP_API_DESCRIBE_GROUPS,	 KP_API_DELETE_GROUPS,
};

static bool decoded(int rc)
{
	return rc == 0 || rc == KP_ETRAILING;
}

/* An empty body (ListGroups' request) leaves a heap writer without a
 * buffer; the reader wants a real pointer even for 0 bytes. */
static uint8_t *body_or_empty(struct kp_writer *w)
{
	static uint8_t empty[1];
	return w->kw_buf ? w->kw_buf : empty;
}

static void request_stable(int16_t key, int16_t version, const union kp_request_body *b,
			   size_t input_len)
{
	struct kp_writer w1, w2;
	kp_writer_init(&w1, WRITER_CAP);
	kp_writer_init(&w2, WRITER_CAP);
	RL_ASSERT(kp_request_body_encode(&w1, key, version, b) == 0);
	RL_ASSERT(w1.kw_len <= input_len);

	struct kp_arena arena;
	struct kp_reader r;
	union kp_request_body b2;
	kp_arena_init(&arena, arena2_mem, sizeof(arena2_mem));
	kp_reader_init(&r, body_or_empty(&w1), w1.kw_len, &arena);
	RL_ASSERT(kp_request_body_decode(&r, key, version, &b2) == 0);
	RL_ASSERT(kp_request_body_encode(&w2, key, version, &b2) == 0);
	RL_ASSERT(w1.kw_len == w2.kw_len &&
		  (w1.kw_len == 0 || memcmp(w1.kw_buf, w2.kw_buf, w1.kw_len) == 0));
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
	kp_reader_init(&r, body_or_empty(&w1), w1.kw_len, &arena);
	RL_ASSERT(kp_response_body_decode(&r, key, version, &b2) == 0);
	RL_ASSERT(kp_response_body_encode(&w2, key, version, &b2) == 0);
	RL_ASSERT(w1.kw_len == w2.kw_len &&
		  (w1.kw_len == 0 || memcmp(w1.kw_buf, w2.kw_buf, w1.kw_len) == 0));
	kp_writer_deinit(&w1);
	kp_writer_deinit(&w2);
}

static void fuzz_one(uint8_t *buf, const uint8_t *data, size_t size, int16_t key, int16_t version)
{
	struct kp_arena arena;
	struct kp_reader r;

	union kp_request_body req;
	if (size)
		memcpy(buf, data, size);
	kp_arena_init(&arena, arena_mem, sizeof(arena_mem));
	kp_reader_init(&r, buf, size, &arena);
	int rc = kp_request_body_decode(&r, key, version, &req);
	RL_ASSERT(rc <= 0 && rc != KP_EUNSUPPORTED_API && rc != KP_EUNSUPPORTED_VERSION);
	RL_ASSERT(kp_arena_used(&arena) <= ARENA_BYTES);
	if (decoded(rc))
		request_stable(key, version, &req, size);

	union kp_response_body resp;
	if (size)
		memcpy(buf, data, size);
	kp_arena_init(&arena, arena_mem, sizeof(arena_mem));
	kp_reader_init(&r, buf, size, &arena);
	rc = kp_response_body_decode(&r, key, version, &resp);
	RL_ASSERT(rc <= 0 && rc != KP_EUNSUPPORTED_API && rc != KP_EUNSUPPORTED_VERSION);
	RL_ASSERT(kp_arena_used(&arena) <= ARENA_BYTES);
	if (decoded(rc))
		response_stable(key, version, &resp, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy, writable as the broker's receive buffer is;
	 * refreshed before every decode. */
	uint8_t *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	for (size_t k = 0; k < sizeof(group_keys) / sizeof(group_keys[0]); k++) {
		const struct kp_api_info *ai = kp_api_info(group_keys[k]);
		RL_ASSERT(ai && ai->ai_min_version >= 0);
		for (int16_t v = ai->ai_min_version; v <= ai->ai_max_version; v++)
			fuzz_one(buf, data, size, group_keys[k], v);
	}
	free(buf);
	return 0;
}
