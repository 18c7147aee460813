"""Description: consumers fetch from a follower replica (KIP-392 style).

Three real brokers (tests/cluster/replogd.py's `cluster`; broker 1 runs
the single controller and is never paused or stopped here). A consumer
Fetch (replica_id -1, raw protocol, v11 so current_leader_epoch is sent)
goes to a follower of the partition instead of its leader, and:

  * after acks=all writes (confluent-kafka, plain and zstd batches), every
    follower answers the same committed batches as the leader, byte for
    byte, and the values are what kcat reads through the leader;
  * a follower paused (SIGSTOP) past lag_max_ms misses writes; after
    SIGCONT, while the leader is paused so that the follower cannot catch
    up yet, a fetch at its HW, between its HW and the leader's, or at the
    leader's HW gets no records, no error (never OFFSET_OUT_OF_RANGE) and
    the follower's HW, also after a long poll; once the leader runs again
    the follower serves those records, and the HW it reports is never above
    the leader's and never moves back;
  * a long-poll fetch (max_wait 20 s, min_bytes 1) parked on each follower
    is answered soon after one new acks=all write, well before max_wait;
  * a broker that holds no replica of the partition (RF=1 elsewhere)
    answers NOT_LEADER_OR_FOLLOWER, at once even to a long poll;
  * after a leader change, a follower answers FENCED_LEADER_EPOCH to the
    old epoch and UNKNOWN_LEADER_EPOCH to a newer one than it knows.

Every wait polls with a deadline; every loop is bounded.
"""
import struct
import subprocess
import time

import pytest

pytest.register_assert_rewrite("replogd")
from replogd import (API_FETCH, KCAT, Reader, array, build_batch,  # noqa: E402
                     describe_replicas, flush, needs_broker, parse_batches, s16, wait_for)

pytest_plugins = ["replogd"]
pytestmark = needs_broker

ck = pytest.importorskip("confluent_kafka")

ERR_NONE = 0
ERR_OFFSET_OUT_OF_RANGE = 1
ERR_NOT_LEADER_OR_FOLLOWER = 6
ERR_FENCED_LEADER_EPOCH = 74
ERR_UNKNOWN_LEADER_EPOCH = 75

FETCH_VERSION = 11


# ---- Fetch v11, raw ----------------------------------------------------------------

def fetch11_body(topic, partition, offset, epoch=-1, max_wait_ms=0, min_bytes=1,
                 max_bytes=1 << 20, partition_max_bytes=1 << 20):
    """Fetch v11 from a consumer (replica_id -1), no session, one partition."""
    part = struct.pack(">iiqqi", partition, epoch, offset, -1, partition_max_bytes)
    return (struct.pack(">iiiibii", -1, max_wait_ms, min_bytes, max_bytes, 0, 0, -1)
            + array([s16(topic) + array([part])])
            + array([])     # forgotten_topics_data
            + s16(""))      # rack_id


def decode_fetch11(body):
    r = Reader(body)
    out = {"throttle_time_ms": r.i32(), "error_code": r.i16(), "session_id": r.i32()}

    def part(r):
        p = {"partition_index": r.i32(), "error_code": r.i16(), "high_watermark": r.i64(),
             "last_stable_offset": r.i64(), "log_start_offset": r.i64()}
        p["aborted_transactions"] = r.array(lambda r: (r.i64(), r.i64()))
        p["preferred_read_replica"] = r.i32()
        p["records"] = r.bytes32() or b""
        return p

    out["responses"] = r.array(lambda r: {"topic": r.string(), "partitions": r.array(part)})
    assert r.done(), "trailing bytes in a Fetch v11 response"
    return out


def fetch11_send(conn, topic, partition, offset, **kw):
    return conn.send(API_FETCH, FETCH_VERSION, fetch11_body(topic, partition, offset, **kw))


def fetch11_recv(conn, corr, timeout_s=None):
    got, body = conn.recv_frame(timeout_s)
    assert got == corr, f"correlation id {got}, expected {corr}"
    resp = decode_fetch11(body)
    assert resp["error_code"] == 0, resp
    return resp["responses"][0]["partitions"][0]


