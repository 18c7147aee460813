/* Description: the group coordinator's rebalance protocol (broker/group.h):
 * members joining together land in one generation with one leader that gets
 * every subscription, the leader's assignment reaches everyone, sessions that
 * time out and members that leave trigger a rebalance, stale generations and
 * unknown members are fenced, protocols are chosen by vote, and — in a
 * randomized run replayable with REPLOG_SEED — every parked request is
 * answered exactly once and generations never go back. */
#include "testutil.h"

#include "group.h"
#include "kp_api.h"

#define MAXW 4096

struct answer {
	bool done;
	int times;
	int16_t err;
	int32_t generation;
	char member_id[320];
	char leader[320];
	char protocol[64];
	int32_t nmembers;
	uint8_t assignment[64];
	int32_t assignment_len;
};

static struct answer g_w[MAXW];
static int g_nw;

static void on_join(void *waiter, const struct grp_join_result *r)
{
	struct answer *a = waiter;
	a->done = true;
	a->times++;
	a->err = r->error_code;
	a->generation = r->generation;
	snprintf(a->member_id, sizeof(a->member_id), "%s", r->member_id ? r->member_id : "");
	snprintf(a->leader, sizeof(a->leader), "%s", r->leader ? r->leader : "");
	snprintf(a->protocol, sizeof(a->protocol), "%s", r->protocol_name ? r->protocol_name : "");
	a->nmembers = r->nmembers;
}

static void on_sync(void *waiter, int16_t err, const uint8_t *assignment, int32_t len)
{
	struct answer *a = waiter;
	a->done = true;
	a->times++;
	a->err = err;
	a->assignment_len = len;
	if (len > 0 && len <= (int32_t)sizeof(a->assignment))
		memcpy(a->assignment, assignment, (size_t)len);
}

static const struct grp_ops ops = {.join_done = on_join, .sync_done = on_sync};
static const struct grp_config cfg = {.min_session_timeout_ms = 100,
				      .max_session_timeout_ms = 600000,
				      .initial_delay_ms = 300,
				      .max_members = 100};

static struct answer *waiter(void)
{
	assert_true(g_nw < MAXW);
	memset(&g_w[g_nw], 0, sizeof(g_w[g_nw]));
	return &g_w[g_nw++];
}

static const struct grp_protocol range_rr[] = {
	{"range", (const uint8_t *)"subs-r", 6},
	{"roundrobin", (const uint8_t *)"subs-rr", 7},
};

static struct answer *join(struct grp_group *g, const char *member, int64_t now, bool v4)
{
	struct grp_join_req req = {
		.member_id = member,
		.client_id = "c",
		.client_host = "/127.0.0.1",
		.session_timeout_ms = 1000,
		.rebalance_timeout_ms = 2000,
		.protocol_type = "consumer",
		.protocols = range_rr,
		.nprotocols = 2,
		.require_known_member_id = v4,
		.id_nonce = 42,
	};
	struct answer *a = waiter();
	grp_join(g, &cfg, &req, a, now, &ops);
	return a;
}

/* Join with MEMBER_ID_REQUIRED first, as librdkafka (JoinGroup v5) does. */
static struct answer *join_new(struct grp_group *g, int64_t now, char *id_out)
{
	struct answer *first = join(g, "", now, true);
	assert_true(first->done);
	assert_int_equal(first->err, KP_ERR_MEMBER_ID_REQUIRED);
	assert_true(first->member_id[0] != '\0');
	strcpy(id_out, first->member_id);
	return join(g, id_out, now, true);
}

static struct answer *sync_as(struct grp_group *g, const char *member, int32_t gen,
			      const struct grp_assignment *as, int32_t n, int64_t now)
{
	struct answer *a = waiter();
	grp_sync(g, member, gen, as, n, a, now, &ops);
	return a;
}

