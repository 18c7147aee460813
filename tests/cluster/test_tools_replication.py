"""Description: `replog topics describe` and `replog discarded` against real 3-broker clusters.

Each test starts its own cluster (tests/cluster/replogd.py: broker 1 runs
the single controller and is never stopped), drives it with real clients
(confluent-kafka, and the raw KafkaConn for acks=1 writes) and runs the real
`replog` binary, checking its stdout, stderr and exit code against what the
cluster itself says (Metadata v7) and what was written:
  * a healthy cluster: leaders, leader epochs, replicas, ISR as in the
    metadata, every replica's LEO and HW equal to the records produced with
    acks=all, no internal topic, topic filters, unknown topics;
  * a broker killed with SIGKILL: the partitions it replicated, and only
    those, are under-replicated, and it is reported down, exit code 0;
  * a broker stopped with SIGSTOP: reported unreachable within --timeout-ms,
    the command still succeeds;
  * discarded writes: none on a fresh cluster; then acks=1 writes to a leader
    whose follower is stopped, the leader stopped in turn and the follower
    elected, the old leader back as a follower truncating its tail: exactly
    those offsets are listed, and `replog dump-log --discarded` decodes the
    file the listing names.
No fixed sleeps: every wait is a poll with a deadline; every loop is bounded.
"""
import re
import subprocess
import time

import pytest

pytest.register_assert_rewrite("replogd")
import replogd  # noqa: E402
from replogd import REPLOG, build_batch, flush, free_port, needs_broker, wait_for  # noqa: E402
from replogd import run_replog as replog  # noqa: E402

pytest_plugins = ["replogd"]
pytestmark = needs_broker

ck = pytest.importorskip("confluent_kafka")
pytest.importorskip("kafka")  # Cluster.create_topic uses kafka-python's admin client

RUN_TIMEOUT_S = 120
WAIT_S = 60.0
INTERNAL = "__cluster_metadata"


# ---- the tool's output ------------------------------------------------------------

def fields(line):
    """{label: value} of one tab-separated `Label: value` line."""
    out = {}
    for part in line.strip("\t").split("\t"):
        label, sep, value = part.partition(": ")
        if not sep:
            label, value = part.rstrip(":"), ""
        out[label] = value
    return out


def ids(value):
    return [int(x) for x in value.split(",") if x]


def parse_describe(out):
    """(topics {name: fields}, partitions {(topic, p): fields}) of a listing."""
    topics, parts = {}, {}
    for line in out.splitlines():
        if not line.strip():
            continue
        f = fields(line)
        if line.startswith("\t"):
            key = (f["Topic"], int(f["Partition"]))
            assert key not in parts, f"partition listed twice: {line!r}"
            parts[key] = f
        else:
            assert "PartitionCount" in f, f"not a topic line: {line!r}"
            topics[f["Topic"]] = f
    return topics, parts


def offsets(f):
    """{replica id: (LEO, HW) or the marker string} of a partition line."""
    out = {}
    for tok in f["Offsets"].split(","):
        rid, _, what = tok.partition(":")
        if re.fullmatch(r"-?\d+/-?\d+", what):
            leo, hw = what.split("/")
            out[int(rid)] = (int(leo), int(hw))
        else:
            out[int(rid)] = what
    return out


def describe(c, *extra, via=1, expect_rc=0):
    r = replog("topics", "describe", "--bootstrap-server", c[via].bootstrap, *extra)
    assert r.rc == expect_rc, repr(r) + c.ctx()
    return r


def topic_partitions(c, topic):
    """{partition: metadata dict} by the controller's Metadata v7."""
    md = c.metadata([topic])
    (t,) = [t for t in md["topics"] if t["name"] == topic]
    assert t["error_code"] == 0, t
    return {p["partition_index"]: p for p in t["partitions"]}


