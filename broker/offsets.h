/*
 * offsets — committed consumer-group offsets as records of the internal,
 * compacted topic `__consumer_offsets`, and the in-memory table a group
 * coordinator rebuilds from them. Pure logic: no I/O. Prefix ofs_.
 *
 * Records use the layout of Kafka's __consumer_offsets (so the log reads
 * the same to anyone who knows that topic), written by our own code:
 *   offset commit key   (version 1): int16 1, string group, string topic,
 *                                    int32 partition
 *   offset commit value (version 3): int16 3, int64 offset,
 *                                    int32 leader_epoch, string metadata,
 *                                    int64 commit_timestamp_ms
 *   a null value (tombstone) deletes the key's offset.
 * Strings are int16 length + bytes (Kafka's classic STRING). Values of
 * versions 1 (with an expire timestamp) and 2 are read too; group-metadata
 * records (key version 2) are recognised and skipped.
 *
 * The group's partition of __consumer_offsets is Kafka's choice:
 * abs(javaStringHashCode(group)) % partitions, so a group lands on the
 * same partition number as on a Kafka cluster with as many partitions.
 *
 * The table: (group, topic, partition) → latest committed offset, replayed
 * in log order (a later record wins; a tombstone removes). Owned by one
 * coordinator thread.
 */
#ifndef REPLOG_OFFSETS_H
#define REPLOG_OFFSETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OFS_TOPIC	 "__consumer_offsets"
#define OFS_KEY_MAX	 (2 + 2 + 32767 + 2 + 32767 + 4)
#define OFS_METADATA_MAX 4096 /* offset.metadata.max.bytes' default */

struct ofs_commit {
	int64_t offset;
	int32_t leader_epoch; /* -1 unknown */
	const char *metadata; /* NUL-terminated; "" for none */
	int64_t commit_timestamp_ms;
};

/* Java's String.hashCode of UTF-8 text (over its UTF-16 code units; an
 * invalid sequence counts as U+FFFD), and the partition Kafka gives the
 * group. partitions > 0. */
int32_t ofs_java_hash(const char *utf8, size_t len);
int32_t ofs_partition_for(const char *group, int32_t partitions);

/* Encode a key / value into buf. Return the size, or -1 when cap is too
 * small or a string is longer than 32767 bytes. */
int32_t ofs_key_encode(uint8_t *buf, size_t cap, const char *group, const char *topic,
		       int32_t partition);
int32_t ofs_value_encode(uint8_t *buf, size_t cap, const struct ofs_commit *c);

/* One decoded key: views into the record's bytes (not NUL-terminated). */
struct ofs_key {
	int16_t version; /* 0/1 offset commit, 2 group metadata */
	const char *group;
	int16_t group_len;
	const char *topic; /* offset commits only */
	int16_t topic_len;
	int32_t partition;
};

/* Decode a key. 0, or -1 for bytes that are not a key of a known version. */
int ofs_key_decode(const uint8_t *p, size_t len, struct ofs_key *k);
/* Decode an offset-commit value; metadata is a view (len in *metadata_len). */
int ofs_value_decode(const uint8_t *p, size_t len, int64_t *offset, int32_t *leader_epoch,
		     const char **metadata, int16_t *metadata_len, int64_t *commit_ts);

/* ---- the table ---------------------------------------------------------- */

struct ofs_table;

struct ofs_table *ofs_table_new(void);
void ofs_table_free(struct ofs_table *t);

/* Apply one record of the topic, in log order: key bytes and value bytes
 * (value NULL = tombstone). Records that are not offset commits are
 * ignored. Returns 0, -1 for an undecodable record (counted, skipped), or
 * -ENOMEM. */
int ofs_table_apply(struct ofs_table *t, const uint8_t *key, size_t key_len, const uint8_t *value,
		    size_t value_len);

/* Set directly (after a commit this coordinator wrote and saw committed). */
int ofs_table_put(struct ofs_table *t, const char *group, const char *topic, int32_t partition,
		  const struct ofs_commit *c);

/* The committed offset, or false when none. metadata points into the table
 * (valid until the next change). */
bool ofs_table_get(const struct ofs_table *t, const char *group, const char *topic,
		   int32_t partition, struct ofs_commit *out);

/* Forget every offset of a group (DeleteGroups). Returns how many. */
int32_t ofs_table_drop_group(struct ofs_table *t, const char *group);

/* Visit a group's offsets (any order); stop when fn returns non-zero. */
typedef int (*ofs_visit_fn)(void *ctx, const char *topic, int32_t partition,
			    const struct ofs_commit *c);
int ofs_table_visit(const struct ofs_table *t, const char *group, ofs_visit_fn fn, void *ctx);

/* Entries in the table; records skipped as undecodable so far. */
int64_t ofs_table_size(const struct ofs_table *t);
int64_t ofs_table_bad_records(const struct ofs_table *t);

#endif
