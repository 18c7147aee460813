"""Description: libreplog (client/replog.h) and `replog receipt` against real clusters.

Real replogd processes on 127.0.0.1 (tests/cluster/replogd.py's `cluster`;
broker 1 runs the single controller and is never paused or killed here),
libreplog driven through tests/tools/rlclient (one JSON line per event on
stdout, read while it runs), receipts checked with `replog receipt`, and
logs read back by raw Fetch (test_replication.read_log) or kcat:

  * partitioner: for 1000 keys (ASCII and multi-byte UTF-8, every length
    mod 4) and 6, 7 and 13 partitions, the partition libreplog computes is
    the one librdkafka picks with partitioner=murmur2_random (confluent-
    kafka delivery reports) and the one kcat -X partitioner=murmur2_random
    writes to;
  * receipts: 200 acks=all writes (RF 3, min ISR 2): every receipt is
    COMMITTED with the epoch it was written in, and its offset holds its
    value; a wrong CRC is DISCARDED (exit 4), an offset past the end
    PENDING (exit 3, also after --wait-ms), bad text a usage error (exit 2),
    an unknown topic an error (exit 1);
  * acks=1 writes lost in a failover: both followers paused, acks=1 writes
    acknowledged by the leader alone, the leader paused past the session
    timeout, a new leader in a later epoch takes acks=all writes at those
    offsets: every acks=1 receipt is DISCARDED, and `replog discarded`
    lists exactly those offsets on the old leader;
  * ordering under retries and a kill -9 of the leader: 3000 acks=all
    records at 1500/s, every one delivered once with REPLOG_OK, in produce
    order; in the log every value appears, first occurrences in produce
    order (duplicates from retries allowed, counted), and every receipt's
    offset holds its value;
  * consumer positions through kill -9 of the replica it reads from and of
    the leader: the offsets returned are 0, 1, 2, ... exactly, and each
    holds what the final log holds there;
  * read-your-writes: from a follower paused while the write was made, the
    consumer falls back to the leader after read_your_writes_fallback_ms and
    returns the write; from a follower that has it, it stays on the
    follower.

Every wait polls with a deadline; every loop is bounded in count and time.
"""
import json
import re
import subprocess
import threading
import time

import pytest

pytest.register_assert_rewrite("replogd")
from replogd import (BUILD, describe_replicas, flush, needs_broker, run_replog,  # noqa: E402
                     wait_for)
from test_replication import read_log, replicas_converged, state_ctx  # noqa: E402

pytest_plugins = ["replogd"]

RLCLIENT = BUILD / "tests" / "tools" / "rlclient"
pytestmark = [needs_broker,
              pytest.mark.skipif(not RLCLIENT.exists(),
                                 reason="REPLOG_BUILD_ROOT must name a build with "
                                        "tests/tools/rlclient")]

ck = pytest.importorskip("confluent_kafka")

SESSION_MS = 2000
LAG_MS = 2000
RUN_TIMEOUT_S = 120
FALLBACK_MS = 1000          # read_your_writes_fallback_ms, libreplog's default
RL_REQUEST_TIMEOUT_MS = 5000  # what rlclient sets request_timeout_ms to
FETCHER_MAX_WAIT_MS = 500   # broker/fetcher.c: a follower's fetch waits this long at most


# ---- rlclient, run in the background --------------------------------------------------------

class Rl:
    """One rlclient process; its stdout JSON lines are collected as they
    come (with their arrival time) by a reader thread."""

    def __init__(self, *args):
        self.args = [str(a) for a in args]
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen([str(RLCLIENT), *self.args], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._lock = threading.Lock()
        self._lines = []        # (monotonic time, parsed object or None)
        self.raw_bad = []       # lines that are not JSON
        self.stderr = b""
        self._out = threading.Thread(target=self._read_out, daemon=True)
        self._err = threading.Thread(target=self._read_err, daemon=True)
        self._out.start()
        self._err.start()

    def _read_out(self):
        for raw in self.proc.stdout:  # ends at EOF, when the process exits
            t = time.monotonic()
            try:
                obj = json.loads(raw)
            except ValueError:
                obj = None
                self.raw_bad.append(raw)
            with self._lock:
                self._lines.append((t, obj))

    def _read_err(self):
        self.stderr = self.proc.stderr.read()

    def lines(self):
        """Every JSON line but the {"position": P} one consume starts with."""
        with self._lock:
            return [o for _, o in self._lines if o is not None and "position" not in o]

    def timed(self):
        with self._lock:
            return [(t, o) for t, o in self._lines if o is not None and "position" not in o]

    def positions(self):
        with self._lock:
            return [o["position"] for _, o in self._lines if o and "position" in o]

    def deliveries(self):
        return [o for o in self.lines() if "i" in o]

    def messages(self):
        return [o for o in self.lines() if "offset" in o]

    def errors(self):
        return [o for o in self.lines() if "error" in o]

    def running(self):
        return self.proc.poll() is None

    def wait(self, timeout_s=RUN_TIMEOUT_S):
        """Wait for the exit (killed and failed after timeout_s): its code."""
        try:
            rc = self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"rlclient did not finish within {timeout_s}s" + self.ctx())
        self._out.join(10)
        self._err.join(10)
        return rc

    def kill(self):
        if self.running():
            self.proc.kill()
            self.proc.wait(timeout=10)

    def ctx(self, n=8):
        lines = self.lines()
        return (f"\n--- rlclient {' '.join(self.args)}: rc={self.proc.poll()}, {len(lines)} "
                f"lines, last {n}: {lines[-n:]}\n--- errors: {self.errors()[:5]}"
                f"\n--- stderr: {self.stderr[-1500:]!r}" +
                (f"\n--- not JSON: {self.raw_bad[:3]!r}" if self.raw_bad else ""))


