/*
 * raftmsg — the wire encoding of raft's RPC messages (canonical raft 0.15,
 * struct raft_message) between replog brokers, and of a raft configuration
 * on its own (for snapshot storage).
 *
 * The module owns the byte layout and the allocation contract of decoded
 * messages; it owns no state. server_id / server_address are not on the wire:
 * the transport knows who it is talking to and sets them.
 *
 * Layout. Integers are fixed-width big-endian (u8, u32, u64). A message is
 *
 *   version u8 (RMSG_VERSION = 1) | type u8 (RAFT_IO_*, 1..6) | body
 *
 * with the body, by type:
 *
 *   1 APPEND_ENTRIES          term u64, prev_log_index u64, prev_log_term u64,
 *                             leader_commit u64, n_entries u32,
 *                             n_entries x (term u64, type u8, len u32),
 *                             then the n_entries payloads back to back (the
 *                             sum of the len fields, exactly).
 *   2 APPEND_ENTRIES_RESULT   term u64, rejected u64, last_log_index u64
 *   3 REQUEST_VOTE            term u64, candidate_id u64, last_log_index u64,
 *                             last_log_term u64, disrupt_leader bool,
 *                             pre_vote bool
 *   4 REQUEST_VOTE_RESULT     term u64, vote_granted bool, pre_vote tribool
 *   5 INSTALL_SNAPSHOT        term u64, last_index u64, last_term u64, conf,
 *                             conf_index u64, data_len u32, data bytes
 *   6 TIMEOUT_NOW             term u64, last_log_index u64, last_log_term u64
 *
 *   bool     u8, 0 or 1
 *   tribool  u8, raft_tribool: 0 unknown, 1 true, 2 false
 *   conf     n u32, n x (id u64, role u8, addr_len u8, addr bytes)
 *
 * A standalone configuration (rmsg_conf_*) is version u8 | conf.
 *
 * What makes bytes valid (anything else is -EBADMSG): the version is 1; the
 * type is 1..6; bools are 0/1 and tribools 0..2; entry types are RAFT_COMMAND,
 * RAFT_BARRIER or RAFT_CHANGE; every count fits in the bytes left at its
 * minimum element size (13 bytes an entry header, 10 a server), so no length
 * field can cause an allocation larger than the input warrants; a conf has
 * at most RMSG_CONF_MAX_SERVERS servers, each with id > 0, role
 * RAFT_STANDBY/VOTER/SPARE, an address of 0..255 bytes without NUL, and no
 * id or address twice; nothing follows the last field. Inputs over
 * RMSG_MAX_BYTES are -EMSGSIZE.
 *
 * rmsg_encode refuses (-EINVAL) exactly what rmsg_decode would refuse, so a
 * message that encodes always decodes to an equal one.
 */
#ifndef REPLOG_RAFTMSG_H
#define REPLOG_RAFTMSG_H

#include <stddef.h>
#include <stdint.h>

#include <raft.h>

#define RMSG_VERSION 1
/* Largest encoded message or configuration, either way. It bounds one
 * AppendEntries (all payloads) and one InstallSnapshot (raft 0.15 sends a
 * snapshot in one message): a bigger one is refused, not truncated. */
#define RMSG_MAX_BYTES (64u << 20)
/* Largest server address on the wire (its length is one byte). */
#define RMSG_ADDRESS_MAX 255
/* Most servers in one configuration: raft_configuration_add checks every
 * earlier server for duplicates, so decoding costs O(n^2); this keeps a
 * hostile conf to ~0.5M comparisons. Real clusters have a handful. */
#define RMSG_CONF_MAX_SERVERS 1024

/* Encode m (every field but server_id/server_address) into a malloc'd buffer
 * of *out_len bytes that the caller free()s. Returns 0; -EINVAL for an
 * unknown type or a field the decoder would refuse (see above; also a NULL
 * entries/servers/data pointer with a non-zero count or length); -EMSGSIZE
 * above RMSG_MAX_BYTES; -ENOMEM. *out is untouched on failure. */
int rmsg_encode(const struct raft_message *m, uint8_t **out, size_t *out_len);

/* Decode len bytes at buf (borrowed, only read during the call) into *m,
 * allocated the way raft's recv callback expects to own it:
 *  - APPEND_ENTRIES: entries is a raft_calloc'd array (NULL when n_entries
 *    is 0); all payloads are copied into ONE raft_malloc'd block (at least
 *    one byte larger than their sum, so every buf.base lies inside it, even
 *    for a zero-length entry) and every entries[i].batch is that block.
 *    raft releases it with raft_free(batch) once, then raft_free(entries).
 *  - INSTALL_SNAPSHOT: conf is built with raft_configuration_init/add
 *    (addresses copied); data.base is raft_malloc'd (>= 1 byte).
 *  - the other types allocate nothing.
 * m->server_id and m->server_address are left as they were.
 * Returns 0; -EBADMSG for malformed, truncated or trailing bytes (see the
 * rules above); -EMSGSIZE for len > RMSG_MAX_BYTES; -ENOMEM. On failure
 * nothing is leaked and *m (type and body) is zeroed, holding nothing to
 * free. */
int rmsg_decode(const uint8_t *buf, size_t len, struct raft_message *m);

/* Free what rmsg_decode allocated, for a message that is NOT handed to raft;
 * then zero type and body (a second call does nothing). Only for messages
 * from rmsg_decode (or zeroed ones). */
void rmsg_release(struct raft_message *m);

/* A configuration alone: encode into a malloc'd buffer (errors as for
 * rmsg_encode); decode into *c, which the callee initializes
 * (raft_configuration_init + add; release with raft_configuration_close).
 * On a decode failure (errors as for rmsg_decode) *c is initialized and
 * empty. */
int rmsg_conf_encode(const struct raft_configuration *c, uint8_t **out, size_t *out_len);
int rmsg_conf_decode(const uint8_t *buf, size_t len, struct raft_configuration *c);

#endif
