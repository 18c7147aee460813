"""Description: replication across 3 real replogd processes under failures.

Three brokers on 127.0.0.1 (tests/cluster/replogd.py's `cluster`; broker 1
runs the single controller and is never stopped here), real clients
(confluent-kafka producers, the raw KafkaConn for exact error codes and
offsets, `replog dump-log` for files), and these faults:

  * kill -9 of the leader under acks=all load, three rounds, the killed
    broker restarted in between: every acknowledged record is read back at
    its acknowledged offset; a value from the raw client, which sends each
    value once, is in the log at most once and its acknowledged offsets
    follow its send order; a value from librdkafka (idempotence off, which
    resends a request whose answer was lost or was NOT_LEADER_OR_FOLLOWER,
    even with retries=0) may have extra copies, only below its
    acknowledged offset;
  * a follower stopped (SIGTERM) while writes go on: it restarts, rejoins
    the ISR, and its log is the leader's, record for record;
  * a follower paused (SIGSTOP) longer than lag_max_ms but shorter than the
    session timeout: it leaves the ISR through the lag rule, acks=all
    writes go on with 2 of 3, and after SIGCONT it catches up and rejoins;
  * ISR below min_insync_replicas: acks=all is refused with
    NOT_ENOUGH_REPLICAS, acks=1 is appended but not committed (strict min
    ISR: the HW stays), and both work again once the followers are back;
  * every replica of a partition down: the partition is offline (leader
    -1), the eligible replica that comes back first leads again, nothing
    acknowledged is lost;
  * controlled shutdown (SIGTERM) of a leader under load: leadership moves
    before the process exits, produce is unavailable for less than 1 s and
    then goes on at its pace, nothing acknowledged is lost;
  * an idle partition led by the same leader does not slow acks=all on a
    busy one (followers fetch both through one fetcher);
  * a leader paused (SIGSTOP) past the session timeout: a new leader is
    elected; after SIGCONT the old one takes no write (its lease lapsed:
    refused, and never appended), truncates as a follower, and every acks=1
    write it acknowledged is either on the new leader at its offset or
    preserved in discarded/ (writes_discarded log line, `replog dump-log
    --discarded -d`).

A raw consumer (LogWatcher) runs through the kill -9, slow-follower and
controlled-shutdown tests: the offsets it is given must be contiguous and
strictly increasing, the high watermark it is told must never decrease,
it must never get a record at or above the HW it was told with it, and
every record it saw must still be at that offset in the final log.

Every wait polls with a deadline; every loop is bounded in count and time.
"""
import collections
import re
import signal
import subprocess
import threading
import time

import pytest

pytest.register_assert_rewrite("replogd")
from replogd import (API_PRODUCE, REPLOG, Closed, Garbled, build_batch,  # noqa: E402
                     decode_produce, describe_replicas, needs_broker, parse_batches,
                     produce_body, wait_for)

pytest_plugins = ["replogd"]
pytestmark = needs_broker

ck = pytest.importorskip("confluent_kafka")

SESSION_MS = 2000
LAG_MS = 2000

ERR_OFFSET_OUT_OF_RANGE = 1
ERR_NOT_LEADER_OR_FOLLOWER = 6
ERR_NOT_ENOUGH_REPLICAS = 19

NET_ERRORS = (OSError, ConnectionError, TimeoutError, Closed, Garbled)


# ---- placement and small helpers ---------------------------------------------------

def start_cluster(cluster, session_ms=SESSION_MS, lag_ms=LAG_MS):
    return cluster(3, session_timeout_ms=session_ms, lag_max_ms=lag_ms)


def place(c, topic, rf, min_isr, replicas):
    """Create `topic` with 3 partitions (the controller assigns them
    round-robin from a random start, so each rotation of the brokers is one
    partition's replica list) and return the partition whose replica list
    (preferred leader first) is exactly `replicas`."""
    c.create_topic(topic, 3, rf, min_isr)
    found = {p: c.partition(topic, p)["replica_nodes"] for p in range(3)}
    for p, nodes in found.items():
        if list(nodes) == list(replicas):
            c.wait_leader(topic, p)
            assert c.leader(topic, p) == replicas[0], c.partition(topic, p)
            return p
    raise AssertionError(f"no partition of {topic} has replicas {replicas}: {found}")


def isr(c, topic, p):
    return set(c.partition(topic, p)["isr_nodes"])


def value_of(prefix, i, pad=40):
    return b"%s-%07d-" % (prefix, i) + b"v" * pad


def produce_one(conn, topic, p, value, acks=-1, timeout_s=10.0):
    return conn.produce(topic, p, build_batch([(None, value, [])]), acks=acks,
                        timeout_ms=int(timeout_s * 1000), timeout_s=timeout_s)


def produce_acked(b, topic, p, prefix, n, acks=-1):
    """n single-record produce requests to broker b, each must succeed:
    {offset: value}."""
    out = {}
    with b.conn() as k:
        for i in range(n):
            v = value_of(prefix, i)
            r = produce_one(k, topic, p, v, acks)
            assert r["error_code"] == 0, (f"produce #{i} (acks={acks}) to broker "
                                          f"{b.name}: {r}" + b.ctx())
            assert r["base_offset"] not in out, r
            out[r["base_offset"]] = v
    return out


def read_log(b, topic, p, end=None, timeout_s=30.0):
    """[(offset, value)] of offsets [0, end) read by raw Fetch from broker b
    (a leader; consumers read below its HW); end defaults to the HW it
    reports first. Offsets must be contiguous from 0, batches whole and
    their CRC right."""
    out, nxt = [], 0
    deadline = time.monotonic() + timeout_s
    with b.conn() as k:
        for _ in range(1_000_000):
            r = k.fetch(topic, p, nxt, max_wait_ms=100)
            assert r["error_code"] == 0, f"fetch {topic}-{p}@{nxt} from {b.name}: {r}" + b.ctx()
            if end is None:
                end = r["high_watermark"]
            if nxt >= end:
                break
            for bt in parse_batches(r["records"] or b""):
                if not bt["complete"]:
                    break
                assert bt["crc_ok"] and bt["records"] is not None, bt
                for (o, _key, v, _h, _ts) in bt["records"]:
                    if o < nxt:
                        continue
                    assert o == nxt, f"{topic}-{p}: offset {o} follows {nxt - 1} (a gap)"
                    if o >= end:
                        break
                    out.append((o, v))
                    nxt = o + 1
            assert time.monotonic() < deadline, \
                f"{topic}-{p}: read {nxt} of {end} records in {timeout_s}s" + b.ctx()
    return out


