/*
 * rlassert — assertions that stay on in production.
 *
 * RL_ASSERT(cond) checks an invariant whose failure means the process can no
 * longer be trusted with data: it prints the condition, file, line and
 * function to stderr and aborts. RL_DEBUG_ASSERT is for checks too costly for
 * the hot path; it compiles away unless REPLOG_DEBUG is defined.
 */
#ifndef REPLOG_RLASSERT_H
#define REPLOG_RLASSERT_H

#include <stdio.h>
#include <stdlib.h>

#define RL_ASSERT(cond)                                                                            \
	do {                                                                                       \
		if (__builtin_expect(!(cond), 0)) {                                                \
			fprintf(stderr, "replog: assertion failed: %s at %s:%d (%s)\n", #cond,     \
				__FILE__, __LINE__, __func__);                                     \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#ifdef REPLOG_DEBUG
#define RL_DEBUG_ASSERT(cond) RL_ASSERT(cond)
#else
#define RL_DEBUG_ASSERT(cond) ((void)0)
#endif

#endif
