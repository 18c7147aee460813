/*
 * rlerr — messages for replog's own error codes (see rlerr.h for the
 * convention). Negative errno values are passed through strerror().
 */
#include "rlerr.h"

#include <string.h>

static const char *const rl_messages[] = {
	[-(RL_ETRUNCATED - RL_EBASE)] = "length runs past the end of the data",
	[-(RL_EMAGIC - RL_EBASE)] = "record batch magic is not 2",
	[-(RL_ECRC - RL_EBASE)] = "record batch CRC32C mismatch",
	[-(RL_EINVAL_BATCH - RL_EBASE)] = "invalid record batch header",
	[-(RL_EINVAL_RECORD - RL_EBASE)] = "invalid record",
	[-(RL_ETOO_LARGE - RL_EBASE)] = "too large",
	[-(RL_EFENCED - RL_EBASE)] = "log fenced after an I/O failure",
	[-(RL_EBUSY - RL_EBASE)] = "I/O in flight",
	[-(RL_ERANGE - RL_EBASE)] = "offset out of range",
	[-(RL_EORDER - RL_EBASE)] = "offsets or epochs out of order",
	[-(RL_EFULL - RL_EBASE)] = "queue full",
	[-(RL_ECORRUPT - RL_EBASE)] = "corrupt data on disk",
	[-(RL_ECOMPRESSION - RL_EBASE)] = "compressed data could not be decoded",
	[-(RL_EUNSUPPORTED - RL_EBASE)] = "not supported",
	[-(RL_ECONFIG - RL_EBASE)] = "invalid configuration",
};

_Static_assert(sizeof(rl_messages) / sizeof(rl_messages[0]) == (unsigned)-(RL_ELAST - RL_EBASE),
	       "every RL_E* code has a message");

const char *rl_strerror(int code)
{
	if (code == 0)
		return "success";
	if (code < RL_EBASE && code > RL_ELAST)
		return rl_messages[-(code - RL_EBASE)];
	if (code < 0 && code > RL_EBASE)
		return strerror(-code);
	return "unknown error";
}