def epochs_at(b, topic, p, offsets):
    """{offset: leader epoch of its batch} by raw Fetch from broker b."""
    out = {}
    with b.conn() as k:
        for o in sorted(set(offsets))[:50]:
            r = k.fetch(topic, p, o, max_wait_ms=0, partition_max_bytes=4096)
            for bt in parse_batches(r["records"] or b""):
                if bt["complete"] and bt["base_offset"] <= o <= bt["last_offset"]:
                    out[o] = (bt["leader_epoch"], bt["base_offset"], bt["last_offset"])
    return out


def leader_broker(c, topic, p, not_in=(), timeout_s=30.0):
    return c[c.wait_leader(topic, p, timeout_s=timeout_s, not_in=not_in)]


def replicas_converged(c, topic, p, members):
    """Every member's log end equals the leader's, and the leader's HW is
    its log end: returns that end, else None."""
    ends = {}
    for i in members:
        d = describe_replicas(c[i], topic, p)
        if d is None:
            return None
        ends[i] = (d["role"], d["log_end_offset"], d["high_watermark"])
    leaders = [e for e in ends.values() if e[0] == "leader"]
    if len(leaders) != 1:
        return None
    end = leaders[0][1]
    if leaders[0][2] != end or any(e[1] != end for e in ends.values()):
        return None
    return end


def replica_states(c, topic, p):
    """For failure messages: each running broker's view of the replica."""
    out = []
    for b in c.running():
        try:
            d = describe_replicas(b, topic, p, timeout_s=2.0)
        except NET_ERRORS as e:
            d = repr(e)
        out.append(f"\n  {b.name}: {d}")
    return "".join(out)


def state_ctx(c, topic, p, *extra):
    """A ctx= callable: replica states, extra lines, then the log tails."""
    return lambda: (replica_states(c, topic, p) + "".join(f"\n  {x()}" for x in extra)
                    + c.ctx())


def events_for(b, name, topic, p, since=0):
    return [e for e in b.events(name, since=since)
            if e.get("topic") == topic and e.get("partition") == str(p)]


def dump_records(path, *opts):
    """Records `replog dump-log -d` prints: [(offset, payload bytes)]."""
    r = subprocess.run([str(REPLOG), "dump-log", *opts, "-d", str(path)], capture_output=True,
                       timeout=120, check=False, text=True, errors="replace")
    assert r.returncode == 0, f"dump-log {opts} {path}: rc={r.returncode}\n{r.stderr[-3000:]}"
    recs = []
    for line in r.stdout.splitlines():
        m = re.match(r"\| offset: (\d+) .* payload: (.*)$", line)
        if m:
            recs.append((int(m.group(1)), m.group(2).encode()))
    return recs, r.stdout


# ---- a consumer that checks what it is told ------------------------------------------

class LogWatcher(threading.Thread):
    """Raw Fetch (v4) loop on one partition, following its leader as broker 1
    (the controller) names it. Records every offset it is given and every
    HW it is told; problems go to self.problems (the test asserts)."""

    MAX_PROBLEMS = 40

    def __init__(self, c, topic, p, limit_s=180.0):
        super().__init__(daemon=True, name=f"watch-{topic}-{p}")
        self.c, self.topic, self.p = c, topic, p
        self.limit_s = limit_s
        self.seen = {}        # offset -> value
        self.hws = []         # (monotonic time, broker id, hw)
        self.problems = []
        self.errors = collections.Counter()
        self.leaders = []     # brokers read from, in order
        self.reported = set()
        self.halt = threading.Event()

    def problem(self, what):
        if len(self.problems) < self.MAX_PROBLEMS:
            self.problems.append(what)

    def run(self):
        try:
            self._run()
        except Exception as e:  # reported by the test
            self.problem(f"watcher crashed: {e!r}")

    def _run(self):
        nxt, conn, lid, max_hw = 0, None, -1, -1
        deadline = time.monotonic() + self.limit_s
        for _ in range(10_000_000):
            if self.halt.is_set() or time.monotonic() > deadline:
                break
            if conn is None:
                try:
                    lid = self.c.leader(self.topic, self.p)
                    ok = lid > 0 and self.c[lid].running()
                    conn = self.c[lid].conn(timeout_s=2.0) if ok else None
                except NET_ERRORS + (AssertionError,):
                    conn = None
                if conn is None:
                    self.halt.wait(0.05)
                    continue
                if not self.leaders or self.leaders[-1] != lid:
                    self.leaders.append(lid)
            try:
                r = conn.fetch(self.topic, self.p, nxt, timeout_s=3.0, max_wait_ms=100)
            except NET_ERRORS as e:
                self.errors[type(e).__name__] += 1
                conn.close()
                conn = None
                self.halt.wait(0.02)
                continue
            err = r["error_code"]
            if err:
                self.errors[err] += 1
                if err == ERR_OFFSET_OUT_OF_RANGE:
                    self.problem(f"broker {lid} answered OFFSET_OUT_OF_RANGE at offset {nxt}, "
                                 f"which this consumer reached by reading below an HW")
                conn.close()
                conn = None
                self.halt.wait(0.02)
                continue
            hw = r["high_watermark"]
            self.hws.append((time.monotonic(), lid, hw))
            if hw < max_hw and (max_hw, hw, lid) not in self.reported:
                self.reported.add((max_hw, hw, lid))
                self.problem(f"high watermark went back from {max_hw} to {hw} (broker {lid}, "
                             f"fetch at {nxt}; brokers read so far {self.leaders})")
            max_hw = max(max_hw, hw)
            for bt in parse_batches(r["records"] or b""):
                if not bt["complete"]:
                    break
                if not bt["crc_ok"] or bt["records"] is None:
                    self.problem(f"bad batch from broker {lid}: {bt}")
                    break
                for (o, _key, v, _h, _ts) in bt["records"]:
                    if o < nxt:
                        continue
                    if o != nxt:
                        self.problem(f"offset {o} after {nxt - 1} from broker {lid}")
                    if o >= hw:
                        self.problem(f"record at offset {o} from broker {lid}, which said HW {hw}")
                    self.seen[o] = v
                    nxt = o + 1
        if conn is not None:
            conn.close()

    def finish(self):
        self.halt.set()
        self.join(15)
        assert not self.is_alive(), "the watcher thread did not stop"

    def verdict(self, final):
        """What went wrong, as a list of lines (empty: nothing). final:
        {offset: value} of the partition's log at the end."""
        out = [f"consumer: {x}" for x in self.problems]
        if not self.seen:
            out.append(f"the consumer read nothing (errors {dict(self.errors)})")
        changed = [(o, v, final.get(o)) for o, v in sorted(self.seen.items())
                   if final.get(o) != v]
        if changed:
            out.append(f"{len(changed)} records the consumer read are not in the final log at "
                       f"their offset (truncated after being visible): {changed[:5]}")
        return out

    def check(self, final):
        bad = self.verdict(final)
        assert not bad, "\n  ".join(["the consumer:"] + bad)
        return len(self.seen)


