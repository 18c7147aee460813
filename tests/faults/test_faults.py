"""Fault-injection scenarios: real replogd clusters with every link through
the fault proxy, clients recording histories, and the history checker at
the end of each (tests/faults/harness.py). Each scenario is a named test
with a fixed seed: the seed decides every random choice (which partition,
which broker, how long), so REPLOG_FAULT_SEEDS=<seed> replays a failure.

Every scenario ends with the checker's verdict over the whole run — zero
lost acknowledged writes, acks=1 writes surviving or reported discarded,
no dirty or backwards reads, one leader per epoch, replicas byte-identical
below the HW, convergence after each heal within the bound — plus the
scenario's own assertions. The reasons and the expected outcomes are in
../shared/reference/REPLICATION_ANCHORS.md (KIP-101, KIP-966, Jepsen).
"""
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cluster"))

import harness  # noqa: E402
import logstate  # noqa: E402
from replogd import register, wait_for  # noqa: E402

pytest_plugins = ["replogd"]

pytestmark = pytest.mark.skipif(not harness.faults_available(),
                                reason="needs the build's tests/faults/replogd-faults")


@pytest.fixture
def run(tmp_path):
    made = []

    def make(seed, warmup=50, **kw):
        """A started run with its default workload, `warmup` acks=all
        writes acknowledged."""
        r = harness.Run(tmp_path / f"seed{seed}", seed, **kw)
        for b in r.c:
            register(b)
        made.append(r)
        r.__enter__()
        r.start_workload()
        r.wait_acks(warmup)
        return r

    yield make
    for r in made:
        r.__exit__(None, None, None)


def assert_clean(res):
    assert res.ok, "\n" + str(res)


def target(r):
    """A partition drawn from the seed, and its leader."""
    p = r.rng.randrange(r.partitions)
    return p, leader_of(r, p)


def leader_of(r, p, not_in=()):
    return r.c.wait_leader(r.topic, p, not_in=not_in, timeout_s=30)


def replicas_of(r, p):
    return list(r.view()[p]["replica_nodes"])


# ---- process faults ------------------------------------------------------------------------

def test_leader_hard_bounce_x5(run):
    """kill -9 of a partition's leader, five times, under load."""
    r = run(101)
    for round_ in range(5):
        p, lid = target(r)
        t = time.monotonic()
        r.kill9(lid)
        leader_of(r, p, not_in=(lid,))
        r.wait_acks(20)
        r.heal(f"kill9 leader {lid}", t)
    res = r.finish()
    assert_clean(res)
    assert res.report["acknowledged"]["all"] > 200


def test_leader_clean_bounce_x5(run):
    """SIGTERM of a partition's leader, five times: leadership moves before it
    exits (controlled shutdown), not after the session times out."""
    r = run(102)
    for round_ in range(5):
        p, lid = target(r)
        t = time.monotonic()
        r.stop_clean(lid)
        # Moved before exit: the stopping broker applied the record that took
        # the leadership away (a handoff) before it stopped; after an expiry
        # it would have stopped still leading.
        b = r.c[lid]
        gave_up = [e for e in b.events("became_follower", since_start=True)
                   if e.get("topic") == r.topic and int(e.get("partition", -1)) == p]
        assert gave_up, f"round {round_}: broker {lid} exited still leading {p}" + b.ctx()
        leader_of(r, p, not_in=(lid,))
        r.wait_acks(20)
        r.heal(f"clean bounce of leader {lid}", t)
    assert_clean(r.finish())


def test_follower_killed_rejoins_only_when_caught_up(run):
    """A follower killed under load comes back; it is listed in the ISR
    again only once it holds every write acknowledged while it was down."""
    r = run(103)
    p, lid = target(r)
    f = r.rng.choice([i for i in replicas_of(r, p) if i != lid])
    t = time.monotonic()
    r.kill9(f)
    r.c.wait_isr(r.topic, p, [i for i in replicas_of(r, p) if i != f])
    r.wait_acks(150)
    acked_while_down = [e for e in r.acked("all") if e["partition"] == p]
    need = max(e["offset"] for e in acked_while_down)
    r.c[f].start(wait_unfenced=False, wait_leaders=False)
    # As the leader sees it; freeze the follower the moment it is listed,
    # so what its files hold is what it held when it was added.
    wait_for(lambda: f in r.view(via=lid)[p]["isr_nodes"], 30, f"{f} back in the ISR of {p}",
             interval_s=0.02, ctx=r.ctx)
    r.pause(f)
    try:
        hw = r._hw(p)
        st = logstate.read_partition(r.c[f].data_dir / f"{r.topic}-{p}")
    finally:
        r.c[f].sigcont()
    end = st["batches"][-1]["last_offset"] + 1 if st["batches"] else 0
    assert end >= hw and end > need, \
        f"broker {f} listed in the ISR holding [0, {end}), the HW is {hw}, acked {need}"
    r.heal(f"kill9 follower {f}", t)
    assert_clean(r.finish())