/* Three members, one generation, the leader assigns. */
static void form_group(struct grp_group *g, char ids[3][320], int64_t *now)
{
	struct answer *j[3];
	for (int i = 0; i < 3; i++)
		j[i] = join_new(g, *now + i * 10, ids[i]);
	for (int i = 0; i < 3; i++)
		assert_false(j[i]->done); /* the initial delay holds them */
	*now += 400;
	grp_tick(g, *now, &ops);
	int leaders = 0;
	for (int i = 0; i < 3; i++) {
		assert_true(j[i]->done);
		assert_int_equal(j[i]->err, 0);
		assert_int_equal(j[i]->generation, g->generation);
		assert_string_equal(j[i]->leader, j[0]->leader);
		assert_string_equal(j[i]->protocol, "range");
		if (strcmp(j[i]->leader, ids[i]) == 0) {
			leaders++;
			assert_int_equal(j[i]->nmembers, 3);
		} else {
			assert_int_equal(j[i]->nmembers, 0);
		}
	}
	assert_int_equal(leaders, 1);
	assert_int_equal(g->state, GRP_COMPLETING);
	struct answer *s[3];
	int li = -1;
	for (int i = 0; i < 3; i++)
		if (strcmp(j[i]->leader, ids[i]) != 0)
			s[i] = sync_as(g, ids[i], g->generation, NULL, 0, *now);
		else
			li = i;
	for (int i = 0; i < 3; i++)
		if (i != li)
			assert_false(s[i]->done);
	struct grp_assignment as[3];
	char bytes[3][8];
	for (int i = 0; i < 3; i++) {
		snprintf(bytes[i], sizeof(bytes[i]), "part%d", i);
		as[i] = (struct grp_assignment){ids[i], (const uint8_t *)bytes[i], 5};
	}
	s[li] = sync_as(g, ids[li], g->generation, as, 3, *now);
	for (int i = 0; i < 3; i++) {
		assert_true(s[i]->done);
		assert_int_equal(s[i]->times, 1);
		assert_int_equal(s[i]->err, 0);
		assert_int_equal(s[i]->assignment_len, 5);
		assert_memory_equal(s[i]->assignment, bytes[i], 5);
	}
	assert_int_equal(g->state, GRP_STABLE);
}

static void test_members_joining_together_share_one_generation(void **state)
{
	g_nw = 0;
	struct grp_group *g = grp_new("g1");
	char ids[3][320];
	int64_t now = 1000;
	form_group(g, ids, &now);
	assert_int_equal(g->generation, 1);
	for (int i = 0; i < 3; i++)
		assert_int_equal(grp_heartbeat(g, ids[i], 1, now), 0);
	assert_int_equal(grp_commit_allowed(g, ids[0], 1), 0);
	assert_int_equal(grp_commit_allowed(g, ids[0], 0), KP_ERR_ILLEGAL_GENERATION);
	assert_int_equal(grp_commit_allowed(g, "nobody", 1), KP_ERR_UNKNOWN_MEMBER_ID);
	assert_int_equal(grp_commit_allowed(g, "", -1), KP_ERR_ILLEGAL_GENERATION);
	/* A stable member's late sync gets its assignment at once. */
	struct answer *late = sync_as(g, ids[1], 1, NULL, 0, now);
	assert_true(late->done && late->err == 0 && late->assignment_len == 5);
	grp_free(g);
}

