/*
 * topics_cmd — `replog topics`: topics of a running cluster, as
 * kafka-topics.sh shows them, plus what only replog knows: every replica's
 * log end offset, high watermark and flushed offset, and the leader's view
 * of its followers. Actions: `describe`. Prefix topics_*.
 *
 * Online: it asks one bootstrap broker for Metadata and then every live
 * broker for ReplogDescribeReplicas (client/kp_replog.h), through
 * cluster_view. Read-only.
 */
#ifndef REPLOG_TOPICS_CMD_H
#define REPLOG_TOPICS_CMD_H

/* Exit codes of the command. */
#define TOPICS_EXIT_OK		0
#define TOPICS_EXIT_NO_TOPIC	1 /* a topic named with --topic does not exist */
#define TOPICS_EXIT_USAGE	2
#define TOPICS_EXIT_UNREACHABLE 3 /* no bootstrap server answered */

/* The command: argv[0] is "topics", the action and options follow.
 * Returns the process exit code. */
int topics_main(int argc, char **argv);

/* The manual printed by `replog topics --help` and `replog help topics`. */
extern const char topics_help[];

#endif
