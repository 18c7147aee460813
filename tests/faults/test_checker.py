"""Description: the fault harness's history checker and on-disk log reader,
proved on synthetic runs (no broker).

Each test builds a small run: three replicas of partition t-0 written as real
partition directories under tmp_path (segments of real RecordBatch v2 bytes
from replogd.build_batch, a high-watermark checkpoint and leader-epoch
checkpoint in the broker's text format, discarded/ files with .meta), read
back with logstate.read_replicas, and a client history; then crafts one
anomaly and checks that exactly the expected check fires, or that a clean
run stays quiet.
"""
import struct
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
for p in (HERE, HERE.parent / "cluster"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import checker  # noqa: E402
import logstate  # noqa: E402
from replogd import build_batch, parse_batches  # noqa: E402

TOPIC = "t"
TP = (TOPIC, 0)


def batch(base, epoch, values, ts=1000, attributes=0):
    """One RecordBatch v2 at `base`, stamped with leader epoch `epoch`."""
    recs = [(None, v.encode() if isinstance(v, str) else v, ()) for v in values]
    b = bytearray(build_batch(recs, base_ts=ts, leader_epoch=epoch, attributes=attributes))
    struct.pack_into(">q", b, 0, base)  # not covered by the CRC
    return bytes(b)


def write_discard(pdir, data, reason="truncate", time_ms=5000, detail="test"):
    """discarded/<first>-<time>.log + .meta, as log/discard.c writes them."""
    bs = [b for b in parse_batches(data) if b.get("complete")]
    first = bs[0]["base_offset"] if bs else -1
    nxt = bs[-1]["last_offset"] + 1 if bs else -1
    eps = [b["leader_epoch"] for b in bs] or [-1]
    d = pdir / "discarded"
    d.mkdir(parents=True, exist_ok=True)
    stem = f"{max(first, 0):020d}-{time_ms}"
    (d / f"{stem}.log").write_bytes(data)
    (d / f"{stem}.meta").write_text(
        f"reason={reason}\ntime_ms={time_ms}\nfirst_offset={first}\nnext_offset={nxt}\n"
        f"batches={len(bs)}\nbytes={len(data)}\nepoch_min={min(eps)}\nepoch_max={max(eps)}\n"
        f"segment=0\nposition=0\ndetail={detail}\n")
    return stem


def write_partition(pdir, segments, hw=None, epochs=(), discards=()):
    """segments: [(base offset, bytes)]; discards: [(bytes, reason, time_ms)]."""
    pdir.mkdir(parents=True, exist_ok=True)
    for base, data in segments:
        (pdir / f"{base:020d}.log").write_bytes(data)
        (pdir / f"{base:020d}.index").write_bytes(b"\0" * 8)  # ignored
        (pdir / f"{base:020d}.timeindex").write_bytes(b"\0" * 12)
    if hw is not None:
        (pdir / "high-watermark-checkpoint").write_text(f"0\n1\n{hw}\n")
    (pdir / "leader-epoch-checkpoint").write_text(
        f"0\n{len(epochs)}\n" + "".join(f"{e} {o}\n" for e, o in epochs))
    for data, reason, time_ms in discards:
        write_discard(pdir, data, reason, time_ms)
    return pdir


class Run:
    """A clean run: producer p1 wrote p1-0..p1-{n-1} with acks=all at offsets
    0..n-1 in epoch 1, consumer c1 read them all, three replicas agree, HW n."""

    def __init__(self, tmp_path, n=10):
        self.tmp = tmp_path
        self.n = n
        self.logs = {b: [batch(o, 1, [f"p1-{o}"]) for o in range(n)] for b in (1, 2, 3)}
        self.discards = {b: [] for b in self.logs}
        self.hw, self.leader, self.isr, self.unclean = n, 1, [1, 2, 3], False
        self.leaders = [{"broker": 1, "epoch": 1, "t": 0.5}]
        self.history, self.t, self.calls = [], 1.0, 0
        for o in range(n):
            self.produce("p1", f"p1-{o}", o)
        for o in range(n):
            self.read("c1", o, f"p1-{o}")

    def ev(self, proc, **kw):
        self.t += 0.001
        self.history.append({"t": self.t, "proc": proc, **kw})

    def produce(self, proc, id_, offset=None, acks="all", fail=None, definite=False):
        self.ev(proc, type="invoke", id=id_, topic=TOPIC, partition=0, acks=acks)
        if offset is not None:
            self.ev(proc, type="ok", id=id_, topic=TOPIC, partition=0, offset=offset)
        elif fail:
            self.ev(proc, type="fail", id=id_, error=fail, definite=definite)

    def read(self, proc, offset, value):
        self.ev(proc, type="read", topic=TOPIC, partition=0, offset=offset, value=value)

    def seek(self, proc, offset):
        self.ev(proc, type="seek", topic=TOPIC, partition=0, offset=offset)

    def append(self, b, *brokers):
        for x in brokers or self.logs:
            self.logs[x].append(b)

    def final(self):
        """Write every replica's directory and read it back with logstate."""
        self.calls += 1
        dirs = {}
        for b, bs in self.logs.items():
            dirs[b] = self.tmp / f"run{self.calls}" / f"broker{b}"
            half = len(bs) // 2  # two segments: exercises segment order
            segs = [(struct.unpack_from(">q", bs[0])[0], b"".join(bs[:half])),
                    (struct.unpack_from(">q", bs[half])[0], b"".join(bs[half:]))]
            write_partition(dirs[b] / f"{TOPIC}-0", segs, hw=self.hw, epochs=[(1, 0)],
                            discards=self.discards[b])
        replicas = logstate.read_replicas(dirs, TOPIC, 0)
        return {TP: {"replicas": replicas, "leader": self.leader, "isr": self.isr,
                     "hw": self.hw, "unclean": self.unclean, "leaders": self.leaders}}

    def check(self, **kw):
        return checker.check(self.history, self.final(), **kw)


def kinds(res):
    return sorted({v["kind"] for v in res.violations})


def of_kind(res, kind):
    return [v for v in res.violations if v["kind"] == kind]


# ---- a clean run ---------------------------------------------------------------------

def test_clean_run_passes(tmp_path):
    r = Run(tmp_path)
    r.ev("c1", type="error", error="_TRANSPORT")
    res = r.check()
    assert res.ok, str(res)
    rep = res.report
    assert rep["client_errors"] == 1 and rep["history_anomalies"] == {}
    assert rep["operations"] == 10
    assert rep["acknowledged"] == {"all": 10, "1": 0, "other": 0, "total": 10}
    assert rep["failed"] == {"definite": 0, "indefinite": 0}
    assert rep["indeterminate"] == 0
    assert rep["lost"] == rep["wrong_offset"] == rep["phantoms"] == 0
    assert rep["reads"] == 10 and rep["dirty_reads"] == rep["nonmonotonic_reads"] == 0
    assert rep["skips"] == rep["duplicates"] == rep["unverified"] == 0
    assert rep["violations"] == 0 and rep["partitions"] == 1
    text = str(res)
    assert text.startswith("history check: OK (0 violations)")
    assert "operations 10" in text and "reads 10" in text
    assert checker.format_report(res.report) == text


# ---- 1, 2: acknowledged writes -------------------------------------------------------

def test_lost_acks_all_on_leader(tmp_path):
    r = Run(tmp_path)
    r.produce("p1", "p1-x", 10)  # acknowledged, in no log at all
    res = r.check()
    assert kinds(res) == ["lost"]
    (v,) = of_kind(res, "lost")
    assert (v["id"], v["offset"], v["acks"]) == ("p1-x", 10, "all")
    assert res.report["lost"] == 1 and not res.ok
    assert "FAILED (1 violations)" in str(res) and "lost" in str(res)


def test_lost_acks_all_on_isr_follower(tmp_path):
    r = Run(tmp_path)
    r.logs[3] = r.logs[3][:-1]  # follower 3, in the ISR, lacks offset 9 below HW
    res = r.check()
    (v,) = of_kind(res, "lost")
    assert v["id"] == "p1-9" and v["missing_on"] == [3]
    assert res.report["lost"] == 1
    assert [m["offset"] for m in of_kind(res, "replica-mismatch")] == [9]
    # out of the ISR, the same lag is no violation
    r.isr = [1, 2]
    assert r.check().ok


def test_acks1_lost_versus_discarded_and_reported(tmp_path):
    r = Run(tmp_path)
    r.produce("p1", "a-1", 10, acks="1")  # truncated away, but kept in broker 2's discarded/
    r.produce("p1", "a-2", 11, acks="1")  # gone without a trace
    r.produce("p1", "a-3", 12, acks="1")  # still on the leader, above HW
    r.append(batch(12, 2, ["a-3"]), 1)
    r.discards[2].append((batch(10, 1, ["a-1"]) + batch(11, 1, ["other"]), "truncate", 7000))
    res = r.check()
    assert kinds(res) == ["lost"], str(res)
    (v,) = of_kind(res, "lost")
    assert v["id"] == "a-2" and v["acks"] == "1"
    rep = res.report
    assert rep["discarded_and_reported"] == {"acks_all": 0, "acks_1": 1}
    assert rep["discarded_reported"] == 1 and rep["discarded_ids"] == ["a-1"]
    assert rep["lost"] == 1 and rep["acknowledged"]["1"] == 3 and rep["discards"] == 1


def test_wrong_offset(tmp_path):
    r = Run(tmp_path)
    for e in r.history:
        if e["type"] == "ok" and e["id"] == "p1-5":
            e["offset"] = 6  # told 6; the log has it at 5
    res = r.check()
    assert kinds(res) == ["wrong-offset"]
    (v,) = res.violations
    assert (v["id"], v["offset"], v["found_at"]) == ("p1-5", 6, 5)
    assert res.report["wrong_offset"] == 1 and res.report["lost"] == 0


def test_duplicate_is_counted_not_failed(tmp_path):
    r = Run(tmp_path)
    r.append(batch(10, 1, ["p1-3"]))  # a retry without idempotence wrote p1-3 again
    r.hw = 11
    res = r.check()
    assert res.ok, str(res)
    assert res.report["duplicates"] == 1 and res.report["duplicate_copies"] == 1
    assert res.report["duplicate_examples"] == [
        {"topic": TOPIC, "partition": 0, "value": "p1-3", "offsets": [3, 10]}]


# ---- 4: phantoms and failed writes ------------------------------------------------------

def test_phantom(tmp_path):
    r = Run(tmp_path)
    r.append(batch(10, 1, ["ghost"]))
    r.hw = 11
    res = r.check()
    assert kinds(res) == ["phantom"]
    assert res.violations[0]["value"] == "ghost" and res.violations[0]["offset"] == 10
    assert res.report["phantoms"] == 1


def test_definite_failure_present_but_indefinite_allowed(tmp_path):
    r = Run(tmp_path)
    r.produce("p1", "p1-f", fail="NOT_ENOUGH_REPLICAS", definite=True)
    r.produce("p1", "p1-g", fail="REQUEST_TIMED_OUT", definite=False)
    r.produce("p1", "p1-h")  # the client died: no outcome
    r.append(batch(10, 1, ["p1-f"]))
    r.append(batch(11, 1, ["p1-g"]))
    r.append(batch(12, 1, ["p1-h"]))
    r.hw = 13
    res = r.check()
    assert kinds(res) == ["failed-but-present"]
    assert res.violations[0]["id"] == "p1-f" and res.violations[0]["offset"] == 10
    rep = res.report
    assert rep["failed"] == {"definite": 1, "indefinite": 1} and rep["indeterminate"] == 1
    assert rep["committed_unacknowledged"] == {"failed_indefinite": 1, "indeterminate": 1}
    assert rep["failed_but_present"] == 1 and rep["operations"] == 13


# ---- 5, 6: reads ---------------------------------------------------------------------

def test_dirty_read(tmp_path):
    r = Run(tmp_path)
    r.read("c1", 10, "p1-x")  # beyond the final log
    r.read("c2", 3, "wrong")  # a different value at an existing offset
    res = r.check()
    assert kinds(res) == ["dirty-read"]
    got = {(v["proc"], v["offset"], v["value"], v["final"]) for v in res.violations}
    assert got == {("c1", 10, "p1-x", None), ("c2", 3, "wrong", "p1-3")}
    assert res.report["dirty_reads"] == 2 and res.report["reads"] == 12


def test_nonmonotonic_read(tmp_path):
    r = Run(tmp_path)
    r.read("c1", 5, "p1-5")  # back from 9 without a seek
    res = r.check()
    assert kinds(res) == ["nonmonotonic-read"]
    assert res.violations[0]["offset"] == 5 and res.violations[0]["previous"] == 9
    assert res.report["nonmonotonic_reads"] == 1


def test_backwards_read_after_seek_is_allowed(tmp_path):
    r = Run(tmp_path)
    r.seek("c1", 2)
    r.read("c1", 2, "p1-2")
    r.read("c1", 3, "p1-3")
    res = r.check()
    assert res.ok, str(res)
    r.seek("c1", 6)
    r.read("c1", 5, "p1-5")  # before the seek target
    res = r.check()
    assert kinds(res) == ["nonmonotonic-read"]
    assert res.violations[0]["seek"] == 6


def test_skip_is_counted_not_failed(tmp_path):
    r = Run(tmp_path)
    r.read("c2", 0, "p1-0")
    r.read("c2", 1, "p1-1")
    r.read("c2", 5, "p1-5")  # 2, 3, 4 exist and were jumped over
    r.seek("c2", 8)
    r.read("c2", 9, "p1-9")  # after a seek to 8: skips 8
    res = r.check()
    assert res.ok, str(res)
    assert res.report["skips"] == 2 and res.report["skipped_offsets"] == 4
    assert res.report["skip_examples"][0]["from"] == 1
    assert res.report["skip_examples"][0]["to"] == 5


# ---- 7: leaders and epochs ---------------------------------------------------------------

def test_two_leaders_in_one_epoch(tmp_path):
    r = Run(tmp_path)
    r.leaders += [{"broker": 2, "epoch": 2, "t": 2.0}, {"broker": 1, "epoch": 2, "t": 2.1}]
    res = r.check()
    assert kinds(res) == ["two-leaders-one-epoch"]
    assert res.violations[0]["epoch"] == 2 and res.violations[0]["brokers"] == [1, 2]
    r.leaders = [{"broker": 1, "epoch": 1, "t": 0.5}, {"broker": 1, "epoch": 1, "t": 0.6},
                 {"broker": 2, "epoch": 2, "t": 2.0}]
    assert r.check().ok


def test_same_epoch_and_offset_with_different_crc(tmp_path):
    r = Run(tmp_path)
    # broker 3 discarded the very batch it later refetched: same bytes, fine
    r.discards[3].append((batch(9, 1, ["p1-9"]), "truncate", 6000))
    assert r.check().ok
    # broker 2 once held another write at (epoch 1, offset 9): two writers in one epoch
    r.discards[2].append((batch(9, 1, ["p2-0"]), "truncate", 6000))
    r.produce("p2", "p2-0", 9, acks="1")
    res = r.check()
    assert kinds(res) == ["epoch-offset-conflict"], str(res)
    (v,) = of_kind(res, "epoch-offset-conflict")
    assert (v["epoch"], v["offset"]) == (1, 9) and "discarded/" in v["detail"]
    assert res.report["epoch_conflicts"] == 1


def test_overlapping_batches_in_one_epoch(tmp_path):
    r = Run(tmp_path)
    r.logs[1] = [batch(0, 1, [f"p1-{o}" for o in range(5)]),
                 batch(5, 1, [f"p1-{o}" for o in range(5, 10)])]
    r.logs[2] = list(r.logs[1])
    r.logs[3] = list(r.logs[1])
    assert r.check().ok
    r.discards[3].append((batch(3, 1, ["zz"]), "truncate", 6000))
    res = r.check()
    assert kinds(res) == ["epoch-offset-conflict"]
    assert "overlaps" in res.violations[0]["detail"] and res.violations[0]["offset"] == 3


def test_epochs_never_decrease_in_a_log(tmp_path):
    r = Run(tmp_path)
    for b in r.logs:
        r.logs[b][4] = batch(4, 0, ["p1-4"])  # epochs 1, 1, 1, 1, 0, 1, ...
    r.leaders.append({"broker": 1, "epoch": 0, "t": 0.1})
    res = r.check()
    assert kinds(res) == ["epoch-decrease"]
    assert {v["broker"] for v in res.violations} == {1, 2, 3}
    assert all(v["offset"] == 4 and v["previous_epoch"] == 1 for v in res.violations)


# ---- 8: replica agreement ----------------------------------------------------------------

def test_replica_mismatch_below_hw_but_not_above(tmp_path):
    r = Run(tmp_path)
    # above HW: the last record is only acks=1 and follower 3 holds another batch there
    for e in r.history:
        if e["type"] == "invoke" and e["id"] == "p1-9":
            e["acks"] = "1"
    r.hw = 9
    r.logs[3][9] = batch(9, 2, ["p1-9"])
    res = r.check()
    assert res.ok, str(res)
    # below HW: follower 3's batch at 3 differs from the leader's (timestamp)
    r.logs[3][3] = batch(3, 1, ["p1-3"], ts=2000)
    res = r.check()
    (v,) = of_kind(res, "replica-mismatch")
    assert v["broker"] == 3 and v["offset"] == 3 and v["hw"] == 9
    assert kinds(res) == ["epoch-offset-conflict", "replica-mismatch"]
    # a replica out of the ISR is not held to the leader's bytes
    r.isr = [1, 2]
    assert kinds(r.check()) == ["epoch-offset-conflict"]


# ---- unclean elections -------------------------------------------------------------------

def unclean_run(tmp_path, unclean):
    r = Run(tmp_path)
    r.unclean = unclean
    r.produce("p1", "p1-10", 10)  # acks=all, then lost to an unclean election
    r.read("c1", 10, "p1-10")
    r.discards[2].append((batch(10, 1, ["p1-10"]), "unclean-election", 8000))
    return r.check()


def test_unclean_loss_found_in_discarded_is_reported_not_lost(tmp_path):
    res = unclean_run(tmp_path, unclean=True)
    assert res.ok, str(res)
    rep = res.report
    assert rep["lost"] == 0 and rep["discarded_and_reported"] == {"acks_all": 1, "acks_1": 0}
    assert rep["dirty_reads"] == 0 and rep["dirty_reads_reported"] == 1


def test_same_loss_on_a_clean_partition_is_lost(tmp_path):
    res = unclean_run(tmp_path, unclean=False)
    assert kinds(res) == ["dirty-read", "lost"]
    assert res.report["lost"] == 1 and res.report["dirty_reads"] == 1
    assert of_kind(res, "lost")[0]["discarded"][0] == 2  # where it was found


# ---- 9: convergence ------------------------------------------------------------------

def test_convergence_bound(tmp_path):
    r = Run(tmp_path)
    recs = [{"fault": "kill_leader", "healed_at": 10.0, "converged_at": 12.0},
            {"fault": "kill_leader", "healed_at": 20.0, "converged_at": 24.0},
            {"fault": "partition", "healed_at": 30.0, "converged_at": 31.5}]
    res = r.check(recoveries=recs, converge_bound_s=5.0)
    assert res.ok, str(res)
    assert res.report["recovery"] == {
        "kill_leader": {"count": 2, "converged": 2, "max_s": 4.0, "mean_s": 3.0},
        "partition": {"count": 1, "converged": 1, "max_s": 1.5, "mean_s": 1.5}}
    assert res.report["recovery_times"] == [2.0, 4.0, 1.5]
    assert "kill_leader n=2 max 4.0s mean 3.0s" in str(res)
    recs += [{"fault": "pause_all", "healed_at": 40.0, "converged_at": None},
             {"fault": "partition", "healed_at": 50.0, "converged_at": 56.0}]
    res = r.check(recoveries=recs, converge_bound_s=5.0)
    assert kinds(res) == ["no-convergence", "slow-convergence"]
    assert of_kind(res, "slow-convergence")[0]["took_s"] == 6.0


# ---- the final state's own problems -----------------------------------------------------

def test_missing_state_is_a_violation(tmp_path):
    r = Run(tmp_path)
    final = r.final()
    del final[TP]["replicas"][3]
    res = checker.check(r.history, final)
    assert kinds(res) == ["missing-state"] and "ISR member 3" in res.violations[0]["detail"]
    res = checker.check(r.history, {})
    assert kinds(res) == ["missing-state"] and res.report["unverified"] == 20


def test_damage_on_leader_is_a_violation_torn_tail_is_counted(tmp_path):
    r = Run(tmp_path)
    last = r.logs[1][-1]
    r.logs[1][-1] = last + last[:30]  # a torn tail after offset 9
    res = r.check()
    assert res.ok, str(res)
    assert res.report["torn_tails"] == 1
    bad = bytearray(r.logs[1][5])
    bad[-1] ^= 0xFF
    r.logs[1][5] = bytes(bad)  # CRC failure: the leader's log stops at 4
    res = r.check()
    assert "log-damage" in kinds(res) and "lost" in kinds(res)
    assert "CRC failure" in of_kind(res, "log-damage")[0]["detail"]


# ---- logstate ---------------------------------------------------------------------------

def test_logstate_reads_a_partition_directory(tmp_path):
    seg0 = batch(0, 1, ["a", "b"]) + batch(2, 1, ["c"])
    zstd = batch(3, 2, ["d", "e"], attributes=4)  # codec bits say zstd: records not decoded
    seg3 = zstd + batch(5, 3, ["f"])
    torn = batch(6, 3, ["g"])[:40]
    pdir = write_partition(tmp_path / "t-0", [(3, seg3 + torn), (0, seg0)], hw=5,
                           epochs=[(1, 0), (2, 3), (3, 5)],
                           discards=[(batch(6, 2, ["x"]) + batch(7, 2, ["y"]), "truncate", 900),
                                     (b"\x00\x01garbage", "torn-tail", 100)])
    (pdir / "discarded" / f"{6:020d}-950.log").write_bytes(batch(6, 2, ["z"]))  # no .meta
    st = logstate.read_partition(pdir)
    assert [(b["base_offset"], b["last_offset"], b["epoch"]) for b in st["batches"]] == \
        [(0, 1, 1), (2, 2, 1), (3, 4, 2), (5, 5, 3)]
    assert st["batches"][0]["records"] == [(0, b"a"), (1, b"b")]
    assert st["batches"][2]["records"] is None and "codec 4" in st["notes"][0]
    assert st["batches"][0]["raw"] == batch(0, 1, ["a", "b"])
    assert st["batches"][0]["crc"] == struct.unpack_from(">I", st["batches"][0]["raw"], 17)[0]
    assert st["hw"] == 5 and st["epochs"] == [(1, 0), (2, 3), (3, 5)]
    assert st["log_start"] == 0
    (tail,) = st["bad"]
    assert tail.startswith(logstate.TORN_TAIL) and "offset 6" in tail and "40 present" in tail
    assert st["interrupted_discards"] == 1
    old, new = st["discarded"]  # oldest first, by time
    assert old["reason"] == "torn-tail" and old["batches"] == [] and old["problems"]
    assert new["reason"] == "truncate" and (new["first_offset"], new["next_offset"]) == (6, 8)
    assert new["meta"]["batches"] == 2 and new["meta"]["epoch_max"] == 2
    assert new["meta"]["detail"] == "test" and new["problems"] == []
    assert [b["records"] for b in new["batches"]] == [[(6, b"x")], [(7, b"y")]]


def test_logstate_stops_at_a_crc_failure_and_bad_checkpoints(tmp_path):
    bad = bytearray(batch(1, 1, ["b"]))
    bad[-1] ^= 0x55
    pdir = write_partition(tmp_path / "t-0", [(0, batch(0, 1, ["a"]) + bytes(bad)
                                               + batch(2, 1, ["c"]))])
    (pdir / "high-watermark-checkpoint").write_text("0\n1\n")
    st = logstate.read_partition(pdir)
    assert [b["base_offset"] for b in st["batches"]] == [0]
    corrupt = [p for p in st["bad"] if p.startswith(logstate.CORRUPT)]
    assert len(corrupt) == 1 and "CRC failure" in corrupt[0] and "offset 1" in corrupt[0]
    assert st["hw"] is None and any(p.startswith(logstate.CHECKPOINT) for p in st["bad"])
    # an incomplete batch ending an earlier segment is corruption, not a torn tail
    pdir = write_partition(tmp_path / "u-0", [(0, batch(0, 1, ["a"])[:50]),
                                              (1, batch(1, 1, ["b"]))])
    st = logstate.read_partition(pdir)
    assert [b["base_offset"] for b in st["batches"]] == [1]
    assert len(st["bad"]) == 1 and st["bad"][0].startswith(logstate.CORRUPT)
    # zero-filled tail
    pdir = write_partition(tmp_path / "v-0", [(0, batch(0, 1, ["a"]) + b"\0" * 100)])
    st = logstate.read_partition(pdir)
    assert len(st["batches"]) == 1 and "100 zero bytes" in st["bad"][0]


def test_read_replicas_skips_brokers_without_the_partition(tmp_path):
    write_partition(tmp_path / "b1" / "my-topic-2", [(0, batch(0, 1, ["a"]))], hw=1)
    (tmp_path / "b2").mkdir()
    reps = logstate.read_replicas({1: tmp_path / "b1", 2: tmp_path / "b2"}, "my-topic", 2)
    assert list(reps) == [1] and reps[1]["hw"] == 1


# ---- scale --------------------------------------------------------------------------------

def test_a_large_history_is_checked_in_linear_time():
    """300k events against three in-memory replicas of 100k records."""
    n = 100_000
    hist = []
    for o in range(n):
        hist.append({"t": o, "proc": "p", "type": "invoke", "id": f"p-{o}", "topic": TOPIC,
                     "partition": 0, "acks": "all"})
        hist.append({"t": o, "proc": "p", "type": "ok", "id": f"p-{o}", "topic": TOPIC,
                     "partition": 0, "offset": o})
    for o in range(0, n, 1):
        hist.append({"t": n + o, "proc": "c", "type": "read", "topic": TOPIC, "partition": 0,
                     "offset": o, "value": f"p-{o}"})
    batches = [{"base_offset": o, "last_offset": o, "epoch": 1, "crc": o, "raw": b"%d" % o,
                "records": [(o, b"p-%d" % o)]} for o in range(n)]
    rep = {"batches": batches, "hw": n, "epochs": [(1, 0)], "discarded": [],
           "interrupted_discards": 0, "bad": [], "log_start": 0}
    final = {f"{TOPIC}-0": {"replicas": {"1": rep, "2": rep, "3": rep}, "leader": 1,
                            "isr": [1, 2, 3], "hw": n, "unclean": False,
                            "leaders": [{"broker": 1, "epoch": 1, "t": 0.0}]}}
    start = time.monotonic()
    res = checker.check(hist, final)
    took = time.monotonic() - start
    assert res.ok, str(res)
    assert res.report["acknowledged"]["all"] == n and res.report["reads"] == n
    assert took < 6.0, f"{took:.1f}s for {len(hist)} events"
