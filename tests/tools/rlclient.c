/*
 * rlclient — a test-only driver of libreplog (client/replog.h) for the
 * cluster tests: every event is one JSON line on stdout, flushed at once,
 * so a test can act (kill a broker) while it runs and check what it saw.
 *
 *   rlclient produce BOOT TOPIC ACKS N [PARTITION [RATE]]
 *       produce N records, value "v<i>", key "k<i>", to PARTITION (-1 =
 *       the partitioner), at most RATE records/s (0 = no cap); one line per
 *       delivery: {"i":I,"err":"NAME","kerr":K,"receipt":"T:P:O:E:CRC"};
 *       then {"done":true,"flush":"NAME"}. Exit 0 when flushed.
 *   rlclient partition NPARTS KEY...
 *       {"key":K,"partition":P} per key (replog_partition_for_key).
 *   rlclient consume BOOT TOPIC PARTITION FROM N [REPLICA [RECEIPT]]
 *       read N messages from offset FROM (-2 earliest, -1 latest, t<ms> the
 *       first record at or after that timestamp), first printing
 *       {"position":P} where that is; REPLICA >= 0 reads
 *       from that replica (fetch-from-replica); with RECEIPT, first
 *       read_your_writes(RECEIPT) and print {"ryw":"NAME","source":B}.
 *       One line per message: {"offset":O,"epoch":E,"value":V,"source":B};
 *       an error ends the run: {"error":"NAME","message":M}, exit 1.
 *   rlclient group BOOT GROUP TOPIC SECONDS [AUTO_COMMIT_MS]
 *       a member of GROUP consuming TOPIC for SECONDS (with AUTO_COMMIT_MS
 *       > 0 the library commits by itself and on close, else it is asked
 *       after each poll): {"assigned":[p...],
 *       "gen":G} / {"revoked":[p...]} on rebalances, {"p":P,"o":O,"v":V} per
 *       message, and after each poll's commit {"committed":{"P":O,...}}
 *       (the offsets this member has had acknowledged).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "replog.h"

#define RLC_TIMEOUT_MS 60000

static int64_t rlc_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void rlc_config(struct replog_config *cfg, const char *boot)
{
	replog_config_init(cfg);
	cfg->bootstrap = boot;
	cfg->client_id = "rlclient";
	cfg->request_timeout_ms = 5000;
	cfg->delivery_timeout_ms = RLC_TIMEOUT_MS;
	cfg->linger_ms = 2;
}

static void rlc_delivered(const struct replog_delivery *d, void *opaque)
{
	char rc[REPLOG_TOPIC_MAX + 64] = "";
	if (!d->err)
		replog_receipt_format(d->receipt, rc, sizeof(rc));
	printf("{\"i\":%" PRIuPTR ",\"err\":\"%s\",\"kerr\":%d,\"receipt\":\"%s\"}\n",
	       (uintptr_t)opaque, replog_err_name(d->err), d->err ? d->error->kafka_code : 0, rc);
	fflush(stdout);
}

static int rlc_produce(int argc, char **argv)
{
	if (argc < 6)
		return 2;
	struct replog_config cfg;
	rlc_config(&cfg, argv[2]);
	cfg.acks = strcmp(argv[4], "all") == 0 ? -1 : atoi(argv[4]);
	long n = atol(argv[5]);
	int32_t partition = argc > 6 ? atoi(argv[6]) : REPLOG_PARTITION_ANY;
	long rate = argc > 7 ? atol(argv[7]) : 0;
	struct replog_error err;
	replog_producer *p = replog_producer_new(&cfg, &err);
	if (!p) {
		printf("{\"error\":\"%s\",\"message\":\"%s\"}\n", replog_err_name(err.code),
		       err.message);
		return 1;
	}
	int64_t start = rlc_now_ms();
	for (long i = 0; i < n; i++) {
		char key[32], value[32];
		int kl = snprintf(key, sizeof(key), "k%ld", i);
		int vl = snprintf(value, sizeof(value), "v%ld", i);
		while (rate > 0 && rlc_now_ms() < start + i * 1000 / rate)
			replog_producer_poll(p, 1);
		if (replog_produce(p, argv[3], partition, key, (size_t)kl, value, (size_t)vl,
				   rlc_delivered, (void *)(uintptr_t)i, &err)) {
			printf("{\"error\":\"%s\",\"message\":\"%s\"}\n", replog_err_name(err.code),
			       err.message);
			replog_producer_destroy(p);
			return 1;
		}
		replog_producer_poll(p, 0);
	}
	int rc = replog_producer_flush(p, RLC_TIMEOUT_MS * 2, &err);
	printf("{\"done\":true,\"flush\":\"%s\"}\n", replog_err_name(rc));
	replog_producer_destroy(p);
	return rc ? 1 : 0;
}

static int rlc_partition(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	int32_t n = atoi(argv[2]);
	for (int i = 3; i < argc; i++)
		printf("{\"key\":\"%s\",\"partition\":%d}\n", argv[i],
		       replog_partition_for_key(argv[i], strlen(argv[i]), n));
	return 0;
}

static int rlc_error(const struct replog_error *err)
{
	printf("{\"error\":\"%s\",\"kerr\":%d,\"message\":\"%s\"}\n", replog_err_name(err->code),
	       err->kafka_code, err->message);
	return 1;
}

static int rlc_consume(int argc, char **argv)
{
	if (argc < 7)
		return 2;
	struct replog_config cfg;
	rlc_config(&cfg, argv[2]);
	const char *topic = argv[3];
	int32_t partition = atoi(argv[4]);
	long long from = atoll(argv[5]);
	long n = atol(argv[6]);
	if (argc > 7 && atoi(argv[7]) >= 0) {
		cfg.fetch_from = REPLOG_FETCH_REPLICA;
		cfg.preferred_replica = atoi(argv[7]);
	}
	struct replog_error err;
	replog_consumer *c = replog_consumer_new(&cfg, &err);
	bool by_time = argv[5][0] == 't'; /* "t<ms>": seek to a timestamp */
	if (!c || replog_consumer_assign(c, topic, partition,
					 by_time ? REPLOG_OFFSET_EARLIEST : from, &err))
		return rlc_error(&err);
	if (by_time &&
	    replog_consumer_seek_timestamp(c, topic, partition, atoll(argv[5] + 1), &err))
		return rlc_error(&err);
	int64_t start;
	replog_consumer_position(c, topic, partition, &start, NULL);
	printf("{\"position\":%" PRId64 "}\n", start);
	fflush(stdout);
	if (argc > 8) {
		struct replog_receipt rc;
		if (replog_receipt_parse(argv[8], &rc))
			return 2;
		int r = replog_consumer_read_your_writes(c, &rc, RLC_TIMEOUT_MS, &err);
		printf("{\"ryw\":\"%s\",\"source\":%d}\n", replog_err_name(r),
		       replog_consumer_source(c, topic, partition));
		fflush(stdout);
		if (r)
			return rlc_error(&err);
	}
	int64_t last = rlc_now_ms();
	for (long got = 0; got < n;) {
		const struct replog_message *m;
		size_t count;
		if (replog_consumer_poll(c, 200, &m, &count, &err)) {
			rlc_error(&err);
			replog_consumer_destroy(c);
			return 1;
		}
		if ((long)count > n - got)
			count = (size_t)(n - got);
		for (size_t i = 0; i < count; i++)
			printf("{\"offset\":%" PRId64
			       ",\"epoch\":%d,\"value\":\"%.*s\",\"source\":%d}\n",
			       m[i].offset, m[i].leader_epoch, (int)m[i].value_len,
			       m[i].value ? (const char *)m[i].value : "",
			       replog_consumer_source(c, topic, partition));
		fflush(stdout);
		got += (long)count;
		if (count)
			last = rlc_now_ms();
		else if (rlc_now_ms() - last > RLC_TIMEOUT_MS) {
			printf("{\"error\":\"REPLOG_ERR_TIMEOUT\",\"message\":\"no message for %d "
			       "ms\"}\n",
			       RLC_TIMEOUT_MS);
			replog_consumer_destroy(c);
			return 1;
		}
	}
	replog_consumer_destroy(c);
	return 0;
}

