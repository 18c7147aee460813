/*
 * replog.h — libreplog, the C client of replog (and of any Kafka broker
 * that speaks Produce v7, Fetch v11, Metadata v7): a producer, a consumer,
 * write receipts and an admin interface that make consistency explicit.
 *
 *   #include <replog.h>          pkg-config --cflags --libs replog
 *
 * Threads: every object (replog_producer, replog_consumer, replog_admin) is
 * used by one thread at a time; distinct objects are independent and may
 * live on distinct threads. The library starts no thread of its own: I/O
 * happens inside the calls (replog_produce when a batch is ready,
 * replog_producer_poll, replog_producer_flush, replog_consumer_poll, every
 * admin call). Delivery callbacks run inside those calls, on the caller's
 * thread; they must not call back into the same producer.
 *
 * Errors are values: every call that can fail returns a replog_err (0 =
 * REPLOG_OK, negative otherwise) and, when given a struct replog_error,
 * fills it with the code, the broker's Kafka error code if one was
 * involved, and a sentence naming the broker and the cause. Nothing in the
 * library aborts or exits the caller's process.
 *
 * Delivery guarantees of the producer: records to one partition are
 * acknowledged in the order they were produced, and every record gets
 * exactly one delivery callback (success with a receipt, or failure). A
 * request that fails in a way that leaves its outcome unknown (connection
 * lost, timeout) is retried, so a record may be stored twice; a receipt
 * names the copy that was acknowledged. One batch per partition is in
 * flight at a time, so a retry never overtakes a later batch.
 */
#ifndef REPLOG_H
#define REPLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- errors */

typedef enum replog_err {
	REPLOG_OK = 0,
	REPLOG_ERR_ARG = -1,	       /* an argument no call can accept */
	REPLOG_ERR_NOMEM = -2,	       /* out of memory */
	REPLOG_ERR_TIMEOUT = -3,       /* the call's time ran out */
	REPLOG_ERR_TRANSPORT = -4,     /* no broker could be reached */
	REPLOG_ERR_UNKNOWN_TOPIC = -5, /* no such topic or partition */
	REPLOG_ERR_QUEUE_FULL = -6,    /* producer buffer full (back-pressure) */
	REPLOG_ERR_BROKER = -7,	       /* the broker answered an error; see kafka_code */
	REPLOG_ERR_TOO_LARGE = -8,     /* a record larger than any request may carry */
	REPLOG_ERR_TRUNCATED = -9,     /* consumer: the log ends below the position */
	REPLOG_ERR_OUT_OF_RANGE = -10, /* consumer: position outside the log */
	REPLOG_ERR_STATE = -11,	       /* a call out of order (not assigned, closed) */
	REPLOG_ERR_PROTOCOL = -12,     /* the broker sent something undecodable */
	REPLOG_ERR_DESTROYED = -13,    /* the producer was destroyed before delivery */
} replog_err;

#define REPLOG_ERRMSG_MAX 320

struct replog_error {
	int code;			 /* enum replog_err */
	int kafka_code;			 /* Kafka error code from the broker, 0 if none */
	char message[REPLOG_ERRMSG_MAX]; /* one sentence; "" when code is 0 */
};

/* "REPLOG_ERR_TIMEOUT", ... ("REPLOG_ERR_UNKNOWN" for other values). */
const char *replog_err_name(int code);

/* ---------------------------------------------------------- configuration */

enum replog_compression { REPLOG_COMPRESSION_NONE = 0, REPLOG_COMPRESSION_ZSTD = 4 };

enum replog_fetch_from {
	REPLOG_FETCH_LEADER = 0,  /* every fetch goes to the partition leader */
	REPLOG_FETCH_REPLICA = 1, /* a sticky replica (preferred_replica, else one picked) */
};

