"""Description: disk full and fsync errors on a leader, on a follower and on
the metadata log crash-stop the broker (exit 74), lose no acknowledged
write, and a restart with the disk fixed rejoins; a stalled fsync does not
stall a follower's other partitions when a leader moves.

Three real brokers (tests/cluster/replogd.py's `cluster`); broker 1 runs
the single controller and is never faulted. The data brokers run
replogd-faults, replogd with the test-only I/O fault hook (log/io.h,
tests/faults/fault_hook.c): each reads its REPLOG_FAULT_FILE, and a line
`KIND /topic-p/` there fails that partition's writes (enospc) or fsyncs
(eio-fsync), or holds its fsyncs (hold-fsync), from then on. Writes come
from a raw Kafka client sending single-record requests, one at a time,
each value once, to the leader broker 1 names, so every acknowledgement and
every error is exact.

  1. fsync EIO on the leader (RF 3, min ISR 2) under acks=all: the leader
     logs one storage_failed line and exits 74, the waiting request gets
     KAFKA_STORAGE_ERROR, a new leader is elected, every acknowledged
     record is at its offset, and the old leader, restarted with the fault
     gone, rejoins the ISR;
  2. ENOSPC on a follower: it exits 74, the ISR shrinks to the other two,
     acks=all writes go on being acknowledged; restarted, it rejoins and
     holds the leader's records, record for record;
  3. ENOSPC on the leader under acks=1: writes sent after the fault get
     errors, never acknowledgements; every acknowledged write is on the new
     leader at its offset or preserved in the old leader's discarded/;
  4. fdatasync EIO on a standby's metadata log (broker/raftlog.c offers its
     writes to the hook too): storage_failed log=metadata, exit 74, and a
     restart catches up and rejoins.
  5. a held (stalled) fsync on a follower, while one of the partitions it
     fetches from a leader moves to another leader: the follower's other
     partitions from that leader go on and it rejoins their ISR with the
     flush still held (regression for a stall the soak found); lifted, the
     flush completes and the follower rejoins the moved partition too.

Every wait polls with a deadline; every loop is bounded.
"""
import os
import re
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cluster"))

pytest.register_assert_rewrite("replogd")
from replogd import (BUILD, REPLOG, Closed, Garbled,  # noqa: E402
                     needs_broker, wait_for)
from test_replication import check_acked as replication_check_acked  # noqa: E402
from test_replication import RawLoad, replicas_converged  # noqa: E402
from test_replication import read_log as replication_read_log  # noqa: E402

pytest_plugins = ["replogd"]

FAULTY = BUILD / "tests" / "faults" / "replogd-faults"
pytestmark = [needs_broker,
              pytest.mark.skipif(not FAULTY.exists(), reason=f"needs {FAULTY} (build first)")]

SESSION_MS = 2000
LAG_MS = 2000
EXIT_STORAGE = 74
ERR_KAFKA_STORAGE_ERROR = 56
# The hook re-reads the fault file at most every 20 ms: an op submitted this
# long after the file changed sees the new rules.
FAULT_SEEN_S = 0.1

NET_ERRORS = (OSError, ConnectionError, TimeoutError, Closed, Garbled)


# ---- the cluster and its fault files ----------------------------------------------------

def fault_file(tmp_path, i):
    return tmp_path / f"faults-broker{i}"


def set_fault(tmp_path, i, text):
    """Replace broker i's fault file at once (rename): the hook never reads
    half a line."""
    f = fault_file(tmp_path, i)
    tmp = f.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, f)
    return time.monotonic()


def start_cluster(cluster, tmp_path):
    for i in (1, 2, 3):
        set_fault(tmp_path, i, "")
    return cluster(3, session_timeout_ms=SESSION_MS, lag_max_ms=LAG_MS, binary=FAULTY,
                   env=lambda i: {"REPLOG_FAULT_FILE": str(fault_file(tmp_path, i))})


