"""Description: `replog cluster` shows the metadata quorum and the brokers of real clusters.

The real `replog` binary against real replogd processes (tests/cluster/replogd.py),
its stdout, stderr and exit code checked against what each broker says of the
quorum itself (ReplogDescribeQuorum, decoded by replogd.describe_quorum):
  * the manual names every output field; usage errors exit 2; no broker
    reachable exits 1 with `Active controller: none`;
  * three voters, healthy: exit 0, the active controller and its term as the
    brokers say, three Voter lines (one leader, two followers, no lag), three
    Broker lines all alive at their addresses, the same from any bootstrap;
  * a voter that is not the active controller killed with SIGKILL: shown down
    with a lag and its broker fenced, named on stderr, exit 0 still (two of
    three voters agree); back again, it is a follower without lag;
  * two of three voters killed: no majority, no active controller, exit 1;
  * the default quorum (broker 1 the only voter): standbys 2,3.
No fixed sleeps: every wait is a poll with a deadline; every loop is bounded.
"""

import pytest

pytest.register_assert_rewrite("replogd")
from replogd import describe_quorum, free_port, needs_broker, wait_for  # noqa: E402
from replogd import run_replog as replog  # noqa: E402

pytest_plugins = ["replogd"]

WAIT_S = 60.0
TIMEOUT_MS = 2000  # per broker, for each run of the tool
VOTERS = [1, 2, 3]
MEMBER_LABELS = ("Voter", "Standby", "Spare", "Member")


# ---- the tool's output ------------------------------------------------------------

def fields(line):
    """{label: value} of one tab-separated `Label: value` line."""
    out = {}
    for part in line.split("\t"):
        label, sep, value = part.partition(": ")
        assert sep, f"not a `Label: value` field: {part!r} in {line!r}"
        out[label] = value
    return out


class View:
    """One run's stdout, parsed: the header lines by label, the member lines
    by id (with their label under "role"), the broker lines by id."""

    def __init__(self, run):
        self.run = run
        self.head, self.members, self.brokers = {}, {}, {}
        self.partitions = []  # the UnderReplicated: and Offline: lines, parsed
        order = []
        for line in run.out.splitlines():
            label = line.partition(": ")[0]
            if label in ("UnderReplicated", "Offline"):
                f = fields(line)
                f["kind"], f["topic"] = label, f.pop(label)
                self.partitions.append(f)
            elif label in MEMBER_LABELS or label == "Broker":
                f = fields(line)
                mid = int(f[label])
                table = self.brokers if label == "Broker" else self.members
                assert mid not in table, f"listed twice: {line!r}\n{run!r}"
                f["role"] = label
                table[mid] = f
                order.append((label, mid))
            else:
                assert label in ("Cluster", "Active controller", "Quorum", "Partitions"), \
                    f"unexpected line {line!r}\n{run!r}"
                assert label not in self.head, f"listed twice: {line!r}\n{run!r}"
                self.head[label] = line.partition(": ")[2]
        self.order = order

    @property
    def controller(self):
        """(id, term) of the Active controller line, or (None, term|None)."""
        words = self.head["Active controller"].split()
        term = int(words[2].rstrip(")")) if len(words) == 3 else None
        return (None if words[0] == "none" else int(words[0])), term

    def quorum(self):
        """{"voters": [...], "standbys": [...], "committed index": N}."""
        out = {}
        for part in self.head["Quorum"].split("; "):
            key, _, value = part.rpartition(" ")
            if key == "committed index":
                out[key] = int(value)
            else:
                out[key] = [] if value == "none" else [int(x) for x in value.split(",")]
        return out


def cluster_run(c, via=1):
    return replog("cluster", "--bootstrap-server", c[via].bootstrap, "--timeout-ms", TIMEOUT_MS)


def num(value):
    return None if value == "-" else int(value)


def poll(c, pred, what, via=1, timeout_s=WAIT_S):
    """Run the tool until pred(View) holds; returns that View."""
    last = []

    def once():
        v = View(cluster_run(c, via))
        last[:] = [v]
        return v if pred(v) else None

    return wait_for(once, timeout_s, what, interval_s=0.2,
                    ctx=lambda: (f"\nlast run: {last[0].run!r}" if last else "") + c.ctx())


# ---- without a cluster -------------------------------------------------------------