def produce_acks_all(c, topic, counts):
    """counts {partition: n}: n records with acks=all to each partition."""
    p = ck.Producer({"bootstrap.servers": c.bootstrap, "acks": "all", "linger.ms": 5,
                     "message.timeout.ms": 60000})
    errors = []

    def done(err, msg):
        if err is not None:
            errors.append(err)

    for part, n in counts.items():
        for i in range(n):
            p.produce(topic, value=f"{topic}-{part}-{i}".encode(), partition=part,
                      on_delivery=done)
            p.poll(0)
    left = flush(p, c[1])
    assert left == 0 and not errors, f"{left} undelivered, errors {errors[:5]}" + c.ctx()


# ---- without a cluster -------------------------------------------------------------

@pytest.mark.parametrize("cmd", [["topics", "describe"], ["discarded"]])
def test_help_and_usage_errors(cmd):
    name = cmd[0]
    for args in (cmd + ["--help"], ["help", name]):
        r = replog(*args)
        assert r.rc == 0, r
        for section in ("NAME", "SYNOPSIS", "OPTIONS", "OUTPUT", "EXIT STATUS", "EXAMPLES",
                        "--bootstrap-server", "--timeout-ms", "--topic"):
            assert section in r.out, f"{section} missing from the manual\n{r!r}"
    assert name in replog("--help").out
    for bad in (["--frobnicate"], ["--timeout-ms", "0"], ["--timeout-ms", "x"],
                ["--bootstrap-server", "nohostport"], ["--bootstrap-server", "h:70000"],
                ["--topic"], ["stray-argument"]):
        r = replog(*cmd, *bad)
        assert r.rc == 2, r
        assert r.err.startswith(f"replog {' '.join(cmd)}: "), r
        assert "Try 'replog" in r.err, r
    r = replog("topics")
    assert r.rc == 2 and "describe" in r.err, r
    r = replog("topics", "frob")
    assert r.rc == 2 and "unknown action 'frob'" in r.err, r


@pytest.mark.parametrize("cmd", [["topics", "describe"], ["discarded"]])
def test_no_broker_answers(cmd):
    ports = [free_port(), free_port()]
    boot = ",".join(f"127.0.0.1:{p}" for p in ports)
    r = replog(*cmd, "--bootstrap-server", boot, "--timeout-ms", "2000")
    assert r.rc == 3, r
    for p in ports:
        assert f"connection refused by 127.0.0.1:{p}" in r.err, r
    assert "no bootstrap server answered" in r.err, r
    assert r.out == "", r


# ---- a healthy cluster ---------------------------------------------------------------

@pytest.fixture
def healthy(cluster):
    """3 brokers, topics rf3 (3 partitions, RF 3) and rf2 (3 partitions,
    RF 2), and a known number of records with acks=all in each partition."""
    c = cluster(3)
    c.create_topic("rf3", 3, 3, 2)
    c.create_topic("rf2", 3, 2, 1)
    counts = {"rf3": {0: 50, 1: 70, 2: 90}, "rf2": {0: 30, 1: 0, 2: 40}}
    for topic, per in counts.items():
        produce_acks_all(c, topic, per)
    return c, counts


def test_discarded_on_a_fresh_cluster_lists_none(cluster):
    c = cluster(3)
    c.create_topic("fresh", 3, 3, 2)
    r = replog("discarded", "--bootstrap-server", c[2].bootstrap)
    assert r.rc == 0, repr(r) + c.ctx()
    assert r.out == "no discarded writes (brokers answering: 1,2,3)\n", r
    assert r.err == "", r
    r = replog("discarded", "-b", c[1].bootstrap, "--topic", "fresh")
    assert r.rc == 0 and r.out.startswith("no discarded writes"), r
    r = replog("discarded", "-b", c[1].bootstrap, "--topic", "no-such-topic")
    assert r.rc == 1, r
    assert "unknown topic 'no-such-topic'" in r.err, r