def test_both_followers_down(run):
    """Both followers of every partition down (a dedicated controller keeps
    the quorum): acks=all is refused definitely, the HW stands still,
    acks=1 writes are either committed later or reported discarded."""
    r = run(104, n=4, controllers=[4], controller_only=(4,))
    r.start_producer("p-strict", "all", rate=50, retries=0)
    p, lid = target(r)
    followers = [i for i in replicas_of(r, p) if i != lid]
    t = time.monotonic()
    for f in followers:
        r.kill9(f)
    refused = lambda: [e for e in r.history() if e["proc"] == "p-strict" and  # noqa: E731
                       e["type"] == "fail" and e["definite"] and e["t"] > t]
    wait_for(refused, 30, "a definite NOT_ENOUGH_REPLICAS", interval_s=0.1, ctx=r.ctx)
    # Fetches the followers sent before they died are answered by now.
    r.wait_acks(20, acks="1")
    hw0 = r._hw(p)
    frozen = time.monotonic()
    r.wait_acks(40, acks="1")
    assert r._hw(p) == hw0, "the HW moved with one replica in sync"
    # A write sent once the HW stood still cannot be acknowledged while
    # both followers are down (one sent earlier may be, late: the fetch
    # that proved a follower had it can arrive after the kill).
    healed = time.monotonic()
    invoked = {e["id"]: e["t"] for e in r.history() if e["type"] == "invoke"}
    acked_all_during = [e for e in r.acked("all")  # p-all and p-strict
                        if e["partition"] == p and invoked.get(e["id"], 0) > frozen
                        and e["t"] < healed]
    assert not acked_all_during, f"acks=all acknowledged with both followers down: " \
                                 f"{acked_all_during[:3]}"
    r.heal("both followers down", t)
    assert_clean(r.finish())


def test_zombie_leader(run):
    """A leader paused past the session timeout is replaced; resumed, it
    acknowledges nothing in its old epoch."""
    r = run(105)
    p, lid = target(r)
    t = time.monotonic()
    sent0 = r.proxy.stats()[("c", str(lid))]["bytes_fwd"]
    r.pause(lid)
    leader_of(r, p, not_in=(lid,))
    r.wait_acks(20)
    # Clients kept sending to it while it was frozen (requests wait in its
    # socket): resumed, it must answer them without acknowledging.
    queued = r.proxy.stats()[("c", str(lid))]["bytes_fwd"] - sent0
    assert queued > 0, "no client request reached the paused leader"
    r.c[lid].sigcont()
    resumed = time.monotonic()
    r.note(f"SIGCONT {lid}")
    r.wait_acks(50)
    r.heal(f"zombie {lid}", t)
    res = r.finish()
    assert_clean(res)
    # Every acks=1 acknowledgement after the resume must have survived:
    # the zombie's lease had lapsed, so it refused what was queued for it.
    after = {e["id"] for e in r.acked("1") if e["t"] > resumed}
    assert not after & set(res.report.get("discarded_ids", [])), \
        "the zombie acknowledged an acks=1 write in its old epoch"


# ---- network faults ------------------------------------------------------------------------

