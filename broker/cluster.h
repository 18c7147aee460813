/*
 * cluster — this broker as a member of the cluster: it is a member of the
 * metadata quorum (quorum.h: a voter when cluster.controllers names it, a
 * standby otherwise), keeps its image of the cluster metadata by applying
 * the committed entries in order, registers with the active controller,
 * sends heartbeats and holds the lease they grant, and turns what changes
 * into local actions (open a replica, lead, follow, delete a topic).
 *
 * The active controller (controller.h) runs in whichever member leads the
 * quorum. When that is this process, registration and heartbeats are
 * function calls; otherwise they go over a peer connection to the leader
 * the quorum names, and follow it when it changes. Records are acted on
 * once this broker's own registration is applied: everything before it is
 * history, and only where it ends matters.
 *
 * Lease: a heartbeat answer grants lease_ms from when the heartbeat was
 * sent. While the lease is valid this broker may accept writes for the
 * partitions it leads; when it lapses (cut off from the controller, paused,
 * fenced) it refuses them with NOT_LEADER_OR_FOLLOWER — before the
 * controller may elect another leader.
 *
 * Controlled shutdown: cluster_begin_shutdown() makes heartbeats ask for
 * it; cluster_shutdown_ready() turns true when the controller says every
 * leadership that could move has moved.
 */
#ifndef REPLOG_CLUSTER_H
#define REPLOG_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>

#include "kp_message.h"
#include "meta.h"
#include "timer.h"

struct broker;
struct partition;

/* Start: the quorum member, registration, heartbeats. Returns 0 or -1
 * after logging why. */
int cluster_start(struct broker *b);
void cluster_stop(struct broker *b);

/* The image of committed metadata this broker has applied. */
const struct meta_image *cluster_image(const struct broker *b);
struct controller *cluster_controller(struct broker *b); /* NULL when remote */
bool cluster_is_controller(const struct broker *b);
/* The active controller as this broker knows it, -1 when none. */
int32_t cluster_controller_id(const struct broker *b);
struct quorum *cluster_quorum(struct broker *b);
/* The address of a registered broker, or NULL. */
const char *cluster_broker_address(const struct broker *b, int32_t id);
/* Where this broker dials broker `id` for replication and controller
 * traffic: its configured peer_address, else cluster_broker_address. */
const char *cluster_peer_address(const struct broker *b, int32_t id);

/* May this broker accept writes as a leader now? */
bool cluster_lease_valid(const struct broker *b);

/* Ask the controller to change a partition's ISR (the leader's proposal
 * from isr_proposal, or a resend of it). The outcome arrives as metadata:
 * the commit, or the newer epochs that made it moot. */
void cluster_alter_partition(struct broker *b, struct partition *p, const int32_t *isr, int32_t n);

/* Ask the controller to create a topic with the default settings (auto
 * creation). Fire and forget: the topic appears in the metadata. */
void cluster_auto_create(struct broker *b, const char *name, int len);

/* Ask the controller to create an internal topic (__consumer_offsets) with
 * these settings and the defaults for the rest. Fire and forget. */
void cluster_create_internal_topic(struct broker *b, const char *name, int32_t partitions,
				   int16_t replication_factor, int32_t min_isr, int cleanup_policy);

/* Wait for the metadata to change (auto-created topics appearing): done
 * runs once, at the next applied change or after timeout_ms. */
struct cluster_meta_wait {
	void (*cmw_done)(struct cluster_meta_wait *w);
	void *cmw_ctx;
	struct timer cmw_timer;
	struct broker *cmw_broker;
	struct cluster_meta_wait *cmw_next;
	bool cmw_linked;
};
void cluster_wait_metadata(struct broker *b, struct cluster_meta_wait *w, int64_t timeout_ms);
void cluster_cancel_wait(struct broker *b, struct cluster_meta_wait *w);

void cluster_begin_shutdown(struct broker *b);
/* Heartbeat at once: this broker just let go of a leadership, and the
 * controller waits for that to elect the next leader (a planned move). */
void cluster_heartbeat_soon(struct broker *b);
/* May broker `id` join an ISR (alive, not leaving)? As the metadata says. */
bool cluster_broker_may_join(const struct broker *b, int32_t id);
bool cluster_shutdown_ready(const struct broker *b);
/* Has this broker caught up with the metadata since it started (its own
 * registration applied)? Before that its image may be empty or old: a
 * topic it does not know may well exist. Controller-only voters: true. */
bool cluster_caught_up(const struct broker *b);

/* Periodic work: ISR checks on the partitions this broker leads. */
void cluster_tick(struct broker *b);

#endif