# ---- producers ---------------------------------------------------------------------------

class CkLoad:
    """A confluent-kafka producer in its own thread, writing unique values
    to one partition, paced (about one message per 2 ms)."""

    def __init__(self, c, topic, p, prefix, limit_s=150.0, **conf):
        self.topic, self.p, self.prefix, self.limit_s = topic, p, prefix, limit_s
        cfg = {"bootstrap.servers": c.bootstrap, "acks": "all", "enable.idempotence": False,
               "linger.ms": 2, "message.timeout.ms": 15000, "request.timeout.ms": 5000,
               "retry.backoff.ms": 50, "reconnect.backoff.ms": 20,
               "reconnect.backoff.max.ms": 200, "topic.metadata.refresh.interval.ms": 1000,
               "queue.buffering.max.messages": 50000}
        cfg.update(conf)
        self.producer = ck.Producer(cfg)
        self.sent = []          # values, in send order
        self.acked = {}         # value -> offset
        self.ack_times = []     # monotonic time of each acknowledgement
        self.failed = {}        # value -> error
        self.error = None
        self.halt = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name=f"load-{prefix}")

    def _on_delivery(self, err, msg):
        v = msg.value()
        if err is None:
            assert v not in self.acked, f"{v!r} acknowledged twice"
            self.acked[v] = msg.offset()
            self.ack_times.append(time.monotonic())
        else:
            self.failed[v] = str(err)

    def _run(self):
        try:
            deadline = time.monotonic() + self.limit_s
            for i in range(10_000_000):
                if self.halt.is_set() or time.monotonic() > deadline:
                    break
                v = value_of(self.prefix, i)
                for _ in range(2000):  # a full local queue: serve callbacks, try again
                    try:
                        self.producer.produce(self.topic, value=v, partition=self.p,
                                              on_delivery=self._on_delivery)
                        break
                    except BufferError:
                        self.producer.poll(0.01)
                else:
                    raise AssertionError("the producer's queue stayed full for 20 s")
                self.sent.append(v)
                self.producer.poll(0.002)
        except Exception as e:  # reported by finish()
            self.error = e

    def start(self):
        self.thread.start()
        return self

    def acks_since(self, t):
        return sum(1 for x in list(self.ack_times) if x > t)

    def wait_acks_since(self, t, n, timeout_s, ctx=lambda: ""):
        wait_for(lambda: self.acks_since(t) >= n, timeout_s,
                 f"{n} acknowledgements to producer {self.prefix!r}", ctx=ctx)

    def finish(self, timeout_s=40.0):
        """Stop producing; every message must resolve (acked or failed)."""
        self.halt.set()
        self.thread.join(30)
        assert not self.thread.is_alive(), "the producer thread did not stop"
        assert self.error is None, repr(self.error)
        deadline = time.monotonic() + timeout_s
        left = None
        for _ in range(int(timeout_s * 4) + 2):
            left = self.producer.flush(0.25)
            if left == 0 or time.monotonic() > deadline:
                break
        assert left == 0, f"{left} messages of {self.prefix!r} neither acknowledged nor failed"
        assert len(self.acked) + len(self.failed) == len(self.sent), \
            (len(self.acked), len(self.failed), len(self.sent))


class RawLoad(threading.Thread):
    """One single-record request at a time (acks=all unless told), each
    value unique, to the broker that broker 1 names leader; short timeouts;
    any error or silence sends it back to broker 1 for the leader. Records
    each success as (sent at, answered at, broker, offset, value)."""

    def __init__(self, c, topic, p, prefix=b"raw", limit_s=90.0, timeout_s=1.0, acks=-1):
        super().__init__(daemon=True, name=f"raw-{topic}-{p}")
        self.c, self.topic, self.p, self.prefix = c, topic, p, prefix
        self.limit_s, self.timeout_s, self.acks = limit_s, timeout_s, acks
        self.acked = []
        self.sent = []     # every value sent, in order
        self.errors = []   # (time, broker, error)
        self.halt = threading.Event()
        self.crash = None

    def run(self):
        try:
            self._run()
        except Exception as e:
            self.crash = e

    def _run(self):
        conn, lid = None, -1
        deadline = time.monotonic() + self.limit_s
        for i in range(10_000_000):
            if self.halt.is_set() or time.monotonic() > deadline:
                break
            if conn is None:
                try:
                    lid = self.c.leader(self.topic, self.p)
                    ok = lid > 0 and self.c[lid].running()
                    conn = self.c[lid].conn(timeout_s=self.timeout_s) if ok else None
                except NET_ERRORS + (AssertionError,):
                    conn = None
                if conn is None:
                    self.halt.wait(0.01)
                    continue
            v = value_of(self.prefix, i)
            self.sent.append(v)
            t0 = time.monotonic()
            try:
                r = produce_one(conn, self.topic, self.p, v, acks=self.acks,
                                timeout_s=self.timeout_s)
            except NET_ERRORS as e:
                self.errors.append((time.monotonic(), lid, type(e).__name__))
                conn.close()
                conn = None
                continue
            t1 = time.monotonic()
            if r["error_code"] == 0:
                self.acked.append((t0, t1, lid, r["base_offset"], v))
            else:
                self.errors.append((t1, lid, r["error_code"]))
                conn.close()
                conn = None
                self.halt.wait(0.01)  # e.g. NOT_ENOUGH_REPLICAS: not in a tight loop

    def finish(self):
        self.halt.set()
        self.join(15)
        assert not self.is_alive(), "the raw producer did not stop"
        assert self.crash is None, repr(self.crash)

    def acked_on(self, broker_id):
        return [a for a in list(self.acked) if a[2] == broker_id]