def fetch(b, topic, partition, offset, timeout_s=10.0, **kw):
    """One consumer Fetch v11 to broker b: its one partition entry."""
    with b.conn(timeout_s=timeout_s) as k:
        return fetch11_recv(k, fetch11_send(k, topic, partition, offset, **kw), timeout_s)


def read_batches(b, topic, p, end, epoch=-1, timeout_s=20.0):
    """Every batch of [0, end) by consumer fetches to broker b:
    [(base_offset, last_offset, bytes)], contiguous from 0, CRC checked,
    never a batch at or above the HW b reports."""
    out, nxt = [], 0
    deadline = time.monotonic() + timeout_s
    with b.conn() as k:
        for _ in range(100_000):
            if nxt >= end:
                return out
            r = fetch11_recv(k, fetch11_send(k, topic, p, nxt, epoch=epoch, max_wait_ms=100))
            assert r["error_code"] == ERR_NONE, f"fetch {topic}-{p}@{nxt} from {b.name}: {r}"
            assert r["preferred_read_replica"] == -1, r
            data = r["records"]
            for bt in parse_batches(data):
                if not bt["complete"]:
                    break
                assert bt["crc_ok"], bt
                assert bt["base_offset"] == nxt, (f"{b.name}: batch at {bt['base_offset']}, "
                                                  f"expected {nxt}")
                assert bt["last_offset"] < r["high_watermark"], \
                    f"{b.name} served offset {bt['last_offset']} at/above its HW {r}"
                out.append((bt["base_offset"], bt["last_offset"],
                            data[bt["position"]:bt["position"] + bt["size"]]))
                nxt = bt["last_offset"] + 1
            assert time.monotonic() < deadline, \
                f"{topic}-{p}: read up to {nxt} of {end} from {b.name} in {timeout_s}s" + b.ctx()
    raise AssertionError("unreachable")


# ---- placement ---------------------------------------------------------------------

def place(c, topic, replicas, min_isr=2):
    """Create `topic` with 3 partitions, RF 3 (the controller assigns them
    round-robin from a random start: each rotation of the brokers is one
    partition's replica list) and return the partition whose replica list
    (preferred leader first) is exactly `replicas`, led by replicas[0]."""
    c.create_topic(topic, 3, 3, min_isr)
    found = {p: c.partition(topic, p)["replica_nodes"] for p in range(3)}
    for p, nodes in found.items():
        if list(nodes) == list(replicas):
            assert c.wait_leader(topic, p) == replicas[0], c.partition(topic, p)
            return p
    raise AssertionError(f"no partition of {topic} has replicas {replicas}: {found}")


def produce_one(b, topic, p, value, timeout_s=10.0):
    """One acks=all single-record write to broker b: its offset."""
    with b.conn(timeout_s=timeout_s + 5) as k:
        r = k.produce(topic, p, build_batch([(None, value, [])]), acks=-1,
                      timeout_ms=int(timeout_s * 1000), timeout_s=timeout_s + 5)
    assert r["error_code"] == ERR_NONE, f"acks=all write to {b.name}: {r}" + b.ctx()
    return r["base_offset"]


def hw_of(b, topic, p):
    r = fetch(b, topic, p, 0, max_wait_ms=0, partition_max_bytes=1)
    assert r["error_code"] == ERR_NONE, f"{b.name}: {r}" + b.ctx()
    return r["high_watermark"]


# ---- 1. the same committed batches on every replica ----------------------------------