struct replog_config {
	/* Both sides. */
	const char *bootstrap;	 /* "host:port[,host:port...]"; default 127.0.0.1:9092 */
	const char *client_id;	 /* default "libreplog" */
	int request_timeout_ms;	 /* one request's bound; default 30000 */
	int metadata_max_age_ms; /* refresh metadata at least this often; default 30000 */
	int retry_backoff_ms;	 /* first backoff; doubles to 1000; default 100 */

	/* Producer. */
	int acks;		 /* 0, 1 or -1 (all in-sync replicas); default -1 */
	int linger_ms;		 /* wait this long to fill a batch; default 5 */
	int batch_bytes;	 /* a batch is sent when it reaches this; default 262144 */
	int compression;	 /* enum replog_compression; default NONE */
	int max_in_flight;	 /* requests per broker connection; default 5 */
	int64_t buffer_bytes;	 /* records queued in all; default 64 MiB */
	int max_block_ms;	 /* replog_produce waits this long for room; default 60000 */
	int delivery_timeout_ms; /* give up on a record after this; default 120000 */
	bool auto_create_topics; /* ask the broker to create unknown topics; default false */

	/* Consumer. */
	int fetch_max_wait_ms;		  /* long-poll bound of one fetch; default 500 */
	int fetch_max_bytes;		  /* per partition and fetch; default 1 MiB */
	int fetch_from;			  /* enum replog_fetch_from; default LEADER */
	int32_t preferred_replica;	  /* broker id for REPLOG_FETCH_REPLICA; -1 = any */
	int read_your_writes_fallback_ms; /* replica wait before asking the leader; default 1000 */
};

/* Fill cfg with the defaults above. */
void replog_config_init(struct replog_config *cfg);

/* -------------------------------------------------------------- receipts */

#define REPLOG_TOPIC_MAX 249 /* Kafka's limit on a topic name */

/* What an acknowledged write leaves behind: where it is, which leader took
 * it and a fingerprint of the batch it was in (the RecordBatch CRC-32C, the
 * same on every replica, unchanged by the broker). */
struct replog_receipt {
	char topic[REPLOG_TOPIC_MAX + 1];
	int32_t partition;
	int64_t offset;
	int32_t leader_epoch; /* the epoch the producer sent to; the status tells the stored one */
	uint32_t batch_crc;
};

enum replog_receipt_state {
	REPLOG_RECEIPT_COMMITTED = 1, /* the same write is below the high watermark */
	REPLOG_RECEIPT_PENDING = 2,   /* not (yet) below the high watermark */
	REPLOG_RECEIPT_DISCARDED = 3, /* another write holds that committed offset: lost */
	REPLOG_RECEIPT_EXPIRED = 4,   /* below the log start: removed by retention */
};

/* "COMMITTED", "PENDING", "DISCARDED", "EXPIRED", "?". */
const char *replog_receipt_status_name(int status);

/* "topic:partition:offset:epoch:crc" (crc in hex), the form the `replog
 * receipt` command reads. Returns the length, or -1 when cap is too small. */
int replog_receipt_format(const struct replog_receipt *r, char *buf, size_t cap);
/* The inverse; the topic may itself contain ':' (the last four fields are
 * numbers). Returns REPLOG_OK or REPLOG_ERR_ARG. */
int replog_receipt_parse(const char *text, struct replog_receipt *r);

/* -------------------------------------------------------------- producer */

typedef struct replog_producer replog_producer;

#define REPLOG_PARTITION_ANY (-1)

struct replog_delivery {
	int err;			      /* REPLOG_OK or the failure */
	const struct replog_error *error;     /* details when err != 0 */
	const struct replog_receipt *receipt; /* when err == 0 (offset -1 for acks 0) */
};

typedef void (*replog_delivery_cb)(const struct replog_delivery *d, void *opaque);

/* A producer for cfg (copied; strings too). NULL on failure, with *err. */
replog_producer *replog_producer_new(const struct replog_config *cfg, struct replog_error *err);

