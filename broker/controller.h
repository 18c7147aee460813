/*
 * controller — the active controller: the only writer of the metadata log
 * (meta.h), keeper of broker sessions and leases, and the one who elects
 * partition leaders and commits ISR changes (DESIGN.md §4-5).
 *
 * Runs in the member of the metadata quorum that leads it (quorum.h), from
 * the moment every entry committed before its term is applied, until it
 * no longer leads. Its epoch is the Raft term.
 *
 * Decisions are taken on the controller's own image, which includes what it
 * proposed and is not yet committed; requests are answered, and brokers see
 * records, only once the records are committed. A proposal that fails
 * (leadership lost) leaves the controller's image ahead of the log: it then
 * decides nothing more and answers NOT_CONTROLLER until it is stopped.
 *
 * Rules it enforces:
 *   - sessions: a broker registers (a new broker epoch every process
 *     start), starts fenced, is unfenced once its heartbeat shows it has
 *     applied the metadata up to its own registration, and is fenced when
 *     no heartbeat arrived for session_timeout_ms or after a controlled
 *     shutdown;
 *   - leases: every heartbeat answer grants a lease of lease_ms counted from
 *     when the broker sent it; lease_ms < session_timeout_ms, so a leader
 *     cut off from the controller stops accepting writes before the
 *     controller may elect another. After a controller (re)start no broker
 *     is fenced for session expiry before session_timeout_ms has passed,
 *     which outlasts any lease a previous controller granted (a lease is
 *     2/3 of it; a deposed Raft leader stops within an election timeout,
 *     at most 1/6 of it);
 *   - elections: a live ISR member (in assignment order, the first is the
 *     preferred leader), else a live eligible replica (ELR, KIP-966), else —
 *     only with unclean_leader_election — any live replica, marked unclean;
 *     else, when ISR and ELR are both empty, the last leader once it is live
 *     again (it has the most: a single replica after a crash, say);
 *     else the partition is offline. Every election bumps the leader epoch;
 *     every change bumps the partition epoch;
 *   - ISR changes come from the leader (AlterPartition) and are applied only
 *     when its leader epoch and partition epoch are current; new members must
 *     be live; when the ISR would fall below min_insync_replicas the members
 *     removed become eligible (ELR) instead of forgotten; a broker that
 *     restarts after an unclean shutdown loses its eligibility;
 *   - controlled shutdown: the broker's leaderships move to other ISR members
 *     and it leaves the ISRs before it is told it may exit;
 *   - preferred leaders: a partition whose preferred replica is back in the
 *     ISR gets it back as leader.
 */
#ifndef REPLOG_CONTROLLER_H
#define REPLOG_CONTROLLER_H

#include <stdbool.h>
#include <stdint.h>

#include "kp_message.h"
#include "meta.h"

struct broker;
struct controller;
struct partition;

struct quorum;

/* Become the active controller in `epoch` (the Raft term), from the
 * committed image (copied). Returns 0 or -1 (no memory). */
int ctl_start(struct broker *b, struct quorum *q, const struct meta_image *committed,
	      int32_t epoch, struct controller **out);
/* Stop deciding; answers still pending go out when their entries commit
 * or fail. */
void ctl_stop(struct controller *c);

const struct meta_image *ctl_image(const struct controller *c);
/* Milliseconds since broker id's last heartbeat here, -1 when unknown. */
int64_t ctl_session_age_ms(struct controller *c, int32_t id);

/* Answers. err is 0 or a Kafka error code; msg may be NULL. */
typedef void (*ctl_done_fn)(void *ctx, int err, const char *msg, int64_t value);

/* BrokerRegister: done(ctx, err, msg, broker_epoch) once committed. */
void ctl_register(struct controller *c, const struct kp_replog_register_request *req,
		  ctl_done_fn done, void *ctx);
/* BrokerHeartbeat: answered at once into *resp. */
void ctl_heartbeat(struct controller *c, const struct kp_replog_heartbeat_request *req,
		   struct kp_replog_heartbeat_response *resp);
/* AlterPartition for one partition: done(ctx, err, msg, 0) once committed;
 * the committed state is then in the image (ctl_image). */
void ctl_alter_partition(struct controller *c, int32_t broker_id, int64_t broker_epoch,
			 const char *topic, int topic_len,
			 const struct kp_replog_alter_partition *ap, ctl_done_fn done, void *ctx);
/* CreateTopics for one topic (validated by the caller for name and
 * config); done(ctx, err, msg, 0) once committed. */
void ctl_create_topic(struct controller *c, const char *name, int len,
		      const struct topic_config *cfg, bool validate_only, ctl_done_fn done,
		      void *ctx);
void ctl_delete_topic(struct controller *c, const char *name, int len, ctl_done_fn done, void *ctx);

/* The lease a heartbeat grants, and how often brokers should send one. */
int64_t ctl_lease_ms(const struct broker_config *cfg);
int64_t ctl_heartbeat_interval_ms(const struct broker_config *cfg);

#endif