def test_followers_serve_the_leaders_committed_batches(cluster):
    c = cluster(3)
    topic = "ffr-same"
    c.create_topic(topic, 1, 3, 2)
    meta = c.partition(topic, 0)
    leader = c.wait_leader(topic, 0)
    followers = [i for i in meta["replica_nodes"] if i != leader]
    assert len(followers) == 2, meta
    acked = []

    def on_delivery(err, msg):
        assert err is None, err
        acked.append(msg.offset())

    for codec, n in (("none", 300), ("zstd", 200)):
        prod = ck.Producer({"bootstrap.servers": c.bootstrap, "acks": "all",
                            "linger.ms": 5, "compression.codec": codec,
                            "enable.idempotence": False})
        for i in range(n):
            prod.produce(topic, key=b"k%d" % (i % 7), value=b"%s-%05d" % (codec.encode(), i),
                         partition=0, on_delivery=on_delivery)
            if i % 50 == 49:
                prod.poll(0)
                assert flush(prod, c[leader]) == 0
        assert flush(prod, c[leader]) == 0
    assert sorted(acked) == list(range(500)), acked[:10]
    end = hw_of(c[leader], topic, 0)
    assert end == 500, end
    epoch = c.partition(topic, 0)["leader_epoch"]
    for f in followers:  # each learns the HW from its next fetch answer
        wait_for(lambda: hw_of(c[f], topic, 0) == end, 10, f"broker {f}'s HW at {end}",
                 ctx=c.ctx)
    want = read_batches(c[leader], topic, 0, end, epoch=epoch)
    assert len(want) >= 10, f"only {len(want)} batches"
    for f in followers:
        got = read_batches(c[f], topic, 0, end, epoch=epoch)
        assert [g[:2] for g in got] == [w[:2] for w in want], f"broker {f}: other batch bounds"
        diff = [g[0] for g, w in zip(got, want) if g[2] != w[2]]
        assert not diff, f"broker {f}: batches at {diff[:5]} differ from the leader's"
    # The values, as kcat reads them (through the leader), are the ones the
    # follower served (in its uncompressed batches; the zstd ones are the
    # leader's bytes, compared above).
    r = subprocess.run([KCAT, "-b", c.bootstrap, "-C", "-t", topic, "-p", "0", "-o",
                        "beginning", "-e", "-q", "-f", "%o %s\\n"],
                       capture_output=True, timeout=60, check=False)
    assert r.returncode == 0, r.stderr[-2000:]
    kc = dict(line.split(b" ", 1) for line in r.stdout.splitlines())
    assert len(kc) == 500, len(kc)
    served = {}
    for _base, _last, raw in read_batches(c[followers[0]], topic, 0, end):
        for bt in parse_batches(raw):
            for (o, _k, v, _h, _ts) in bt["records"] or ():
                served[o] = v
    # (librdkafka sends a batch uncompressed when zstd would not shrink it.)
    assert set(range(300)) <= set(served), sorted(set(range(300)) - set(served))[:5]
    bad = [o for o, v in served.items() if kc[b"%d" % o] != v]
    assert not bad, f"offsets {bad[:5]}: follower and kcat disagree"
    # A consumer's position at the HW: nothing yet, no error, on a follower too.
    r = fetch(c[followers[1]], topic, 0, end, epoch=epoch, max_wait_ms=0)
    assert (r["error_code"], r["records"], r["high_watermark"]) == (ERR_NONE, b"", end), r


# ---- 2. a lagging follower: no OFFSET_OUT_OF_RANGE, then the records ------------------