def test_slow_follower_leaves_isr_and_rejoins(run):
    """A follower whose link from the leader is throttled drops out of the
    ISR and rejoins once the link is fast again; the follower that keeps up
    is never dropped."""
    r = run(106)
    p, lid = target(r)
    slow, fast = [i for i in replicas_of(r, p) if i != lid]
    if r.rng.random() < 0.5:
        slow, fast = fast, slow
    seen = []
    t = time.monotonic()
    r.proxy.rate(str(lid), str(slow), 300)
    r.fault(f"rate {lid}->{slow} 300 B/s")

    def dropped():
        isr = r.view(via=lid)[p]["isr_nodes"]
        seen.append(sorted(isr))
        return slow not in isr
    wait_for(dropped, 30, f"slow follower {slow} leaving the ISR", interval_s=0.1, ctx=r.ctx)
    r.proxy.clear(str(lid), str(slow))
    r.note(f"clear {lid}->{slow}")

    def back():
        isr = r.view(via=lid)[p]["isr_nodes"]
        seen.append(sorted(isr))
        return slow in isr
    wait_for(back, 30, f"slow follower {slow} back in the ISR", interval_s=0.1, ctx=r.ctx)
    r.heal(f"slow follower {slow}", t)
    assert all(fast in s for s in seen), f"follower {fast}, which kept up, was dropped: {seen}"
    changes = [[int(x) for x in e["isr"].split(",") if x] for b in r.c
               for e in b.events("isr_changed")
               if e.get("topic") == r.topic and int(e.get("partition", -1)) == p and "isr" in e]
    assert any(slow not in isr for isr in changes), f"no ISR change dropped {slow}: {changes}"
    assert all(fast in isr for isr in changes), \
        f"an ISR change left out {fast}, the follower that kept up: {changes}"
    assert_clean(r.finish())


@pytest.mark.parametrize("mode", ["symmetric", "one-way"])
def test_leader_isolated_from_followers_and_controller(run, mode):
    """The leader cut from every other broker (followers and controller)
    but not from clients: it stops acknowledging once its lease lapses,
    another broker leads, and what it took alone is reported discarded."""
    r = run(107 if mode == "symmetric" else 108)
    p, lid = target(r)
    others = [s for s in r.nodes if s != str(lid)]
    t = time.monotonic()
    if mode == "symmetric":
        r.isolate(lid, from_=others)
    else:
        for o in others:
            r.cut_one_way(lid, o)  # its bytes never arrive; it still hears them
    new = wait_for(lambda: next((x for x in [r.leader(p, via=i) for i in r.live()
                                             if i != lid] if x not in (-1, lid)), None),
                   30, f"a new leader of {p} elected without {lid}", interval_s=0.1, ctx=r.ctx)
    t_new = time.monotonic()
    r.wait_acks(30)
    r.heal(f"leader {lid} isolated ({mode}), {new} took over", t)
    res = r.finish()
    assert_clean(res)
    # Its lease lapsed before anyone else was elected: from then on it
    # acknowledged nothing (an acks=1 write it took would be discarded).
    late = {e["id"] for e in r.acked("1") if e["partition"] == p and e["t"] > t_new + 0.5}
    assert not late & set(res.report.get("discarded_ids", [])), \
        f"broker {lid} acknowledged writes after {new} was elected"


def test_controller_isolated(run):
    """The active controller cut from every other broker (clients still
    reach it): a new controller takes over; nothing acknowledged is lost."""
    r = run(109)
    ctl = r.c.active_controller()
    t = time.monotonic()
    r.isolate(ctl, from_=[s for s in r.nodes if s != str(ctl)])
    r.controller_elsewhere(ctl)
    r.wait_acks(30)
    r.heal(f"controller {ctl} isolated", t)
    assert_clean(r.finish())


# ---- KIP-101 -------------------------------------------------------------------------------

def test_kip101_restart_then_immediate_leader_loss(run):
    """KIP-101 scenario 1: a follower restarts (its HW checkpoint stale) and,
    before it fetches anything, the leader dies. If it truncated to its own
    HW and was then elected, acknowledged writes would be lost."""
    r = run(110, warmup=100)
    p, lid = target(r)
    f = r.rng.choice([i for i in replicas_of(r, p) if i != lid])
    t = time.monotonic()
    r.proxy.block(str(lid), str(f))  # the restarted follower hears nothing from the leader
    r.fault(f"block {lid}->{f}")
    r.kill9(f)
    r.c[f].start(wait_unfenced=False, wait_leaders=False)
    r.kill9(lid)
    leader_of(r, p, not_in=(lid,))
    r.wait_acks(30)
    r.heal(f"KIP-101 #1 follower {f} restarted, leader {lid} killed", t)
    assert_clean(r.finish())