def place(c, topic, replicas, create=True):
    """Create `topic` (unless create is false) with 3 partitions, RF 3, min
    ISR 2 (the controller assigns them round-robin, so each rotation of the
    brokers is one partition's replica list) and return the partition whose
    replica list is exactly `replicas` (its first, the preferred leader,
    leads)."""
    if create:
        c.create_topic(topic, 3, 3, 2)
    found = {p: c.partition(topic, p)["replica_nodes"] for p in range(3)}
    for p, nodes in found.items():
        if list(nodes) == list(replicas):
            wait_for(lambda: c.leader(topic, p) == replicas[0]
                     and set(c.partition(topic, p)["isr_nodes"]) == set(replicas), 20,
                     f"{topic}-{p} led by {replicas[0]} with every replica in sync", ctx=c.ctx)
            return p
    raise AssertionError(f"no partition of {topic} has replicas {replicas}: {found}")


def wait_exit(b, timeout_s=20.0):
    """Wait for broker b to exit on its own; returns its exit status."""
    wait_for(lambda: not b.running(), timeout_s, f"{b.name} to exit", ctx=b.ctx)
    rc = b.proc.returncode
    b.returncodes.append(rc)
    return rc


def storage_failed(b, topic, p):
    """The one storage_failed line of b's current run, which must also be
    its only error-level line: the operator sees one clear cause."""
    lines = b.events("storage_failed", since_start=True)
    errors = [e for e in b.events(since_start=True) if e.get("level") == "error"]
    assert len(lines) == 1 and errors == lines, \
        f"storage_failed lines {lines}; error lines {errors}" + b.ctx()
    e = lines[0]
    assert (e.get("topic"), e.get("partition")) == (topic, str(p)), e
    assert e.get("exit_status") == str(EXIT_STORAGE), e
    return e


def read_log(b, topic, p):
    """{offset: value} of every record below the HW of leader b."""
    return dict(replication_read_log(b, topic, p))


def dump_records(path, *opts):
    """{offset: payload} that `replog dump-log -d` prints for a partition
    directory (with --discarded: its discarded writes)."""
    r = subprocess.run([str(REPLOG), "dump-log", *opts, "-d", str(path)], capture_output=True,
                       timeout=120, check=False, text=True, errors="replace")
    assert r.returncode == 0, f"dump-log {opts} {path}: rc={r.returncode}\n{r.stderr[-3000:]}"
    recs = {}
    for line in r.stdout.splitlines():
        m = re.match(r"\| offset: (\d+) .* payload: (.*)$", line)
        if m:
            recs[int(m.group(1))] = m.group(2).encode()
    return recs, r.stdout


def check_acked(final, acked, what):
    """acked: [(offset, value)]; each must be at its offset in final."""
    replication_check_acked(final, dict(acked), what)


# ---- a producer whose every answer is exact ---------------------------------------------

class Producer(RawLoad):
    """test_replication's producer with acks chosen, counting what it has
    had acknowledged since a moment."""

    def __init__(self, c, topic, p, prefix, acks, limit_s=60.0, timeout_s=3.0):
        super().__init__(c, topic, p, prefix, limit_s=limit_s, timeout_s=timeout_s, acks=acks)

    def acks_after(self, t):
        return sum(1 for a in list(self.acked) if a[0] > t)

    def wait_acks(self, n, after=0.0, timeout_s=20.0, ctx=lambda: ""):
        wait_for(lambda: self.acks_after(after) >= n, timeout_s,
                 f"{n} acknowledgements to producer {self.prefix!r}",
                 ctx=lambda: f"\nerrors: {self.errors[-10:]}" + ctx())

    def finish(self):
        """Stop; returns [(offset, value)] acknowledged. Under acks=all no
        two name one offset (under acks=1 a write acknowledged by a failed
        leader may be discarded and its offset reused)."""
        self.halt.set()
        self.join(15)
        assert not self.is_alive(), "the producer did not stop"
        assert self.crash is None, repr(self.crash)
        out = [(o, v) for (_t0, _t1, _b, o, v) in self.acked]
        if self.acks == -1:
            offsets = [o for o, _ in out]
            assert len(set(offsets)) == len(offsets), "two acknowledgements name one offset"
        return out


# ---- 1. fsync EIO on the leader under acks=all ------------------------------------------

