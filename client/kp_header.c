/*
 * kp_header — request/response header codec (layouts in kp_header.h).
 *
 * The request header is decoded in two steps so that a request we cannot
 * serve can still be answered: the first 8 bytes (api key, version,
 * correlation id) have the same layout in every header version; only then
 * is the header version chosen, from Kafka's flexible-version facts in
 * kp_api.c, to read client_id and, for v2, the tagged fields. An api key
 * whose flexible versions are not recorded is read as v1: such a request is
 * refused anyway, and its client_id sits at the same place in v1 and v2.
 */
#include "kp_header.h"

#include "kp_api.h"
#include "rlassert.h"

int kp_request_header_decode(struct kp_reader *r, struct kp_request_header *h)
{
	h->request_api_key = kp_read_int16(r);
	h->request_api_version = kp_read_int16(r);
	h->correlation_id = kp_read_int32(r);
	h->client_id = KP_STR_NULL;
	h->tags = KP_TAGS_EMPTY;
	h->header_version =
		(int8_t)kp_request_header_version(h->request_api_key, h->request_api_version);
	if (r->kr_err)
		return r->kr_err;
	h->client_id = kp_read_string_form(r, KP_FORM_CLASSIC, true);
	if (h->header_version >= 2)
		h->tags = kp_read_tags(r);
	if (r->kr_err)
		return r->kr_err;
	r->kr_flexible = kp_api_flexible(h->request_api_key, h->request_api_version);
	const struct kp_api_info *ai = kp_api_info(h->request_api_key);
	if (!ai || ai->ai_min_version == KP_VERSION_NONE)
		return KP_EUNSUPPORTED_API;
	if (!kp_api_version_supported(h->request_api_key, h->request_api_version))
		return KP_EUNSUPPORTED_VERSION;
	return 0;
}

int kp_request_header_encode(struct kp_writer *w, const struct kp_request_header *h)
{
	kp_write_int16(w, h->request_api_key);
	kp_write_int16(w, h->request_api_version);
	kp_write_int32(w, h->correlation_id);
	kp_write_string_form(w, KP_FORM_CLASSIC, true, h->client_id);
	if (kp_request_header_version(h->request_api_key, h->request_api_version) >= 2)
		kp_write_tags(w, h->tags);
	return w->kw_err;
}

int kp_response_header_encode(struct kp_writer *w, int16_t api_key, int16_t api_version,
			      const struct kp_response_header *h)
{
	kp_write_int32(w, h->correlation_id);
	if (kp_response_header_version(api_key, api_version) >= 1)
		kp_write_tags(w, h->tags);
	return w->kw_err;
}

int kp_response_header_decode(struct kp_reader *r, int16_t api_key, int16_t api_version,
			      struct kp_response_header *h)
{
	h->correlation_id = kp_read_int32(r);
	h->tags = KP_TAGS_EMPTY;
	if (kp_response_header_version(api_key, api_version) >= 1)
		h->tags = kp_read_tags(r);
	r->kr_flexible = kp_api_flexible(api_key, api_version);
	return r->kr_err;
}