static void test_expired_member_is_fenced_and_the_rest_rebalance(void **state)
{
	g_nw = 0;
	struct grp_group *g = grp_new("g2");
	char ids[3][320];
	int64_t now = 0;
	form_group(g, ids, &now);
	/* Members 0 and 1 heartbeat; member 2 goes silent. */
	int64_t silent_since = now;
	for (int step = 0; step < 10 && g->state == GRP_STABLE; step++) {
		now += 300;
		assert_int_equal(grp_heartbeat(g, ids[0], 1, now), 0);
		assert_int_equal(grp_heartbeat(g, ids[1], 1, now), 0);
		grp_tick(g, now, &ops);
	}
	assert_int_equal(g->state, GRP_PREPARING);
	assert_true(now - silent_since >= 1000); /* not before its session timeout */
	assert_true(now - silent_since < 1000 + 300);
	assert_int_equal(grp_heartbeat(g, ids[0], 1, now), KP_ERR_REBALANCE_IN_PROGRESS);
	assert_int_equal(grp_heartbeat(g, ids[2], 1, now), KP_ERR_UNKNOWN_MEMBER_ID);
	assert_int_equal(grp_commit_allowed(g, ids[0], 1), KP_ERR_REBALANCE_IN_PROGRESS);
	struct answer *a = join(g, ids[0], now, true);
	assert_false(a->done);
	struct answer *b = join(g, ids[1], now + 5, true);
	assert_true(a->done && b->done); /* everyone left has rejoined */
	assert_int_equal(a->generation, 2);
	assert_int_equal(b->generation, 2);
	assert_int_equal(grp_member_count(g), 2);
	/* The old generation is fenced. */
	struct answer *stale = sync_as(g, ids[0], 1, NULL, 0, now);
	assert_int_equal(stale->err, KP_ERR_ILLEGAL_GENERATION);
	assert_int_equal(grp_commit_allowed(g, ids[1], 1), KP_ERR_ILLEGAL_GENERATION);
	grp_free(g);
}

static void test_leave_and_rebalance_timeout(void **state)
{
	g_nw = 0;
	struct grp_group *g = grp_new("g3");
	char ids[3][320];
	int64_t now = 0;
	form_group(g, ids, &now);
	assert_int_equal(grp_leave(g, ids[2], now, &ops), 0);
	assert_int_equal(grp_leave(g, ids[2], now, &ops), KP_ERR_UNKNOWN_MEMBER_ID);
	assert_int_equal(g->state, GRP_PREPARING);
	/* Only member 0 rejoins; member 1 keeps heartbeating but never joins. */
	struct answer *a = join(g, ids[0], now, true);
	assert_false(a->done);
	for (int step = 0; step < 10 && !a->done; step++) {
		now += 250;
		grp_heartbeat(g, ids[1], 1, now);
		grp_tick(g, now, &ops);
	}
	assert_true(a->done);
	assert_int_equal(a->err, 0);
	assert_int_equal(a->generation, 2);
	assert_string_equal(a->leader, ids[0]);
	assert_int_equal(a->nmembers, 1);
	assert_int_equal(grp_member_count(g), 1);
	assert_int_equal(grp_heartbeat(g, ids[1], 2, now), KP_ERR_UNKNOWN_MEMBER_ID);
	/* The last one leaves: empty, and standalone commits are allowed again. */
	struct answer *s = sync_as(g, ids[0], 2, NULL, 0, now);
	assert_true(s->done && s->err == 0);
	assert_int_equal(grp_leave(g, ids[0], now, &ops), 0);
	assert_int_equal(g->state, GRP_EMPTY);
	assert_int_equal(grp_commit_allowed(g, "", -1), 0);
	grp_free(g);
}

static void test_refusals(void **state)
{
	g_nw = 0;
	struct grp_group *g = grp_new("g4");
	struct grp_join_req req = {.member_id = "",
				   .client_id = "c",
				   .session_timeout_ms = 10,
				   .rebalance_timeout_ms = 10,
				   .protocol_type = "consumer",
				   .protocols = range_rr,
				   .nprotocols = 2};
	struct answer *a = waiter();
	grp_join(g, &cfg, &req, a, 0, &ops);
	assert_int_equal(a->err, KP_ERR_INVALID_SESSION_TIMEOUT);
	req.session_timeout_ms = 1000;
	req.member_id = "made-up";
	a = waiter();
	grp_join(g, &cfg, &req, a, 0, &ops);
	assert_int_equal(a->err, KP_ERR_UNKNOWN_MEMBER_ID);
	char id[320];
	struct answer *parked = join_new(g, 0, id);
	/* Another protocol type, or no protocol in common: refused. */
	static const struct grp_protocol other[] = {{"sticky", (const uint8_t *)"x", 1}};
	req.member_id = "";
	req.protocols = other;
	req.nprotocols = 1;
	a = waiter();
	grp_join(g, &cfg, &req, a, 0, &ops);
	assert_int_equal(a->err, KP_ERR_INCONSISTENT_GROUP_PROTOCOL);
	req.protocols = range_rr;
	req.nprotocols = 2;
	req.protocol_type = "connect";
	a = waiter();
	grp_join(g, &cfg, &req, a, 0, &ops);
	assert_int_equal(a->err, KP_ERR_INCONSISTENT_GROUP_PROTOCOL);
	/* The coordinator moves: the parked join is answered once. */
	assert_false(parked->done);
	grp_give_up(g, &ops);
	assert_true(parked->done);
	assert_int_equal(parked->err, KP_ERR_NOT_COORDINATOR);
	assert_int_equal(grp_heartbeat(g, id, 0, 0), KP_ERR_NOT_COORDINATOR);
	grp_free(g);
}

