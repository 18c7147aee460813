/*
 * log_bench_report — the statistics and the report of `replog-bench log`.
 * What this file owns: the summary of each policy over its repeats (the
 * median of each kind, the ratio of the medians, min..max, per-pair ratio
 * bounds), and every line the benchmark prints on stdout (the header, one
 * result per policy, the verdict on the target) in text or JSON, plus the
 * per-run lines of -v on stderr. The formats are spelled out in
 * `replog-bench log --help` (log_bench_usage()).
 *
 * The target is the issue's: at 64 KiB batches with a flush every 1 MiB,
 * the log reaches LOG_BENCH_TARGET_RATIO of raw. A run without that batch
 * size or that policy does not measure it, and says so.
 */
#include "log_bench_impl.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Target of the issue: appends reach 90% of raw at 64 KiB batches with a
 * flush every 1 MiB. */
#define LOG_BENCH_TARGET_BATCH_BYTES (64u << 10)
#define LOG_BENCH_TARGET_FLUSH_BYTES (1 << 20)
#define LOG_BENCH_TARGET_RATIO	     0.90

/* ---- formatting -------------------------------------------------------- */

/* "64KiB", "1MiB", "3GiB", or "65000B" when not a whole unit. */
const char *log_bench_fmt_size(char *buf, size_t cap, uint64_t bytes)
{
	if (bytes && bytes % LOG_BENCH_GIB == 0)
		snprintf(buf, cap, "%" PRIu64 "GiB", bytes / LOG_BENCH_GIB);
	else if (bytes && bytes % LOG_BENCH_MIB == 0)
		snprintf(buf, cap, "%" PRIu64 "MiB", bytes / LOG_BENCH_MIB);
	else if (bytes && bytes % LOG_BENCH_KIB == 0)
		snprintf(buf, cap, "%" PRIu64 "KiB", bytes / LOG_BENCH_KIB);
	else
		snprintf(buf, cap, "%" PRIu64 "B", bytes);
	return buf;
}

/* "850us", "12.3ms", "1.20s". */
static const char *log_bench_fmt_ns(char *buf, size_t cap, int64_t ns)
{
	if (ns < 0)
		snprintf(buf, cap, "-");
	else if (ns < 1000000)
		snprintf(buf, cap, "%" PRId64 "us", ns / 1000);
	else if (ns < 10000000000)
		snprintf(buf, cap, "%.1fms", (double)ns / 1e6);
	else
		snprintf(buf, cap, "%.2fs", (double)ns / 1e9);
	return buf;
}

/* ---- statistics and report --------------------------------------------- */

static double log_bench_mib_s(const struct log_bench_sample *s)
{
	return s->ls_seconds > 0 ? (double)s->ls_bytes / (double)LOG_BENCH_MIB / s->ls_seconds
				 : 0.0;
}