def test_describe_healthy_cluster(healthy):
    c, counts = healthy

    # Followers learn the HW from their next fetch: wait until every replica
    # reports LEO == HW == what was produced.
    def converged():
        r = describe(c)
        _, parts = parse_describe(r.out)
        for topic, per in counts.items():
            for p, n in per.items():
                f = parts[(topic, p)]
                if any(v != (n, n) for v in offsets(f).values()):
                    return None
                if any(tok.split(":")[1] != str(n) for tok in f["Flushed"].split(",")):
                    return None
                if any(tok.split(":")[1] != "0" for tok in f["FollowerLag"].split(",")):
                    return None
        return r

    r = wait_for(converged, WAIT_S, "every replica at LEO == HW == flushed == records produced",
                 interval_s=0.2, ctx=c.ctx)
    assert r.err == "", r
    topics, parts = parse_describe(r.out)
    assert set(topics) == {"rf2", "rf3"}, f"{INTERNAL} or others listed\n{r!r}"
    assert INTERNAL not in r.out, r
    assert list(topics) == sorted(topics), r
    for topic, (n_parts, rf) in {"rf3": (3, 3), "rf2": (3, 2)}.items():
        t = topics[topic]
        assert t["PartitionCount"] == str(n_parts) and t["ReplicationFactor"] == str(rf), t
        assert "Configs" in t, t
        md = topic_partitions(c, topic)
        order = [p for (tt, p) in parts if tt == topic]
        assert order == sorted(md), f"partitions of {topic} out of order: {order}"
        for p, m in md.items():
            f = parts[(topic, p)]
            assert int(f["Leader"]) == m["leader_id"], (f, m)
            assert int(f["LeaderEpoch"]) == m["leader_epoch"], (f, m)
            assert ids(f["Replicas"]) == m["replica_nodes"], (f, m)
            assert ids(f["Isr"]) == m["isr_nodes"], (f, m)
            assert len(m["replica_nodes"]) == rf and set(m["isr_nodes"]) == set(
                m["replica_nodes"]), m
            assert f["Offline"] == "" and f["Status"] == "ok", f
            n = counts[topic][p]
            assert list(offsets(f)) == m["replica_nodes"], f
            assert ids(f["Flushed"].replace(":", ",")) == [x for rid in m["replica_nodes"]
                                                           for x in (rid, n)], f
            lag = dict(tok.split(":") for tok in f["FollowerLag"].split(","))
            assert {int(k): v for k, v in lag.items()} == {
                rid: "0" for rid in m["replica_nodes"] if rid != m["leader_id"]}, f

    # One topic only; the same lines.
    r2 = describe(c, "--topic", "rf2", via=3)
    t2, p2 = parse_describe(r2.out)
    assert set(t2) == {"rf2"} and set(p2) == {k for k in parts if k[0] == "rf2"}, r2
    assert p2 == {k: v for k, v in parts.items() if k[0] == "rf2"}, r2

    # Health filters on a healthy cluster: nothing, and no topic lines.
    for flt in ("--under-replicated-partitions", "--unavailable-partitions"):
        r3 = describe(c, flt)
        assert r3.out == "", r3

    # A topic that does not exist: exit 1, the cause named, the rest listed.
    r4 = describe(c, "--topic", "no-such-topic", "--topic", "rf3", expect_rc=1)
    assert "unknown topic 'no-such-topic'" in r4.err, r4
    t4, _ = parse_describe(r4.out)
    assert set(t4) == {"rf3"}, r4
    r5 = describe(c, "--topic", "no-such-topic", expect_rc=1)
    assert r5.out == "", r5

    # Never auto-created by describing it.
    assert "no-such-topic" not in [t["name"] for t in c.metadata()["topics"]]

    # The internal metadata log only when asked, and then explained.
    r6 = describe(c, "--topic", INTERNAL, expect_rc=1)
    assert INTERNAL in r6.err and "dump-log" in r6.err, r6

    # A dead first bootstrap server: the next one answers, the first is named.
    dead = f"127.0.0.1:{free_port()}"
    r7 = replog("topics", "describe", "-b", f"{dead},{c[2].bootstrap}")
    assert r7.rc == 0, r7
    assert f"connection refused by {dead}" in r7.err, r7
    assert parse_describe(r7.out)[0].keys() == topics.keys(), r7


