"""Consumer groups against real brokers (issue 7): kafka-python and
confluent-kafka groups of three share six partitions and survive a member's
kill -9; two `kcat -G` instances balance a topic; the coordinator's broker is
killed and every acknowledged commit is still there on the new coordinator.

Each consumer runs in its own process (tests/cluster/test_groups.py
--member ...), prints one JSON line per record it processed, and commits
after processing, so "consumed at least once and never skipped" can be
checked from what the survivors print.
"""
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import replogd  # noqa: E402,F401
from replogd import needs_broker, wait_for  # noqa: E402

pytest_plugins = ["replogd"]

WAIT_S = 60.0
SESSION_MS = 6000  # consumers' session timeout: kafka-python's minimum sane value
OFFSETS_PARTITIONS = 16


def java_hash(s):
    """Java's String.hashCode: over UTF-16 code units, 32-bit wrap."""
    h = 0
    data = s.encode("utf-16-be")
    for i in range(0, len(data), 2):
        h = (31 * h + (data[i] << 8 | data[i + 1])) & 0xffffffff
    return h - (1 << 32) if h >= 1 << 31 else h


def coordinator_partition(group):
    h = java_hash(group)
    a = 0 if h == -(1 << 31) else abs(h)
    return a % OFFSETS_PARTITIONS


# ---- a member process ---------------------------------------------------------------

def member_main(client, boot, group, topic):
    """Consume `topic` in `group`; print {"p","o","v"} per record after
    processing it, commit synchronously after each batch."""
    out = sys.stdout
    if client == "kafka-python":
        from kafka import KafkaConsumer
        c = KafkaConsumer(topic, bootstrap_servers=boot, group_id=group,
                          auto_offset_reset="earliest", enable_auto_commit=False,
                          session_timeout_ms=SESSION_MS, heartbeat_interval_ms=1000,
                          max_poll_interval_ms=300000)
        while True:
            batch = c.poll(timeout_ms=200)
            for tp, msgs in batch.items():
                for m in msgs:
                    out.write(json.dumps({"p": tp.partition, "o": m.offset,
                                          "v": m.value.decode()}) + "\n")
            out.flush()
            if batch:
                c.commit()
            out.write(json.dumps({"assigned": sorted(p.partition for p in c.assignment())})
                      + "\n")
            out.flush()
    else:
        from confluent_kafka import Consumer
        c = Consumer({"bootstrap.servers": boot, "group.id": group,
                      "auto.offset.reset": "earliest", "enable.auto.commit": False,
                      "session.timeout.ms": SESSION_MS, "heartbeat.interval.ms": 1000})
        c.subscribe([topic])
        while True:
            msgs = c.consume(num_messages=100, timeout=0.2)
            good = [m for m in msgs if not m.error()]
            for m in good:
                out.write(json.dumps({"p": m.partition(), "o": m.offset(),
                                      "v": m.value().decode()}) + "\n")
            out.flush()
            if good:
                c.commit(asynchronous=False)
            out.write(json.dumps({"assigned": sorted(p.partition for p in c.assignment())})
                      + "\n")
            out.flush()


