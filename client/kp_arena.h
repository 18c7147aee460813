/*
 * kp_arena — a region allocator for decoded Kafka messages.
 *
 * One arena per request (or response) being decoded: the caller hands it a
 * block of memory it owns (carved from a pool at start-up, a stack buffer in
 * a test), every array a decoder builds is cut from that block, and
 * kp_arena_reset() frees all of it in one shot. The arena never grows and
 * never calls malloc: when the block is used up, kp_arena_alloc() returns
 * NULL and the decoder reports KP_EARENA, so a hostile frame cannot make the
 * process allocate more than the block it was given.
 *
 * Lifetime: pointers returned stay valid until kp_arena_reset() or until the
 * caller reuses the block. Not thread-safe; one owner at a time.
 */
#ifndef REPLOG_KP_ARENA_H
#define REPLOG_KP_ARENA_H

#include <stddef.h>
#include <stdint.h>

/* Alignment of every allocation: enough for int64_t and pointers. */
#define KP_ARENA_ALIGN 8

struct kp_arena {
	uint8_t *ka_base; /* the caller's block (borrowed) */
	size_t ka_size;	  /* bytes in the block */
	size_t ka_used;	  /* bytes handed out, padding included */
	size_t ka_peak;	  /* largest ka_used since init, for sizing the block */
};

/* mem may be NULL only with size 0 (an arena that refuses everything). */
void kp_arena_init(struct kp_arena *a, void *mem, size_t size);

/* Zeroed block of `size` bytes aligned to KP_ARENA_ALIGN, or NULL when the
 * arena cannot hold it. size 0 returns NULL (nothing to hold). */
void *kp_arena_alloc(struct kp_arena *a, size_t size);

/* count * elem_size bytes, zeroed; NULL on overflow of the product or when
 * the arena cannot hold it, and for count 0. */
void *kp_arena_alloc_array(struct kp_arena *a, size_t count, size_t elem_size);

/* Forget every allocation; the block is reused from its start. */
void kp_arena_reset(struct kp_arena *a);

static inline size_t kp_arena_used(const struct kp_arena *a)
{
	return a->ka_used;
}

#endif