# ---- a broker killed -----------------------------------------------------------------

def test_describe_after_kill9_shows_exactly_its_partitions_under_replicated(healthy):
    c, counts = healthy
    victim = 3  # broker 1 runs the controller: never that one
    before = {t: topic_partitions(c, t) for t in counts}
    hosted = {(t, p) for t, md in before.items() for p, m in md.items()
              if victim in m["replica_nodes"]}
    assert hosted and hosted != {(t, p) for t in before for p in before[t]}, before
    c[victim].kill9()

    # The controller expires its session, moves its leaderships and shrinks
    # the ISRs it was in.
    for (t, p) in sorted(hosted):
        want = [r for r in before[t][p]["replica_nodes"] if r != victim]
        c.wait_isr(t, p, want, timeout_s=WAIT_S)
        c.wait_leader(t, p, timeout_s=WAIT_S, not_in=(victim,))

    r = describe(c, "--timeout-ms", "3000")
    assert f"broker {victim} is not alive" in r.err, r
    _, parts = parse_describe(r.out)
    assert set(parts) == {(t, p) for t in before for p in before[t]}, r
    for key, f in parts.items():
        if key in hosted:
            assert f["Status"] == "under-replicated", f
            assert offsets(f)[victim] == "down", f
            assert victim in ids(f["Offline"]) and victim not in ids(f["Isr"]), f
            assert int(f["Leader"]) != victim, f
        else:
            assert f["Status"] == "ok", f
            assert victim not in offsets(f), f
        # The survivors still hold every record.
        n = counts[key[0]][key[1]]
        assert all(v[0] == n for v in offsets(f).values() if isinstance(v, tuple)), f

    r2 = describe(c, "--under-replicated-partitions")
    t2, p2 = parse_describe(r2.out)
    assert t2 == {} and set(p2) == hosted, r2
    r3 = describe(c, "--unavailable-partitions")
    assert r3.out == "", r3
    # Asked through a surviving non-controller broker: the same verdict, once
    # the committed metadata has reached it (the quorum's next heartbeat).
    deadline = time.monotonic() + WAIT_S
    while True:
        r4 = describe(c, "--under-replicated-partitions", via=2)
        if set(parse_describe(r4.out)[1]) == hosted or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert set(parse_describe(r4.out)[1]) == hosted, r4


# ---- a broker that does not answer -----------------------------------------------------

def test_stopped_broker_is_reported_unreachable_and_the_commands_succeed(cluster):
    # A long session, so the controller keeps the stopped broker alive (and
    # so asked) for the whole check.
    c = cluster(3, session_timeout_ms=30000, lag_max_ms=30000)
    c.create_topic("s", 3, 3, 2)
    produce_acks_all(c, "s", {0: 5, 1: 5, 2: 5})
    victim = 2
    c[victim].sigstop()
    try:
        timeout_ms = 1500
        r = describe(c, "--timeout-ms", timeout_ms)
        # Bounded: the stopped broker costs at most its timeout (plus the
        # others' round trips).
        assert r.took_s < timeout_ms / 1000.0 + 10, r
        assert re.search(rf"broker {victim} did not answer: timed out after {timeout_ms} ms", r.err), r
        assert f"{c[victim].bootstrap}" in r.err, r
        _, parts = parse_describe(r.out)
        assert len(parts) == 3, r
        for f in parts.values():
            offs = offsets(f)
            assert offs[victim] == "unreachable", f
            assert all(isinstance(v, tuple) for rid, v in offs.items() if rid != victim), f
            if int(f["Leader"]) == victim:
                assert f["FollowerLag"] == "N/A", f

        r2 = replog("discarded", "-b", c[1].bootstrap, "--timeout-ms", timeout_ms)
        assert r2.rc == 0, r2
        assert f"broker {victim} did not answer" in r2.err, r2
        assert r2.out == f"no discarded writes (brokers answering: 1,3; not answering: {victim})\n", r2
    finally:
        c[victim].sigcont()