def test_lagging_follower_answers_empty_not_out_of_range(cluster):
    """Made deterministic: once the paused follower is thawed, the leader is
    paused (briefly, well within the session timeout) so that the follower
    cannot catch up while it is asked; its HW is exactly where it was."""
    session_ms, lag_ms = 6000, 1000
    c = cluster(3, session_timeout_ms=session_ms, lag_max_ms=lag_ms)
    topic = "ffr-lag"
    p = place(c, topic, [2, 3, 1])
    lead, lag = c[2], c[3]
    for i in range(5):
        assert produce_one(lead, topic, p, b"before-%d" % i) == i
    h0 = 5
    wait_for(lambda: hw_of(lag, topic, p) == h0, 10, "broker 3's HW at 5", ctx=c.ctx)
    told = []  # every HW broker 3 reports, in order

    lag.sigstop()
    t_stop = time.monotonic()
    try:
        # The first write waits until broker 3 leaves the ISR (lag rule).
        for i in range(5):
            assert produce_one(lead, topic, p, b"missed-%d" % i) == h0 + i
        h1 = h0 + 5
        assert hw_of(lead, topic, p) == h1
        lead.sigstop()
        try:
            lag.sigcont()
            # At most the one batch the leader sent before it was paused.
            leo = describe_replicas(lag, topic, p)["log_end_offset"]
            assert h0 <= leo <= h0 + 1, leo
            # At its HW, between its HW and the leader's (above its log end
            # too), at the leader's HW.
            for off in (h0, h0 + 2, h1):
                r = fetch(lag, topic, p, off, max_wait_ms=0)
                told.append(r["high_watermark"])
                assert r["error_code"] != ERR_OFFSET_OUT_OF_RANGE, \
                    f"OFFSET_OUT_OF_RANGE at {off} from a follower with HW {h0}, log end " \
                    f"{leo}, while the leader's HW is {h1}: a client would reset"
                assert (r["error_code"], r["records"]) == (ERR_NONE, b""), \
                    f"fetch at {off} from the lagging follower (its HW {h0}, the leader's " \
                    f"{h1}): {r}" + lag.ctx()
                assert r["high_watermark"] == h0, r
            # A long poll there ends at max_wait_ms, empty, still no error.
            t0 = time.monotonic()
            r = fetch(lag, topic, p, h0 + 2, max_wait_ms=400)
            took = time.monotonic() - t0
            told.append(r["high_watermark"])
            assert (r["error_code"], r["records"], r["high_watermark"]) == (ERR_NONE, b"", h0), r
            assert 0.3 <= took < 5, f"a 400 ms long poll answered after {took:.2f}s"
        finally:
            lead.sigcont()
    finally:
        if lag.paused:
            lag.sigcont()
    assert time.monotonic() - t_stop < session_ms / 1000, "paused past the session timeout"

    def caught_up():
        r = fetch(lag, topic, p, h0 + 2, max_wait_ms=200)
        leader_hw = hw_of(lead, topic, p)  # after: the leader's HW only grows
        assert r["error_code"] == ERR_NONE, r
        told.append(r["high_watermark"])
        assert r["high_watermark"] <= leader_hw, \
            f"the follower reports HW {r['high_watermark']}, the leader {leader_hw}"
        return r if r["records"] else None

    r = wait_for(caught_up, 20, "broker 3 serving the records it missed", ctx=c.ctx)
    assert told == sorted(told), f"the HW broker 3 reported moved back: {told}"
    got = [(bt["base_offset"], bt["records"][0][2]) for bt in parse_batches(r["records"])]
    assert got[0] == (h0 + 2, b"missed-2"), got
    assert all(o < r["high_watermark"] for o, _ in got), (got, r)
    want = read_batches(lead, topic, p, h1)
    mine = read_batches(lag, topic, p, h1, timeout_s=20)
    assert mine == want, "broker 3's batches differ from the leader's"


# ---- 3. long polling on a follower --------------------------------------------------

def test_long_poll_on_a_follower_is_answered_by_the_hw_move(cluster):
    c = cluster(3)
    topic = "ffr-poll"
    p = place(c, topic, [2, 3, 1])
    lead = c[2]
    assert produce_one(lead, topic, p, b"first") == 0
    for f in (3, 1):
        wait_for(lambda: hw_of(c[f], topic, p) == 1, 10, f"broker {f}'s HW at 1", ctx=c.ctx)
    conns = {f: c[f].conn(timeout_s=30) for f in (3, 1)}
    try:
        t_send = time.monotonic()
        corrs = {f: fetch11_send(k, topic, p, 1, max_wait_ms=20000, min_bytes=1)
                 for f, k in conns.items()}
        for f, k in conns.items():  # parked: nothing to answer yet
            with pytest.raises(TimeoutError):
                k.recv_frame(timeout_s=1.0)
        assert produce_one(lead, topic, p, b"second") == 1
        t_ack = time.monotonic()
        took = {}
        for f, k in conns.items():
            r = fetch11_recv(k, corrs[f], timeout_s=25)
            took[f] = (time.monotonic() - t_send, time.monotonic() - t_ack)
            assert r["error_code"] == ERR_NONE, r
            bts = parse_batches(r["records"])
            assert bts and bts[0]["records"][0][0:3:2] == (1, b"second"), (f, bts)
            assert r["high_watermark"] >= 2, r
        print("long poll on followers: answered (since sent, since acked) "
              + ", ".join(f"broker {f}: {a:.2f}s, {b:.2f}s" for f, (a, b) in took.items()))
        for f, (since_send, since_ack) in took.items():
            assert since_send < 10, f"broker {f} answered a 20 s long poll after " \
                f"{since_send:.2f}s ({since_ack:.2f}s after the write was acknowledged)"
    finally:
        for k in conns.values():
            k.close()


