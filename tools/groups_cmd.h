/*
 * groups_cmd — `replog groups`: the consumer groups of a running cluster,
 * as kafka-consumer-groups.sh shows them. Actions: `list`, `describe`,
 * `reset-offsets`, `delete`. Prefix groups_*.
 *
 * Online, through cluster_view and kclient: `list` asks every live broker
 * for ListGroups (each coordinator knows only the groups it coordinates)
 * and DescribeGroups; `describe` finds the group's coordinator
 * (FindCoordinator), asks it DescribeGroups and OffsetFetch, then every
 * partition leader ListOffsets (the high watermark) and
 * ReplogDescribeReplicas (the log end offset). `reset-offsets` commits
 * offsets for an inactive group (OffsetCommit, generation -1, no member).
 * `delete` exists for the interface only: the broker has no DeleteGroups
 * yet, so it always fails.
 *
 * The ConsumerProtocol assignment decoder is exposed for the command's own
 * use and documentation; it is tested through the CLI output.
 */
#ifndef REPLOG_GROUPS_CMD_H
#define REPLOG_GROUPS_CMD_H

#include <stdint.h>

#include "kp_codec.h"

/* Exit codes of the command. */
#define GROUPS_EXIT_OK	   0
#define GROUPS_EXIT_FAILED 1 /* unknown group, no broker answered, refused, delete */
#define GROUPS_EXIT_USAGE  2

/*
 * Decode a ConsumerProtocol assignment (what a consumer group's leader
 * hands each member through SyncGroup, relayed by DescribeGroups):
 *
 *   int16  version                      (0..3 all share this layout)
 *   int32  topic count                  (-1 = null, read as none)
 *     int16 + bytes  topic name
 *     int32  partition count            (-1 = null, read as none)
 *       int32  partition
 *   int32 + bytes  user_data            (nullable; may be absent in v0)
 *
 * visit() is called per (topic, partition) in order; the topic is a view
 * into buf. A non-zero return from visit() stops and is returned.
 * Returns 0; -EBADMSG when a length or count runs past len (what was
 * visited before stays visited); an empty buffer (len 0) is no assignment.
 */
int groups_assignment_decode(const uint8_t *buf, int32_t len,
			     int (*visit)(void *ctx, struct kp_str topic, int32_t partition),
			     void *ctx);

/* The command: argv[0] is "groups", the action and options follow.
 * Returns the process exit code. */
int groups_main(int argc, char **argv);

/* The manual printed by `replog groups --help` and `replog help groups`. */
extern const char groups_help[];

#endif
