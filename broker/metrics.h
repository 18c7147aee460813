/*
 * metrics — what the broker counts and measures, and its rendering in
 * Prometheus' text exposition format (version 0.0.4) for `/metrics`.
 *
 * Owns: latency histograms (fixed buckets from 50 us to 10 s, cumulative
 * when rendered, sums in seconds), per-API request counters, the fsync
 * histogram, and per-partition traffic counters (struct mt_partition,
 * embedded in each partition). Gauges (log end, HW, ISR size, epochs,
 * connections, quorum state) are read from the broker when rendering, so
 * they are never stale. Counters only grow for the life of the process,
 * as Prometheus expects (a restart resets them; rate() handles that).
 *
 * Every metric is prefixed `replog_`; names and labels are listed in
 * README.md. Owned by the reactor thread.
 */
#ifndef REPLOG_METRICS_H
#define REPLOG_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "kp_api.h"

#define MT_BUCKETS 17 /* 16 bounds + +Inf */

struct mt_histogram {
	uint64_t mh_counts[MT_BUCKETS]; /* per bucket, not cumulative */
	uint64_t mh_count;
	uint64_t mh_sum_us;
};

/* Per partition, kept in struct partition (this broker's replica). */
struct mt_partition {
	uint64_t mp_records_in; /* appended as leader from producers */
	uint64_t mp_bytes_in;
	uint64_t mp_records_out; /* sent to consumers (replicas not counted) */
	uint64_t mp_bytes_out;
	uint64_t mp_isr_shrinks; /* as leader: committed ISR changes */
	uint64_t mp_isr_expands;
};

#define MT_APIS (KP_API_KEY_COUNT + KP_API_REPLOG_COUNT)

struct mt_broker {
	struct mt_histogram mb_request[MT_APIS]; /* request -> response, per API */
	uint64_t mb_requests[MT_APIS];		 /* including those with no response */
	struct mt_histogram mb_fsync;		 /* fdatasync/fsync of partition logs */
};

struct broker;

void mt_observe_us(struct mt_histogram *h, int64_t us);
/* A request of api_key arrived (counted) / was answered after us. */
void mt_request(struct mt_broker *m, int16_t api_key);
void mt_request_done(struct mt_broker *m, int16_t api_key, int64_t us);

/* The whole exposition, malloc'd into *out. Returns 0 or -ENOMEM. */
int mt_render(struct broker *b, char **out, size_t *len);

/* Monotonic clock in microseconds. */
int64_t mt_now_us(void);

#endif