@pytest.fixture
def rl():
    """Factory: rl(args...) -> Rl; whatever still runs at teardown is killed."""
    made = []

    def make(*args):
        r = Rl(*args)
        made.append(r)
        return r

    yield make
    for r in made:
        r.kill()


def rl_run(*args, timeout_s=RUN_TIMEOUT_S):
    """rlclient to completion: (rc, [JSON objects])."""
    p = subprocess.run([str(RLCLIENT), *map(str, args)], capture_output=True,
                       timeout=timeout_s, check=False)
    return p.returncode, [json.loads(x) for x in p.stdout.decode().splitlines() if x.strip()]


# ---- receipts -------------------------------------------------------------------------------

class Receipt:
    def __init__(self, text):
        self.text = text
        topic, p, off, epoch, crc = text.rsplit(":", 4)
        self.topic, self.partition, self.offset = topic, int(p), int(off)
        self.epoch, self.crc = int(epoch), int(crc, 16)

    def with_(self, offset=None, crc=None):
        return (f"{self.topic}:{self.partition}:{self.offset if offset is None else offset}:"
                f"{self.epoch}:{self.crc if crc is None else crc:08x}")

    def __repr__(self):
        return self.text


def receipt_cmd(boot, *receipts, wait_ms=None, timeout_s=60):
    args = ["receipt", "-b", boot]
    if wait_ms is not None:
        args += ["--wait-ms", wait_ms]
    return run_replog(*args, *receipts, timeout_s=timeout_s)


RECEIPT_LINE = re.compile(r"^(?P<receipt>\S+) (?P<status>COMMITTED|PENDING|DISCARDED|EXPIRED) "
                          r"stored_epoch=(?P<epoch>-?\d+)$")


def receipt_lines(run):
    """{receipt text: (status, stored epoch)} of a `replog receipt` run; every
    line must parse."""
    out = {}
    for line in run.out.splitlines():
        m = RECEIPT_LINE.match(line)
        assert m, f"`replog receipt` line does not parse: {line!r}\n{run!r}"
        out[m["receipt"]] = (m["status"], int(m["epoch"]))
    return out


def delivered(prod, n):
    """The n deliveries of a finished `rlclient produce`: {i: Receipt}; each
    record called back exactly once, with REPLOG_OK, and the run flushed."""
    ds = prod.deliveries()
    idx = [d["i"] for d in ds]
    assert sorted(idx) == list(range(n)), (
        f"{len(ds)} delivery callbacks for {n} records; missing "
        f"{sorted(set(range(n)) - set(idx))[:10]}, called back twice "
        f"{sorted(i for i in set(idx) if idx.count(i) > 1)[:10]}" + prod.ctx())
    bad = [d for d in ds if d["err"] != "REPLOG_OK"]
    assert not bad, f"{len(bad)} records not delivered: {bad[:5]}" + prod.ctx()
    done = [o for o in prod.lines() if o.get("done")]
    assert done == [{"done": True, "flush": "REPLOG_OK"}], prod.ctx()
    return {d["i"]: Receipt(d["receipt"]) for d in ds}


# ---- topics and placement -------------------------------------------------------------------