def check_acked(final, acked, what):
    """Every (offset -> value) acknowledged is at that offset in the final log."""
    wrong = [(o, v, final.get(o)) for o, v in sorted(acked.items()) if final.get(o) != v]
    assert not wrong, (f"{len(wrong)} of {len(acked)} acknowledged {what} records are not at "
                       f"their acknowledged offset (offset, acked value, found): {wrong[:5]}")


# ---- 1. kill -9 of the leader under acks=all load ---------------------------------------

def test_kill9_leader_under_load_keeps_every_acked_record(cluster):
    c = start_cluster(cluster)
    topic = "kill9"
    p = place(c, topic, 3, 2, [2, 3, 1])
    watcher = LogWatcher(c, topic, p)
    # librdkafka, idempotence off, retries on: a request whose answer was
    # lost (or that got NOT_LEADER_OR_FOLLOWER: librdkafka resends those
    # even with retries=0) is sent again, so an unacknowledged attempt may
    # leave an extra copy.
    retrying = CkLoad(c, topic, p, b"retry", **{"max.in.flight": 5})
    # The raw client sends each value exactly once (a new value per
    # attempt, one request at a time): each can be in the log once, and
    # its acknowledged offsets follow its send order.
    once = RawLoad(c, topic, p, prefix=b"once", timeout_s=2.0)
    watcher.start()
    retrying.start()
    once.start()
    kills = []
    t_start = time.monotonic()
    try:
        for rnd in range(3):
            # Broker 2 leads (the preferred replica: no preferred-leader
            # move can race the kill) with all three in sync.
            wait_for(lambda: c.leader(topic, p) == 2 and isr(c, topic, p) == {1, 2, 3}, 30,
                     f"round {rnd}: broker 2 leading with ISR {{1,2,3}}", ctx=c.ctx)
            retrying.wait_acks_since(time.monotonic(), 150, 20, ctx=c.ctx)
            assert c[2].kill9() == -signal.SIGKILL
            t_kill = time.monotonic()
            kills.append(t_kill)
            new = c.wait_leader(topic, p, not_in=(2,), timeout_s=20)
            assert new == 3, f"round {rnd}: leader {new}, expected 3 (next in the ISR)"
            # Writes go on with the new leader (ISR {3, 1} = min ISR).
            retrying.wait_acks_since(t_kill, 100, 25, ctx=state_ctx(c, topic, p))
            c[2].start()
            c.wait_isr(topic, p, {1, 2, 3}, timeout_s=30)
    finally:
        once.finish()
        retrying.finish()
    took = time.monotonic() - t_start
    end = wait_for(lambda: replicas_converged(c, topic, p, (1, 2, 3)), 30,
                   "the three replicas at the same log end", ctx=state_ctx(c, topic, p))
    watcher.finish()

    # Each kill: an election of broker 3 from the ISR (the moves back to
    # the preferred broker 2 in between are logged too).
    elected = [e for e in events_for(c[1], "leader_elected", topic, p) if e["leader"] == "3"]
    assert len(elected) >= 3 and all(e["from"] == "isr" for e in elected), elected

    log = read_log(leader_broker(c, topic, p), topic, p)
    assert len(log) == end, (len(log), end)
    final = dict(log)
    where = collections.defaultdict(list)  # value -> offsets
    for o, v in log:
        where[v].append(o)
    once_acked = {v: o for (_t0, _t1, _b, o, v) in once.acked}
    sent = set(retrying.sent) | set(once.sent)
    strangers = [v for v in where if v not in sent]
    assert not strangers, f"values nobody sent are in the log: {strangers[:5]}"

    # Two acknowledgements never name one offset.
    both = collections.Counter(list(retrying.acked.values()) + list(once_acked.values()))
    twice = [o for o, n in both.items() if n > 1]
    assert not twice, f"offsets acknowledged twice: {twice[:10]}"
    check_acked(final, {o: v for v, o in retrying.acked.items()}, "librdkafka")
    check_acked(final, {o: v for v, o in once_acked.items()}, "raw")
    # librdkafka: other copies of an acknowledged value come from earlier
    # attempts, so they sit below the acknowledged offset.
    late = [(v[:13], o, where[v]) for v, o in retrying.acked.items() if max(where[v]) != o]
    assert not late, f"copies above the acknowledged offset: {late[:5]}"
    # The raw client: each value at most once, acknowledged offsets in the
    # order it sent them.
    dups = [(v, offs) for v, offs in where.items() if v in once.sent and len(offs) > 1]
    assert not dups, ("values sent once are in the log more than once "
                      f"({len(dups)}; value, offsets, acknowledged at): "
                      + "; ".join(f"{v[:13]!r} {offs} {once_acked.get(v)}" for v, offs in dups[:8])
                      + "; (leader epoch, batch) by offset: "
                      + str(epochs_at(leader_broker(c, topic, p), topic, p,
                                      [o for _, offs in dups[:8] for o in offs])))
    order = [o for (_t0, _t1, _b, o, _v) in once.acked]
    assert order == sorted(order), "the raw client's acknowledged offsets are out of send order"
    assert len(once.acked) > 100 and len(retrying.acked) > 300, \
        (len(once.acked), len(retrying.acked))
    print(f"kill9: {len(kills)} kills in {took:.1f}s; log {end} records; acked "
          f"{len(retrying.acked)} librdkafka (+{len(retrying.failed)} failed), "
          f"{len(once.acked)} raw (+{len(once.errors)} errors); consumer read "
          f"{len(watcher.seen)} via brokers {watcher.leaders}")
    watcher.check(final)