# ---- 4. not a replica ------------------------------------------------------------------

def test_a_broker_without_a_replica_answers_not_leader(cluster):
    c = cluster(3)
    topic = "ffr-rf1"
    c.create_topic(topic, 1, 1, 1)
    (owner,) = c.partition(topic, 0)["replica_nodes"]
    for i in (1, 2, 3):  # every broker knows the partition (and where it is)
        assert c.wait_leader(topic, 0, via=c[i]) == owner
    assert produce_one(c[owner], topic, 0, b"only") == 0
    r = fetch(c[owner], topic, 0, 0)
    assert r["error_code"] == ERR_NONE and r["records"], r
    for i in (1, 2, 3):
        if i == owner:
            continue
        t0 = time.monotonic()
        r = fetch(c[i], topic, 0, 0, max_wait_ms=5000)
        took = time.monotonic() - t0
        assert r["error_code"] == ERR_NOT_LEADER_OR_FOLLOWER, f"broker {i}: {r}"
        assert r["records"] == b"" and r["high_watermark"] == -1, r
        assert took < 2, f"broker {i} took {took:.2f}s to refuse"
        with c[i].conn() as k:  # Fetch v4 (no epoch): the same
            r4 = k.fetch(topic, 0, 0)
        assert r4["error_code"] == ERR_NOT_LEADER_OR_FOLLOWER, r4


# ---- 5. leader epochs on a follower ----------------------------------------------------

def test_follower_checks_current_leader_epoch(cluster):
    c = cluster(3)
    topic = "ffr-epoch"
    p = place(c, topic, [2, 3, 1])
    for i in range(10):
        assert produce_one(c[2], topic, p, b"e-%d" % i) == i
    old = c.partition(topic, p)["leader_epoch"]
    # A controlled shutdown of the leader: broker 3 leads in a new epoch,
    # broker 1 follows it.
    c[2].stop()
    assert c.wait_leader(topic, p, not_in=(2,)) == 3
    new = c.partition(topic, p)["leader_epoch"]
    assert new > old, (old, new)

    def follows_in_new():
        r = fetch(c[1], topic, p, 0, epoch=new, max_wait_ms=0)
        return r if r["error_code"] == ERR_NONE and r["high_watermark"] >= 10 else None

    wait_for(follows_in_new, 10, "broker 1 serving in the new epoch", ctx=c.ctx)
    r = fetch(c[1], topic, p, 0, epoch=old, max_wait_ms=0)
    assert r["error_code"] == ERR_FENCED_LEADER_EPOCH, f"old epoch {old} (now {new}): {r}"
    assert r["records"] == b"", r
    r = fetch(c[1], topic, p, 0, epoch=new + 1, max_wait_ms=0)
    assert r["error_code"] == ERR_UNKNOWN_LEADER_EPOCH, f"epoch {new + 1} (now {new}): {r}"
    # A fenced long poll is answered at once.
    t0 = time.monotonic()
    r = fetch(c[1], topic, p, 10, epoch=old, max_wait_ms=5000)
    assert r["error_code"] == ERR_FENCED_LEADER_EPOCH and time.monotonic() - t0 < 2, r
    # The leader says the same to the old epoch, and both serve the same
    # batches in the new one.
    r = fetch(c[3], topic, p, 0, epoch=old, max_wait_ms=0)
    assert r["error_code"] == ERR_FENCED_LEADER_EPOCH, r
    assert read_batches(c[1], topic, p, 10, epoch=new) == read_batches(c[3], topic, p, 10,
                                                                        epoch=new)