def place(c, topic, replicas, min_isr=2):
    """Create `topic` with one partition per broker (the controller assigns
    replicas round-robin from a rotating start over the brokers by id, so
    each rotation is one partition's list) and return the partition whose
    replica list (preferred leader first) is `replicas`, once that leader
    leads it. Only manual assignments onto a lone broker are accepted, so
    this is how a test picks its leader and followers."""
    c.create_topic(topic, c.n, len(replicas), min_isr)
    found = {p: c.partition(topic, p)["replica_nodes"] for p in range(c.n)}
    for p, nodes in found.items():
        if list(nodes) == list(replicas):
            wait_for(lambda: c.leader(topic, p) == replicas[0]
                     and c.leader(topic, p, c[replicas[0]]) == replicas[0], 30,
                     f"broker {replicas[0]} to lead {topic}-{p}", ctx=c.ctx)
            return p
    raise AssertionError(f"no partition of {topic} has replicas {replicas}: {found}")


def boot_of(c, *ids):
    return ",".join(c[i].bootstrap for i in ids)


def values_at(log):
    return {o: v for o, v in log}


# ---- 1. the partitioner ---------------------------------------------------------------------

def make_keys(n):
    """n distinct keys: ASCII and multi-byte UTF-8 (bytes >= 0x80, where a
    signed-char murmur2 goes wrong), all lengths mod 4; no ':' (kcat -K:),
    no space, quote or backslash (rlclient prints keys into JSON as they
    are)."""
    shapes = [lambda i: f"k{i}",
              lambda i: f"user-{i:05d}",
              lambda i: f"\u00e9t\u00e9-{i}-\u00df",
              lambda i: f"order/{i * 7919}/\u20ac",
              lambda i: "x" * (i % 37) + str(i),
              lambda i: f"\u65e5\u672c{i}",
              lambda i: f"{i:x}-" + "\u00ff" * (i % 5)]
    keys = [shapes[i % len(shapes)](i) for i in range(n)]
    assert len(set(keys)) == n
    return keys


def test_partitioner_matches_librdkafka_murmur2_random_and_kcat(cluster):
    c = cluster(3, session_timeout_ms=SESSION_MS, lag_max_ms=LAG_MS)
    keys = make_keys(1000)
    assert {len(k.encode()) % 4 for k in keys} == {0, 1, 2, 3}
    summary = []
    for nparts in (6, 7, 13):
        rc, out = rl_run("partition", nparts, *keys)
        assert rc == 0 and len(out) == len(keys), (rc, out[:3])
        assert [o["key"] for o in out] == keys, "rlclient partition echoed other keys"
        ours = [o["partition"] for o in out]
        assert all(0 <= p < nparts for p in ours), ours

        # librdkafka (confluent-kafka), partitioner murmur2_random.
        topic = f"keys{nparts}-ck"
        c.create_topic(topic, nparts, 1, 1)
        got = {}

        def report(err, msg, got=got):
            got[int(msg.value())] = msg.partition() if err is None else err
        prod = ck.Producer({"bootstrap.servers": c.bootstrap, "partitioner": "murmur2_random",
                            "linger.ms": 5})
        for i, k in enumerate(keys):
            prod.produce(topic, key=k.encode(), value=str(i).encode(), on_delivery=report)
            prod.poll(0)
        assert flush(prod, c[1]) == 0, "confluent-kafka: records undelivered" + c.ctx()
        assert sorted(got) == list(range(len(keys))), f"{len(got)} delivery reports"
        theirs = [got[i] for i in range(len(keys))]
        diff = [(keys[i], ours[i], theirs[i]) for i in range(len(keys)) if ours[i] != theirs[i]]
        assert not diff, (f"{nparts} partitions: libreplog and librdkafka murmur2_random differ "
                          f"for {len(diff)} of {len(keys)} keys (key, libreplog, librdkafka): "
                          f"{diff[:8]}")

        # kcat -X partitioner=murmur2_random, read back with its partition.
        topic = f"keys{nparts}-kcat"
        c.create_topic(topic, nparts, 1, 1)
        data = "".join(f"{k}:{i}\n" for i, k in enumerate(keys)).encode()
        c[1].kcat("-P", "-t", topic, "-K:", "-X", "partitioner=murmur2_random", input=data)
        r = c[1].kcat("-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%s %p %k\\n")
        back = {}
        for line in r.stdout.decode().splitlines():
            i, p, k = line.split(" ", 2)
            assert keys[int(i)] == k, f"kcat read key {k!r} with value {i}"
            back[int(i)] = int(p)
        assert sorted(back) == list(range(len(keys))), f"kcat read {len(back)} records back"
        diff = [(keys[i], ours[i], back[i]) for i in range(len(keys)) if ours[i] != back[i]]
        assert not diff, (f"{nparts} partitions: libreplog and kcat murmur2_random differ for "
                          f"{len(diff)} of {len(keys)} keys (key, libreplog, kcat): {diff[:8]}")
        summary.append(f"{nparts}: {len(set(ours))} partitions used")
    print("partitioner: 1000 keys agree with librdkafka and kcat;", "; ".join(summary))