static void test_protocol_chosen_by_vote(void **state)
{
	g_nw = 0;
	struct grp_group *g = grp_new("g5");
	static const struct grp_protocol rr_first[] = {
		{"roundrobin", (const uint8_t *)"b", 1},
		{"range", (const uint8_t *)"a", 1},
	};
	struct grp_join_req req = {.member_id = "",
				   .client_id = "c",
				   .session_timeout_ms = 1000,
				   .rebalance_timeout_ms = 1000,
				   .protocol_type = "consumer",
				   .protocols = rr_first,
				   .nprotocols = 2};
	struct answer *a = waiter(), *b = waiter(), *c = waiter();
	grp_join(g, &cfg, &req, a, 0, &ops);
	grp_join(g, &cfg, &req, b, 0, &ops);
	req.protocols = range_rr; /* prefers range */
	grp_join(g, &cfg, &req, c, 0, &ops);
	grp_tick(g, 1000, &ops);
	assert_true(a->done && b->done && c->done);
	assert_string_equal(a->protocol, "roundrobin"); /* two votes to one */
	grp_free(g);
}

/* Random operations; every waiter answered exactly once, generation never
 * decreases, a member answered with a generation holds that generation. */
static void test_randomized_waiters_answered_once(void **state)
{
	uint64_t seed = tu_seed(20261128);
	for (int round = 0; round < 40; round++) {
		g_nw = 0;
		struct grp_group *g = grp_new("rand");
		char ids[8][320] = {{0}};
		int64_t now = 0;
		int32_t last_gen = 0;
		for (int step = 0; step < 80; step++) {
			now += (int64_t)(tu_rand(&seed) % 400);
			int who = (int)(tu_rand(&seed) % 8);
			switch (tu_rand(&seed) % 6) {
			case 0:
			case 1: {
				struct answer *a = join(g, ids[who], now, tu_rand(&seed) % 2);
				if (a->done && a->err == KP_ERR_MEMBER_ID_REQUIRED)
					strcpy(ids[who], a->member_id);
				if (a->done && a->err == 0)
					strcpy(ids[who], a->member_id);
				break;
			}
			case 2: {
				struct grp_assignment as = {ids[who], (const uint8_t *)"x", 1};
				sync_as(g, ids[who], g->generation, &as, 1, now);
				break;
			}
			case 3:
				grp_heartbeat(g, ids[who], g->generation, now);
				break;
			case 4:
				if (tu_rand(&seed) % 4 == 0)
					grp_leave(g, ids[who], now, &ops);
				break;
			default:
				grp_tick(g, now, &ops);
			}
			assert_true(g->generation >= last_gen);
			last_gen = g->generation;
			for (int i = 0; i < g_nw; i++)
				assert_true(g_w[i].times <= 1);
		}
		grp_give_up(g, &ops);
		for (int i = 0; i < g_nw; i++)
			if (g_w[i].times != 1)
				fail_msg("seed %llu round %d: waiter %d answered %d times",
					 (unsigned long long)seed, round, i, g_w[i].times);
		grp_free(g);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_members_joining_together_share_one_generation),
		cmocka_unit_test(test_expired_member_is_fenced_and_the_rest_rebalance),
		cmocka_unit_test(test_leave_and_rebalance_timeout),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_protocol_chosen_by_vote),
		cmocka_unit_test(test_randomized_waiters_answered_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
