"""Description: `replog groups list|describe|reset-offsets|delete` against a real 3-broker cluster.

One cluster (three controller voters, so the coordinator may be any broker)
runs the whole story, checked against what the clients themselves say:
  * two confluent-kafka members of group "app" consume a 4-partition topic
    and commit; `list` shows the group Stable; `describe` shows per
    partition the committed offset, LOG-END-OFFSET and HIGH-WATERMARK, the
    exact lag once more records are produced after the commits, and the
    member owning it (consumer id and client id as DescribeGroups names
    them: this checks the ConsumerProtocol assignment decoding); `--state`;
  * reset-offsets while members are active is refused (exit 1);
  * after the members close: "has no active members"; a dry run prints the
    plan and commits nothing; --execute --to-earliest commits 0, which a
    new consumer of the group sees with committed(); --to-offset clamps;
  * errors: unknown group, a bootstrap server nobody listens on, bad flags
    (exit 2), delete (refused with members, then done, then not found).
No fixed sleeps: every wait is a poll with a deadline.
"""
import re
import time

import pytest

pytest.register_assert_rewrite("replogd")
import replogd  # noqa: E402,F401
from replogd import free_port, needs_broker, wait_for  # noqa: E402
from replogd import run_replog as replog  # noqa: E402

pytest_plugins = ["replogd"]

WAIT_S = 30.0
TOPIC, GROUP, PARTS = "orders", "app", 4
COLS = ["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG",
        "CONSUMER-ID", "HOST", "CLIENT-ID", "HIGH-WATERMARK"]


def produce(boot, start, n):
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": boot, "acks": "all", "linger.ms": 5})
    for i in range(start, start + n):
        p.produce(TOPIC, value=f"v{i}".encode(), partition=i % PARTS)
    assert p.flush(30) == 0


def consumer(boot, client_id):
    from confluent_kafka import Consumer
    return Consumer({"bootstrap.servers": boot, "group.id": GROUP, "client.id": client_id,
                     "auto.offset.reset": "earliest", "enable.auto.commit": False,
                     "session.timeout.ms": 6000, "heartbeat.interval.ms": 500})


def table(out):
    """The rows of the describe table as dicts, by the header line."""
    lines = out.splitlines()
    (h,) = [i for i, ln in enumerate(lines) if ln.startswith("GROUP ")]
    head = re.split(r"\s{2,}", lines[h].strip())
    rows = []
    for ln in lines[h + 1:]:
        cells = ln.split()
        assert len(cells) == len(head), (ln, head)
        rows.append(dict(zip(head, cells)))
    return head, rows


def describe(boot):
    r = replog("groups", "describe", "--group", GROUP, "-b", boot)
    assert r.rc == 0 and r.err == "", r
    return r