# ---- 2. receipts of acks=all writes ---------------------------------------------------------

def test_receipts_of_acks_all_writes(cluster, rl):
    c = cluster(3, session_timeout_ms=SESSION_MS, lag_max_ms=LAG_MS)
    topic = "receipts"
    c.create_topic(topic, 3, 3, 2)
    n = 200
    prod = rl("produce", c.bootstrap, topic, "all", n)
    assert prod.wait() == 0, prod.ctx()
    rcpts = delivered(prod, n)

    # The partitioner picked each record's partition (keys k<i>, 3 partitions).
    rc, out = rl_run("partition", 3, *[f"k{i}" for i in range(n)])
    assert rc == 0
    want_part = {i: o["partition"] for i, o in enumerate(out)}
    wrong = [(i, r.partition, want_part[i]) for i, r in rcpts.items()
             if r.partition != want_part[i]]
    assert not wrong, f"records not in murmur2(key) % 3 (i, receipt, expected): {wrong[:5]}"
    assert all(r.topic == topic for r in rcpts.values())
    by_part = {}
    for i in range(n):
        by_part.setdefault(rcpts[i].partition, []).append(rcpts[i].offset)
    for p, offs in by_part.items():  # acknowledged in produce order, one offset each
        assert offs == sorted(offs) and len(set(offs)) == len(offs), (p, offs)

    # Each receipt's offset holds its value.
    logs = {p: values_at(read_log(c[c.leader(topic, p)], topic, p)) for p in range(3)}
    wrong = [(i, r, logs[r.partition].get(r.offset)) for i, r in rcpts.items()
             if logs[r.partition].get(r.offset) != b"v%d" % i]
    assert not wrong, f"receipts whose offset holds another value: {wrong[:5]}"

    # Every receipt COMMITTED, with the epoch it was written in.
    run = receipt_cmd(c.bootstrap, *[rcpts[i].text for i in range(n)])
    assert run.rc == 0, run
    got = receipt_lines(run)
    assert len(run.out.splitlines()) == n and set(got) == {r.text for r in rcpts.values()}, run
    bad = [(t, s) for t, s in got.items() if s != ("COMMITTED", Receipt(t).epoch)]
    assert not bad, f"receipts not COMMITTED at their epoch (receipt, (status, stored)): {bad[:5]}"
    epochs = {p: c.partition(topic, p)["leader_epoch"] for p in range(3)}
    assert all(r.epoch == epochs[r.partition] for r in rcpts.values()), epochs

    # A wrong CRC at a committed offset: another write holds it.
    r0 = rcpts[0]
    forged = r0.with_(crc=r0.crc ^ 0x1)
    run = receipt_cmd(c[2].bootstrap, forged)
    assert run.rc == 4 and receipt_lines(run) == {forged: ("DISCARDED", -1)}, run

    # Past the end: PENDING, also after waiting.
    ends = {p: max(offs) + 1 for p, offs in by_part.items()}
    at_end = r0.with_(offset=ends[r0.partition])
    beyond = r0.with_(offset=ends[r0.partition] + 1000)
    run = receipt_cmd(c.bootstrap, at_end, beyond)
    assert run.rc == 3, run
    assert receipt_lines(run) == {at_end: ("PENDING", -1), beyond: ("PENDING", -1)}, run
    run = receipt_cmd(c.bootstrap, beyond, wait_ms=400)
    assert run.rc == 3 and receipt_lines(run) == {beyond: ("PENDING", -1)}, run
    assert run.took_s >= 0.4, f"--wait-ms 400 returned PENDING after {run.took_s:.2f}s"

    # The exit code is the worst status: committed + pending = 3; + discarded = 4.
    run = receipt_cmd(c.bootstrap, rcpts[1].text, beyond)
    assert run.rc == 3 and receipt_lines(run)[rcpts[1].text][0] == "COMMITTED", run
    run = receipt_cmd(c.bootstrap, rcpts[1].text, forged, beyond)
    assert run.rc == 4, run
    assert [s for s, _ in receipt_lines(run).values()] == ["COMMITTED", "DISCARDED", "PENDING"], run

    # Not a receipt: usage error, nothing asked, nothing printed.
    for text in ("garbage", f"{topic}:0:12", f"{topic}:x:1:1:abc", f"{topic}:0:1:1:xyz",
                 f"{topic}:0:-5:1:abc", ""):
        run = receipt_cmd(c.bootstrap, text)
        assert run.rc == 2 and run.out == "", (text, run)
    run = receipt_cmd(c.bootstrap, rcpts[1].text, "not-a-receipt")
    assert run.rc == 2 and run.out == "", run

    # No such topic: an error (1), said on stderr.
    run = receipt_cmd(c.bootstrap, "no-such-topic:0:0:1:deadbeef")
    assert run.rc == 1 and run.err.strip(), run
    print(f"receipts: {n} COMMITTED over partitions {sorted(by_part)} at epochs {epochs}")


