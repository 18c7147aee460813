/*
 * kp_initpid — InitProducerId (api key 22), versions 0-4: request and
 * response. Prefix kp_initpid_*.
 *
 * librdkafka 2.0.2 sends v4 when enable.idempotence is set (transactional_id
 * null, timeout -1, producer id/epoch -1/-1 for a fresh producer). v2+ are
 * flexible: compact strings, a tagged-field section at the end of the body,
 * request header v2 and response header v1.
 *
 * Conventions and outcomes as in kp_metadata.h.
 */
#ifndef REPLOG_KP_INITPID_H
#define REPLOG_KP_INITPID_H

#include <stdint.h>

#include "kp_codec.h"

struct kp_initpid_request {
	struct kp_str transactional_id; /* nullable; null = idempotence only */
	int32_t transaction_timeout_ms;
	int64_t producer_id;	/* v3+; default -1 */
	int16_t producer_epoch; /* v3+; default -1 */
	struct kp_tags tags;	/* v2+; no tags are defined, unknown ones are kept */
};

struct kp_initpid_response {
	int32_t throttle_time_ms;
	int16_t error_code;
	int64_t producer_id;
	int16_t producer_epoch;
	struct kp_tags tags; /* v2+ */
};

int kp_initpid_request_decode(struct kp_reader *r, int16_t version, struct kp_initpid_request *req);
int kp_initpid_request_encode(struct kp_writer *w, int16_t version,
			      const struct kp_initpid_request *req);
int kp_initpid_response_decode(struct kp_reader *r, int16_t version,
			       struct kp_initpid_response *resp);
int kp_initpid_response_encode(struct kp_writer *w, int16_t version,
			       const struct kp_initpid_response *resp);

#endif