def test_kip101_divergent_tails(run):
    """KIP-101 scenario 2: the leader takes acks=1 writes its followers never
    see, dies; the new leader writes other records at those offsets; the old
    leader comes back and must truncate by epoch (reporting what it drops),
    so the replicas end byte-identical."""
    r = run(111)
    p, lid = target(r)
    t = time.monotonic()
    for o in [s for s in r.nodes if s != str(lid)]:
        r.cut_one_way(lid, o)
    before = len([e for e in r.acked("1") if e["partition"] == p])
    wait_for(lambda: len([e for e in r.acked("1") if e["partition"] == p]) >= before + 5, 10,
             "acks=1 writes the followers never see", interval_s=0.02, ctx=r.ctx)
    r.kill9(lid)
    leader_of(r, p, not_in=(lid,))
    r.wait_acks(30, acks="1")
    r.heal(f"KIP-101 #2 leader {lid} diverged", t)
    res = r.finish()
    assert_clean(res)
    st = logstate.read_partition(r.c[lid].data_dir / f"{r.topic}-{p}")
    dropped = [rec for d in st["discarded"] if d["reason"] == "truncated"
               for b in d["batches"] for rec in (b["records"] or [])]
    assert len(dropped) >= 5, f"broker {lid} kept {len(dropped)} records of its divergent " \
                              f"tail: {st['discarded']}"


# ---- storage faults ------------------------------------------------------------------------

def _segments(r, i, p):
    d = r.c[i].data_dir / f"{r.topic}-{p}"
    return sorted(d.glob("*.log"))