/* Queue one record (key and value are copied). key NULL = null key,
 * value NULL = null value (a tombstone). partition REPLOG_PARTITION_ANY
 * picks murmur2(key) % partitions as Kafka's default partitioner does, or
 * for a null key a partition that sticks until its batch is sent. cb
 * (may be NULL) is called once when the record is acknowledged or fails.
 * When the buffer is full it waits up to max_block_ms, doing I/O, then
 * gives REPLOG_ERR_QUEUE_FULL. Other outcomes: REPLOG_ERR_UNKNOWN_TOPIC,
 * REPLOG_ERR_TOO_LARGE, REPLOG_ERR_TRANSPORT (no metadata for the topic). */
int replog_produce(replog_producer *p, const char *topic, int32_t partition, const void *key,
		   size_t key_len, const void *value, size_t value_len, replog_delivery_cb cb,
		   void *opaque, struct replog_error *err);

/* Do I/O for up to timeout_ms (0: only what is ready) and run delivery
 * callbacks. Returns how many callbacks ran. */
int replog_producer_poll(replog_producer *p, int timeout_ms);

/* Send everything queued now and wait until every record has had its
 * callback, or timeout_ms passed (REPLOG_ERR_TIMEOUT). */
int replog_producer_flush(replog_producer *p, int timeout_ms, struct replog_error *err);

/* Records queued or in flight, not yet called back. */
int64_t replog_producer_outstanding(const replog_producer *p);

/* Free the producer. Records not yet delivered get their callback with
 * REPLOG_ERR_DESTROYED: flush first to deliver them. */
void replog_producer_destroy(replog_producer *p);

/* The partition Kafka's default partitioner (Java, librdkafka
 * murmur2_random) picks for a non-null key: (murmur2(key) & 0x7fffffff) %
 * partitions. */
int32_t replog_partition_for_key(const void *key, size_t key_len, int32_t partitions);
/* Kafka's murmur2 hash (seed 0x9747b28c). */
uint32_t replog_murmur2(const void *key, size_t len);

/* -------------------------------------------------------------- consumer */

typedef struct replog_consumer replog_consumer;

#define REPLOG_OFFSET_EARLIEST (-2)
#define REPLOG_OFFSET_LATEST   (-1)

struct replog_message {
	const char *topic; /* NUL-terminated */
	int32_t partition;
	int64_t offset;
	int32_t leader_epoch; /* of the batch that holds it */
	int64_t timestamp_ms;
	const void *key; /* NULL for a null key */
	size_t key_len;
	const void *value; /* NULL for a null value */
	size_t value_len;
};

replog_consumer *replog_consumer_new(const struct replog_config *cfg, struct replog_error *err);
void replog_consumer_destroy(replog_consumer *c);

/* Start reading topic-partition at `offset` (>= 0, or REPLOG_OFFSET_EARLIEST
 * / REPLOG_OFFSET_LATEST, resolved now by ListOffsets against the leader).
 * Assigning an assigned partition again is a seek. */
int replog_consumer_assign(replog_consumer *c, const char *topic, int32_t partition, int64_t offset,
			   struct replog_error *err);
/* Move the position; the one way it goes backwards. */
int replog_consumer_seek(replog_consumer *c, const char *topic, int32_t partition, int64_t offset,
			 struct replog_error *err);
/* Seek to the first offset whose timestamp is >= timestamp_ms. */
int replog_consumer_seek_timestamp(replog_consumer *c, const char *topic, int32_t partition,
				   int64_t timestamp_ms, struct replog_error *err);
int replog_consumer_unassign(replog_consumer *c, const char *topic, int32_t partition);

/* Fetch and return committed messages of the assigned partitions, waiting
 * up to timeout_ms for the first one. *msgs points at *count messages
 * valid until the next poll or destroy. Positions only move forward: a
 * replica whose high watermark is below a position answers nothing until
 * it has caught up; a leader change is checked against the last epoch read
 * and a log that now ends below the position is reported as
 * REPLOG_ERR_TRUNCATED (the position is not moved). Returns REPLOG_OK
 * (possibly with *count 0) or the error of a partition that cannot go on. */
