/*
 * metrics — counting, and the Prometheus text rendering (contract in
 * metrics.h).
 */
#include "metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker.h"
#include "cluster.h"
#include "meta.h"
#include "partition.h"
#include "plog.h"
#include "quorum.h"
#include "replica.h"
#include "topics.h"

/* Upper bounds of the buckets, in microseconds; the last is +Inf. */
static const int64_t mt_bounds_us[MT_BUCKETS - 1] = {
	50,    100,   250,    500,    1000,   2500,    5000,	10000,
	25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 10000000,
};

int64_t mt_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void mt_observe_us(struct mt_histogram *h, int64_t us)
{
	if (us < 0)
		us = 0;
	int i = 0;
	while (i < MT_BUCKETS - 1 && us > mt_bounds_us[i])
		i++;
	h->mh_counts[i]++;
	h->mh_count++;
	h->mh_sum_us += (uint64_t)us;
}

static int mt_api_slot(int16_t api_key)
{
	if (api_key >= 0 && api_key < KP_API_KEY_COUNT)
		return api_key;
	if (kp_api_private(api_key))
		return KP_API_KEY_COUNT + (api_key - KP_API_REPLOG_FIRST);
	return -1;
}

static int16_t mt_slot_api(int slot)
{
	return slot < KP_API_KEY_COUNT ? (int16_t)slot
				       : (int16_t)(KP_API_REPLOG_FIRST + (slot - KP_API_KEY_COUNT));
}

void mt_request(struct mt_broker *m, int16_t api_key)
{
	int s = mt_api_slot(api_key);
	if (s >= 0)
		m->mb_requests[s]++;
}

void mt_request_done(struct mt_broker *m, int16_t api_key, int64_t us)
{
	int s = mt_api_slot(api_key);
	if (s >= 0)
		mt_observe_us(&m->mb_request[s], us);
}

/* ---- rendering -------------------------------------------------------- */

struct mt_out {
	char *o_buf;
	size_t o_len, o_cap;
	bool o_failed;
};

__attribute__((format(printf, 2, 3))) static void mt_printf(struct mt_out *o, const char *fmt, ...)
{
	if (o->o_failed)
		return;
	for (int attempt = 0; attempt < 2; attempt++) {
		va_list ap;
		va_start(ap, fmt);
		size_t room = o->o_cap - o->o_len;
		int n = vsnprintf(o->o_buf ? o->o_buf + o->o_len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->o_failed = true;
			return;
		}
		if ((size_t)n < room) {
			o->o_len += (size_t)n;
			return;
		}
		size_t ncap = o->o_cap ? o->o_cap : 65536;
		while (ncap - o->o_len <= (size_t)n)
			ncap *= 2;
		char *nb = realloc(o->o_buf, ncap);
		if (!nb) {
			o->o_failed = true;
			return;
		}
		o->o_buf = nb;
		o->o_cap = ncap;
	}
}

static void mt_head(struct mt_out *o, const char *name, const char *type, const char *help)
{
	mt_printf(o, "# HELP replog_%s %s\n# TYPE replog_%s %s\n", name, help, name, type);
}

/* labels: `key="value",...` without braces, or "" for none. */
static void mt_histogram_lines(struct mt_out *o, const char *name, const char *labels,
			       const struct mt_histogram *h)
{
	const char *sep = labels[0] ? "," : "";
	uint64_t cum = 0;
	for (int i = 0; i < MT_BUCKETS; i++) {
		cum += h->mh_counts[i];
		if (i < MT_BUCKETS - 1)
			mt_printf(o, "replog_%s_bucket{%s%sle=\"%g\"} %" PRIu64 "\n", name, labels,
				  sep, (double)mt_bounds_us[i] / 1e6, cum);
		else
			mt_printf(o, "replog_%s_bucket{%s%sle=\"+Inf\"} %" PRIu64 "\n", name,
				  labels, sep, cum);
	}
	mt_printf(o, "replog_%s_sum%s%s%s %.6f\n", name, labels[0] ? "{" : "", labels,
		  labels[0] ? "}" : "", (double)h->mh_sum_us / 1e6);
	mt_printf(o, "replog_%s_count%s%s%s %" PRIu64 "\n", name, labels[0] ? "{" : "", labels,
		  labels[0] ? "}" : "", h->mh_count);
}