def test_fsync_eio_on_leader_crash_stops_it_and_loses_no_acked_write(cluster, tmp_path):
    c = start_cluster(cluster, tmp_path)
    topic = "fsynceio"
    p = place(c, topic, [2, 3, 1])
    prod = Producer(c, topic, p, b"all", acks=-1)
    prod.start()
    try:
        prod.wait_acks(50, ctx=c.ctx)
        t_fault = set_fault(tmp_path, 2, f"eio-fsync /{topic}-{p}/\n")
        assert wait_exit(c[2]) == EXIT_STORAGE, c[2].ctx()
        t_exit = time.monotonic()
        e = storage_failed(c[2], topic, p)
        assert e.get("op") in ("fdatasync", "fsync"), e
        assert e.get("error") == os.strerror(5), e  # EIO
        new = c.wait_leader(topic, p, not_in=(2,), timeout_s=20)
        assert new == 3, f"leader {new}, expected 3 (next in the ISR)"
        # acks=all goes on with the ISR {3, 1} (= min ISR).
        prod.wait_acks(50, after=t_exit, ctx=c.ctx)
    finally:
        acked = prod.finish()
    # The request waiting when the fsync failed was answered with the
    # storage error, and broker 2 acknowledged nothing sent after the fault
    # could have been seen.
    on2 = [x for x in prod.errors if x[1] == 2]
    assert any(x[2] == ERR_KAFKA_STORAGE_ERROR for x in on2), \
        f"no KAFKA_STORAGE_ERROR from broker 2: {on2}" + c[2].ctx()
    late = [a for a in prod.acked if a[2] == 2 and a[0] > t_fault + FAULT_SEEN_S]
    assert not late, f"broker 2 acknowledged writes sent after its fsyncs failed: {late[:5]}"

    # The old leader, restarted with the disk fixed, rejoins the ISR.
    set_fault(tmp_path, 2, "")
    c[2].start()
    (opened,) = [x for x in c[2].events("partition_opened", since_start=True)
                 if x.get("topic") == topic and x.get("partition") == str(p)]
    assert "after clean shutdown" not in opened.get("recovery", ""), \
        f"a failed log was marked clean: {opened}"
    c.wait_isr(topic, p, {1, 2, 3}, timeout_s=30)
    end = wait_for(lambda: replicas_converged(c, topic, p, (1, 2, 3)), 30,
                   "the three replicas at one log end", ctx=c.ctx)
    final = read_log(c[c.wait_leader(topic, p)], topic, p)
    assert len(final) == end, (len(final), end)
    check_acked(final, acked, "acks=all")
    assert len(acked) >= 100, len(acked)


# ---- 2. ENOSPC on a follower ---------------------------------------------------------------

def test_enospc_on_follower_shrinks_isr_and_it_rejoins(cluster, tmp_path):
    c = start_cluster(cluster, tmp_path)
    topic = "followerfull"
    p = place(c, topic, [2, 3, 1])
    prod = Producer(c, topic, p, b"all", acks=-1)
    prod.start()
    try:
        prod.wait_acks(30, ctx=c.ctx)
        set_fault(tmp_path, 3, f"enospc /{topic}-{p}/\n")
        assert wait_exit(c[3]) == EXIT_STORAGE, c[3].ctx()
        e = storage_failed(c[3], topic, p)
        assert e.get("op") == "writev", e
        assert e.get("error") == os.strerror(28), e  # ENOSPC
        c.wait_isr(topic, p, {1, 2}, timeout_s=15)
        t_shrunk = time.monotonic()
        assert c.leader(topic, p) == 2
        # Min ISR 2 still holds: acks=all writes go on.
        prod.wait_acks(50, after=t_shrunk, ctx=c.ctx)
        set_fault(tmp_path, 3, "")
        c[3].start()
        c.wait_isr(topic, p, {1, 2, 3}, timeout_s=30)
        prod.wait_acks(20, after=time.monotonic(), ctx=c.ctx)
    finally:
        acked = prod.finish()
    end = wait_for(lambda: replicas_converged(c, topic, p, (1, 2, 3)), 30,
                   "broker 3 back at the leader's log end", ctx=c.ctx)
    final = read_log(c[2], topic, p)
    assert len(final) == end
    check_acked(final, acked, "acks=all")
    assert not [x for x in prod.errors if x[2] == ERR_KAFKA_STORAGE_ERROR], \
        f"a follower's failure reached the producer: {prod.errors}"
    # Its log, record for record, is the leader's.
    c[3].stop()
    recs, _ = dump_records(c[3].partition_dir(topic, p))
    assert recs == final, (f"broker 3 holds {len(recs)} records, the leader {len(final)}; "
                           f"first difference at "
                           f"{next((o for o in sorted(final) if recs.get(o) != final[o]), None)}")


