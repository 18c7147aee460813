/*
 * api — what replogd answers: the table of APIs and versions it implements
 * (ApiVersions advertises exactly this table), request decoding, and
 * dispatch to the handlers.
 *
 * Kafka's rules for requests the broker cannot serve, which replogd keeps:
 *   - ApiVersions at a version above ours: UNSUPPORTED_VERSION (35) with a
 *     v0 body listing our ranges, so clients retry with a version we know;
 *   - any other API or version we do not implement, a header or body that
 *     does not decode (truncated, malformed): the connection is closed,
 *     with a log line naming the client, the API and the cause;
 *   - bytes after a well-formed body are ignored, as Kafka does.
 */
#ifndef REPLOG_API_H
#define REPLOG_API_H

#include <stdbool.h>
#include <stdint.h>

struct broker;
struct kreq;
struct kp_apiversions_api_version;
struct kp_str;

/* At most this many discarded-write entries in one ListDiscarded answer. */
#define REPLOG_DISCARDED_MAX 2000

typedef void (*api_handler_fn)(struct broker *b, struct kreq *rq);

struct api_entry {
	int16_t ae_key;
	int16_t ae_min;
	int16_t ae_max;
	api_handler_fn ae_fn;
	bool ae_internal; /* replog's own inter-broker API: served, not advertised */
};

/* The implemented APIs; *count receives how many. */
const struct api_entry *api_table(int *count);
/* The APIs ApiVersions lists (not the internal ones), in rq's arena.
 * Returns their count, or -1 without memory. */
int api_advertise(struct kreq *rq, struct kp_apiversions_api_version **out);

/* Decode the request in rq (its frame) and hand it to its handler, or
 * answer/close as above. */
void api_dispatch(struct broker *b, struct kreq *rq);

/* Handlers, one module each. */
void api_versions_handle(struct broker *b, struct kreq *rq);
void metadata_handle(struct broker *b, struct kreq *rq);
void produce_handle(struct broker *b, struct kreq *rq);
void fetch_handle(struct broker *b, struct kreq *rq);
void listoffsets_handle(struct broker *b, struct kreq *rq);
void createtopics_handle(struct broker *b, struct kreq *rq);
void deletetopics_handle(struct broker *b, struct kreq *rq);
void epochs_handle(struct broker *b, struct kreq *rq);
void replog_register_handle(struct broker *b, struct kreq *rq);
void replog_heartbeat_handle(struct broker *b, struct kreq *rq);
void replog_alter_handle(struct broker *b, struct kreq *rq);
void replog_describe_handle(struct broker *b, struct kreq *rq);
void replog_discarded_handle(struct broker *b, struct kreq *rq);
void replog_raft_handle(struct broker *b, struct kreq *rq);
void replog_quorum_handle(struct broker *b, struct kreq *rq);

/* The replica of a partition hosted here, or NULL with *err = a Kafka error
 * code: UNKNOWN_TOPIC_OR_PARTITION when the cluster has no such partition,
 * NOT_LEADER_OR_FOLLOWER when it lives on other brokers,
 * KAFKA_STORAGE_ERROR when its log here is fenced. */
struct partition *api_partition(struct broker *b, const char *name, int len, int32_t index,
				int *err);
/* The same, and this broker must lead it (else NOT_LEADER_OR_FOLLOWER). */
/* The partition if this broker leads it in current_leader_epoch (-1: any):
 * else NULL with *err UNKNOWN_LEADER_EPOCH (the caller is ahead of us),
 * NOT_LEADER_OR_FOLLOWER, or FENCED_LEADER_EPOCH (the caller is behind). */
struct partition *api_leader_partition_at(struct broker *b, const char *name, int len,
					  int32_t index, int32_t current_leader_epoch, int *err);
struct partition *api_leader_partition(struct broker *b, const char *name, int len, int32_t index,
				       int *err);
/* Ask for an unknown topic to be created, if auto_create_topics allows.
 * Returns true when a creation was requested. */
bool api_auto_create(struct broker *b, const char *name, int len);

/* Wait, at most timeout_ms, until every validly named topic of `names`
 * (count n) exists with a leader for each partition, then call done(b, rq)
 * — unless the connection closed meanwhile. With hold, later requests of
 * the connection wait too (nothing overtakes this one). Uses
 * rq_handler_state and rq_cancel until done runs. Returns false when it
 * cannot wait (no memory): the caller goes on at once. */
bool api_wait_topics(struct broker *b, struct kreq *rq, const struct kp_str *names, int32_t n,
		     int64_t timeout_ms, bool hold,
		     void (*done)(struct broker *b, struct kreq *rq));

#endif