def test_torn_tail_and_bit_flip(run):
    """A follower's last batch torn, another follower's segment with a bit
    flipped in the middle: recovery cuts only the torn tail (reported), the
    corrupt middle is never skipped silently, and both end identical to the
    leader."""
    r = run(112, warmup=150)
    p, lid = target(r)
    torn, flipped = [i for i in replicas_of(r, p) if i != lid]
    t = time.monotonic()
    r.kill9(torn)
    seg = _segments(r, torn, p)[-1]
    size = seg.stat().st_size
    with open(seg, "r+b") as fh:
        fh.truncate(size - 7)
    r.fault(f"tore 7 bytes off {seg.name} of {torn}")
    r.c[torn].start(wait_unfenced=False, wait_leaders=False)
    r.kill9(flipped)
    seg = _segments(r, flipped, p)[0]
    data = bytearray(seg.read_bytes())
    # A batch in the first half drawn from the seed, and a byte its CRC
    # covers (from the attributes on, position 21 of the batch).
    batches, _, _ = logstate.scan_batches(bytes(data), seg.name)
    assert len(batches) >= 4, f"only {len(batches)} batches on {flipped}"
    bt = batches[r.rng.randrange(len(batches) // 2)]
    at = bt["position"] + 21 + r.rng.randrange(len(bt["raw"]) - 21)
    data[at] ^= 0x10
    seg.write_bytes(bytes(data))
    r.fault(f"flipped a bit at {at} of {seg.name} of {flipped}")
    r.c[flipped].start(wait_unfenced=False, wait_leaders=False)
    r.heal("torn tail and bit flip", t)
    res = r.finish()
    assert_clean(res)
    st = logstate.read_partition(r.c[torn].data_dir / f"{r.topic}-{p}")
    assert any(d["reason"] == "torn-tail" for d in st["discarded"]), st["discarded"]
    reported = [e for e in r.c[flipped].events("partition_opened")
                if "corrupt" in e.get("recovery", "")]
    assert reported, "the flipped bit was not reported"
    st = logstate.read_partition(r.c[flipped].data_dir / f"{r.topic}-{p}")
    assert any(d["reason"] == "corrupt" for d in st["discarded"]), st["discarded"]


@pytest.mark.parametrize("where,kind", [("leader", "enospc"), ("leader", "eio-fsync"),
                                        ("follower", "enospc"), ("follower", "eio-fsync")])
def test_disk_fault(run, where, kind):
    """A full disk or a failing fsync under one partition's replica: the
    broker stops with the cause named (exit 74), the others carry on, and
    after the fault is cleared it restarts and rejoins; nothing acknowledged
    is lost."""
    seed = {"leader": 113, "follower": 114}[where] * 10 + (kind == "enospc")
    r = run(seed)
    p, lid = target(r)
    victim = lid if where == "leader" else r.rng.choice(
        [i for i in replicas_of(r, p) if i != lid])
    t = time.monotonic()
    r.disk_fault(victim, kind, f"/{r.topic}-{p}/")
    b = r.c[victim]
    wait_for(lambda: not b.running(), 30, f"broker {victim} stopping on {kind}",
             interval_s=0.05, ctx=r.ctx)
    rc = b.proc.wait(timeout=5)
    assert rc == 74, f"exit status {rc}"
    failed = b.events("storage_failed", since_start=True)
    assert failed, b.ctx()
    assert failed[0].get("topic") == r.topic and int(failed[0].get("partition")) == p \
        and failed[0].get("op") and failed[0].get("error"), failed[0]
    leader_of(r, p, not_in=(victim,))
    r.wait_acks(30)
    r.heal(f"{kind} on {where} {victim}", t)
    assert_clean(r.finish())


# ---- elections without an in-sync replica -------------------------------------------------

@pytest.mark.parametrize("unclean", [False, True])
def test_unclean_election(run, unclean):
    """Only an out-of-sync replica is left. With unclean election off the
    partition waits (offline) for an in-sync one; with it on, the laggard
    leads and every acknowledged write it lacks is reported discarded."""
    r = run(115 + unclean, n=4, controllers=[4], controller_only=(4,), unclean=unclean,
            warmup=30)
    p, lid = target(r)
    lag, other = [i for i in replicas_of(r, p) if i != lid]
    t = time.monotonic()
    r.proxy.block(str(lid), str(lag))  # the laggard gets nothing more
    r.fault(f"block {lid}->{lag}")
    r.c.wait_isr(r.topic, p, [lid, other])
    r.wait_acks(60)
    r.kill9(other)
    r.kill9(lid)
    r.proxy.heal()
    if unclean:
        got = leader_of(r, p)
        assert got == lag
    else:
        # The controller has seen both go (offline), then nothing changes
        # for a while: the partition waits for an in-sync replica.
        wait_for(lambda: r.leader(p, via=lag) == -1, 30, f"{p} offline", interval_s=0.05,
                 ctx=r.ctx)
        deadline = time.monotonic() + 3 * r.session_s
        while time.monotonic() < deadline:
            assert r.leader(p, via=lag) in (-1, lid, other), \
                "an out-of-sync replica was elected with unclean election off"
            time.sleep(0.1)
    r.heal("unclean election " + ("on" if unclean else "off"), t)
    res = r.finish()
    assert_clean(res)
    if unclean:
        assert res.report["discarded_and_reported"]["acks_all"] > 0, \
            "no acknowledged acks=all write the laggard lacked was reported"


def test_last_replica_standing_kip966(run):
    """KIP-966: two ISR members stopped cleanly, then the last one killed;
    the two clean ones restart. They must not lose what the last one
    acknowledged alone... which, under strict min ISR, is nothing: every
    acknowledged write is still there."""
    r = run(117, n=4, controllers=[4], controller_only=(4,))
    p, lid = target(r)
    a, b = [i for i in replicas_of(r, p) if i != lid]
    t = time.monotonic()
    r.stop_clean(a)
    r.stop_clean(b)
    r.wait_acks(10, acks="1")
    r.kill9(lid)
    r.c[a].start(wait_unfenced=False, wait_leaders=False)
    r.c[b].start(wait_unfenced=False, wait_leaders=False)
    leader_of(r, p)
    r.heal("last replica standing", t)
    assert_clean(r.finish())


# ---- a random mix, from fixed seeds -------------------------------------------------------

@pytest.mark.parametrize("seed", harness.env_seeds([201, 202]))
def test_random_faults(run, seed):
    """One fault after another, kinds and targets drawn from the seed."""
    r = run(seed, warmup=30)
    harness.random_faults(r, 40)
    assert_clean(r.finish())


def test_random_faults_five_brokers(run):
    """The random mix on five brokers (three of them controller voters),
    so partitions' replicas and the quorum's voters differ."""
    r = run(301, n=5, warmup=30)
    harness.random_faults(r, 30)
    assert_clean(r.finish())
