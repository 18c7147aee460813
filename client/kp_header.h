/*
 * kp_header — request and response headers (v0-v2), the first thing read
 * from every frame.
 *
 *   request header v1   request_api_key int16, request_api_version int16,
 *                       correlation_id int32, client_id nullable string
 *                       (int16 length: classic even in v2)
 *   request header v2   v1 + tagged fields
 *   response header v0  correlation_id int32
 *   response header v1  correlation_id int32 + tagged fields
 * Which version applies is decided by kp_api.h from the api key and version.
 */
#ifndef REPLOG_KP_HEADER_H
#define REPLOG_KP_HEADER_H

#include <stdint.h>

#include "kp_codec.h"

struct kp_request_header {
	int16_t request_api_key;
	int16_t request_api_version;
	int32_t correlation_id;
	struct kp_str client_id; /* nullable; decoded: a view into the frame */
	struct kp_tags tags;	 /* header v2 only */
	int8_t header_version;	 /* decoded: 1 or 2 (kp_request_header_version) */
};

struct kp_response_header {
	int32_t correlation_id;
	struct kp_tags tags; /* header v1 only */
};

/*
 * Decode the request header at the start of a frame (the bytes after the
 * size prefix); on return r is at the first byte of the body and
 * r->kr_flexible is set for the body's version.
 *
 * Outcomes:
 *   0                        header read; the codec supports this api/version
 *   KP_EUNSUPPORTED_VERSION  header read; the api has a codec but not this
 *                            version: answer ApiVersions with error 35 and a
 *                            v0 body, close the connection for other APIs
 *   KP_EUNSUPPORTED_API      api key without a codec (or unknown to Kafka);
 *                            key, version and correlation id are set, and the
 *                            client id too when the frame holds one
 *   KP_ETRUNCATED, KP_EMALFORMED
 *                            the header is broken; if at least 8 bytes were
 *                            there, key, version and correlation id are set
 * So with any outcome except a frame under 8 bytes, the broker can name the
 * request it refuses.
 */
int kp_request_header_decode(struct kp_reader *r, struct kp_request_header *h);

/* Writes header v1 or v2 as the api key and version require (h's
 * header_version is ignored). Returns the writer's error, 0 if none. */
int kp_request_header_encode(struct kp_writer *w, const struct kp_request_header *h);

/* The response header for a response to (api_key, api_version): v0 or v1.
 * Returns the writer's (or reader's) error, 0 if none; the decoder sets
 * r->kr_flexible for the body. */
int kp_response_header_encode(struct kp_writer *w, int16_t api_key, int16_t api_version,
			      const struct kp_response_header *h);
int kp_response_header_decode(struct kp_reader *r, int16_t api_key, int16_t api_version,
			      struct kp_response_header *h);

#endif