# ---- 3. ENOSPC on the leader under acks=1 ----------------------------------------------------

def test_enospc_on_leader_acks1_errors_and_keeps_acked_writes(cluster, tmp_path):
    c = start_cluster(cluster, tmp_path)
    topic = "leaderfull"
    p = place(c, topic, [2, 3, 1])
    prod = Producer(c, topic, p, b"one", acks=1)
    prod.start()
    try:
        prod.wait_acks(50, ctx=c.ctx)
        t_fault = set_fault(tmp_path, 2, f"enospc /{topic}-{p}/\n")
        assert wait_exit(c[2]) == EXIT_STORAGE, c[2].ctx()
        e = storage_failed(c[2], topic, p)
        assert e.get("op") == "writev", e
        assert e.get("error") == os.strerror(28), e
        new = c.wait_leader(topic, p, not_in=(2,), timeout_s=20)
        prod.wait_acks(20, after=time.monotonic(), ctx=c.ctx)
    finally:
        acked = prod.finish()
    # After the fault, broker 2 answered errors, never acknowledgements.
    late = [a for a in prod.acked if a[2] == 2 and a[0] > t_fault + FAULT_SEEN_S]
    assert not late, f"broker 2 acknowledged acks=1 writes sent after its disk filled: {late[:5]}"
    # The request whose write failed (it may have been sent just before the
    # file changed) was answered with the storage error.
    on2 = [x for x in prod.errors if x[1] == 2]
    assert any(x[2] == ERR_KAFKA_STORAGE_ERROR for x in on2), \
        f"no KAFKA_STORAGE_ERROR from broker 2: {on2}" + c[2].ctx()

    # Restarted with space back, it follows the new leader (cutting what it
    # alone held into discarded/).
    set_fault(tmp_path, 2, "")
    c[2].start()
    c.wait_isr(topic, p, {1, 2, 3}, timeout_s=30)
    end = wait_for(lambda: replicas_converged(c, topic, p, (1, 2, 3)), 30,
                   "the three replicas at one log end", ctx=c.ctx)
    leader = c.wait_leader(topic, p)
    final = read_log(c[leader], topic, p)
    assert len(final) == end
    c[2].stop()
    discarded, out = dump_records(c[2].partition_dir(topic, p), "--discarded")
    lost = [(o, v, final.get(o), discarded.get(o)) for o, v in sorted(acked)
            if final.get(o) != v and discarded.get(o) != v]
    assert not lost, ("acks=1 writes neither in the final log nor in broker 2's discarded/ "
                      f"(offset, value, log has, discarded has): {lost[:5]}\n{out[-2000:]}")
    print(f"leader {new} after the fault; {len(acked)} acks=1 writes acknowledged, "
          f"{sum(1 for o, v in acked if final.get(o) != v)} of them only in discarded/")


# ---- 4. fsync EIO on the metadata log ---------------------------------------------------------

def test_fsync_eio_on_metadata_log_crash_stops_and_rejoins(cluster, tmp_path):
    c = start_cluster(cluster, tmp_path)
    t_fault = set_fault(tmp_path, 3, "eio-fsync /__cluster_metadata-0/\n")
    # The hook re-reads its file at most every 20 ms (a duration, not a
    # state to wait for).
    wait_for(lambda: time.monotonic() - t_fault > FAULT_SEEN_S, 5, "the fault file to be seen")
    # Every member of the quorum (broker 3 is a standby) appends the new
    # topic's records to its metadata log and fdatasyncs them.
    topic = "metafault"
    from kafka.admin import KafkaAdminClient, NewTopic
    admin = KafkaAdminClient(bootstrap_servers=c[1].bootstrap, request_timeout_ms=20000)
    try:  # not c.create_topic: its waits would ask broker 3 while it stops
        admin.create_topics([NewTopic(topic, 1, 3)])
    finally:
        admin.close()
    assert wait_exit(c[3]) == EXIT_STORAGE, c[3].ctx()
    lines = c[3].events("storage_failed", since_start=True)
    errors = [e for e in c[3].events(since_start=True) if e.get("level") == "error"]
    assert len(lines) == 1 and errors == lines, f"{lines} {errors}" + c[3].ctx()
    e = lines[0]
    assert e.get("log") == "metadata" and "topic" not in e, e
    assert e.get("op") == "metadata append" and e.get("error") == os.strerror(5), e
    # Restarted with the disk fixed, it loads the metadata log, catches up
    # and rejoins.
    set_fault(tmp_path, 3, "")
    c[3].start()
    c.wait_isr(topic, 0, {1, 2, 3}, timeout_s=30)
    assert c.partition(topic, 0, via=c[3]) is not None


