/*
 * meta — cluster metadata: the records of the metadata log and the image
 * every broker builds by applying them in order (DESIGN.md §5).
 *
 * The metadata log is an ordinary partition log, `__cluster_metadata-0`
 * in the controller's data_dir: RecordBatch v2 batches, one record per
 * change, each record's value one line of text (so `replog dump-log -d`
 * shows the cluster's history as it happened):
 *
 *   controller epoch=3 cluster_id=<the cluster's id>
 *   broker id=2 address=127.0.0.1:9093 incarnation=<32 hex> epoch=<broker epoch> clean=1
 *   fence id=2 reason=session_expired
 *   unfence id=2
 *   shutdown id=2                  (controlled shutdown began)
 *   topic name=orders id=<32 hex> partitions=3 config=<topic config line>
 *   partition topic=orders p=0 leader=1 leader_epoch=4 partition_epoch=9
 *             replicas=1,2,3 isr=1,2 elr=3 last_leader=1 unclean=-1
 *             (unclean: the leader epoch of the last unclean election)
 *   delete_topic name=orders
 *
 * (the partition record is one line). Only the controller appends; a
 * record takes effect once it is durable (fsynced) in the metadata log,
 * and every broker applies the same records in the same order. A broker's
 * epoch is the metadata offset of its latest `broker` record: it changes
 * every time the broker process registers, which is how the controller
 * tells a restarted broker from one that was merely slow.
 *
 * Applying is pure: meta_apply() changes the image and reports what
 * changed; the broker and the controller act on the report.
 */
#ifndef REPLOG_META_H
#define REPLOG_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "isr.h"
#include "topics.h"

#define META_TOPIC	 TOPICS_RESERVED_NAME
#define META_RECORD_MAX	 4096
#define META_MAX_BROKERS CONFIG_MAX_BROKERS

struct meta_broker {
	int32_t mb_id;
	bool mb_registered;
	bool mb_fenced;
	bool mb_shutting_down; /* controlled shutdown began: leaves ISRs, joins none */
	bool mb_clean;	       /* its last registration followed a clean shutdown */
	int64_t mb_epoch;      /* broker epoch: offset of its broker record */
	uint8_t mb_incarnation[16];
	char mb_address[CONFIG_HOSTPORT_MAX];
};

struct meta_partition {
	int32_t mp_leader; /* -1: offline */
	int32_t mp_leader_epoch;
	int32_t mp_partition_epoch;
	int32_t mp_nreplicas, mp_nisr, mp_nelr;
	int32_t mp_replicas[ISR_MAX_REPLICAS];
	int32_t mp_isr[ISR_MAX_REPLICAS];
	int32_t mp_elr[ISR_MAX_REPLICAS];
	int32_t mp_last_leader;	  /* the last leader elected; -1: none yet */
	int32_t mp_unclean_epoch; /* leader epoch of the last unclean election; -1 none */
};

struct meta_topic {
	char mt_name[TOPIC_NAME_MAX + 1];
	int mt_name_len;
	uint8_t mt_id[16];
	struct topic_config mt_cfg;
	int32_t mt_npartitions;
	struct meta_partition *mt_parts; /* owned */
	struct meta_topic *mt_hnext;
};

#define META_BUCKETS 1024

struct meta_image {
	struct meta_broker mi_brokers[META_MAX_BROKERS];
	int mi_nbrokers;
	struct meta_topic *mi_buckets[META_BUCKETS];
	struct meta_topic **mi_order; /* creation order */
	uint32_t mi_ntopics, mi_cap;
	int32_t mi_controller_epoch;
	char mi_cluster_id[64]; /* "" until the first controller record */
	int64_t mi_next_offset; /* offset after the last applied record */
};

/* What one applied record changed. */
enum meta_change {
	META_NOTHING = 0,
	META_CONTROLLER, /* controller epoch */
	META_BROKER,	 /* registered, fenced or unfenced */
	META_TOPIC_CREATED,
	META_PARTITION,	    /* leader, epochs, replicas, ISR, ELR */
	META_TOPIC_DELETED, /* the topic is gone from the image */
};