# ---- 3. acks=1 writes lost in a failover: DISCARDED -----------------------------------------

DISCARD_LINE = re.compile(
    r"broker: (?P<broker>\d+) topic: (?P<topic>\S+) partition: (?P<partition>\d+) "
    r"time: \S+ reason: (?P<reason>\S+) "
    r"offsets: \[(?P<first>-?\d+),(?P<next>-?\d+)\) records: (?P<records>\d+|unknown) "
    r"batches: (?P<batches>\d+) bytes: (?P<bytes>\d+) epochs: (?P<emin>-?\d+)\.\.(?P<emax>-?\d+) "
    r"file: (?P<file>\S+) detail: (?P<detail>.*)$")


def test_acks1_writes_lost_in_a_failover_are_discarded(cluster, rl):
    """RF 3 on brokers 2, 3, 4 (a fourth broker, so that the followers
    paused are not broker 1, the controller: pausing it would stop the
    leader's lease renewals). The followers are paused for less than
    lag_max_ms and the session timeout (they stay in the ISR), first for
    longer than a follower fetch can wait at the leader, so that no fetch
    of theirs is parked there to carry the acks=1 writes to them."""
    c = cluster(4, session_timeout_ms=SESSION_MS, lag_max_ms=LAG_MS)
    topic = "lost"
    leader, followers = 2, (3, 4)
    p = place(c, topic, [leader, *followers])
    epoch0 = c.partition(topic, p)["leader_epoch"]
    base = rl("produce", c.bootstrap, topic, "all", 10, p)
    assert base.wait() == 0, base.ctx()
    nbase = len(delivered(base, 10))
    wait_for(lambda: replicas_converged(c, topic, p, (2, 3, 4)) == nbase, 10,
             "every replica at the committed end", ctx=state_ctx(c, topic, p))

    n1 = 12
    for f in followers:
        c[f].sigstop()
    t_stop = time.monotonic()
    try:
        wait_for(lambda: time.monotonic() - t_stop > (FETCHER_MAX_WAIT_MS + 200) / 1000, 5,
                 "the followers' parked fetches to be answered")
        acks1 = rl("produce", c[leader].bootstrap, topic, 1, n1, p)
        rc = acks1.wait(timeout_s=10)
        paused = time.monotonic() - t_stop
        assert rc == 0, acks1.ctx()
        r1 = delivered(acks1, n1)
        assert set(c.partition(topic, p)["isr_nodes"]) == {2, 3, 4}, \
            "a follower left the ISR during its short pause" + c.ctx()
        c[leader].sigstop()
    finally:
        for f in followers:
            c[f].sigcont()
    assert paused < min(SESSION_MS, LAG_MS) / 1000, \
        f"the followers were paused {paused:.2f}s, past the session/lag timeouts"
    offs1 = sorted(r.offset for r in r1.values())
    assert offs1 == list(range(nbase, nbase + n1)), offs1
    assert {r.epoch for r in r1.values()} == {epoch0}, r1

    t_pause = time.monotonic()
    try:
        new = c.wait_leader(topic, p, not_in=(leader,), timeout_s=20)
        epoch1 = c.partition(topic, p)["leader_epoch"]
        assert new in followers and epoch1 > epoch0, (new, epoch0, epoch1)
        # acks=all writes through the new leader fill the acks=1 offsets.
        fill = rl("produce", boot_of(c, new, 1), topic, "all", n1 + 4, p)
        assert fill.wait() == 0, fill.ctx()
        rf = delivered(fill, n1 + 4)
        fill_offs = sorted(r.offset for r in rf.values())
        assert fill_offs == list(range(nbase, nbase + n1 + 4)), (
            f"the new leader wrote at offsets {fill_offs[0]}..{fill_offs[-1]}, not from "
            f"{nbase}: it already held acks=1 writes, which a follower fetch parked at the "
            f"old leader before the pause must have carried" + state_ctx(c, topic, p)())
        assert {r.epoch for r in rf.values()} == {epoch1}, rf
        # The old leader stays paused past the session timeout (a duration).
        wait_for(lambda: time.monotonic() - t_pause > SESSION_MS / 1000 + 0.2, 10,
                 "the pause to outlast the session timeout")
    finally:
        c[leader].sigcont()

    live = boot_of(c, new, 1)
    run = receipt_cmd(live, *[r1[i].text for i in range(n1)], wait_ms=10000)
    got = receipt_lines(run)
    assert run.rc == 4, run
    not_discarded = {t: s for t, s in got.items() if s[0] != "DISCARDED"}
    assert not not_discarded and len(got) == n1, (
        f"acks=1 receipts of writes only the old leader had, not DISCARDED: {not_discarded}\n"
        f"{run!r}")
    run = receipt_cmd(live, *[rf[i].text for i in range(n1 + 4)])
    assert run.rc == 0, run
    assert {s for s in receipt_lines(run).values()} == {("COMMITTED", epoch1)}, run
    # The same values (rlclient writes v0, v1, ... each run) at the same
    # offsets: what tells the writes apart is the batch CRC, which covers
    # their timestamps too.
    log = values_at(read_log(c[new], topic, p))
    assert [log[nbase + i] for i in range(n1)] == [b"v%d" % i for i in range(n1)], log

    # The old leader truncated exactly the acks=1 tail and says so.
    def listed():
        r = run_replog("discarded", "-b", live, "--topic", topic)
        lines = [DISCARD_LINE.match(x) for x in r.out.splitlines() if x.startswith("broker:")]
        return (r, lines) if r.rc == 0 and lines else None
    r, lines = wait_for(listed, 20, "the old leader's discarded writes to be listed",
                        interval_s=0.2, ctx=c.ctx)
    assert all(lines) and len(lines) == 1, r
    d = lines[0]
    assert (int(d["broker"]), d["topic"], int(d["partition"])) == (leader, topic, p), r
    assert (int(d["first"]), int(d["next"])) == (nbase, nbase + n1), r
    assert d["records"] == str(n1) and int(d["emin"]) == int(d["emax"]) == epoch0, r
    wait_for(lambda: replicas_converged(c, topic, p, (2, 3, 4)), 20,
             "the old leader to catch up as a follower", ctx=state_ctx(c, topic, p))
    print(f"acks=1 lost: {n1} receipts DISCARDED (offsets {nbase}..{nbase + n1 - 1}, epoch "
          f"{epoch0}); broker {new} leads in epoch {epoch1}; followers paused {paused:.2f}s")


