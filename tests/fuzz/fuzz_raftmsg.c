/*
 * fuzz_raftmsg — libFuzzer target for the raft message and configuration
 * decoders (broker/raftmsg).
 *
 * Input: raw bytes, decoded as a message and as a standalone configuration.
 * Beyond "no crash, no leak, no sanitizer report" the target checks the
 * contracts: a failure is one of the documented codes and leaves *m holding
 * nothing (type and body zero, the transport's fields untouched); a decoded
 * message re-encodes to exactly the input (the format has one encoding per
 * message), and decoding that again gives an equal message; every entry
 * of an AppendEntries shares one batch with its buf inside it. Messages are
 * freed with rmsg_release, configurations with raft_configuration_close.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "raftmsg.h"
#include "rlassert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_conf_equal(const struct raft_configuration *a, const struct raft_configuration *b)
{
	RL_ASSERT(a->n == b->n);
	for (unsigned i = 0; i < a->n; i++) {
		RL_ASSERT(a->servers[i].id == b->servers[i].id);
		RL_ASSERT(a->servers[i].role == b->servers[i].role);
		RL_ASSERT(strcmp(a->servers[i].address, b->servers[i].address) == 0);
	}
}

static void check_equal(const struct raft_message *a, const struct raft_message *b)
{
	RL_ASSERT(a->type == b->type);
	switch (a->type) {
	case RAFT_IO_APPEND_ENTRIES: {
		const struct raft_append_entries *x = &a->append_entries, *y = &b->append_entries;
		RL_ASSERT(x->term == y->term && x->prev_log_index == y->prev_log_index &&
			  x->prev_log_term == y->prev_log_term &&
			  x->leader_commit == y->leader_commit && x->n_entries == y->n_entries);
		for (unsigned i = 0; i < x->n_entries; i++) {
			const struct raft_entry *e = &x->entries[i], *f = &y->entries[i];
			RL_ASSERT(e->term == f->term && e->type == f->type &&
				  e->buf.len == f->buf.len);
			RL_ASSERT(e->buf.len == 0 ||
				  memcmp(e->buf.base, f->buf.base, e->buf.len) == 0);
		}
		break;
	}
	case RAFT_IO_APPEND_ENTRIES_RESULT:
		RL_ASSERT(memcmp(&a->append_entries_result, &b->append_entries_result,
				 sizeof(a->append_entries_result)) == 0);
		break;
	case RAFT_IO_REQUEST_VOTE: {
		const struct raft_request_vote *x = &a->request_vote, *y = &b->request_vote;
		RL_ASSERT(x->term == y->term && x->candidate_id == y->candidate_id &&
			  x->last_log_index == y->last_log_index &&
			  x->last_log_term == y->last_log_term &&
			  x->disrupt_leader == y->disrupt_leader && x->pre_vote == y->pre_vote);
		break;
	}
	case RAFT_IO_REQUEST_VOTE_RESULT: {
		const struct raft_request_vote_result *x = &a->request_vote_result,
						      *y = &b->request_vote_result;
		RL_ASSERT(x->term == y->term && x->vote_granted == y->vote_granted &&
			  x->pre_vote == y->pre_vote);
		break;
	}
	case RAFT_IO_INSTALL_SNAPSHOT: {
		const struct raft_install_snapshot *x = &a->install_snapshot,
						   *y = &b->install_snapshot;
		RL_ASSERT(x->term == y->term && x->last_index == y->last_index &&
			  x->last_term == y->last_term && x->conf_index == y->conf_index);
		check_conf_equal(&x->conf, &y->conf);
		RL_ASSERT(x->data.len == y->data.len);
		RL_ASSERT(x->data.len == 0 || memcmp(x->data.base, y->data.base, x->data.len) == 0);
		break;
	}
	case RAFT_IO_TIMEOUT_NOW:
		RL_ASSERT(memcmp(&a->timeout_now, &b->timeout_now, sizeof(a->timeout_now)) == 0);
		break;
	default:
		RL_ASSERT(!"decoded an unknown type");
	}
}

static void check_batches(const struct raft_message *m)
{
	if (m->type != RAFT_IO_APPEND_ENTRIES)
		return;
	const struct raft_append_entries *ae = &m->append_entries;
	RL_ASSERT((ae->n_entries == 0) == (ae->entries == NULL));
	size_t total = 0;
	for (unsigned i = 0; i < ae->n_entries; i++)
		total += ae->entries[i].buf.len;
	for (unsigned i = 0; i < ae->n_entries; i++) {
		const uint8_t *batch = ae->entries[0].batch;
		const uint8_t *base = ae->entries[i].buf.base;
		RL_ASSERT(batch != NULL && ae->entries[i].batch == batch);
		RL_ASSERT(base >= batch &&
			  (size_t)(base - batch) + ae->entries[i].buf.len <= total);
	}
}

static void check_cleared(const struct raft_message *m)
{
	static const struct raft_message zero;
	RL_ASSERT(m->type == 0);
	RL_ASSERT(m->server_id == 77);
	RL_ASSERT(memcmp(&m->install_snapshot, &zero.install_snapshot,
			 sizeof(zero.install_snapshot)) == 0);
	RL_ASSERT(memcmp(&m->append_entries, &zero.append_entries, sizeof(zero.append_entries)) ==
		  0);
}

static void fuzz_message(const uint8_t *data, size_t size)
{
	struct raft_message m;
	memset(&m, 0x5a, sizeof(m));
	m.server_id = 77;
	int rc = rmsg_decode(data, size, &m);
	if (rc < 0) {
		RL_ASSERT(rc == -EBADMSG || rc == -ENOMEM || rc == -EMSGSIZE);
		check_cleared(&m);
		return;
	}
	RL_ASSERT(rc == 0 && m.server_id == 77);
	check_batches(&m);

	uint8_t *enc = NULL;
	size_t enc_len = 0;
	rc = rmsg_encode(&m, &enc, &enc_len);
	if (rc == -ENOMEM) {
		rmsg_release(&m);
		return;
	}
	RL_ASSERT(rc == 0);
	/* One encoding per message: re-encoding gives back the input. */
	RL_ASSERT(enc_len == size && memcmp(enc, data, size) == 0);

	struct raft_message again;
	memset(&again, 0, sizeof(again));
	rc = rmsg_decode(enc, enc_len, &again);
	RL_ASSERT(rc == 0 || rc == -ENOMEM);
	if (rc == 0) {
		check_equal(&m, &again);
		rmsg_release(&again);
	}
	free(enc);
	rmsg_release(&m);
	check_cleared(&m);
}

static void fuzz_conf(const uint8_t *data, size_t size)
{
	struct raft_configuration c;
	int rc = rmsg_conf_decode(data, size, &c);
	if (rc < 0) {
		RL_ASSERT(rc == -EBADMSG || rc == -ENOMEM || rc == -EMSGSIZE);
		RL_ASSERT(c.n == 0 && c.servers == NULL);
		return;
	}
	uint8_t *enc = NULL;
	size_t enc_len = 0;
	rc = rmsg_conf_encode(&c, &enc, &enc_len);
	RL_ASSERT(rc == 0 || rc == -ENOMEM);
	if (rc == 0) {
		RL_ASSERT(enc_len == size && memcmp(enc, data, size) == 0);
		struct raft_configuration again;
		rc = rmsg_conf_decode(enc, enc_len, &again);
		RL_ASSERT(rc == 0 || rc == -ENOMEM);
		if (rc == 0)
			check_conf_equal(&c, &again);
		raft_configuration_close(&again);
		free(enc);
	}
	raft_configuration_close(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_message(data, size);
	fuzz_conf(data, size);
	return 0;
}
