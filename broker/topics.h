/*
 * topics — the broker's topics: a registry by name, each topic's
 * partitions and settings, and their persistence.
 *
 * On disk (single node; the controller's metadata log replaces this file
 * once the cluster issue lands):
 *
 *   <data_dir>/topics            replaced atomically on every change:
 *     replog-topics 1
 *     <name>\t<topic id, 32 hex>\t<partitions>\t<epoch,epoch,...>\t<config line>
 *   <data_dir>/<name>-<p>/       one partition log per partition
 *
 * Leader epochs: every start of the broker is a new leadership term for
 * each partition, so each partition's epoch is incremented and the file
 * rewritten before anything is served. Batches appended in different terms
 * therefore carry different epochs.
 *
 * Topic names follow Kafka's rules: 1..249 characters of [a-zA-Z0-9._-],
 * not "." or "..".
 *
 * Deleting a topic removes it from the registry at once (new requests see
 * UNKNOWN_TOPIC_OR_PARTITION); its waiters are failed, and its partition
 * logs are closed and their directories removed once their I/O is idle
 * (topics_reap, every loop turn).
 */
#ifndef REPLOG_TOPICS_H
#define REPLOG_TOPICS_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "io.h"
#include "partition.h"

#define TOPIC_NAME_MAX 249

struct topic {
	char tp_name[TOPIC_NAME_MAX + 1];
	int tp_name_len;
	uint8_t tp_id[16];
	struct topic_config tp_cfg;
	int32_t tp_partition_count;
	struct partition *tp_parts; /* owned array */
	struct topic *tp_hnext;	    /* registry hash chain */
	struct topic *tp_dead_next; /* deletion list */
};

struct topics_env {
	const char *te_data_dir;
	struct io_engine *te_io; /* borrowed */
	int64_t te_flush_interval_ms;
	int64_t te_flush_bytes;
	int te_broker_count; /* for replication_factor checks */
};

struct topics;

/* Load <data_dir>/topics, open every partition log (recovery, one log line
 * each), bump leader epochs and persist. Returns 0 or -1 with err. */
int topics_open(const struct topics_env *env, struct topics **out, char *err, size_t err_cap);
/* Close every partition cleanly. The caller made sure their I/O is idle
 * and flushed (topics_io_idle / topics_flush_all). Returns 0 or the first
 * error. */
int topics_close(struct topics *ts);

bool topics_valid_name(const char *name, int len, char *err, size_t err_cap);

struct topic *topics_find(struct topics *ts, const char *name, int len);
struct partition *topics_partition(struct topics *ts, const char *name, int len, int32_t index);

/* Create a topic: validate, create the partition logs, persist. Returns 0,
 * or a Kafka error code (INVALID_TOPIC_EXCEPTION, TOPIC_ALREADY_EXISTS,
 * INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR, INVALID_CONFIG,
 * KAFKA_STORAGE_ERROR) with err explaining it. */
int topics_create(struct topics *ts, const char *name, int len, const struct topic_config *cfg,
		  struct topic **out, char *err, size_t err_cap);

/* Delete a topic (see above). Returns 0 or a Kafka error code. */
int topics_delete(struct topics *ts, struct topic *t);

/* Finish deletions whose I/O is idle. Call every loop turn. */
void topics_reap(struct topics *ts);

/* Visit topics in creation order. */
uint32_t topics_count(const struct topics *ts);
struct topic *topics_at(struct topics *ts, uint32_t idx);

/* Periodic work: time-based flushing every call; with `housekeeping`,
 * also retention (segments past their topic's limits, below the HW) and HW
 * checkpoints. */
void topics_tick(struct topics *ts, bool housekeeping);
/* Start a flush on every partition; true when every partition has no I/O
 * in flight and nothing unflushed (shutdown waits for this). */
void topics_flush_all(struct topics *ts);
bool topics_quiet(struct topics *ts);

#endif