static void rlc_rebalanced(replog_group_consumer *gc, int event,
			   const struct replog_topic_partition *parts, size_t count, void *opaque)
{
	(void)opaque;
	printf("{\"%s\":[", event == REPLOG_PARTITIONS_ASSIGNED ? "assigned" : "revoked");
	for (size_t i = 0; i < count; i++)
		printf("%s%d", i ? "," : "", parts[i].partition);
	printf("],\"gen\":%d}\n", replog_group_generation(gc));
	fflush(stdout);
}

static int rlc_group(int argc, char **argv)
{
	if (argc < 6)
		return 2;
	struct replog_config cfg;
	rlc_config(&cfg, argv[2]);
	struct replog_group_config g;
	replog_group_config_init(&g);
	g.session_timeout_ms = 6000;
	g.heartbeat_interval_ms = 500;
	g.auto_commit_interval_ms = argc > 6 ? atoi(argv[6]) : 0;
	bool manual = g.auto_commit_interval_ms == 0;
	struct replog_error err;
	replog_group_consumer *gc =
		replog_group_consumer_new(&cfg, &g, argv[3], rlc_rebalanced, NULL, &err);
	const char *topic = argv[4];
	if (!gc || replog_group_subscribe(gc, &topic, 1, &err))
		return rlc_error(&err);
	int64_t end = rlc_now_ms() + atol(argv[5]) * 1000;
	while (rlc_now_ms() < end) {
		const struct replog_message *m;
		size_t count;
		if (replog_group_poll(gc, 200, &m, &count, &err)) {
			printf("{\"error\":\"%s\",\"message\":\"%s\"}\n", replog_err_name(err.code),
			       err.message);
			fflush(stdout);
			continue; /* a rebalance: the next poll rejoins */
		}
		for (size_t i = 0; i < count; i++)
			printf("{\"p\":%d,\"o\":%" PRId64 ",\"v\":\"%.*s\"}\n", m[i].partition,
			       m[i].offset, (int)m[i].value_len,
			       m[i].value ? (const char *)m[i].value : "");
		if (count && manual && replog_group_commit(gc, &err) == 0) {
			const struct replog_topic_partition *ps;
			size_t n;
			replog_group_assignment(gc, &ps, &n);
			printf("{\"committed\":{");
			for (size_t i = 0; i < n; i++)
				printf("%s\"%d\":%" PRId64, i ? "," : "", ps[i].partition,
				       replog_group_committed(gc, topic, ps[i].partition));
			printf("}}\n");
		}
		fflush(stdout);
	}
	replog_group_consumer_close(gc);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	if (strcmp(argv[1], "produce") == 0)
		return rlc_produce(argc, argv);
	if (strcmp(argv[1], "partition") == 0)
		return rlc_partition(argc, argv);
	if (strcmp(argv[1], "consume") == 0)
		return rlc_consume(argc, argv);
	if (strcmp(argv[1], "group") == 0)
		return rlc_group(argc, argv);
	return 2;
}