struct meta_delta {
	int md_change;			   /* enum meta_change */
	int32_t md_broker;		   /* META_BROKER */
	char md_topic[TOPIC_NAME_MAX + 1]; /* topic changes */
	int32_t md_partition;		   /* META_PARTITION */
	struct meta_partition md_before;   /* META_PARTITION: the state it replaced */
};

void meta_image_init(struct meta_image *mi);
void meta_image_deinit(struct meta_image *mi);

/* Apply one record (its value bytes) found at `offset`. Returns 0 with
 * *delta, or RL_ECORRUPT with err describing a record that does not parse
 * or does not fit the image (a broker must stop applying then: its image
 * would diverge). */
int meta_apply(struct meta_image *mi, const char *rec, size_t len, int64_t offset,
	       struct meta_delta *delta, char *err, size_t err_cap);

struct meta_topic *meta_topic(const struct meta_image *mi, const char *name, int len);
struct meta_partition *meta_partition(const struct meta_image *mi, const char *name, int len,
				      int32_t p);
struct meta_broker *meta_broker(struct meta_image *mi, int32_t id);
const struct meta_broker *meta_broker_c(const struct meta_image *mi, int32_t id);
bool meta_broker_alive(const struct meta_image *mi, int32_t id); /* registered, unfenced */
/* Alive and not in controlled shutdown: a leader may propose it for an ISR. */
bool meta_broker_may_join(const struct meta_image *mi, int32_t id);

/* Record encoders: write one record line into buf (META_RECORD_MAX);
 * return its length. */
int meta_rec_controller(char *buf, int32_t epoch, const char *cluster_id);
int meta_rec_broker(char *buf, const struct meta_broker *b);
int meta_rec_fence(char *buf, int32_t id, const char *reason);
int meta_rec_unfence(char *buf, int32_t id);
int meta_rec_shutdown(char *buf, int32_t id);
int meta_rec_topic(char *buf, const struct meta_topic *t);
int meta_rec_partition(char *buf, const char *topic, int32_t p, const struct meta_partition *mp);
int meta_rec_delete_topic(char *buf, const char *topic);

/* Walk the records of RecordBatch bytes (uncompressed, as the controller
 * writes them): fn(ctx, offset, value, len, err, cap) for each record at or
 * after `from`. A trailing partial batch is ignored. Returns 0, fn's first
 * non-zero result, or RL_ECORRUPT (with err) for bytes that do not parse. */
typedef int (*meta_record_fn)(void *ctx, int64_t offset, const char *value, size_t len, char *err,
			      size_t err_cap);
int meta_records_each(const uint8_t *bytes, size_t len, int64_t from, meta_record_fn fn, void *ctx,
		      char *err, size_t err_cap);
/* A meta_record_fn that applies each record to the image in ctx. */
int meta_apply_cb(void *ctx, int64_t offset, const char *value, size_t len, char *err,
		  size_t err_cap);

/* Snapshots: the image as records, one per line, that rebuild it when
 * applied in order to an empty image; the first line is
 * `snapshot next_offset=N`. meta_snapshot_write mallocs *out. */
int meta_snapshot_write(const struct meta_image *mi, char **out, size_t *len);
/* Replace mi (initialized, possibly holding an image) with a snapshot's.
 * Returns 0, or RL_ECORRUPT with err (mi is then empty). */
int meta_snapshot_read(struct meta_image *mi, const char *buf, size_t len, char *err,
		       size_t err_cap);
/* dst (initialized) becomes a copy of src. Returns 0 or -ENOMEM. */
int meta_image_copy(struct meta_image *dst, const struct meta_image *src);

/* Helpers on id lists. */
bool meta_ids_contain(const int32_t *ids, int32_t n, int32_t id);
int meta_ids_format(char *buf, size_t cap, const int32_t *ids, int32_t n);

#endif