def test_help_names_every_field():
    r = replog("cluster", "--help")
    assert r.rc == 0, repr(r)
    assert r.err == "", repr(r)
    for word in ("--bootstrap-server", "--timeout-ms", "--help", "Cluster:", "Active controller:",
                 "Quorum:", "voters", "standbys", "spares", "committed index", "Voter:",
                 "Standby:", "Spare:", "State:", "Match:", "Lag:", "LastContactMs:", "Applied:",
                 "Broker:", "Address:", "Epoch:", "Status:", "SessionMs:", "leader", "follower",
                 "candidate", "unavailable", "down", "alive", "fenced", "shutting-down",
                 "not-registered", "did not answer", "Partitions:", "under-replicated",
                 "offline", "UnderReplicated:", "Offline:", "Replicas:", "Isr:", "EXIT STATUS"):
        assert word in r.out, f"{word!r} not in the manual\n{r!r}"
    assert replog("cluster", "-h").out == r.out
    h = replog("help", "cluster")
    assert h.rc == 0 and h.out == r.out, repr(h)
    top = replog("--help")
    assert top.rc == 0 and "\n  cluster " in top.out, repr(top)


@pytest.mark.parametrize("args, why", [
    (["--bogus"], "unknown option '--bogus'"),
    (["-x"], "unknown option '-x'"),
    (["--timeout-ms", "0"], "--timeout-ms '0'"),
    (["--timeout-ms"], "needs a value"),
    (["--bootstrap-server", "nohostport"], "--bootstrap-server"),
    (["--topic", "t"], "'--topic' does not apply"),
    (["describe"], "unexpected argument 'describe'"),
])
def test_usage_errors_exit_2(args, why):
    r = replog("cluster", *args)
    assert r.rc == 2, repr(r)
    assert r.out == "", repr(r)
    assert r.err.startswith("replog cluster: ") and why in r.err, repr(r)
    assert "Try 'replog cluster --help'" in r.err, repr(r)


def test_nothing_answers_exit_1():
    port = free_port()
    r = replog("cluster", "-b", f"127.0.0.1:{port}", "--timeout-ms", TIMEOUT_MS)
    assert r.rc == 1, repr(r)
    assert r.out == "Active controller: none\n", repr(r)
    assert f"127.0.0.1:{port}" in r.err and "no active controller known" in r.err, repr(r)


# ---- real clusters -----------------------------------------------------------------

def healthy(v, voters, brokers):
    """Exit 0, every member answering, every broker alive, no lag."""
    if v.run.rc != 0:
        return False
    if sorted(v.brokers) != brokers or any(b["Status"] != "alive" for b in v.brokers.values()):
        return False
    ms = v.members
    return (sorted(i for i in ms if ms[i]["role"] == "Voter") == voters
            and all(m["State"] != "down" and m["Lag"] == "0" for m in ms.values()))


@needs_broker
def test_three_voters_healthy(cluster):
    c = cluster(3, controllers=VOTERS)
    lid = c.active_controller()
    v = poll(c, lambda v: healthy(v, VOTERS, [1, 2, 3]), "a healthy quorum")
    r = v.run
    assert r.err == "", repr(r)

    # The active controller and its term, as the brokers themselves say.
    q = describe_quorum(c[lid])
    assert q["state"] == "leader" and q["leader_id"] == lid, q
    assert v.controller == (lid, q["term"]), repr(r)
    md = c.metadata()
    assert v.head.get("Cluster") == md["cluster_id"], repr(r)
    assert r.out.startswith("Cluster: ") and "\nActive controller: " in r.out, repr(r)

    # Quorum: every broker a voter; the committed index as the leader knows
    # it (it only grows).
    qu = v.quorum()
    assert qu["voters"] == VOTERS and qu["standbys"] == [], repr(r)
    assert 0 < qu["committed index"] <= describe_quorum(c[lid])["commit_index"], repr(r)
    assert "; spares" not in v.head["Quorum"], repr(r)

    # One line per voter, then one per broker, each by id.
    assert v.order == [("Voter", 1), ("Voter", 2), ("Voter", 3),
                       ("Broker", 1), ("Broker", 2), ("Broker", 3)], repr(r)
    for i in VOTERS:
        m = v.members[i]
        assert m["State"] == ("leader" if i == lid else "follower"), repr(r)
        assert set(m) == {"Voter", "State", "Match", "Lag", "LastContactMs", "Applied", "role"}
        assert num(m["Match"]) > 0 and num(m["Applied"]) > 0, repr(r)
        assert num(m["LastContactMs"]) >= 0, repr(r)
        assert num(m["Applied"]) <= describe_quorum(c[i])["last_applied"], repr(r)
    assert v.members[lid]["LastContactMs"] == "0", repr(r)
    for i in VOTERS:
        b = v.brokers[i]
        assert b["Address"] == c[i].bootstrap, repr(r)
        assert num(b["Epoch"]) >= 0, repr(r)
        assert num(b["SessionMs"]) >= 0, repr(r)  # known: from the active controller

    # Any bootstrap server gives the same controller.
    for via in (2, 3):
        w = poll(c, lambda w: healthy(w, VOTERS, [1, 2, 3]), f"a healthy quorum via {via}",
                 via=via)
        assert w.controller[0] == lid, repr(w.run)