static int log_bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Median of v[0..n) (mean of the middle two for even n); sorts v. */
static double log_bench_median(double *v, uint32_t n)
{
	qsort(v, n, sizeof(*v), log_bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void log_bench_summarize(struct log_bench *b, uint32_t pol, struct log_bench_summary *su)
{
	const uint32_t r = b->lb_opts.lo_repeat_count;
	double v[LOG_BENCH_REPEAT_MAX];
	memset(su, 0, sizeof(*su));
	for (int k = 0; k < 2; k++) {
		for (uint32_t i = 0; i < r; i++)
			v[i] = log_bench_mib_s(log_bench_sample_at(b, pol, i, k));
		su->su_mib_s[k] = log_bench_median(v, r);
		su->su_min[k] = v[0];
		su->su_max[k] = v[r - 1];
		for (uint32_t i = 0; i < r; i++)
			v[i] = (double)log_bench_sample_at(b, pol, i, k)->ls_fsyncs;
		su->su_fsyncs[k] = log_bench_median(v, r);
		for (uint32_t i = 0; i < r; i++)
			v[i] = (double)log_bench_sample_at(b, pol, i, k)->ls_writes;
		su->su_writes[k] = log_bench_median(v, r);
		for (uint32_t i = 0; i < r; i++)
			v[i] = (double)log_bench_sample_at(b, pol, i, k)->ls_p50_ns;
		su->su_p50_ns[k] = log_bench_median(v, r);
		for (uint32_t i = 0; i < r; i++)
			v[i] = (double)log_bench_sample_at(b, pol, i, k)->ls_p99_ns;
		su->su_p99_ns[k] = log_bench_median(v, r);
	}
	for (uint32_t i = 0; i < r; i++) {
		const struct log_bench_sample *s = log_bench_sample_at(b, pol, i, LOG_BENCH_LOG);
		v[i] = s->ls_seconds > 0 ? (double)s->ls_appends / s->ls_seconds : 0;
	}
	su->su_appends_s = log_bench_median(v, r);
	su->su_ratio = su->su_mib_s[LOG_BENCH_RAW] > 0
			       ? su->su_mib_s[LOG_BENCH_LOG] / su->su_mib_s[LOG_BENCH_RAW]
			       : 0;
	for (uint32_t i = 0; i < r; i++) {
		double raw = log_bench_mib_s(log_bench_sample_at(b, pol, i, LOG_BENCH_RAW));
		double lg = log_bench_mib_s(log_bench_sample_at(b, pol, i, LOG_BENCH_LOG));
		v[i] = raw > 0 ? lg / raw : 0;
	}
	qsort(v, r, sizeof(*v), log_bench_cmp_double);
	su->su_pair_min = v[0];
	su->su_pair_max = v[r - 1];
}

/* A JSON string: only the path can hold characters that need escaping. */
static void log_bench_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void log_bench_print_header(const struct log_bench *b, const struct log_bench_facts *f)
{
	const struct log_bench_opts *o = &b->lb_opts;
	char bs[32], tot[32], seg[32];
	log_bench_fmt_size(bs, sizeof(bs), o->lo_batch_bytes);
	log_bench_fmt_size(tot, sizeof(tot), o->lo_total_bytes);
	log_bench_fmt_size(seg, sizeof(seg), o->lo_segment_bytes);
	if (o->lo_json) {
		printf("{\"type\":\"header\",\"engine\":");
		log_bench_json_str(stdout, b->lb_engine_note);
		printf(",\"batch_bytes\":%" PRIu64 ",\"batch_len\":%zu,\"records_per_batch\":%d"
		       ",\"total_bytes\":%" PRIu64 ",\"appends_per_run\":%" PRIu64
		       ",\"repeat\":%u,\"inflight\":%u,\"ack\":\"%s\",\"max_write_iov\":%u"
		       ",\"segment_bytes\":%" PRIu64 ",\"dir\":",
		       o->lo_batch_bytes, b->lb_batch_len, b->lb_records_per_batch,
		       o->lo_total_bytes, b->lb_append_count, o->lo_repeat_count, b->lb_slot_count,
		       o->lo_ack_durable ? "durable" : "written", o->lo_max_write_iov,
		       o->lo_segment_bytes);
		log_bench_json_str(stdout, o->lo_dir);
		printf(",\"fs\":");
		log_bench_json_str(stdout, f->lf_fs);
		printf(",\"cores\":%ld,\"kernel\":", f->lf_cores);
		log_bench_json_str(stdout, f->lf_kernel);
		printf("}\n");
	} else {
		printf("replog-bench log: engine=%s batch=%s (%zu bytes, %d records) total=%s/run "
		       "appends=%" PRIu64 "/run repeat=%u inflight=%u ack=%s max_write_iov=%u "
		       "segment=%s dir=%s fs=%s cores=%ld kernel=%s\n",
		       b->lb_engine_note, bs, b->lb_batch_len, b->lb_records_per_batch, tot,
		       b->lb_append_count, o->lo_repeat_count, b->lb_slot_count,
		       o->lo_ack_durable ? "durable" : "written", o->lo_max_write_iov, seg,
		       o->lo_dir, f->lf_fs, f->lf_cores, f->lf_kernel);
	}
	fflush(stdout);
}

void log_bench_print_result(struct log_bench *b, uint32_t pol, const struct log_bench_summary *su)
{
	const struct log_bench_opts *o = &b->lb_opts;
	const struct log_bench_policy *p = &o->lo_policies[pol];
	const int R = LOG_BENCH_RAW, L = LOG_BENCH_LOG;
	if (o->lo_json) {
		printf("{\"type\":\"result\",\"policy\":\"%s\",\"batch_bytes\":%" PRIu64
		       ",\"log_mib_s\":%.1f,\"log_mib_s_min\":%.1f,\"log_mib_s_max\":%.1f"
		       ",\"log_appends_s\":%.0f,\"raw_mib_s\":%.1f,\"raw_mib_s_min\":%.1f"
		       ",\"raw_mib_s_max\":%.1f,\"ratio\":%.3f,\"ratio_pair_min\":%.3f"
		       ",\"ratio_pair_max\":%.3f,\"log_fsyncs\":%.0f,\"raw_fsyncs\":%.0f"
		       ",\"log_writes\":%.0f,\"raw_writes\":%.0f,\"log_p50_us\":%.0f"
		       ",\"log_p99_us\":%.0f,\"raw_p50_us\":%.0f,\"raw_p99_us\":%.0f,\"runs\":[",
		       p->lp_name, o->lo_batch_bytes, su->su_mib_s[L], su->su_min[L], su->su_max[L],
		       su->su_appends_s, su->su_mib_s[R], su->su_min[R], su->su_max[R],
		       su->su_ratio, su->su_pair_min, su->su_pair_max, su->su_fsyncs[L],
		       su->su_fsyncs[R], su->su_writes[L], su->su_writes[R], su->su_p50_ns[L] / 1e3,
		       su->su_p99_ns[L] / 1e3, su->su_p50_ns[R] / 1e3, su->su_p99_ns[R] / 1e3);
		for (uint32_t i = 0; i < o->lo_repeat_count; i++) {
			const struct log_bench_sample *r = log_bench_sample_at(b, pol, i, R);
			const struct log_bench_sample *l = log_bench_sample_at(b, pol, i, L);
			printf("%s{\"log_mib_s\":%.1f,\"raw_mib_s\":%.1f,\"log_seconds\":%.4f"
			       ",\"raw_seconds\":%.4f,\"log_cpu_ms\":%.1f,\"raw_cpu_ms\":%.1f"
			       ",\"log_fsyncs\":%" PRIu64 ",\"raw_fsyncs\":%" PRIu64
			       ",\"log_writes\":%" PRIu64 "}",
			       i ? "," : "", log_bench_mib_s(l), log_bench_mib_s(r), l->ls_seconds,
			       r->ls_seconds, (double)l->ls_cpu_ns / 1e6,
			       (double)r->ls_cpu_ns / 1e6, l->ls_fsyncs, r->ls_fsyncs,
			       l->ls_writes);
		}
		printf("]}\n");
	} else {
		char bs[32], a[16], c[16], d[16], e[16];
		printf("policy=%s batch=%s log=%.1fMiB/s (%.0f appends/s) raw=%.1fMiB/s "
		       "ratio=%.3f fsyncs log=%.0f raw=%.0f [log %.1f..%.1f raw %.1f..%.1f] "
		       "durable p50/p99 log=%s/%s raw=%s/%s writes log=%.0f raw=%.0f\n",
		       p->lp_name, log_bench_fmt_size(bs, sizeof(bs), o->lo_batch_bytes),
		       su->su_mib_s[L], su->su_appends_s, su->su_mib_s[R], su->su_ratio,
		       su->su_fsyncs[L], su->su_fsyncs[R], su->su_min[L], su->su_max[L],
		       su->su_min[R], su->su_max[R],
		       log_bench_fmt_ns(a, sizeof(a), (int64_t)su->su_p50_ns[L]),
		       log_bench_fmt_ns(c, sizeof(c), (int64_t)su->su_p99_ns[L]),
		       log_bench_fmt_ns(d, sizeof(d), (int64_t)su->su_p50_ns[R]),
		       log_bench_fmt_ns(e, sizeof(e), (int64_t)su->su_p99_ns[R]), su->su_writes[L],
		       su->su_writes[R]);
	}
	fflush(stdout);
}

/* The target: 64 KiB batches with a flush every 1 MiB. */
void log_bench_print_target(struct log_bench *b, const struct log_bench_summary *sums)
{
	const struct log_bench_opts *o = &b->lb_opts;
	int found = -1;
	for (uint32_t i = 0; i < o->lo_policy_count && found < 0; i++)
		if (o->lo_policies[i].lp_kind == LOG_BENCH_BYTES &&
		    o->lo_policies[i].lp_flush_bytes == LOG_BENCH_TARGET_FLUSH_BYTES)
			found = (int)i;
	bool measured = found >= 0 && o->lo_batch_bytes == LOG_BENCH_TARGET_BATCH_BYTES;
	double ratio = measured ? sums[found].su_ratio : 0;
	bool ok = measured && ratio >= LOG_BENCH_TARGET_RATIO;
	if (o->lo_json) {
		printf("{\"type\":\"target\",\"batch_bytes\":%u,\"flush_bytes\":%d,\"min_ratio\":%."
		       "2f"
		       ",\"measured\":%s",
		       LOG_BENCH_TARGET_BATCH_BYTES, LOG_BENCH_TARGET_FLUSH_BYTES,
		       LOG_BENCH_TARGET_RATIO, measured ? "true" : "false");
		if (measured)
			printf(",\"ratio\":%.3f,\"ok\":%s", ratio, ok ? "true" : "false");
		printf("}\n");
	} else if (!measured) {
		printf("target: 64KiB batches, flush every 1MiB: not measured in this run (needs "
		       "--batch-bytes 64K and a 1M policy)\n");
	} else {
		printf("target: 64KiB batches, flush every 1MiB: ratio %.3f %s %.2f %s\n", ratio,
		       ok ? ">=" : "<", LOG_BENCH_TARGET_RATIO, ok ? "OK" : "BELOW TARGET");
	}
	fflush(stdout);
}

void log_bench_print_run(const struct log_bench_policy *p, uint32_t rep, int kind,
			 const struct log_bench_sample *s)
{
	char a[16], c[16], t[16], u[16];
	fprintf(stderr,
		"  run policy=%s repeat=%u %s: %.1fMiB/s %.3fs (final sync %s) cpu=%s "
		"ivcsw=%" PRId64 " fsyncs=%" PRIu64 " writes=%" PRIu64
		" (%.0f KiB/write) durable p50/p99=%s/%s\n",
		p->lp_name, rep, kind == LOG_BENCH_LOG ? "log" : "raw", log_bench_mib_s(s),
		s->ls_seconds, log_bench_fmt_ns(t, sizeof(t), s->ls_tail_ns),
		log_bench_fmt_ns(u, sizeof(u), s->ls_cpu_ns), s->ls_ivcsw, s->ls_fsyncs,
		s->ls_writes,
		s->ls_writes ? (double)s->ls_write_bytes / (double)s->ls_writes / 1024.0 : 0.0,
		log_bench_fmt_ns(a, sizeof(a), s->ls_p50_ns),
		log_bench_fmt_ns(c, sizeof(c), s->ls_p99_ns));
}