# ---- 2. a follower stopped, then restarted, catches up --------------------------------

def test_follower_restart_catches_up(cluster):
    c = start_cluster(cluster)
    topic = "catchup"
    p = place(c, topic, 3, 2, [2, 3, 1])
    acked = produce_acked(c[2], topic, p, b"before", 150)
    took = c[3].stop()
    assert took < 5.0, f"the follower took {took:.2f}s to stop"
    c.wait_isr(topic, p, {1, 2}, timeout_s=10)
    stopped_end = len(acked)
    # min ISR 2 is still met: acks=all goes on without broker 3.
    after = produce_acked(c[2], topic, p, b"while-down", 250)
    acked.update(after)
    assert sorted(acked) == list(range(400))
    c[3].start()
    (opened,) = [e for e in c[3].events("partition_opened", since_start=True)
                 if e["topic"] == topic and e["partition"] == str(p)]
    assert int(opened["log_end"]) == stopped_end, opened
    assert opened["recovery"].startswith("recovered after clean shutdown"), opened
    c.wait_isr(topic, p, {1, 2, 3}, timeout_s=20)
    end = wait_for(lambda: replicas_converged(c, topic, p, (1, 2, 3)), 20,
                   "broker 3's log end at the leader's", ctx=c.ctx)
    assert end == 400
    leader_log = read_log(c[2], topic, p)
    check_acked(dict(leader_log), acked, "acks=all")
    # Its log, record for record, is the leader's.
    c[3].stop()
    recs, out = dump_records(c[3].partition_dir(topic, p))
    diff = next((i for i, (a, b) in enumerate(zip(recs, leader_log)) if a != b), None)
    assert recs == leader_log, (f"broker 3 holds {len(recs)} records, the leader "
                                f"{len(leader_log)}; first difference at index {diff}")


# ---- 3. a paused follower leaves the ISR through the lag rule and comes back ------------

def test_slow_follower_leaves_isr_and_rejoins(cluster):
    # lag_max_ms well under the session timeout: the follower must leave the
    # ISR because it lags, before the controller could fence it.
    session_ms, lag_ms = 6000, 1000
    c = start_cluster(cluster, session_ms=session_ms, lag_ms=lag_ms)
    topic = "slow"
    p = place(c, topic, 3, 2, [2, 3, 1])
    mark = c[1].log_size()
    watcher = LogWatcher(c, topic, p)
    load = CkLoad(c, topic, p, b"slow")
    watcher.start()
    load.start()
    try:
        load.wait_acks_since(time.monotonic(), 200, 20, ctx=c.ctx)
        c[3].sigstop()
        t_stop = time.monotonic()
        try:
            c.wait_isr(topic, p, {1, 2}, timeout_s=4.0)
            t_out = time.monotonic()
            # acks=all still works with 2 of 3 in sync.
            load.wait_acks_since(t_out, 100, max(0.5, session_ms / 1000 - 1.0 - (t_out - t_stop)),
                                 ctx=c.ctx)
            t_before_cont = time.monotonic()
        finally:
            c[3].sigcont()
        assert t_before_cont - t_stop < session_ms / 1000, "paused longer than the session"
        c.wait_isr(topic, p, {1, 2, 3}, timeout_s=20)
        load.wait_acks_since(time.monotonic(), 100, 20, ctx=c.ctx)
    finally:
        load.finish()
    end = wait_for(lambda: replicas_converged(c, topic, p, (1, 2, 3)), 20,
                   "the paused follower's log end at the leader's", ctx=c.ctx)
    watcher.finish()
    fenced = [e for e in c[1].events("broker_fenced", since=mark) if e["broker"] == "3"]
    assert not fenced, f"broker 3 was fenced (session), not dropped for lag: {fenced}"
    changes = [e["isr"] for e in c[1].events("isr_changed", since=mark)
               if e["topic"] == topic and e["partition"] == str(p)]
    assert any(set(s.split(",")) == {"1", "2"} for s in changes), changes
    assert set(changes[-1].split(",")) == {"1", "2", "3"}, changes
    log = read_log(leader_broker(c, topic, p), topic, p)
    assert len(log) == end
    final = dict(log)
    check_acked(final, {o: v for v, o in load.acked.items()}, "acks=all")
    print(f"slow follower: out of the ISR {t_out - t_stop:.2f}s after SIGSTOP; "
          f"log {end}; acked {len(load.acked)}; consumer read {len(watcher.seen)}")
    watcher.check(final)


# ---- 4. ISR below min_insync_replicas --------------------------------------------------

def test_isr_below_min_refuses_acks_all(cluster):
    c = start_cluster(cluster)
    topic = "minisr"
    # Broker 1 leads (its followers are the ones stopped; broker 1 never is).
    p = place(c, topic, 3, 2, [1, 2, 3])
    acked = produce_acked(c[1], topic, p, b"three", 20)
    c[2].stop()
    c.wait_isr(topic, p, {1, 3}, timeout_s=10)
    with c[1].conn() as k:
        r = produce_one(k, topic, p, value_of(b"two", 0))
        assert r["error_code"] == 0, f"acks=all with ISR {{1,3}} (= min ISR 2): {r}"
        acked[r["base_offset"]] = value_of(b"two", 0)
    c[3].stop()
    c.wait_isr(topic, p, {1}, timeout_s=10)
    hw = len(acked)
    with c[1].conn() as k:
        r = produce_one(k, topic, p, value_of(b"refused", 0), acks=-1)
        assert r["error_code"] == ERR_NOT_ENOUGH_REPLICAS, \
            f"acks=all with ISR {{1}} < min ISR 2: expected NOT_ENOUGH_REPLICAS (19), got {r}"
        assert r["base_offset"] == -1, r
        r1 = produce_one(k, topic, p, value_of(b"one", 0), acks=1)
        assert r1["error_code"] == 0 and r1["base_offset"] == hw, \
            f"acks=1 with ISR {{1}}: expected success at offset {hw}, got {r1}"
        # Strict min ISR: the write is in the log but not committed.
        lo = k.list_offset(topic, p, -1)
        assert (lo["error_code"], lo["offset"]) == (0, hw), lo
        f = k.fetch(topic, p, hw, max_wait_ms=0)
        assert f["error_code"] == 0 and f["high_watermark"] == hw and not f["records"], f
    d = describe_replicas(c[1], topic, p)
    assert (d["log_end_offset"], d["high_watermark"]) == (hw + 1, hw), d
    c[2].start()
    c[3].start()
    c.wait_isr(topic, p, {1, 2, 3}, timeout_s=20)
    with c[1].conn() as k:
        r = produce_one(k, topic, p, value_of(b"back", 0))
        assert r["error_code"] == 0 and r["base_offset"] == hw + 1, r
    acked[hw] = value_of(b"one", 0)
    acked[hw + 1] = value_of(b"back", 0)
    log = read_log(c[1], topic, p)
    assert [o for o, _ in log] == list(range(hw + 2)), log[-3:]
    check_acked(dict(log), acked, "acks=all/acks=1")
    assert value_of(b"refused", 0) not in dict(log).values(), "the refused write is in the log"