# ---- 4. ordering under retries and a leader kill -9 -----------------------------------------

def test_order_kept_through_leader_kill9(cluster, rl):
    c = cluster(3, session_timeout_ms=SESSION_MS, lag_max_ms=LAG_MS)
    topic = "ordered"
    p = place(c, topic, [2, 3, 1])
    n = 3000
    prod = rl("produce", c.bootstrap, topic, "all", n, p, 1500)
    wait_for(lambda: len(prod.deliveries()) >= 1000, 30, "1000 deliveries",
             ctx=lambda: prod.ctx() + c.ctx())
    at_kill = len(prod.deliveries())
    c[2].kill9()
    new = c.wait_leader(topic, p, not_in=(2,), timeout_s=20)
    wait_for(lambda: len(prod.deliveries()) >= at_kill + 300 or not prod.running(), 30,
             "deliveries through the new leader", ctx=lambda: prod.ctx() + c.ctx())
    c[2].start()
    assert prod.wait() == 0, prod.ctx()
    rcpts = delivered(prod, n)
    order = [d["i"] for d in prod.deliveries()]
    assert order == list(range(n)), (
        "delivery callbacks out of produce order: first out of place at "
        f"{next(k for k, i in enumerate(order) if i != k)}")
    offs = [rcpts[i].offset for i in range(n)]
    assert all(a < b for a, b in zip(offs, offs[1:])), "receipt offsets not increasing"

    lead = c[c.wait_leader(topic, p)]
    log = read_log(lead, topic, p)
    vals = values_at(log)
    want = {b"v%d" % i: i for i in range(n)}
    firsts, seen, dups, strangers = [], set(), 0, []
    for o, v in log:
        if v not in want:
            strangers.append((o, v))
        elif v in seen:
            dups += 1
        else:
            seen.add(v)
            firsts.append(want[v])
    assert not strangers, strangers[:5]
    missing = sorted(set(range(n)) - {want[v] for v in seen})
    assert not missing, f"{len(missing)} acknowledged values not in the log: {missing[:10]}"
    back = [(a, b) for a, b in zip(firsts, firsts[1:]) if b <= a]
    assert not back, f"first copies out of produce order (value before, after): {back[:10]}"
    wrong = [(i, rcpts[i].offset, vals.get(rcpts[i].offset)) for i in range(n)
             if vals.get(rcpts[i].offset) != b"v%d" % i]
    assert not wrong, f"receipts whose offset holds another value: {wrong[:5]}"
    print(f"order: {n} records, kill -9 of broker 2 after {at_kill} deliveries, broker {new} "
          f"led next; log {len(log)} records, {dups} duplicates")