class Member:
    def __init__(self, client, boot, group, topic):
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--member", client, boot, group, topic],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.records, self.assigned = [], []
        self.lock = threading.Lock()
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                o = json.loads(line)
            except ValueError:
                continue
            with self.lock:
                if "assigned" in o:
                    self.assigned = o["assigned"]
                else:
                    self.records.append(o)

    def values(self):
        with self.lock:
            return [r["v"] for r in self.records]

    def assignment(self):
        with self.lock:
            return list(self.assigned)

    def kill9(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def ctx(self):
        err = ""
        if self.proc.poll() is not None:
            err = self.proc.stderr.read()[-1500:]
        return f"\n--- member rc={self.proc.poll()} assigned={self.assignment()} " \
               f"records={len(self.values())} stderr={err!r}"


def produce(c, topic, start, n, partitions):
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": c.bootstrap, "acks": "all", "linger.ms": 5})
    for i in range(start, start + n):
        p.produce(topic, value=f"v{i}".encode(), partition=i % partitions)
    assert p.flush(60) == 0


# ---- tests --------------------------------------------------------------------------

@needs_broker
@pytest.mark.parametrize("client", ["kafka-python", "confluent-kafka"])
def test_three_members_share_six_partitions_and_survive_a_kill(cluster, client):
    c = cluster(3, session_timeout_ms=2000, lag_max_ms=2000)
    topic, group = "shared", f"g-{client}"
    c.create_topic(topic, partitions=6, replication_factor=3, min_isr=2)
    produce(c, topic, 0, 300, 6)
    members = [Member(client, c.bootstrap, group, topic) for _ in range(3)]
    try:
        def spread():
            a = [m.assignment() for m in members]
            flat = sorted(p for x in a for p in x)
            return flat == list(range(6)) and all(len(x) == 2 for x in a)

        wait_for(spread, WAIT_S, "three members with two partitions each",
                 ctx=lambda: "".join(m.ctx() for m in members))
        victim = members[2]
        lost = set(victim.assignment())
        wait_for(lambda: len(set(v for m in members for v in m.values())) >= 300, WAIT_S,
                 "the first 300 records consumed",
                 ctx=lambda: "".join(m.ctx() for m in members))
        victim.kill9()
        killed_at = time.monotonic()
        produce(c, topic, 300, 300, 6)
        survivors = members[:2]
        wait_for(lambda: sorted(p for m in survivors for p in m.assignment()) ==
                 list(range(6)), WAIT_S, "the killed member's partitions to move",
                 ctx=lambda: "".join(m.ctx() for m in members))
        moved_after = time.monotonic() - killed_at
        # Within the session timeout plus a rebalance, not "eventually".
        assert moved_after < SESSION_MS / 1000 + 15, moved_after
        assert lost <= set(p for m in survivors for p in m.assignment())
        want = {f"v{i}" for i in range(600)}
        wait_for(lambda: want <= set(v for m in members for v in m.values()), WAIT_S,
                 "every record consumed at least once",
                 ctx=lambda: "".join(m.ctx() for m in members))
        seen = [v for m in members for v in m.values()]
        dups = len(seen) - len(set(seen))
        print(f"{client}: 600 records, {dups} consumed twice, partitions moved "
              f"{moved_after:.1f} s after the kill")
    finally:
        for m in members:
            m.stop()


@needs_broker
def test_kcat_balanced_consumers(cluster):
    c = cluster(3, session_timeout_ms=2000, lag_max_ms=2000)
    topic = "kcatg"
    c.create_topic(topic, partitions=4, replication_factor=3, min_isr=2)
    procs = [subprocess.Popen(["kcat", "-b", c.bootstrap, "-G", "kg", topic, "-q", "-u", "-f",
                               "%p %s\\n", "-X", "auto.offset.reset=earliest"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
             for _ in range(2)]
    lines = [[], []]

    def reader(i):
        for ln in procs[i].stdout:
            lines[i].append(ln.split())

    ts = [threading.Thread(target=reader, args=(i,), daemon=True) for i in range(2)]
    for t in ts:
        t.start()
    try:
        # Both must be members (with partitions) before the records come.
        from kafka.admin import KafkaAdminClient
        admin = KafkaAdminClient(bootstrap_servers=c.bootstrap)
        try:
            def two_members():
                d = admin.describe_consumer_groups(["kg"])[0]
                return d.state == "Stable" and len(d.members) == 2

            wait_for(two_members, WAIT_S, "two kcat members in a stable group")
        finally:
            admin.close()
        produce(c, topic, 0, 400, 4)
        wait_for(lambda: {v for ls in lines for _, v in ls} >= {f"v{i}" for i in range(400)},
                 WAIT_S, "both kcat instances to consume everything")
        parts = [set(int(p) for p, _ in ls) for ls in lines]
        assert parts[0] and parts[1], f"one kcat got nothing: {parts}"
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def commit(cons, m):
    """Commit after processing m; [] when the commit was not acknowledged
    (the group is rebalancing: after a coordinator move the members rejoin
    under a new generation, and a commit of the old one is refused)."""
    from confluent_kafka import KafkaException
    try:
        return cons.commit(message=m, asynchronous=False)
    except KafkaException:
        return []


@needs_broker
def test_commits_survive_the_coordinators_kill9(cluster):
    from confluent_kafka import Consumer, TopicPartition
    # Three voters: the coordinator's broker may be the active controller.
    c = cluster(3, session_timeout_ms=2000, lag_max_ms=2000, controllers=[1, 2, 3])
    topic, group = "committed", "gfail"
    c.create_topic(topic, partitions=3, replication_factor=3, min_isr=2)
    produce(c, topic, 0, 300, 3)
    cons = Consumer({"bootstrap.servers": c.bootstrap, "group.id": group,
                     "auto.offset.reset": "earliest", "enable.auto.commit": False,
                     "session.timeout.ms": SESSION_MS})
    cons.subscribe([topic])
    acked = {}
    try:
        deadline = time.monotonic() + WAIT_S
        n = 0
        while n < 150 and time.monotonic() < deadline:
            for m in cons.consume(num_messages=20, timeout=0.5):
                if m.error():
                    continue
                n += 1
                for tp in commit(cons, m):  # acknowledged by the coordinator
                    if tp.error is None:
                        acked[tp.partition] = max(acked.get(tp.partition, -1), tp.offset)
        assert n >= 150 and acked, (n, acked)
        coord_part = coordinator_partition(group)
        victim = c.wait_leader("__consumer_offsets", coord_part)
        c[victim].kill9()
        new = c.wait_leader("__consumer_offsets", coord_part, not_in=(victim,))
        assert new != victim
        # Every acknowledged commit is on the new coordinator.
        got = {tp.partition: tp.offset
               for tp in cons.committed([TopicPartition(topic, p) for p in range(3)],
                                        timeout=30)}
        for p, off in acked.items():
            assert got.get(p, -1) >= off, (p, off, got)
        # The group goes on: the rest is consumed and committed there.
        while n < 300 and time.monotonic() < deadline + WAIT_S:
            for m in cons.consume(num_messages=50, timeout=0.5):
                if not m.error():
                    n += 1
                    commit(cons, m)
        assert n >= 300, n

        def all_committed():
            for m in cons.consume(num_messages=50, timeout=0.2):
                if not m.error():
                    commit(cons, m)
            got = {tp.partition: tp.offset
                   for tp in cons.committed([TopicPartition(topic, p) for p in range(3)],
                                            timeout=30)}
            return sum(got.values()) == 300 and got

        # Records redelivered after the rejoin are committed again; the end
        # of every partition gets committed on the new coordinator.
        wait_for(all_committed, WAIT_S, "every partition committed to its end")
    finally:
        cons.close()


if __name__ == "__main__" and len(sys.argv) == 6 and sys.argv[1] == "--member":
    try:
        member_main(*sys.argv[2:])
    except KeyboardInterrupt:
        pass


def dir_bytes(path):
    return sum(f.stat().st_size for f in path.iterdir() if f.is_file())


@needs_broker
def test_compacted_topic_keeps_the_latest_value_per_key(brokers):
    """Many updates per key on a cleanup_policy=compact topic: the broker's
    cleaner rewrites the closed segments, a consumer reads every key's
    latest value at its original offset, and the partition shrinks."""
    from confluent_kafka import Producer
    from kafka.admin import KafkaAdminClient, NewTopic
    b = brokers({"compaction": {"interval_ms": 300}})
    admin = KafkaAdminClient(bootstrap_servers=b.bootstrap)
    try:
        admin.create_topics([NewTopic("state", 1, 1, topic_configs={
            "cleanup.policy": "compact", "segment.bytes": str(1 << 20)})])
    finally:
        admin.close()
    keys, rounds = 50, 60
    p = Producer({"bootstrap.servers": b.bootstrap, "acks": "all", "linger.ms": 5})
    latest = {}
    for r in range(rounds):
        for k in range(keys):
            v = f"k{k}-r{r}-" + "x" * 1000
            p.produce("state", key=f"k{k}".encode(), value=v.encode())
            latest[f"k{k}"] = v
    assert p.flush(60) == 0
    produced = keys * rounds
    size_before = dir_bytes(b.partition_dir("state"))
    wait_for(lambda: b.events("compacted"), WAIT_S, "a compaction of the topic", ctx=b.ctx)
    wait_for(lambda: dir_bytes(b.partition_dir("state")) < size_before / 2, WAIT_S,
             "the partition to shrink", ctx=b.ctx)
    out = b.kcat("-C", "-t", "state", "-o", "beginning", "-e", "-q", "-f", "%o %k %s\\n").stdout.decode()
    rows = [ln.split(" ", 2) for ln in out.splitlines() if ln]
    offsets = [int(o) for o, _, _ in rows]
    assert offsets == sorted(set(offsets)), "offsets must stay increasing and unique"
    assert len(rows) < produced / 2, (len(rows), produced)
    last = {}
    for o, k, v in rows:
        last[k] = v
    assert last == latest, "every key's latest value must survive compaction"


@needs_broker
def test_libreplog_group_consumer_shares_with_librdkafka(cluster):
    """A libreplog member (tests/tools/rlclient group) and a confluent-kafka
    member share a group (both use the range assignor); when the
    confluent member is killed, the libreplog member takes every partition,
    every record is consumed, and the offsets it commits never go back."""
    from replogd import BUILD
    c = cluster(3, session_timeout_ms=2000, lag_max_ms=2000)
    topic, group = "mixed", "gmix"
    c.create_topic(topic, partitions=4, replication_factor=3, min_isr=2)
    produce(c, topic, 0, 200, 4)
    rl = subprocess.Popen([str(BUILD / "tests" / "tools" / "rlclient"), "group", c.bootstrap,
                           group, topic, "60"], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True)
    events, lock = [], threading.Lock()

    def read():
        for ln in rl.stdout:
            try:
                with lock:
                    events.append(json.loads(ln))
            except ValueError:
                pass

    threading.Thread(target=read, daemon=True).start()
    other = Member("confluent-kafka", c.bootstrap, group, topic)

    def rl_assigned():
        with lock:
            a = [e["assigned"] for e in events if "assigned" in e]
        return a[-1] if a else None

    try:
        wait_for(lambda: rl_assigned() is not None and len(rl_assigned()) == 2
                 and len(other.assignment()) == 2, WAIT_S, "two members with two partitions",
                 ctx=other.ctx)
        other.kill9()
        produce(c, topic, 200, 200, 4)
        wait_for(lambda: sorted(rl_assigned() or []) == [0, 1, 2, 3], WAIT_S,
                 "the libreplog member to take every partition")

        def values():
            with lock:
                return {e["v"] for e in events if "v" in e}

        want = {f"v{i}" for i in range(400)}
        wait_for(lambda: want <= values() | set(other.values()), WAIT_S,
                 "every record consumed at least once")
        with lock:
            commits = [e["committed"] for e in events if "committed" in e]
        last = {}
        for snap in commits:
            for p, off in snap.items():
                assert off >= last.get(p, -1), (p, off, last)  # never backwards
                last[p] = off
        assert commits, "the libreplog member committed nothing"
    finally:
        other.stop()
        rl.terminate()
        try:
            rl.wait(10)
        except subprocess.TimeoutExpired:
            rl.kill()


@needs_broker
def test_libreplog_auto_commit(brokers):
    """With auto commit, the library commits positions by itself and on
    close: `replog groups describe` then shows every partition committed to
    its end."""
    from replogd import BUILD, REPLOG
    b = brokers()
    b.kcat("-P", "-t", "auto", "-p", "0", input=b"".join(b"v%d\n" % i for i in range(50)))
    r = subprocess.run([str(BUILD / "tests" / "tools" / "rlclient"), "group", b.bootstrap,
                        "gauto", "auto", "4", "300"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r
    got = [json.loads(ln) for ln in r.stdout.splitlines()]
    assert [g["v"] for g in got if "v" in g] == [f"v{i}" for i in range(50)], r.stdout[-500:]
    d = subprocess.run([str(REPLOG), "groups", "describe", "--group", "gauto", "-b",
                        b.bootstrap], capture_output=True, text=True, timeout=60)
    rows = [ln.split() for ln in d.stdout.splitlines() if ln.startswith("gauto ")]
    assert rows and rows[0][3] == "50" and rows[0][5] == "0", d.stdout  # committed, lag 0
