/*
 * topics — this broker's replicas: a registry of the topics it knows, by
 * name, and the partition logs it hosts under <data_dir>/<topic>-<p>/.
 *
 * What exists, where, and who leads is decided by the controller and
 * arrives as metadata (meta.h); cluster.c applies it here: a topic is added
 * when it is created, a partition's log is opened when this broker is one
 * of its replicas, and a topic is deleted when the metadata says so.
 * Partitions of a topic that live on other brokers have no log here
 * (topics_partition() returns NULL for them).
 *
 * Topic names follow Kafka's rules: 1..249 characters of [a-zA-Z0-9._-],
 * not "." or "..", and not the reserved "__cluster_metadata".
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

struct topics_env {
	const char *te_data_dir;
	struct io_engine *te_io; /* borrowed */
	int64_t te_flush_interval_ms;
	int64_t te_flush_bytes;
	/* A partition's log made progress (written, flushed, or fenced). */
	void (*te_on_progress)(void *ctx, struct partition *p);
	void *te_ctx;
	/* A segment fsync took usec (metrics); may be NULL. */
	void (*te_on_fsync)(void *ctx, int64_t usec);
	void *te_fsync_ctx;
	/* Periodic work on p's files failed on disk (op names it; err is
	 * -errno): called with te_ctx; may be NULL. */
	void (*te_on_storage_error)(void *ctx, struct partition *p, const char *op, int err);
};

struct topic {
	char tp_name[TOPIC_NAME_MAX + 1];
	int tp_name_len;
	uint8_t tp_id[16];
	struct topic_config tp_cfg;
	int32_t tp_partition_count;
	struct partition *tp_parts;	 /* owned array; pt_log NULL when hosted elsewhere */
	struct topic *tp_hnext;		 /* registry hash chain */
	struct topic *tp_dead_next;	 /* deletion list */
	const struct topics_env *tp_env; /* borrowed: the registry's */
};

struct topics;

/* Returns 0 or -1 with err (the data directory cannot be made or opened). */
int topics_open(const struct topics_env *env, struct topics **out, char *err, size_t err_cap);
/* Close every partition cleanly. The caller made sure their I/O is idle
 * and flushed (topics_io_idle / topics_flush_all). Returns 0 or the first
 * error. */
int topics_close(struct topics *ts);

bool topics_valid_name(const char *name, int len, char *err, size_t err_cap);
/* The cluster metadata log's topic: not a valid name for anything else
 * (clients cannot create it or produce to it). Equal to META_TOPIC. */
#define TOPICS_RESERVED_NAME "__cluster_metadata"

/* Each partition directory names its topic's id in this file: a directory
 * left by an older topic of the same name is removed before the new one's
 * replica is opened there. */
#define TOPICS_PARTITION_META "partition.metadata"

/* Remove the partition directories under data_dir that hold no open
 * replica and that keep() does not claim: what topics deleted while this
 * broker was away, or reassigned elsewhere, left behind. Returns how many,
 * or -errno. */
typedef bool (*topics_keep_fn)(void *ctx, const char *topic, int len, int32_t partition);
int topics_remove_strays(struct topics *ts, topics_keep_fn keep, void *ctx);

struct topic *topics_find(struct topics *ts, const char *name, int len);
struct partition *topics_partition(struct topics *ts, const char *name, int len, int32_t index);

/* Add a topic known from metadata (no log opened yet); an existing one is
 * returned as is. NULL when out of memory. */
struct topic *topics_add(struct topics *ts, const char *name, int len, const uint8_t *id,
			 const struct topic_config *cfg, int32_t partitions);

/* Open (recovering) the log of partition p of t on this broker. Returns 0,
 * or -1 with err. */
int topics_open_replica(struct topics *ts, struct topic *t, int32_t p, char *err, size_t err_cap);

/* Every hosted partition, for periodic work. */
typedef void (*topics_partition_fn)(void *ctx, struct partition *p);
void topics_each_partition(struct topics *ts, topics_partition_fn fn, void *ctx);

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