@needs_broker
def test_groups_end_to_end(cluster):
    from confluent_kafka import TopicPartition
    c = cluster(3, controllers=[1, 2, 3])
    boot = c[2].bootstrap
    c.create_topic(TOPIC, partitions=PARTS, replication_factor=3, min_isr=2)
    produce(c.bootstrap, 0, 40)  # 10 per partition

    members = [consumer(c.bootstrap, f"cli-{i}") for i in range(2)]
    for m in members:
        m.subscribe([TOPIC])
    got = {0: 0, 1: 0}
    deadline = time.monotonic() + WAIT_S
    try:
        # Both members poll until the group is stable with 2+2 partitions and
        # everything was consumed and committed (7 per partition: 3 left over).
        committed_ok = False
        while time.monotonic() < deadline and not committed_ok:
            for i, m in enumerate(members):
                for msg in m.consume(num_messages=50, timeout=0.2):
                    if not msg.error():
                        got[i] += 1
            a = [sorted(tp.partition for tp in m.assignment()) for m in members]
            if got[0] + got[1] >= 40 and all(len(x) == 2 for x in a):
                for m in members:
                    offs = [TopicPartition(TOPIC, tp.partition, 7) for tp in m.assignment()]
                    m.commit(offsets=offs, asynchronous=False)
                committed_ok = True
        assert committed_ok, (got, [m.assignment() for m in members])
        produce(c.bootstrap, 40, 8)  # 2 more per partition: HW 12, lag 5
        owner = {tp.partition: f"cli-{i}" for i, m in enumerate(members)
                 for tp in m.assignment()}
        # The member ids, as kafka-python's admin client reads DescribeGroups.
        from kafka.admin import KafkaAdminClient
        admin = KafkaAdminClient(bootstrap_servers=c.bootstrap)
        try:
            d = admin.describe_consumer_groups([GROUP])[0]
        finally:
            admin.close()
        mids = {m.client_id: m.member_id for m in d.members}
        assert sorted(mids) == ["cli-0", "cli-1"], d

        r = replog("groups", "list", "-b", boot)
        assert r.rc == 0 and r.err == "", r
        lines = r.out.splitlines()
        assert lines[0].split() == ["GROUP", "STATE", "PROTOCOL-TYPE"], r
        assert ["app", "Stable", "consumer"] in [ln.split() for ln in lines[1:]], r

        def settled():
            rr = describe(boot)
            _, rows = table(rr.out)
            return rr if all(x["HIGH-WATERMARK"] == "12" and x["LOG-END-OFFSET"] == "12"
                             for x in rows) and len(rows) == PARTS else None
        r = wait_for(settled, WAIT_S, "HW 12 on every partition")
        print(r.out)
        head, rows = table(r.out)
        assert head == COLS, head
        assert "no active members" not in r.out
        assert [int(x["PARTITION"]) for x in rows] == list(range(PARTS))
        for x in rows:
            p = int(x["PARTITION"])
            assert (x["GROUP"], x["TOPIC"]) == (GROUP, TOPIC), x
            assert x["CURRENT-OFFSET"] == "7" and x["LAG"] == "5", x
            assert x["CLIENT-ID"] == owner[p], (x, owner)
            assert x["CONSUMER-ID"] == mids[owner[p]], (x, mids)
            assert x["HOST"] != "-", x
        # Columns aligned: every line's cells start where the header's do.
        lines = [ln for ln in r.out.splitlines() if ln]
        starts = [m.start() for m in re.finditer(r"\S+", lines[0])]
        for ln in lines[1:]:
            assert [m.start() for m in re.finditer(r"\S+", ln)] == starts, (ln, lines[0])

        r = replog("groups", "describe", "--group", GROUP, "-b", boot, "--state")
        assert r.rc == 0, r
        st = r.out.splitlines()[1].split()
        assert st[0] == GROUP and st[-2:] == ["Stable", "2"] and "range" in st, r

        # Active members: a reset is refused, nothing changes.
        r = replog("groups", "reset-offsets", "--group", GROUP, "--topic", TOPIC,
                   "--to-earliest", "--execute", "-b", boot)
        assert r.rc == 1 and r.out == "", r
        assert "2 active member" in r.err and "Stable" in r.err, r
        # ... and so is a delete.
        r = replog("groups", "delete", "--group", GROUP, "-b", boot)
        assert r.rc == 1 and r.out == "" and "NON_EMPTY_GROUP" in r.err, r
    finally:
        for m in members:
            m.close()

    # No members: the state line, then the offsets, no owners.
    def empty():
        rr = describe(boot)
        return rr if "Consumer group 'app' has no active members." in rr.out else None
    r = wait_for(empty, WAIT_S, "the group to have no members")
    _, rows = table(r.out)
    assert len(rows) == PARTS
    assert all(x["CURRENT-OFFSET"] == "7" and x["LAG"] == "5" and x["CONSUMER-ID"] == "-"
               and x["CLIENT-ID"] == "-" for x in rows), r.out

    # Dry run: the plan, nothing committed.
    r = replog("groups", "reset-offsets", "--group", GROUP, "--topic", TOPIC,
               "--to-earliest", "-b", boot)
    assert r.rc == 0 and "dry run" in r.err, r
    plan = [ln.split() for ln in r.out.splitlines()]
    assert plan[0] == ["GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"], r
    assert plan[1:] == [[GROUP, TOPIC, str(p), "0"] for p in range(PARTS)], r
    _, rows = table(describe(boot).out)
    assert all(x["CURRENT-OFFSET"] == "7" for x in rows), rows

    # One partition, --to-offset beyond the end: clamped to the HW (12).
    r = replog("groups", "reset-offsets", "--group", GROUP, "--topic", TOPIC,
               "--partition", "1", "--to-offset", "99", "--dry-run", "-b", boot)
    assert r.rc == 0, r
    assert [ln.split() for ln in r.out.splitlines()[1:]] == [[GROUP, TOPIC, "1", "12"]], r
    assert "outside" in r.err, r

    # --execute --to-earliest: 0 committed, as a new consumer of the group sees it.
    r = replog("groups", "reset-offsets", "--group", GROUP, "--topic", TOPIC,
               "--to-earliest", "--execute", "-b", boot)
    assert r.rc == 0 and "dry run" not in r.err, r
    assert [ln.split() for ln in r.out.splitlines()[1:]] == \
        [[GROUP, TOPIC, str(p), "0"] for p in range(PARTS)], r
    _, rows = table(describe(boot).out)
    assert all(x["CURRENT-OFFSET"] == "0" and x["LAG"] == "12" for x in rows), rows
    fresh = consumer(c.bootstrap, "fresh")
    try:
        got = fresh.committed([TopicPartition(TOPIC, p) for p in range(PARTS)], timeout=20)
        assert [tp.offset for tp in got] == [0] * PARTS, got
    finally:
        fresh.close()

    # --to-latest on one partition.
    r = replog("groups", "reset-offsets", "--group", GROUP, "--topic", TOPIC,
               "--partition", "2", "--to-latest", "--execute", "-b", boot)
    assert r.rc == 0, r
    _, rows = table(describe(boot).out)
    assert [(x["CURRENT-OFFSET"], x["LAG"]) for x in rows] == \
        [("0", "12"), ("0", "12"), ("12", "0"), ("0", "12")], rows

    # Errors: unknown group, unknown topic and partition, delete.
    r = replog("groups", "describe", "--group", "nope", "-b", boot)
    assert r.rc == 1 and r.out == "", r
    assert "'nope' does not exist" in r.err and "coordinator: broker" in r.err, r
    r = replog("groups", "reset-offsets", "--group", GROUP, "--topic", "nosuch",
               "--to-earliest", "-b", boot)
    assert r.rc == 1 and "UNKNOWN_TOPIC_OR_PARTITION" in r.err and "nosuch" in r.err, r
    r = replog("groups", "reset-offsets", "--group", GROUP, "--topic", TOPIC,
               "--partition", "9", "--to-earliest", "-b", boot)
    assert r.rc == 1 and "no partition 9" in r.err, r

    # A broker down (not the coordinator): list names it on stderr, the
    # group is still listed.
    r = replog("groups", "describe", "--group", GROUP, "--state", "-b", boot)
    coord = int(re.search(r"\((\d+)\)", r.out.splitlines()[1]).group(1))
    victim = next(i for i in (3, 1) if i != coord and c[i].bootstrap != boot)
    c[victim].kill9()
    r = replog("groups", "list", "-b", boot, "--timeout-ms", "2000")
    # (An empty group's protocol type is "" at the broker: printed '-'.)
    assert r.rc == 0 and ["app", "Empty"] in [ln.split()[:2] for ln in r.out.splitlines()], r
    assert f"broker {victim}" in r.err, r

    # Delete: the group and its offsets are gone; a second delete finds nothing.
    r = replog("groups", "delete", "--group", GROUP, "-b", boot)
    assert r.rc == 0 and "was successful" in r.out, r
    r = replog("groups", "describe", "--group", GROUP, "-b", boot)
    assert r.rc == 1 and "does not exist" in r.err, r
    fresh = consumer(boot, "after-delete")
    try:
        got = fresh.committed([TopicPartition(TOPIC, p) for p in range(PARTS)], timeout=20)
        assert all(tp.offset < 0 for tp in got), got  # nothing committed any more
    finally:
        fresh.close()
    r = replog("groups", "delete", "--group", GROUP, "-b", boot)
    assert r.rc == 1 and "GROUP_ID_NOT_FOUND" in r.err, r


