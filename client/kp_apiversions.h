/*
 * kp_apiversions — ApiVersions (api key 18), versions 0-3: request and
 * response. The first request on every connection.
 *
 * Special rules (KIP-511, KAFKA_PROTOCOL.md §1.3, §2.3):
 *   - the response header is always v0, even for v3 (kp_api.h);
 *   - a request version above ours is answered with UNSUPPORTED_VERSION (35)
 *     and a *v0* body listing our ranges, whatever version was asked: encode
 *     the response with version 0. librdkafka 2.0.2 then retries with v0;
 *   - no other error code may be returned (clients treat it as fatal);
 *   - a v3 request's software name/version must match
 *     [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])? or the broker answers
 *     INVALID_REQUEST (42): kp_apiversions_software_valid().
 * A client whose v3 decode fails, or that reads error 35, should decode the
 * same body again as v0.
 *
 * Conventions and outcomes as in kp_metadata.h.
 */
#ifndef REPLOG_KP_APIVERSIONS_H
#define REPLOG_KP_APIVERSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_codec.h"

struct kp_apiversions_request {
	struct kp_str client_software_name;    /* v3+; default "" */
	struct kp_str client_software_version; /* v3+; default "" */
	struct kp_tags tags;		       /* v3+ */
};

struct kp_apiversions_api_version {
	int16_t api_key;
	int16_t min_version;
	int16_t max_version;
	struct kp_tags tags; /* v3+ */
};

struct kp_apiversions_response {
	int16_t error_code;
	struct kp_apiversions_api_version *api_keys;
	int32_t api_keys_count;
	int32_t throttle_time_ms; /* v1+; default 0 */
	/* v3+: tags 0-3 (SupportedFeatures, FinalizedFeaturesEpoch,
	 * FinalizedFeatures, ZkMigrationReady) stay raw here; replog sends none. */
	struct kp_tags tags;
};

int kp_apiversions_request_decode(struct kp_reader *r, int16_t version,
				  struct kp_apiversions_request *req);
int kp_apiversions_request_encode(struct kp_writer *w, int16_t version,
				  const struct kp_apiversions_request *req);
int kp_apiversions_response_decode(struct kp_reader *r, int16_t version,
				   struct kp_apiversions_response *resp);
int kp_apiversions_response_encode(struct kp_writer *w, int16_t version,
				   const struct kp_apiversions_response *resp);

/* True when s matches Kafka's pattern for client software names/versions. */
bool kp_apiversions_software_valid(struct kp_str s);

/* Fill out[0..cap) with this codec's ranges (kp_api.h), in api key order,
 * for the broker's response. Returns how many APIs there are (may exceed
 * cap, in which case only cap rows were written). */
size_t kp_apiversions_fill_supported(struct kp_apiversions_api_version *out, size_t cap);

#endif
