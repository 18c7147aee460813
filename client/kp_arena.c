/*
 * kp_arena — bump allocation from a caller-owned block (see kp_arena.h).
 *
 * Invariants: ka_used <= ka_size; every pointer handed out lies inside
 * [ka_base, ka_base + ka_used) and is KP_ARENA_ALIGN-aligned by address
 * (the block itself need not be aligned: padding is computed from the
 * address, not the offset). Allocations are zeroed so a decoder that stops
 * half-way leaves no uninitialised fields behind.
 */
#include "kp_arena.h"

#include <string.h>

#include "rlassert.h"

void kp_arena_init(struct kp_arena *a, void *mem, size_t size)
{
	RL_ASSERT(mem != NULL || size == 0);
	a->ka_base = mem;
	a->ka_size = size;
	a->ka_used = 0;
	a->ka_peak = 0;
}

void *kp_arena_alloc(struct kp_arena *a, size_t size)
{
	if (size == 0 || a->ka_used > a->ka_size)
		return NULL;
	uintptr_t at = (uintptr_t)(a->ka_base + a->ka_used);
	size_t pad = (size_t)((KP_ARENA_ALIGN - (at % KP_ARENA_ALIGN)) % KP_ARENA_ALIGN);
	size_t room = a->ka_size - a->ka_used;
	if (pad > room || size > room - pad)
		return NULL;
	uint8_t *p = a->ka_base + a->ka_used + pad;
	a->ka_used += pad + size;
	if (a->ka_used > a->ka_peak)
		a->ka_peak = a->ka_used;
	memset(p, 0, size);
	RL_DEBUG_ASSERT(a->ka_used <= a->ka_size);
	return p;
}

void *kp_arena_alloc_array(struct kp_arena *a, size_t count, size_t elem_size)
{
	if (count == 0 || elem_size == 0 || count > SIZE_MAX / elem_size)
		return NULL;
	return kp_arena_alloc(a, count * elem_size);
}

void kp_arena_reset(struct kp_arena *a)
{
	a->ka_used = 0;
}