int replog_consumer_poll(replog_consumer *c, int timeout_ms, const struct replog_message **msgs,
			 size_t *count, struct replog_error *err);

/* The next offset to read, and the epoch of the last message returned
 * (-1 before the first). REPLOG_ERR_STATE when not assigned. */
int replog_consumer_position(const replog_consumer *c, const char *topic, int32_t partition,
			     int64_t *offset, int32_t *leader_epoch);

/* The broker the partition is read from now (-1 unknown). */
int32_t replog_consumer_source(const replog_consumer *c, const char *topic, int32_t partition);

/* Wait until the broker this consumer reads the receipt's partition from
 * has a high watermark above receipt->offset, so the next polls return the
 * write. If the chosen replica has not got there after
 * read_your_writes_fallback_ms, the partition is read from the leader
 * instead (sticky again from then on). REPLOG_ERR_TIMEOUT after
 * timeout_ms. The partition must be assigned. */
int replog_consumer_read_your_writes(replog_consumer *c, const struct replog_receipt *receipt,
				     int timeout_ms, struct replog_error *err);

/* -------------------------------------------------------- group consumer */

/* A member of a Kafka consumer group: the coordinator hands it partitions
 * of the subscribed topics (the group leader assigns them with the "range"
 * assignor, as Kafka's clients do, so it can share a group with them); it
 * reads them with a replog_consumer and commits what it has returned.
 * One thread at a time, like the other objects.
 *
 * Committed offsets never move backwards on their own: a commit below
 * what this member last committed for a partition is skipped, unless the
 * application called replog_group_seek for it since. With
 * auto_commit_interval_ms > 0, positions are committed that often from
 * replog_group_poll, and before partitions are given up in a rebalance
 * and on close. */
typedef struct replog_group_consumer replog_group_consumer;

struct replog_topic_partition {
	char topic[REPLOG_TOPIC_MAX + 1];
	int32_t partition;
};

enum replog_rebalance_event { REPLOG_PARTITIONS_ASSIGNED = 1, REPLOG_PARTITIONS_REVOKED = 2 };

/* Called from replog_group_poll when partitions are given to this member
 * (after their committed offsets are loaded) or taken away (after the
 * last commit of them). */
typedef void (*replog_rebalance_cb)(replog_group_consumer *gc, int event,
				    const struct replog_topic_partition *parts, size_t count,
				    void *opaque);

struct replog_group_config {
	int session_timeout_ms;	     /* default 10000 */
	int heartbeat_interval_ms;   /* default 1000 */
	int rebalance_timeout_ms;    /* default 30000 */
	int auto_commit_interval_ms; /* 0 = commit only when asked; default 5000 */
	int64_t start_offset;	     /* where a partition without a commit starts:
				      * REPLOG_OFFSET_EARLIEST (default) or _LATEST */
};

void replog_group_config_init(struct replog_group_config *gcfg);

replog_group_consumer *replog_group_consumer_new(const struct replog_config *cfg,
						 const struct replog_group_config *gcfg,
						 const char *group_id, replog_rebalance_cb cb,
						 void *opaque, struct replog_error *err);
/* Subscribe to topics (replaces the subscription; joins at the next poll). */
int replog_group_subscribe(replog_group_consumer *gc, const char *const *topics, size_t count,
			   struct replog_error *err);
/* Join, heartbeat, rebalance and fetch; messages as replog_consumer_poll. */
int replog_group_poll(replog_group_consumer *gc, int timeout_ms, const struct replog_message **msgs,
		      size_t *count, struct replog_error *err);
/* Commit the position of every assigned partition (what poll returned). */
int replog_group_commit(replog_group_consumer *gc, struct replog_error *err);
/* Move an assigned partition's position; the next commit may go back. */
int replog_group_seek(replog_group_consumer *gc, const char *topic, int32_t partition,
		      int64_t offset, struct replog_error *err);