# ---- 5. every replica down: offline, then the eligible one leads ------------------------

def test_all_replicas_down_then_eligible_one_leads(cluster):
    c = start_cluster(cluster)
    topic = "alldown"
    p = place(c, topic, 2, 2, [2, 3])  # RF 2 on brokers 2 and 3, min ISR 2
    mark = c[1].log_size()
    acked = produce_acked(c[2], topic, p, b"both", 100)
    # The follower leaves first (controlled): the ISR would drop below min
    # ISR, so it stays eligible (ELR) and the HW stops.
    c[3].stop()
    c.wait_isr(topic, p, {2}, timeout_s=10)
    # Then the leader dies.
    c[2].kill9()
    wait_for(lambda: c.partition(topic, p)["leader_id"] == -1, 3 * SESSION_MS / 1000 + 5,
             f"{topic}-{p} offline (leader -1)", ctx=c.ctx)
    offline = [e for e in c[1].events("leader_elected", since=mark)
               if e["topic"] == topic and e["partition"] == str(p) and e["leader"] == "-1"]
    assert offline, "the controller logged no election that left the partition offline"
    # The eligible replica comes back: it leads again.
    c[3].start(wait_leaders=False)
    new = c.wait_leader(topic, p, timeout_s=15)
    assert new == 3, f"leader {new}, expected broker 3 (eligible)"
    back = [e for e in c[1].events("leader_elected", since=mark)
            if e["topic"] == topic and e["partition"] == str(p) and e["leader"] == "3"]
    assert back and back[-1]["from"] in ("isr", "eligible"), back
    d = describe_replicas(c[3], topic, p)
    assert d["role"] == "leader" and d["log_end_offset"] >= len(acked), d
    # The killed one restarts (unclean: no longer eligible) and follows.
    c[2].start()
    c.wait_isr(topic, p, {2, 3}, timeout_s=20)
    wait_for(lambda: replicas_converged(c, topic, p, (2, 3)), 20, "both replicas converged",
             ctx=c.ctx)
    log = read_log(leader_broker(c, topic, p), topic, p)
    check_acked(dict(log), acked, "acks=all")


# ---- 6. controlled shutdown of the leader under load ------------------------------------

def test_controlled_shutdown_of_leader_moves_leadership_fast(cluster):
    c = start_cluster(cluster)
    topic = "handover"
    p = place(c, topic, 3, 2, [2, 3, 1])
    mark = c[1].log_size()
    watcher = LogWatcher(c, topic, p)
    load = RawLoad(c, topic, p)
    watcher.start()
    load.start()
    try:
        wait_for(lambda: len(load.acked_on(2)) >= 100, 20, "100 writes on broker 2",
                 ctx=c.ctx)
        took = c[2].stop()
        # Writes go on at the new leader at a normal pace (one request at a
        # time: each waits for the follower to fetch and fsync it).
        t_stopped = time.monotonic()
        try:
            wait_for(lambda: len(load.acked_on(3)) + len(load.acked_on(1)) >= 100, 10,
                     "100 writes on the new leader",
                     ctx=lambda: replica_states(c, topic, p)
                     + f"\n  producer errors: {load.errors[-10:]}")
            slow = None
        except AssertionError as e:
            slow = str(e)
        pace = (len(load.acked_on(3)) + len(load.acked_on(1))) / (time.monotonic() - t_stopped)
    finally:
        load.finish()
    new = c.leader(topic, p)
    assert new == 3, f"leader {new}, expected 3"
    end = wait_for(lambda: replicas_converged(c, topic, p, (1, 3)), 20, "replicas converged",
                   ctx=c.ctx)
    watcher.finish()

    # Leadership moved while broker 2 still ran: the controller elected
    # broker 3 (from the ISR) after broker 2 asked to shut down, before it
    # stopped.
    elected = [e for e in c[1].events("leader_elected", since=mark)
               if e["topic"] == topic and e["partition"] == str(p)]
    assert elected and elected[-1]["leader"] == "3" and elected[-1]["from"] == "isr", elected
    (started,) = [e for e in c[1].events("controlled_shutdown_started", since=mark)
                  if e["broker"] == "2"]
    elected = [e for e in elected if e["ts"] >= started["ts"]]
    assert elected, "no election after broker 2's controlled shutdown began"
    log2 = c[2].events(since=c[2].start_log_offset)
    names = [e.get("event") for e in log2]
    follow = [i for i, e in enumerate(log2) if e.get("event") == "became_follower"
              and e.get("topic") == topic and e.get("partition") == str(p)]
    assert "broker_stopped" in names and follow and follow[0] < names.index("broker_stopped"), \
        f"broker 2 did not become a follower before it stopped: {names}"
    (stopped,) = [e for e in log2 if e.get("event") == "broker_stopped"]
    assert elected[0]["ts"] <= stopped["ts"], (elected[0], stopped)

    assert load.acked_on(3), "no write succeeded on broker 3"
    last_old = max(a[1] for a in load.acked_on(2))
    first_new = min(a[1] for a in load.acked_on(3))
    gap = first_new - last_old
    log = read_log(c[3], topic, p)
    assert len(log) == end
    final = dict(log)
    check_acked(final, {a[3]: a[4] for a in load.acked}, "acks=all")
    bad = watcher.verdict(final)
    before = len(load.acked_on(2)) / max(1e-3, last_old - min(a[0] for a in load.acked_on(2)))
    new_lat = sorted(a[1] - a[0] for a in load.acked_on(3))
    print(f"controlled shutdown: broker 2 exited in {took:.2f}s; produce unavailable "
          f"{gap * 1000:.0f} ms; {len(load.acked)} acked ({before:.0f}/s on broker 2, "
          f"{pace:.1f}/s on broker 3, median latency there "
          f"{new_lat[len(new_lat) // 2] * 1000:.0f} ms), errors "
          f"{collections.Counter(e[2] for e in load.errors)}; consumer read {len(watcher.seen)}")
    if gap >= 1.0:
        bad.append(f"produce was unavailable {gap:.3f}s between the last write on broker 2 and "
                   f"the first on broker 3 (errors: {load.errors[:10]})")
    if slow is not None:
        bad.append(f"after the handover acks=all writes crawl on the new leader: {pace:.1f}/s "
                   f"(on broker 2: {before:.0f}/s), median latency "
                   f"{new_lat[len(new_lat) // 2] * 1000:.0f} ms:\n{slow}")
    assert not bad, "\n".join(bad)