# ---- 5. a stalled fsync while the partition's leader moves ------------------------------------

def test_leader_moving_off_a_stalled_flush_does_not_stall_the_other_partitions(cluster,
                                                                               tmp_path):
    """Regression (found by the soak, seeds 701 and 3001): a follower holds
    its next fetch from a leader while one partition makes what it copied
    durable. If that partition's leadership moves meanwhile, the flush's
    kick never reaches the old fetcher, and every other partition it
    fetches from that leader stopped for good. Here the flush is held
    (hold-fsync) so the move surely lands inside the wait."""
    c = start_cluster(cluster, tmp_path)
    topic = "stall"
    moving = place(c, topic, [3, 1, 2])  # broker 2 follows it
    staying = place(c, topic, [1, 2, 3], create=False)  # broker 2 follows it from 1
    # Broker 3 stops cleanly: `moving` goes to broker 1, so broker 2 now
    # fetches both partitions from broker 1, in one fetcher.
    c[3].stop()
    c.wait_leader(topic, moving, not_in=(3,), timeout_s=20)
    assert c.leader(topic, moving) == 1, c.partition(topic, moving)
    prod_m = Producer(c, topic, moving, b"mov", acks=1, limit_s=120)
    prod_s = Producer(c, topic, staying, b"stay", acks=1, limit_s=120)
    prod_m.start()
    prod_s.start()
    try:
        prod_s.wait_acks(20, ctx=c.ctx)
        set_fault(tmp_path, 2, f"hold-fsync /{topic}-{moving}/\n")
        held = wait_for(lambda: [e for e in c[2].events("fault_injected", since_start=True)
                                 if e.get("kind") == "hold-fsync"], 20,
                        "broker 2 holding a flush of the moving partition", ctx=c[2].ctx)
        assert f"/{topic}-{moving}/" in held[0].get("file", ""), held
        # Broker 3 comes back, catches up, and as the preferred replica
        # takes `moving` back from broker 1 while broker 2's flush of it
        # is still held.
        c[3].start()
        wait_for(lambda: c.leader(topic, moving) == 3, 45,
                 "the preferred leader 3 to take the moving partition back", ctx=c.ctx)
        t_moved = time.monotonic()
        # The fetcher broker 2 keeps on broker 1 goes on with `staying`:
        # broker 2 catches up and rejoins its ISR with the flush still held.
        prod_s.wait_acks(20, after=t_moved, ctx=c.ctx)
        c.wait_isr(topic, staying, {1, 2, 3}, timeout_s=20)
        assert c[2].events("fault_rules", since_start=True)[-1].get("rules") == "1", \
            "the hold was lifted before the check" + c[2].ctx()
        # Lifted, the held flush completes and broker 2 follows broker 3.
        set_fault(tmp_path, 2, "")
        c.wait_isr(topic, moving, {1, 2, 3}, timeout_s=30)
    finally:
        acked_s = prod_s.finish()
        prod_m.finish()
    end = wait_for(lambda: replicas_converged(c, topic, staying, (1, 2, 3)), 30,
                   "the three replicas of the staying partition at one log end", ctx=c.ctx)
    final = read_log(c[1], topic, staying)
    assert len(final) == end
    check_acked(final, acked_s, "acks=1 (no leader change)")
    wait_for(lambda: replicas_converged(c, topic, moving, (1, 2, 3)), 30,
             "the three replicas of the moving partition at one log end", ctx=c.ctx)