@needs_broker
def test_voter_killed_is_down_with_lag_and_fenced(cluster):
    c = cluster(3, controllers=VOTERS)
    lid = c.active_controller()
    c.create_topic("urp", partitions=2, replication_factor=3, min_isr=2)
    v = poll(c, lambda v: healthy(v, VOTERS, [1, 2, 3]), "a healthy quorum", via=lid)
    assert v.head["Partitions"] == "2; under-replicated 0; offline 0", repr(v.run)
    assert v.partitions == [], repr(v.run)
    victim = next(i for i in VOTERS if i != lid)
    c[victim].kill9()

    # Fencing it is an entry of the log the victim cannot hold: once the
    # controller says it is fenced, its lag is at least 1.
    def down(v):
        m, b = v.members.get(victim), v.brokers.get(victim)
        return (v.run.rc == 0 and m is not None and m["State"] == "down"
                and num(m["Lag"]) is not None and num(m["Lag"]) > 0
                and b is not None and b["Status"] == "fenced")

    v = poll(c, down, f"broker {victim} down with a lag, fenced", via=lid)
    r = v.run
    # Its partitions lose it from their ISR: under-replicated, still led.

    def under(v):
        hit = [p for p in v.partitions if p["topic"] == "urp" and p["kind"] == "UnderReplicated"]
        return v if len(hit) == 2 and all(
            str(victim) not in p["Isr"].split(",") and p["Leader"] != "-" for p in hit) else None

    u = poll(c, under, "both partitions under-replicated", via=lid)
    assert u.head["Partitions"].startswith("2; under-replicated 2; offline 0"), repr(u.run)
    assert all(len(p["Replicas"].split(",")) == 3 for p in u.partitions), repr(u.run)
    assert v.controller[0] == lid, repr(r)
    assert f"replog cluster: broker {victim} did not answer: " in r.err, repr(r)
    assert "no active controller" not in r.err and "disagree" not in r.err, repr(r)
    m = v.members[victim]
    assert m["Applied"] == "-", repr(r)
    assert num(m["Match"]) is not None, repr(r)
    for i in VOTERS:
        if i != victim:
            assert v.members[i]["State"] in ("leader", "follower"), repr(r)
            assert v.brokers[i]["Status"] == "alive", repr(r)
    # Match + Lag is the leader's last index, the same for every member.
    assert len({num(x["Match"]) + num(x["Lag"]) for x in v.members.values()}) == 1, repr(r)

    # Back: a follower again, caught up, its broker alive.
    c[victim].start(wait_unfenced=True, wait_leaders=False)
    v = poll(c, lambda v: healthy(v, VOTERS, [1, 2, 3]) and not v.partitions,
             f"broker {victim} caught up, back in every ISR", via=lid)
    assert v.head["Partitions"] == "2; under-replicated 0; offline 0", repr(v.run)
    assert v.members[victim]["State"] == "follower", repr(v.run)
    assert v.run.err == "", repr(v.run)


@needs_broker
def test_no_majority_exit_1(cluster):
    c = cluster(3, controllers=VOTERS)
    lid = c.active_controller()
    survivor = next(i for i in VOTERS if i != lid)
    for i in VOTERS:
        if i != survivor:
            c[i].kill9()
    # The survivor keeps its metadata, so it still answers Metadata and
    # ReplogDescribeQuorum; within an election timeout it knows no leader.
    v = poll(c, lambda v: v.run.rc == 1 and v.controller[0] is None,
             "no active controller", via=survivor)
    r = v.run
    assert "no active controller" in r.err, repr(r)
    for i in VOTERS:
        if i != survivor:
            assert v.members[i]["State"] == "down", repr(r)
            assert f"broker {i} did not answer" in r.err, repr(r)
    assert v.members[survivor]["State"] in ("follower", "candidate"), repr(r)
    assert num(v.members[survivor]["Applied"]) > 0, repr(r)


@needs_broker
def test_default_quorum_has_standbys(cluster):
    c = cluster(3)  # `controller: 1`: broker 1 the only voter
    v = poll(c, lambda v: v.run.rc == 0 and v.controller[0] == 1
             and all(b["Status"] == "alive" for b in v.brokers.values())
             and all(m["State"] != "down" for m in v.members.values()),
             "the one-voter quorum")
    r = v.run
    assert r.err == "", repr(r)
    assert v.head["Quorum"].startswith("voters 1; standbys 2,3; committed index "), repr(r)
    assert v.order[:3] == [("Voter", 1), ("Standby", 2), ("Standby", 3)], repr(r)
    assert v.members[1]["State"] == "leader", repr(r)
    for i in (2, 3):
        assert v.members[i]["State"] == describe_quorum(c[i])["state"], repr(r)
    assert sorted(v.brokers) == [1, 2, 3], repr(r)
