/*
 * rlerr — the one table of replog's own error codes.
 *
 * The return convention everywhere in replog: 0 or a positive count on
 * success; a negative errno (-EIO, -ENOSPC, ...) for system failures; one of
 * the RL_E* codes below for our own failures. The RL_E* range sits at
 * -1000..-1999, far from any errno, so one int carries both without
 * ambiguity and rl_strerror() names either. Kafka wire error codes are a
 * separate, positive enum in client/ and never travel in this channel.
 */
#ifndef REPLOG_RLERR_H
#define REPLOG_RLERR_H

enum rl_err {
	RL_EBASE = -1000,
	RL_ETRUNCATED = -1001,	  /* a length runs past the end of the bytes we have */
	RL_EMAGIC = -1002,	  /* record batch magic is not 2 */
	RL_ECRC = -1003,	  /* CRC32C of a batch does not match its bytes */
	RL_EINVAL_BATCH = -1004,  /* a batch header field is impossible */
	RL_EINVAL_RECORD = -1005, /* a record inside a batch is malformed */
	RL_ETOO_LARGE = -1006,	  /* larger than a configured or format limit */
	RL_EFENCED = -1007,	  /* a previous I/O failure fenced this log: no more writes */
	RL_EBUSY = -1008,	  /* I/O still in flight; retry once it completes */
	RL_ERANGE = -1009,	  /* offset outside [log start, log end] */
	RL_EORDER = -1010,	  /* offsets or epochs would not increase */
	RL_EFULL = -1011,	  /* a bounded queue or pool is full: back off */
	RL_ECORRUPT = -1012,	  /* on-disk state is inconsistent */
	RL_ECOMPRESSION = -1013,  /* compressed data could not be decoded */
	RL_EUNSUPPORTED = -1014,  /* valid, but not something we handle (e.g. a codec) */
	RL_ECONFIG = -1015,	  /* a configuration value is impossible */
	RL_ELAST = -1016
};

/* Human-readable name of a return code: RL_E* codes, negative errno values,
 * or 0. The string is static; never NULL. */
const char *rl_strerror(int code);

#endif