static void mt_render_requests(struct mt_out *o, const struct mt_broker *m)
{
	mt_head(o, "requests_total", "counter", "Requests received, by API.");
	for (int s = 0; s < MT_APIS; s++)
		if (m->mb_requests[s])
			mt_printf(o, "replog_requests_total{api=\"%s\"} %" PRIu64 "\n",
				  kp_api_name(mt_slot_api(s)), m->mb_requests[s]);
	mt_head(o, "request_duration_seconds", "histogram",
		"Time from a request's arrival to its response being queued, by API.");
	char labels[96];
	for (int s = 0; s < MT_APIS; s++) {
		if (!m->mb_request[s].mh_count)
			continue;
		snprintf(labels, sizeof(labels), "api=\"%s\"", kp_api_name(mt_slot_api(s)));
		mt_histogram_lines(o, "request_duration_seconds", labels, &m->mb_request[s]);
	}
	mt_head(o, "fsync_duration_seconds", "histogram",
		"Duration of fdatasync/fsync of partition log segments.");
	mt_histogram_lines(o, "fsync_duration_seconds", "", &m->mb_fsync);
}

/* One gauge or counter line per partition hosted here. */
typedef uint64_t (*mt_part_fn)(struct broker *b, const struct partition *p);

static void mt_per_partition(struct mt_out *o, struct broker *b, const char *name, const char *type,
			     const char *help, mt_part_fn fn, bool signed_value)
{
	mt_head(o, name, type, help);
	uint32_t nt = topics_count(b->b_topics);
	for (uint32_t i = 0; i < nt; i++) {
		struct topic *t = topics_at(b->b_topics, i);
		for (int32_t p = 0; p < t->tp_partition_count; p++) {
			const struct partition *pt = &t->tp_parts[p];
			if (!pt->pt_log || pt->pt_internal)
				continue;
			uint64_t v = fn(b, pt);
			if (signed_value)
				mt_printf(o,
					  "replog_%s{topic=\"%s\",partition=\"%d\"} %" PRId64 "\n",
					  name, t->tp_name, p, (int64_t)v);
			else
				mt_printf(o,
					  "replog_%s{topic=\"%s\",partition=\"%d\"} %" PRIu64 "\n",
					  name, t->tp_name, p, v);
		}
	}
}

static uint64_t mt_leo(struct broker *b, const struct partition *p)
{
	(void)b;
	return (uint64_t)plog_end_offset(p->pt_log);
}
static uint64_t mt_hw(struct broker *b, const struct partition *p)
{
	(void)b;
	return (uint64_t)p->pt_hw;
}
static uint64_t mt_epoch(struct broker *b, const struct partition *p)
{
	(void)b;
	return (uint64_t)(int64_t)p->pt_leader_epoch;
}
static uint64_t mt_is_leader(struct broker *b, const struct partition *p)
{
	(void)b;
	return replica_is_leader(p) ? 1 : 0;
}
static uint64_t mt_isr_size(struct broker *b, const struct partition *p)
{
	const struct meta_partition *mp = meta_partition(cluster_image(b), p->pt_topic->tp_name,
							 p->pt_topic->tp_name_len, p->pt_index);
	return mp ? (uint64_t)mp->mp_nisr : 0;
}
static uint64_t mt_replicas(struct broker *b, const struct partition *p)
{
	const struct meta_partition *mp = meta_partition(cluster_image(b), p->pt_topic->tp_name,
							 p->pt_topic->tp_name_len, p->pt_index);
	return mp ? (uint64_t)mp->mp_nreplicas : 0;
}
#define MT_FIELD_FN(fname, expr)                                                                   \
	static uint64_t fname(struct broker *b, const struct partition *p)                         \
	{                                                                                          \
		(void)b;                                                                           \
		return (uint64_t)(expr);                                                           \
	}
MT_FIELD_FN(mt_records_in, p->pt_metrics.mp_records_in)
MT_FIELD_FN(mt_bytes_in, p->pt_metrics.mp_bytes_in)
MT_FIELD_FN(mt_records_out, p->pt_metrics.mp_records_out)
MT_FIELD_FN(mt_bytes_out, p->pt_metrics.mp_bytes_out)
MT_FIELD_FN(mt_shrinks, p->pt_metrics.mp_isr_shrinks)
MT_FIELD_FN(mt_expands, p->pt_metrics.mp_isr_expands)
MT_FIELD_FN(mt_discard_events, p->pt_discard_events)
MT_FIELD_FN(mt_discard_records, p->pt_discard_records)
#undef MT_FIELD_FN

