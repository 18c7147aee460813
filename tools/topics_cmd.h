/*
 * topics_cmd — `replog topics`: topics of a running cluster, as
 * kafka-topics.sh shows them, plus what only replog knows: every replica's
 * log end offset, high watermark and flushed offset, and the leader's view
 * of its followers. Actions: `describe`, `list`, `create`, `delete`.
 * Prefix topics_*.
 *
 * Online: `describe` asks one bootstrap broker for Metadata and then every
 * live broker for ReplogDescribeReplicas (client/kp_replog.h), through
 * cluster_view; `list` asks for Metadata only. Both are read-only.
 * `create` and `delete` send CreateTopics / DeleteTopics to the active
 * controller, found by the Metadata's controller_id.
 */
#ifndef REPLOG_TOPICS_CMD_H
#define REPLOG_TOPICS_CMD_H

/* Exit codes of the command. */
#define TOPICS_EXIT_OK	     0
#define TOPICS_EXIT_NO_TOPIC 1 /* a topic named with --topic does not exist */
/* create, delete, list: the controller refused, or no broker answered */
#define TOPICS_EXIT_FAILED	1
#define TOPICS_EXIT_USAGE	2
#define TOPICS_EXIT_UNREACHABLE 3 /* no bootstrap server answered */

/* The command: argv[0] is "topics", the action and options follow.
 * Returns the process exit code. */
int topics_main(int argc, char **argv);

/* The manual printed by `replog topics --help` and `replog help topics`. */
extern const char topics_help[];

#endif
