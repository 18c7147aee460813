/*
 * kp_apiversions — ApiVersions v0-3 (flexible from v3). Layout, per
 * Kafka's ApiVersionsRequest/Response.json:
 *
 * Request
 *   v0-v2  empty body
 *   v3     client_software_name compact string, client_software_version
 *          compact string, tagged fields
 * Response
 *   error_code        int16
 *   api_keys          [api_key int16, min_version int16, max_version int16,
 *                      tagged fields (v3)]    (compact array in v3)
 *   throttle_time_ms  int32                   v1+
 *   tagged fields                             v3
 *
 * librdkafka's v3 request body, as captured: 0b "librdkafka" 06 "2.0.2" 00.
 */
#include "kp_apiversions.h"

#include "kp_api.h"

#define MIN_API_VERSION 6 /* key, min, max */

static const int16_t API = KP_API_API_VERSIONS;

int kp_apiversions_request_decode(struct kp_reader *r, int16_t version,
				  struct kp_apiversions_request *req)
{
	if (kp_api_begin_decode(r, API, version))
		return r->kr_err;
	req->client_software_name = KP_STR("");
	req->client_software_version = KP_STR("");
	req->tags = KP_TAGS_EMPTY;
	if (version >= 3) {
		req->client_software_name = kp_read_string(r);
		req->client_software_version = kp_read_string(r);
		req->tags = kp_read_tags(r);
	}
	return kp_reader_finish(r);
}

int kp_apiversions_request_encode(struct kp_writer *w, int16_t version,
				  const struct kp_apiversions_request *req)
{
	if (kp_api_begin_encode(w, API, version))
		return w->kw_err;
	if (version >= 3) {
		kp_write_string(w, req->client_software_name);
		kp_write_string(w, req->client_software_version);
		kp_write_tags(w, req->tags);
	}
	return w->kw_err;
}

int kp_apiversions_response_decode(struct kp_reader *r, int16_t version,
				   struct kp_apiversions_response *resp)
{
	if (kp_api_begin_decode(r, API, version))
		return r->kr_err;
	resp->error_code = kp_read_int16(r);
	resp->api_keys = kp_read_struct_array(r, false, MIN_API_VERSION, sizeof(*resp->api_keys),
					      &resp->api_keys_count);
	for (int32_t i = 0; i < resp->api_keys_count && !r->kr_err; i++) {
		struct kp_apiversions_api_version *k = &resp->api_keys[i];
		k->api_key = kp_read_int16(r);
		k->min_version = kp_read_int16(r);
		k->max_version = kp_read_int16(r);
		k->tags = r->kr_flexible ? kp_read_tags(r) : KP_TAGS_EMPTY;
	}
	resp->throttle_time_ms = version >= 1 ? kp_read_int32(r) : 0;
	resp->tags = r->kr_flexible ? kp_read_tags(r) : KP_TAGS_EMPTY;
	return kp_reader_finish(r);
}

int kp_apiversions_response_encode(struct kp_writer *w, int16_t version,
				   const struct kp_apiversions_response *resp)
{
	if (kp_api_begin_encode(w, API, version))
		return w->kw_err;
	kp_write_int16(w, resp->error_code);
	kp_write_array_begin(w, resp->api_keys, resp->api_keys_count, false);
	for (int32_t i = 0; i < resp->api_keys_count && !w->kw_err; i++) {
		const struct kp_apiversions_api_version *k = &resp->api_keys[i];
		kp_write_int16(w, k->api_key);
		kp_write_int16(w, k->min_version);
		kp_write_int16(w, k->max_version);
		if (w->kw_flexible)
			kp_write_tags(w, k->tags);
	}
	if (version >= 1)
		kp_write_int32(w, resp->throttle_time_ms);
	if (w->kw_flexible)
		kp_write_tags(w, resp->tags);
	return w->kw_err;
}

static bool software_char(char c, bool edge)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return !edge && (c == '-' || c == '.');
}

bool kp_apiversions_software_valid(struct kp_str s)
{
	if (s.len <= 0 || !s.ptr)
		return false;
	for (int32_t i = 0; i < s.len; i++) {
		if (!software_char(s.ptr[i], i == 0 || i == s.len - 1))
			return false;
	}
	return true;
}

size_t kp_apiversions_fill_supported(struct kp_apiversions_api_version *out, size_t cap)
{
	const struct kp_api_info *rows[KP_API_KEY_COUNT];
	size_t n = kp_api_supported(rows, KP_API_KEY_COUNT);
	for (size_t i = 0; i < n && i < cap; i++) {
		out[i] = (struct kp_apiversions_api_version){
			.api_key = rows[i]->ai_api_key,
			.min_version = rows[i]->ai_min_version,
			.max_version = rows[i]->ai_max_version,
			.tags = KP_TAGS_EMPTY,
		};
	}
	return n;
}
