/*
 * kp_initpid — InitProducerId v0-4 (flexible from v2). Layout, per Kafka's
 * InitProducerIdRequest/Response.json:
 *
 * Request
 *   transactional_id        nullable string (compact in v2+)
 *   transaction_timeout_ms  int32
 *   producer_id             int64                       v3+
 *   producer_epoch          int16                       v3+
 *   tagged fields                                       v2+
 * Response
 *   throttle_time_ms        int32
 *   error_code              int16
 *   producer_id             int64
 *   producer_epoch          int16
 *   tagged fields                                       v2+
 *
 * librdkafka's v4 request body, as captured: 00 (null compact string)
 * ffffffff ffffffffffffffff ffff 00 (no tags).
 */
#include "kp_initpid.h"

#include "kp_api.h"

static const int16_t API = KP_API_INIT_PRODUCER_ID;

int kp_initpid_request_decode(struct kp_reader *r, int16_t version, struct kp_initpid_request *req)
{
	if (kp_api_begin_decode(r, API, version))
		return r->kr_err;
	req->transactional_id = kp_read_nullable_string(r);
	req->transaction_timeout_ms = kp_read_int32(r);
	req->producer_id = version >= 3 ? kp_read_int64(r) : -1;
	req->producer_epoch = version >= 3 ? kp_read_int16(r) : -1;
	req->tags = r->kr_flexible ? kp_read_tags(r) : KP_TAGS_EMPTY;
	return kp_reader_finish(r);
}

int kp_initpid_request_encode(struct kp_writer *w, int16_t version,
			      const struct kp_initpid_request *req)
{
	if (kp_api_begin_encode(w, API, version))
		return w->kw_err;
	kp_write_nullable_string(w, req->transactional_id);
	kp_write_int32(w, req->transaction_timeout_ms);
	if (version >= 3) {
		kp_write_int64(w, req->producer_id);
		kp_write_int16(w, req->producer_epoch);
	}
	if (w->kw_flexible)
		kp_write_tags(w, req->tags);
	return w->kw_err;
}

int kp_initpid_response_decode(struct kp_reader *r, int16_t version,
			       struct kp_initpid_response *resp)
{
	if (kp_api_begin_decode(r, API, version))
		return r->kr_err;
	resp->throttle_time_ms = kp_read_int32(r);
	resp->error_code = kp_read_int16(r);
	resp->producer_id = kp_read_int64(r);
	resp->producer_epoch = kp_read_int16(r);
	resp->tags = r->kr_flexible ? kp_read_tags(r) : KP_TAGS_EMPTY;
	return kp_reader_finish(r);
}

int kp_initpid_response_encode(struct kp_writer *w, int16_t version,
			       const struct kp_initpid_response *resp)
{
	if (kp_api_begin_encode(w, API, version))
		return w->kw_err;
	kp_write_int32(w, resp->throttle_time_ms);
	kp_write_int16(w, resp->error_code);
	kp_write_int64(w, resp->producer_id);
	kp_write_int16(w, resp->producer_epoch);
	if (w->kw_flexible)
		kp_write_tags(w, resp->tags);
	return w->kw_err;
}