# ---- 5. consumer positions through leader and replica kills ---------------------------------

def test_consumer_positions_through_leader_and_replica_kill9(cluster, rl):
    """A consumer reads from follower 3 while acks=all writes go on; the
    leader is killed (-9) and restarted, then broker 3, the replica read
    from. The consumer must go on while each is down (from another replica
    or the leader: sources may change) and return offsets 0, 1, 2, ...
    exactly once each, never going back."""
    c = cluster(3, session_timeout_ms=SESSION_MS, lag_max_ms=LAG_MS)
    topic = "positions"
    p = place(c, topic, [2, 3, 1])
    n = 6000
    prod = rl("produce", c.bootstrap, topic, "all", n, p, 800)
    cons = rl("consume", c.bootstrap, topic, p, -2, n, 3)

    def got(k):
        return lambda: len(cons.messages()) >= k or not cons.running()

    def ctx():
        return cons.ctx() + prod.ctx(3) + state_ctx(c, topic, p)()

    wait_for(got(400), 30, "400 messages read from broker 3", ctx=ctx)
    first = cons.messages()[:400]
    assert {m["source"] for m in first} == {3}, \
        f"the consumer did not read from replica 3: sources {[m['source'] for m in first][:20]}"
    # The leader dies; the consumer reads from its follower on.
    c[2].kill9()
    kl = len(cons.messages())
    new = c.wait_leader(topic, p, not_in=(2,), timeout_s=20)
    wait_for(got(kl + 300), 30, "300 more messages after broker 2, the leader, died", ctx=ctx)
    c[2].start()
    wait_for(got(len(cons.messages()) + 200), 30, "200 more messages", ctx=ctx)
    # The replica read from dies: the consumer must go on from another one.
    c[3].kill9()
    k3 = len(cons.messages())
    wait_for(got(k3 + 300), 20,
             "300 more messages while broker 3, the replica the consumer read from, is down",
             ctx=ctx)
    c[3].start()
    assert prod.wait() == 0, prod.ctx()
    assert cons.wait() == 0, ctx()
    msgs = cons.messages()
    offs = [m["offset"] for m in msgs]
    bad = [(a, b) for a, b in zip(offs, offs[1:]) if b != a + 1]
    assert offs[:1] == [0] and not bad, (
        f"consumer offsets not 0, 1, 2, ...: first {offs[:1]}, breaks (offset, next) {bad[:10]}")
    assert len(msgs) == n, len(msgs)
    epochs = [m["epoch"] for m in msgs]
    assert all(a <= b for a, b in zip(epochs, epochs[1:])), "batch epochs went back"
    log = values_at(read_log(c[c.wait_leader(topic, p)], topic, p))
    wrong = [(m["offset"], m["value"], log.get(m["offset"])) for m in msgs
             if log.get(m["offset"]) != m["value"].encode()]
    assert not wrong, f"the consumer returned records the log does not hold: {wrong[:5]}"
    sources = []
    for m in msgs:
        if not sources or sources[-1][0] != m["source"]:
            sources.append((m["source"], m["offset"]))
    print(f"positions: {n} messages 0..{n - 1}; leader 2 killed at {kl} (broker {new} led "
          f"next), replica 3 killed at {k3}; sources (broker, from offset) {sources}")


# ---- 6. read-your-writes from a follower ----------------------------------------------------