# ---- a discarded write -------------------------------------------------------------------

DISCARD_LINE = re.compile(
    r"broker: (?P<broker>\d+) topic: (?P<topic>\S+) partition: (?P<partition>\d+) "
    r"time: (?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) reason: (?P<reason>\S+) "
    r"offsets: \[(?P<first>-?\d+),(?P<next>-?\d+)\) records: (?P<records>\d+|unknown) "
    r"batches: (?P<batches>\d+) bytes: (?P<bytes>\d+) epochs: (?P<emin>-?\d+)\.\.(?P<emax>-?\d+) "
    r"file: (?P<file>\S+) detail: (?P<detail>.*)$")


def test_truncated_acks1_tail_is_listed_by_replog_discarded(cluster):
    """RF 2, min ISR 2: stop the follower, write with acks=1 to the leader
    (acknowledged, never committed), stop the leader, resume the follower:
    it is elected (it is an eligible replica; unclean election is also
    allowed so the outcome does not hinge on that rule), then the old
    leader resumes as its follower and truncates exactly that tail."""
    c = cluster(3)
    topic = "disc"
    c.create_topic(topic, 3, 2, 2, unclean_leader_election_enable="true")
    md = topic_partitions(c, topic)
    # Replicas go round-robin over brokers 1..3: one partition has [2, 3].
    cands = [p for p, m in md.items() if m["replica_nodes"] == [2, 3] and m["leader_id"] == 2]
    assert cands, f"no partition led by 2 with follower 3: {md}"
    part = cands[0]
    epoch0 = md[part]["leader_epoch"]
    leader, follower = c[2], c[3]

    committed = 10
    with leader.conn() as k:
        for i in range(committed):
            resp = k.produce(topic, part, build_batch([(None, b"committed-%d" % i, [])]), acks=-1)
            assert resp["error_code"] == 0 and resp["base_offset"] == i, resp

    follower.sigstop()
    # Once the ISR is down to the leader, the follower's last long-poll
    # fetch (500 ms at most) has long been answered: nothing written from
    # here on can reach it.
    c.wait_isr(topic, part, [2], timeout_s=WAIT_S)
    batches, per_batch = 4, 3
    acked = []
    with leader.conn() as k:
        for b in range(batches):
            recs = [(b"k%d" % b, b"discard-me-%d-%d" % (b, i), []) for i in range(per_batch)]
            resp = k.produce(topic, part, build_batch(recs), acks=1)
            assert resp["error_code"] == 0, f"acks=1 write refused: {resp}" + c.ctx()
            acked.append(resp["base_offset"])
    first, nxt = committed, committed + batches * per_batch
    assert acked == list(range(first, nxt, per_batch)), acked

    # The leader's own view: the tail is above its HW (not committed).
    r = describe(c, "--topic", topic, "--timeout-ms", "2000")
    f = parse_describe(r.out)[1][(topic, part)]
    assert offsets(f)[2] == (nxt, committed), f
    assert f["Status"] == "under-replicated", f

    leader.sigstop()
    follower.sigcont()
    try:
        # Broker 3's own view: the leader is resumed only once the new
        # leader knows it leads, so that nothing the old one still sends
        # can reach it as a follower.
        def new_leader():
            m = c.partition(topic, part, via=follower)
            return m if m["leader_id"] == 3 and m["leader_epoch"] > epoch0 else None
        m = wait_for(new_leader, WAIT_S, f"broker 3 to lead {topic}-{part}", interval_s=0.1,
                     ctx=c.ctx)
    finally:
        leader.sigcont()

    def listed():
        r = replog("discarded", "-b", c[1].bootstrap)
        return r if r.rc == 0 and "total:" in r.out else None
    r = wait_for(listed, WAIT_S, "the discarded tail to be listed", interval_s=0.2, ctx=c.ctx)
    lines = r.out.splitlines()
    assert len(lines) == 2, r
    d = DISCARD_LINE.match(lines[0])
    assert d, f"discarded line does not parse: {lines[0]!r}"
    assert (d["broker"], d["topic"], d["partition"]) == ("2", topic, str(part)), r
    assert (int(d["first"]), int(d["next"])) == (first, nxt), r
    assert int(d["records"]) == nxt - first == batches * per_batch, r
    assert int(d["batches"]) == batches, r
    assert int(d["emin"]) == int(d["emax"]) == epoch0, r
    assert int(d["bytes"]) > 0 and d["reason"], r
    assert lines[1] == (f"total: 1 discarded write, {nxt - first} records, {batches} batches, "
                        f"{d['bytes']} bytes (brokers answering: 1,2,3)"), r
    # Nothing committed was lost: the new leader holds exactly the committed
    # records, and the old leader follows it from there.
    path = leader.data_dir / d["file"]
    assert path.is_file() and path.stat().st_size == int(d["bytes"]), (path, r)

    # The file named is what `replog dump-log --discarded` decodes.
    dl = subprocess.run([str(REPLOG), "dump-log", "--discarded", "-d",
                         str(leader.partition_dir(topic, part))],
                        capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False)
    assert dl.returncode == 0, dl.stderr
    assert path.name[:-len(".log")] in dl.stdout, dl.stdout
    payloads = re.findall(r"payload: (discard-me-\d+-\d+)", dl.stdout)
    assert payloads == [f"discard-me-{b}-{i}" for b in range(batches)
                        for i in range(per_batch)], dl.stdout
    rec_offsets = [int(x) for x in re.findall(r"\| offset: (\d+)", dl.stdout)]
    assert rec_offsets == list(range(first, nxt)), dl.stdout

    # Filtered by topic: the same line; another topic: none. Asked through
    # broker 3, which learns that broker 2 is back (unfenced) at the
    # metadata quorum's next heartbeat: poll until it does.
    def filtered():
        r = replog("discarded", "-b", c[3].bootstrap, "--topic", topic)
        return r if r.rc == 0 and r.out.splitlines()[0] == lines[0] else None
    wait_for(filtered, WAIT_S, "the same line through broker 3", interval_s=0.05, ctx=c.ctx)
    c.create_topic("other", 1, 3, 2)
    r3 = replog("discarded", "-b", c[1].bootstrap, "--topic", "other")
    assert r3.rc == 0 and r3.out.startswith("no discarded writes"), r3

    # And describe agrees once the old leader has caught up: both replicas
    # at the new leader's end, which is the committed end.
    def caught_up():
        f = parse_describe(describe(c, "--topic", topic).out)[1][(topic, part)]
        return f if offsets(f) == {2: (committed, committed), 3: (committed, committed)} else None
    f = wait_for(caught_up, WAIT_S, "both replicas at the committed end", interval_s=0.2,
                 ctx=c.ctx)
    # Broker 3 leads in the epoch it was elected in, unless the controller
    # has meanwhile handed the partition back to its preferred replica, 2
    # (a later epoch): both are right.
    assert (int(f["Leader"]), int(f["LeaderEpoch"]) == m["leader_epoch"]) == (3, True) or (
        int(f["Leader"]) == 2 and int(f["LeaderEpoch"]) > m["leader_epoch"]), f
    # The old leader's discard counter: one discard of those records.
    assert f["Discarded"] == f"2:1/{nxt - first}", f
