/*
 * client_bench — `replog-bench produce`, `consume` and `e2e`: a cluster
 * measured through libreplog (replog.h), as kafka-producer-perf-test and
 * kafka-consumer-perf-test measure Kafka.
 *
 * produce: records/s, MiB/s and the latency of each record from
 *   replog_produce() to its delivery callback (avg, p50, p95, p99, p99.9,
 *   max), a window line every --report-interval-ms and a final line in
 *   kafka-producer-perf-test's format; --json adds one JSON object.
 * consume: reads --num-records from the earliest offset of every partition
 *   of the topic: records/s and MiB/s.
 * e2e: one producer and one consumer in one thread; each record carries the
 *   time it was produced, and the latency is taken when the consumer gets
 *   it (so producer → committed → consumer), at a --throughput rate.
 */
#ifndef REPLOG_CLIENT_BENCH_H
#define REPLOG_CLIENT_BENCH_H

int produce_bench_main(int argc, char **argv);
void produce_bench_usage(void);
int consume_bench_main(int argc, char **argv);
void consume_bench_usage(void);
int e2e_bench_main(int argc, char **argv);
void e2e_bench_usage(void);

#endif