# ---- 6b. a follower's idle partitions do not slow its busy ones ----------------------------

def test_acks_all_latency_with_an_idle_partition_on_the_same_leader(cluster):
    """A follower fetches all it follows from one leader through one fetcher;
    a partition nobody writes to (its fetch parked at the leader) must not
    hold back the next fetch of one that is being written: acks=all
    latency stays that of a fetch round trip and an fsync."""
    c = start_cluster(cluster)
    p = place(c, "busy", 3, 2, [2, 3, 1])
    # Broker 2 leads one partition of this topic too; nobody writes to it.
    c.create_topic("idle", 3, 3, 2)
    lat = []
    deadline = time.monotonic() + 6.0
    with c[2].conn() as k:
        for i in range(60):
            if time.monotonic() > deadline:
                break
            t0 = time.monotonic()
            r = produce_one(k, "busy", p, value_of(b"busy", i))
            lat.append(time.monotonic() - t0)
            assert r["error_code"] == 0, r
    lat.sort()
    median = lat[len(lat) // 2]
    print(f"idle partition: {len(lat)} acks=all writes, median {median * 1000:.1f} ms, "
          f"max {lat[-1] * 1000:.1f} ms")
    assert median < 0.1, (f"acks=all writes take {median * 1000:.0f} ms (median of {len(lat)}) "
                          f"while another partition on the same leader is idle"
                          + replica_states(c, "busy", p))


# ---- 7b. the visible end never moves back across a leader change ---------------------------

def test_high_watermark_never_moves_back_across_a_leader_change(cluster):
    """A new leader's HW starts where it knew it as a follower: one fetch
    answer behind the previous leader's. A consumer it answers must not be
    told a lower HW than the previous leader told it (DESIGN §4: "not
    available yet", never a lower value). Made deterministic: writes stop,
    a consumer reads the old leader's HW at once (the follower learns it
    only with its next fetch answer, parked up to 500 ms), the old leader
    hands over at once, and the new leader is alone in the ISR (broker 2
    paused; below min ISR its HW is frozen). lag_max_ms is short and the
    session long, so the paused broker leaves the ISR but keeps its own
    leaderships (broker 1 then fetches one partition from broker 3)."""
    session_ms = 6000
    c = start_cluster(cluster, session_ms=session_ms, lag_ms=1000)
    topic = "visible"
    p = place(c, topic, 3, 2, [3, 1, 2])
    watcher = LogWatcher(c, topic, p)
    load = RawLoad(c, topic, p, prefix=b"vis")
    watcher.start()
    load.start()
    try:
        wait_for(lambda: len(load.acked_on(3)) >= 100, 20, "100 writes on broker 3", ctx=c.ctx)
        c[2].sigstop()
        t_stop = time.monotonic()
        try:
            c.wait_isr(topic, p, {1, 3}, timeout_s=4)
            t_out = time.monotonic()
            wait_for(lambda: len([a for a in load.acked_on(3) if a[1] > t_out]) >= 50, 2,
                     "writes with ISR {1,3}", ctx=state_ctx(c, topic, p))
            load.finish()
            with c[3].conn() as k:
                told = k.fetch(topic, p, 0, max_wait_ms=0, partition_max_bytes=64)
            assert told["error_code"] == 0, told
            told = told["high_watermark"]
            behind = describe_replicas(c[1], topic, p)["high_watermark"]
            # Broker 3 hands over (controlled shutdown): broker 1 leads, alone
            # in the ISR.
            c[3].stop()
            assert c.wait_leader(topic, p, timeout_s=10) == 1
            with c[1].conn() as k:
                after = k.fetch(topic, p, told, max_wait_ms=0)
                lo = k.list_offset(topic, p, -1)
            d1 = describe_replicas(c[1], topic, p)
        finally:
            c[2].sigcont()
        assert time.monotonic() - t_stop < session_ms / 1000, "broker 2 paused past its session"
        c.wait_isr(topic, p, {1, 2}, timeout_s=20)
        wait_for(lambda: describe_replicas(c[1], topic, p)["high_watermark"] >= told, 10,
                 "the new leader's HW past the old one's", ctx=state_ctx(c, topic, p))
    finally:
        load.finish()
    watcher.finish()
    log = read_log(c[1], topic, p)
    final = dict(log)
    check_acked(final, {a[3]: a[4] for a in load.acked}, "acks=all")
    print(f"visible end: broker 3 told HW {told} (broker 1 knew {behind}); broker 1 leading: HW "
          f"{d1['high_watermark']}, log end {d1['log_end_offset']}; its Fetch answered "
          f"error {after['error_code']} HW {after['high_watermark']}; its ListOffsets {lo}")
    # ListOffsets says "not yet" rather than a lower latest offset...
    assert lo["error_code"] == 5 or lo["offset"] >= told, \
        f"ListOffsets(latest) on the new leader: {lo}, the old leader had told HW {told}"
    # ...and so must Fetch.
    bad = []
    if after["error_code"] == 0 and after["high_watermark"] < told:
        bad.append(f"a consumer told HW {told} by broker 3 is told HW {after['high_watermark']} "
                   f"by broker 1, the new leader (its HW as a follower was {behind}; its log "
                   f"end {d1['log_end_offset']})")
    bad += watcher.verdict(final)
    assert not bad, "\n".join(bad)


# ---- 8. a paused leader: fenced, truncated, its acks=1 writes preserved --------------------

def test_paused_leader_accepts_no_write_and_discards_visibly(cluster):
    c = start_cluster(cluster)
    topic = "zombie"
    p = place(c, topic, 2, 1, [2, 3])  # RF 2 on brokers 2 and 3, min ISR 1
    committed = produce_acked(c[2], topic, p, b"base", 20)
    mark2 = c[2].log_size()
    zombie = c[2].conn(timeout_s=10.0)  # opened now: it will hold a request across the pause
    zombie.api_versions()
    acks1 = {}
    # Broker 3 pauses briefly (well under lag_max_ms: it stays in the ISR),
    # so the acks=1 writes below reach only broker 2.
    c[3].sigstop()
    try:
        with c[2].conn() as k:
            for i in range(6):
                v = value_of(b"acks1", i)
                r = produce_one(k, topic, p, v, acks=1)
                assert r["error_code"] == 0, r
                acks1[r["base_offset"]] = v
        c[2].sigstop()
        t_pause = time.monotonic()
    finally:
        c[3].sigcont()
    zombie_value = value_of(b"zombie", 0)
    fresh_value = value_of(b"after-cont", 0)
    try:
        new = c.wait_leader(topic, p, not_in=(2,), timeout_s=15)
        assert new == 3, new
        # The session runs from the last heartbeat (every session/4) before
        # the pause.
        assert time.monotonic() - t_pause > 0.75 * SESSION_MS / 1000 - 0.05, \
            "elected before the session could expire"
        # The new leader takes writes at the offsets broker 2 used.
        committed.update(produce_acked(c[3], topic, p, b"new-leader", 8))
        # The fault lasts longer than the session timeout, as counted here
        # (a duration, not a state to wait for).
        wait_for(lambda: time.monotonic() - t_pause > SESSION_MS / 1000 + 0.2, 10,
                 "the pause to outlast the session timeout")
        # A write to the old leader, sent while it is paused: the first thing
        # it reads when it wakes up.
        zombie.send(API_PRODUCE, 7, produce_body(topic, p, build_batch([(None, zombie_value, [])]),
                                                 acks=1, timeout_ms=5000))
    finally:
        c[2].sigcont()
    paused = time.monotonic() - t_pause
    try:
        _, body = zombie.recv_frame(timeout_s=10.0)
        zr = decode_produce(body)["responses"][0]["partitions"][0]
    except Closed:
        zr = {"error_code": "connection closed", "base_offset": -1}
    finally:
        zombie.close()
    # And one sent right after SIGCONT.
    try:
        with c[2].conn(timeout_s=10.0) as k:
            fr = produce_one(k, topic, p, fresh_value, acks=1)
    except Closed:
        fr = {"error_code": "connection closed", "base_offset": -1}
    if zr["error_code"] == 0:
        acks1[zr["base_offset"]] = zombie_value
    if fr["error_code"] == 0:
        acks1[fr["base_offset"]] = fresh_value

    # Broker 2 follows, truncates, and catches up.
    c.wait_isr(topic, p, {2, 3}, timeout_s=20)
    end = wait_for(lambda: replicas_converged(c, topic, p, (2, 3)), 20,
                   "broker 2 caught up with the new leader", ctx=c.ctx)
    log = read_log(leader_broker(c, topic, p), topic, p)
    assert len(log) == end
    final = dict(log)
    check_acked(final, committed, "acks=all")

    discarded_events = events_for(c[2], "writes_discarded", topic, p, since=mark2)
    recs, out = dump_records(c[2].partition_dir(topic, p), "--discarded")
    discarded = dict(recs)
    unaccounted = [(o, v, final.get(o), discarded.get(o)) for o, v in sorted(acks1.items())
                   if final.get(o) != v and discarded.get(o) != v]
    assert not unaccounted, ("acks=1 writes neither on the new leader nor in discarded/ "
                             f"(offset, value, leader has, discarded has): {unaccounted}\n"
                             f"dump-log --discarded:\n{out[-3000:]}")
    gone = sorted(o for o, v in acks1.items() if final.get(o) != v)
    assert gone, ("no acks=1 write was discarded: broker 3 had them all "
                  f"(acks=1 offsets {sorted(acks1)}, log end {end})")
    assert discarded_events, "no writes_discarded line on broker 2" + c[2].ctx()
    covered = [o for o in gone if any(int(e["first_offset"]) <= o < int(e["next_offset"])
                                      for e in discarded_events)]
    assert covered == gone, (gone, discarded_events)
    files = {f.name for f in (c[2].partition_dir(topic, p) / "discarded").iterdir()}
    for e in discarded_events:
        assert {e["preserved_as"] + ".log", e["preserved_as"] + ".meta"} <= files, (e, files)
    print(f"paused leader: {paused:.2f}s paused; zombie write answered {zr}; fresh write "
          f"answered {fr}; discarded offsets {gone}; events {discarded_events}")
    # Refused means never appended: not answered-with-an-error after an
    # append (its log would hold a write taken by a leader without a lease).
    appended = [(name, o) for name, val in (("queued before SIGCONT", zombie_value),
                                            ("sent after SIGCONT", fresh_value))
                for o, v in list(final.items()) + recs if v == val]
    assert not appended, (f"the old leader appended writes after its lease lapsed (answered "
                          f"{zr['error_code']} and {fr['error_code']}; where: {appended})\n"
                          f"dump-log --discarded:\n{out[-3000:]}")
    assert zr["error_code"] != 0, (
        f"the old leader, paused {paused:.1f}s (> session timeout {SESSION_MS} ms) while broker "
        f"3 was elected, acknowledged a write queued before SIGCONT: {zr}")
    assert fr["error_code"] != 0, (
        f"the old leader acknowledged a write sent right after SIGCONT: {fr}")