static void mt_render_partitions(struct mt_out *o, struct broker *b)
{
	mt_per_partition(o, b, "partition_log_end_offset", "gauge",
			 "Log end offset of this broker's replica.", mt_leo, true);
	mt_per_partition(o, b, "partition_high_watermark", "gauge",
			 "High watermark as this broker's replica knows it.", mt_hw, true);
	mt_per_partition(o, b, "partition_leader_epoch", "gauge",
			 "Leader epoch this broker's replica is in.", mt_epoch, true);
	mt_per_partition(o, b, "partition_is_leader", "gauge",
			 "1 when this broker leads the partition.", mt_is_leader, false);
	mt_per_partition(o, b, "partition_isr_size", "gauge",
			 "In-sync replicas in the committed metadata.", mt_isr_size, false);
	mt_per_partition(o, b, "partition_replicas", "gauge", "Assigned replicas.", mt_replicas,
			 false);
	mt_per_partition(o, b, "partition_records_in_total", "counter",
			 "Records appended here as leader from producers.", mt_records_in, false);
	mt_per_partition(o, b, "partition_bytes_in_total", "counter",
			 "Record batch bytes appended here as leader from producers.", mt_bytes_in,
			 false);
	mt_per_partition(o, b, "partition_records_out_total", "counter",
			 "Records (offsets) sent to consumers from this replica.", mt_records_out,
			 false);
	mt_per_partition(o, b, "partition_bytes_out_total", "counter",
			 "Record batch bytes sent to consumers from this replica.", mt_bytes_out,
			 false);
	mt_per_partition(o, b, "partition_isr_shrinks_total", "counter",
			 "Committed ISR shrinks while this broker led.", mt_shrinks, false);
	mt_per_partition(o, b, "partition_isr_expands_total", "counter",
			 "Committed ISR expansions while this broker led.", mt_expands, false);
	mt_per_partition(o, b, "partition_discarded_events_total", "counter",
			 "Truncations of this replica that discarded writes (since start).",
			 mt_discard_events, false);
	mt_per_partition(o, b, "partition_discarded_records_total", "counter",
			 "Records those truncations discarded (since start).", mt_discard_records,
			 false);
}

static void mt_render_cluster(struct mt_out *o, struct broker *b)
{
	const struct meta_image *mi = cluster_image(b);
	int32_t self = b->b_cfg.bc_id;
	uint64_t under = 0, offline = 0, led = 0;
	for (uint32_t i = 0; i < mi->mi_ntopics; i++) {
		const struct meta_topic *t = mi->mi_order[i];
		for (int32_t p = 0; p < t->mt_npartitions; p++) {
			const struct meta_partition *mp = &t->mt_parts[p];
			if (mp->mp_nreplicas > 0 && mp->mp_leader < 0)
				offline++;
			if (mp->mp_leader == self) {
				led++;
				if (mp->mp_nisr < mp->mp_nreplicas)
					under++;
			}
		}
	}
	mt_head(o, "under_replicated_partitions", "gauge",
		"Partitions this broker leads whose ISR is smaller than their replicas.");
	mt_printf(o, "replog_under_replicated_partitions %" PRIu64 "\n", under);
	mt_head(o, "leader_partitions", "gauge", "Partitions this broker leads.");
	mt_printf(o, "replog_leader_partitions %" PRIu64 "\n", led);
	mt_head(o, "offline_partitions", "gauge",
		"Partitions of the cluster with no leader, in the committed metadata.");
	mt_printf(o, "replog_offline_partitions %" PRIu64 "\n", offline);
	mt_head(o, "connections", "gauge", "Open client and broker connections.");
	mt_printf(o, "replog_connections %" PRIu32 "\n", b->b_conn_count);
	mt_head(o, "metadata_offset", "gauge", "Offset after the last metadata entry applied.");
	mt_printf(o, "replog_metadata_offset %" PRId64 "\n", mi->mi_next_offset);
	struct quorum *q = cluster_quorum(b);
	if (!q)
		return;
	mt_head(o, "quorum_term", "gauge", "Raft term of the metadata quorum, as known here.");
	mt_printf(o, "replog_quorum_term %" PRIu64 "\n", (uint64_t)qr_term(q));
	mt_head(o, "quorum_leader", "gauge", "Broker id of the active controller, -1 unknown.");
	mt_printf(o, "replog_quorum_leader %d\n", qr_leader(q));
	mt_head(o, "quorum_active_controller", "gauge",
		"1 when the active controller runs in this broker.");
	mt_printf(o, "replog_quorum_active_controller %d\n", qr_active(q) ? 1 : 0);
}

int mt_render(struct broker *b, char **out, size_t *len)
{
	struct mt_out o = {0};
	mt_head(&o, "build_info", "gauge", "Version and broker id of this replogd.");
	mt_printf(&o, "replog_build_info{version=\"%s\",broker_id=\"%d\"} 1\n", REPLOG_VERSION_STR,
		  b->b_cfg.bc_id);
	mt_render_requests(&o, &b->b_metrics);
	mt_render_partitions(&o, b);
	mt_render_cluster(&o, b);
	if (o.o_failed) {
		free(o.o_buf);
		return -ENOMEM;
	}
	*out = o.o_buf;
	*len = o.o_len;
	return 0;
}