/* The partitions assigned now; *parts valid until the next poll. */
int replog_group_assignment(const replog_group_consumer *gc,
			    const struct replog_topic_partition **parts, size_t *count);
/* The committed offset this member last had acknowledged (-1 none). */
int64_t replog_group_committed(const replog_group_consumer *gc, const char *topic,
			       int32_t partition);
int32_t replog_group_generation(const replog_group_consumer *gc);
/* Commit (with auto commit), leave the group, free. */
void replog_group_consumer_close(replog_group_consumer *gc);

/* ----------------------------------------------------------------- admin */

typedef struct replog_admin replog_admin;

struct replog_partition_info {
	int32_t partition;
	int16_t kafka_error;
	int32_t leader; /* -1 = none */
	int32_t leader_epoch;
	int32_t replicas[16];
	int32_t nreplicas;
	int32_t isr[16];
	int32_t nisr;
};

struct replog_topic_info {
	char name[REPLOG_TOPIC_MAX + 1];
	int16_t kafka_error;
	int32_t npartitions;
	struct replog_partition_info *partitions; /* owned by the admin until its next call */
};

struct replog_broker_info {
	int32_t id;
	char host[256];
	int32_t port;
};

struct replog_cluster_info {
	char cluster_id[64];
	int32_t controller; /* -1 unknown */
	int32_t nbrokers;
	struct replog_broker_info *brokers; /* owned by the admin until its next call */
};

struct replog_discarded_info {
	int32_t broker;
	char topic[REPLOG_TOPIC_MAX + 1];
	int32_t partition;
	char reason[32];
	int64_t time_ms;
	int64_t first_offset;
	int64_t next_offset;
	int32_t epoch_min;
	int32_t epoch_max;
	int64_t bytes;
};

replog_admin *replog_admin_new(const struct replog_config *cfg, struct replog_error *err);
void replog_admin_destroy(replog_admin *a);

/* Create a topic; replication_factor -1 / partitions -1 = broker default;
 * min_insync_replicas 0 = broker default. Waits until every partition has a
 * leader (bounded by request_timeout_ms). */
int replog_admin_create_topic(replog_admin *a, const char *topic, int32_t partitions,
			      int16_t replication_factor, int min_insync_replicas,
			      struct replog_error *err);
int replog_admin_delete_topic(replog_admin *a, const char *topic, struct replog_error *err);
int replog_admin_describe_topic(replog_admin *a, const char *topic, struct replog_topic_info *out,
				struct replog_error *err);
int replog_admin_describe_cluster(replog_admin *a, struct replog_cluster_info *out,
				  struct replog_error *err);
/* Every live broker's discarded writes (of `topic`, or all when NULL):
 * *out (owned by the admin until its next call), *count entries. */
int replog_admin_discarded(replog_admin *a, const char *topic,
			   const struct replog_discarded_info **out, size_t *count,
			   struct replog_error *err);

/* Ask the partition's leader whether the write behind the receipt still
 * exists: COMMITTED when the batch at that offset, below the high
 * watermark, has the receipt's CRC (*stored_epoch then says its epoch);
 * DISCARDED when a different batch is there (final); PENDING when the
 * offset is not below the high watermark yet; EXPIRED when retention
 * removed it. stored_epoch may be NULL. */
int replog_receipt_status(replog_admin *a, const struct replog_receipt *receipt, int *status,
			  int32_t *stored_epoch, struct replog_error *err);

/* Poll replog_receipt_status until it is not PENDING or timeout_ms passed
 * (then REPLOG_OK with PENDING). */
int replog_receipt_wait(replog_admin *a, const struct replog_receipt *receipt, int timeout_ms,
			int *status, int32_t *stored_epoch, struct replog_error *err);

#ifdef __cplusplus
}
#endif

#endif