@pytest.mark.parametrize("args", [
    ["list"],
    ["describe", "--group", "g"],
    ["reset-offsets", "--group", "g", "--topic", "t", "--to-earliest"],
])
def test_broker_down(args):
    dead = f"127.0.0.1:{free_port()}"
    r = replog("groups", *args, "--bootstrap-server", dead, "--timeout-ms", "2000")
    assert r.rc == 1 and r.out == "", r
    assert dead in r.err and "refused" in r.err and "no bootstrap server answered" in r.err, r


@pytest.mark.parametrize("args, what", [
    ([], "no action given"),
    (["frob"], "unknown action"),
    (["describe"], "--group is required"),
    (["describe", "--group", ""], "empty group name"),
    (["describe", "--group", "g", "--execute"], "unknown option"),
    (["list", "--topic", "t"], "--topic is not an option of list"),
    (["list", "extra"], "unexpected argument"),
    (["reset-offsets", "--group", "g", "--to-earliest"], "exactly one --topic"),
    (["reset-offsets", "--group", "g", "--topic", "t"], "exactly one of --to-earliest"),
    (["reset-offsets", "--group", "g", "--topic", "t", "--to-earliest", "--to-latest"],
     "exactly one of --to-earliest"),
    (["reset-offsets", "--group", "g", "--topic", "t", "--to-offset", "x"], "--to-offset"),
    (["reset-offsets", "--group", "g", "--topic", "t", "--to-offset", "-3"], "--to-offset"),
    (["reset-offsets", "--group", "g", "--topic", "t", "--to-earliest", "--partition", "-1"],
     "--partition"),
    (["reset-offsets", "--group", "g", "--topic", "t", "--to-earliest", "--execute",
      "--dry-run"], "exclude each other"),
    (["delete"], "--group is required"),
    (["describe", "--group", "g", "-b", "nohostport"], "--bootstrap-server"),
])
def test_usage_errors(args, what):
    r = replog("groups", *args)
    assert r.rc == 2 and r.out == "", r
    assert what in r.err and "replog groups --help" in r.err, r


def test_help():
    for args in (["groups", "--help"], ["help", "groups"], ["groups", "describe", "--help"],
                 ["groups", "reset-offsets", "--help"]):
        r = replog(*args)
        assert r.rc == 0 and r.err == "", r
        for action in ("list", "describe", "reset-offsets", "delete"):
            assert f"replog groups {action}" in r.out, action
        assert "EXIT STATUS" in r.out and "NON_EMPTY_GROUP" in \
            " ".join(r.out.split())
        assert max(len(line) for line in r.out.splitlines()) <= 80
    r = replog("--help")
    assert "groups" in r.out, r