def test_read_your_writes_falls_back_from_a_lagging_follower(cluster, rl):
    """Broker 3 follows broker 2. lag_max_ms is short and the session long:
    paused, broker 3 leaves the ISR (so acks=all writes commit without it)
    but is not fenced."""
    c = cluster(3, session_timeout_ms=10000, lag_max_ms=1000)
    topic = "ryw"
    leader, f = 2, 3
    p = place(c, topic, [leader, f, 1])
    base = rl("produce", c.bootstrap, topic, "all", 20, p)
    assert base.wait() == 0, base.ctx()
    r0 = delivered(base, 20)[19]
    wait_for(lambda: describe_replicas(c[f], topic, p)["high_watermark"] > r0.offset, 10,
             "the follower's HW past the last write", ctx=state_ctx(c, topic, p))

    # Not lagging: read from the follower, which has the write.
    cons = rl("consume", boot_of(c, leader, 1), topic, p, r0.offset, 1, f, r0.text)
    assert cons.wait(30) == 0, cons.ctx()
    lines = cons.lines()
    assert lines == [{"ryw": "REPLOG_OK", "source": f},
                     {"offset": r0.offset, "epoch": r0.epoch, "value": "v19", "source": f}], \
        cons.ctx()

    # Lagging: broker 3 paused while the write is made, and still paused.
    c[f].sigstop()
    t_stop = time.monotonic()
    try:
        w = rl("produce", boot_of(c, leader, 1), topic, "all", 5, p)
        assert w.wait(30) == 0, w.ctx()
        r1 = delivered(w, 5)[4]
        assert r1.offset == r0.offset + 5, (r0, r1)
        assert f not in c.partition(topic, p)["isr_nodes"], c.partition(topic, p)
        cons = rl("consume", boot_of(c, leader, 1), topic, p, r1.offset, 1, f, r1.text)
        wait_for(lambda: cons.lines() or not cons.running(), 30, "the read-your-writes answer",
                 ctx=cons.ctx)
        t_ryw, ryw = cons.timed()[0]
        took = t_ryw - cons.t0
        rc = cons.wait(30)
        paused = time.monotonic() - t_stop
    finally:
        c[f].sigcont()
    assert rc == 0, cons.ctx()
    assert ryw == {"ryw": "REPLOG_OK", "source": leader}, cons.ctx()
    assert cons.lines()[1:] == [{"offset": r1.offset, "epoch": r1.epoch, "value": "v4",
                                 "source": leader}], cons.ctx()
    assert took >= FALLBACK_MS / 1000 - 0.05, \
        f"read from the leader after {took:.2f}s: before read_your_writes_fallback_ms"
    assert took < FALLBACK_MS / 1000 + 1.5, (
        f"read_your_writes with the replica paused answered after {took:.2f}s, not soon after "
        f"read_your_writes_fallback_ms ({FALLBACK_MS} ms); rlclient's request_timeout_ms is "
        f"{RL_REQUEST_TIMEOUT_MS}" + cons.ctx())
    assert paused < 10, f"broker {f} was paused {paused:.1f}s, past its session"

    # Caught up again: the follower serves read-your-writes itself.
    wait_for(lambda: describe_replicas(c[f], topic, p)["high_watermark"] > r1.offset, 20,
             "the follower to catch up", ctx=state_ctx(c, topic, p))
    cons = rl("consume", boot_of(c, leader, 1), topic, p, r1.offset, 1, f, r1.text)
    assert cons.wait(30) == 0, cons.ctx()
    assert cons.lines() == [{"ryw": "REPLOG_OK", "source": f},
                            {"offset": r1.offset, "epoch": r1.epoch, "value": "v4", "source": f}], \
        cons.ctx()
    print(f"read-your-writes: broker {f} paused -> leader {leader} after {took:.2f}s; "
          f"caught up -> broker {f}")


# ---- 7. where a consumer starts -------------------------------------------------------------

def test_consumer_starts_at_earliest_latest_and_a_timestamp(cluster, rl):
    """assign(EARLIEST) starts at 0, assign(LATEST) at the high watermark,
    seek_timestamp at the first record produced at or after that time."""
    c = cluster(3, session_timeout_ms=SESSION_MS, lag_max_ms=LAG_MS)
    topic = "starts"
    c.create_topic(topic, 1, 3, 2)
    rc, _ = rl_run("produce", c.bootstrap, topic, "all", 20, 0)
    assert rc == 0
    # Producer timestamps are wall-clock milliseconds: step past this one.
    mark = int(time.time() * 1000) + 5
    wait_for(lambda: time.time() * 1000 > mark + 5, 5, "the clock to move")
    rc, _ = rl_run("produce", c.bootstrap, topic, "all", 7, 0)
    assert rc == 0

    rc, out = rl_run("consume", c.bootstrap, topic, 0, -2, 3)
    assert rc == 0 and out[0] == {"position": 0}, out
    assert [m["offset"] for m in out[1:]] == [0, 1, 2], out
    rc, out = rl_run("consume", c.bootstrap, topic, 0, f"t{mark}", 7)
    assert rc == 0 and out[0] == {"position": 20}, out
    assert [m["value"] for m in out[1:]] == [f"v{i}" for i in range(7)], out
    rc, out = rl_run("consume", c.bootstrap, topic, 0, f"t{mark + 3_600_000}", 0)
    assert rc == 0 and out[0] == {"position": 27}, out  # later than every record: the end
    proc = rl("consume", c.bootstrap, topic, 0, -1, 2)
    wait_for(lambda: proc.positions() == [27], 30, "the latest position",
             ctx=proc.ctx)
    rc, _ = rl_run("produce", c.bootstrap, topic, "all", 2, 0)
    assert rc == 0
    assert proc.wait() == 0, proc.ctx()
    assert [m["offset"] for m in proc.messages()] == [27, 28], proc.ctx()
