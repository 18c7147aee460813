/*
 * cluster_cmd — `replog cluster`: the metadata quorum and the brokers of a
 * running cluster, online. Every broker is asked for its own view of the
 * quorum with ReplogDescribeQuorum (client/kp_replog.h); the views are put
 * together into the active controller and its term, the voters, standbys
 * and spares with their state, replication progress and lag, and the
 * brokers' registrations and sessions as the active controller holds them.
 * Read-only. Prefix cluster_cmd_ (entry points cluster_main, cluster_help).
 */
#ifndef REPLOG_CLUSTER_CMD_H
#define REPLOG_CLUSTER_CMD_H

/* Exit codes of the command. */
#define CLUSTER_CMD_EXIT_OK	       0 /* an active controller a majority agrees on */
#define CLUSTER_CMD_EXIT_NO_CONTROLLER 1 /* none known, or the brokers disagree */
#define CLUSTER_CMD_EXIT_USAGE	       2

/* The command: argv[0] is "cluster", options follow. Returns the process
 * exit code. */
int cluster_main(int argc, char **argv);

/* The manual printed by `replog cluster --help` and `replog help cluster`. */
extern const char cluster_help[];

#endif
