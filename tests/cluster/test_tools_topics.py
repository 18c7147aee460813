"""Description: `replog topics create`, `list` and `delete` against a real 3-broker cluster.

Each cluster test starts its own cluster (tests/cluster/replogd.py: broker 1
runs the single controller) and runs the real `replog` binary, checking its
stdout, stderr and exit code against what the cluster itself says (Metadata
v7 from every broker, and the controller's `topic_created` log event for the
configs applied):
  * create through the controller and through a non-controller bootstrap
    server (the tool finds the controller from Metadata's controller_id):
    partitions, replication factor and --config as asked; the broker's
    defaults with no options; TOPIC_ALREADY_EXISTS (exit 1), --if-not-exists
    (exit 0, silent); a replication factor above the broker count and a bad
    --config value refused by the controller, named on stderr (exit 1);
  * list: sorted, never __cluster_metadata;
  * delete: gone from list and Metadata; an unknown topic is exit 1;
  * usage errors are exit 2, a bootstrap server nobody listens on is exit 1
    with the cause.
No fixed sleeps: every wait is a poll with a deadline.
"""
import pytest

pytest.register_assert_rewrite("replogd")
import replogd  # noqa: E402,F401
from replogd import free_port, needs_broker, wait_for  # noqa: E402
from replogd import run_replog as replog  # noqa: E402

pytest_plugins = ["replogd"]
pytestmark = needs_broker

WAIT_S = 30.0
INTERNAL = "__cluster_metadata"


def topic_md(c, topic, via):
    """The Metadata v7 entry of topic as broker `via` sees it, or None."""
    for t in c.metadata([topic], via=c[via])["topics"]:
        if t["name"] == topic and t["error_code"] == 0:
            return t
    return None


def wait_shape(c, topic, partitions, rf):
    """Wait until every broker's Metadata shows topic with that many
    partitions, each with rf replicas and a leader."""
    def ok():
        for b in (1, 2, 3):
            t = topic_md(c, topic, b)
            if not t or len(t["partitions"]) != partitions:
                return False
            for p in t["partitions"]:
                if len(p["replica_nodes"]) != rf or p["leader_id"] < 0:
                    return False
        return True
    wait_for(ok, WAIT_S, f"{topic}: {partitions} partitions with {rf} replicas everywhere",
             ctx=c.ctx)


def created_event(c, topic):
    """The controller's topic_created log event for topic (broker 1)."""
    evs = [e for e in c[1].events("topic_created", since_start=True) if e.get("topic") == topic]
    assert len(evs) == 1, evs
    return evs[0]


def listing(c, via):
    r = replog("topics", "list", "--bootstrap-server", c[via].bootstrap)
    assert r.rc == 0 and r.err == "", r
    return r.out.splitlines()


def test_create_list_delete(cluster):
    c = cluster(3)
    boot = c[1].bootstrap

    r = replog("topics", "create", "--bootstrap-server", boot, "--topic", "orders",
               "--partitions", "4", "--replication-factor", "3",
               "--config", "min.insync.replicas=2", "--config", "retention.ms=3600000")
    assert r.rc == 0 and r.out == "Created topic orders.\n" and r.err == "", r
    wait_shape(c, "orders", 4, 3)
    ev = created_event(c, "orders")
    assert ev["partitions"] == "4" and ev["replication_factor"] == "3", ev
    assert "min.insync.replicas=2" in ev["config"], ev
    assert "retention.ms=3600000" in ev["config"], ev

    # kcat (librdkafka) sees it too.
    md = c[2].metadata_json()
    (t,) = [t for t in md["topics"] if t["topic"] == "orders"]
    assert len(t["partitions"]) == 4
    assert all(len(p["replicas"]) == 3 for p in t["partitions"]), t

    # The broker's defaults (topic_defaults: 1 partition here), kafka-topics' spelling.
    r = replog("topics", "--create", "-b", boot, "-t", "alpha")
    assert r.rc == 0 and r.out == "Created topic alpha.\n", r
    ev = created_event(c, "alpha")
    wait_shape(c, "alpha", int(ev["partitions"]), int(ev["replication_factor"]))

    # Again: TOPIC_ALREADY_EXISTS, unless --if-not-exists.
    r = replog("topics", "create", "-b", boot, "--topic", "orders", "--partitions", "1")
    assert r.rc == 1 and r.out == "", r
    assert "TOPIC_ALREADY_EXISTS" in r.err and "'orders'" in r.err, r
    r = replog("topics", "create", "-b", boot, "--topic", "orders", "--if-not-exists")
    assert r.rc == 0 and r.out == "" and r.err == "", r

    # list: sorted, no internal topic, from any broker.
    for via in (1, 3):
        wait_for(lambda: listing(c, via) == ["alpha", "orders"], WAIT_S,
                 f"list via broker {via}", ctx=c.ctx)
    assert INTERNAL not in listing(c, 1)

    # delete: gone from list and from every broker's Metadata.
    r = replog("topics", "delete", "-b", boot, "--topic", "orders")
    assert r.rc == 0 and r.out == "Deleted topic orders.\n" and r.err == "", r
    assert listing(c, 1) == ["alpha"]
    for via in (1, 2, 3):
        wait_for(lambda: topic_md(c, "orders", via) is None, WAIT_S,
                 f"orders gone from broker {via}", ctx=c.ctx)
    r = replog("topics", "delete", "-b", boot, "--topic", "orders")
    assert r.rc == 1 and r.out == "", r
    assert "UNKNOWN_TOPIC_OR_PARTITION" in r.err and "'orders'" in r.err, r


def test_via_non_controller_and_refusals(cluster):
    c = cluster(3)
    boot = c[3].bootstrap  # broker 3 answers CreateTopics with NOT_CONTROLLER

    r = replog("topics", "create", "-b", boot, "--topic", "events", "--partitions", "2",
               "--replication-factor", "2", "--config", "min.insync.replicas=1")
    assert r.rc == 0 and r.out == "Created topic events.\n" and r.err == "", r
    wait_shape(c, "events", 2, 2)
    ev = created_event(c, "events")
    assert "min.insync.replicas=1" in ev["config"], ev

    r = replog("topics", "create", "-b", boot, "--topic", "events")
    assert r.rc == 1 and "TOPIC_ALREADY_EXISTS" in r.err, r
    r = replog("topics", "create", "-b", boot, "--topic", "events", "--if-not-exists")
    assert r.rc == 0 and r.out == "" and r.err == "", r

    # More replicas than brokers: refused, the cause named.
    r = replog("topics", "create", "-b", boot, "--topic", "wide", "--replication-factor", "5")
    assert r.rc == 1 and r.out == "", r
    assert "INVALID_REPLICATION_FACTOR" in r.err and "'wide'" in r.err, r
    # A config value out of range and an unknown config: INVALID_CONFIG.
    r = replog("topics", "create", "-b", boot, "--topic", "bad",
               "--config", "min.insync.replicas=banana")
    assert r.rc == 1 and "INVALID_CONFIG" in r.err and "min.insync.replicas" in r.err, r
    r = replog("topics", "create", "-b", boot, "--topic", "bad", "--config", "no.such.key=1")
    assert r.rc == 1 and "INVALID_CONFIG" in r.err, r
    assert listing(c, 3) == ["events"]

    r = replog("topics", "delete", "-b", boot, "--topic", "events")
    assert r.rc == 0 and r.out == "Deleted topic events.\n", r
    wait_for(lambda: listing(c, 3) == [], WAIT_S, "events gone from the list", ctx=c.ctx)
    r = replog("topics", "delete", "-b", boot, "--topic", "never-was")
    assert r.rc == 1 and "UNKNOWN_TOPIC_OR_PARTITION" in r.err and "never-was" in r.err, r


@pytest.mark.parametrize("args, what", [
    (["create"], "exactly one --topic"),
    (["create", "--topic", "a", "--topic", "b"], "exactly one --topic"),
    (["create", "--topic", "a", "--partitions", "x"], "--partitions"),
    (["create", "--topic", "a", "--partitions", "0"], "--partitions"),
    (["create", "--topic", "a", "--replication-factor", "70000"], "--replication-factor"),
    (["create", "--topic", "a", "--config", "novalue"], "--config"),
    (["create", "--topic", "a", "--config", "=1"], "--config"),
    (["create", "--topic", "a", "--under-replicated-partitions"], "unknown option"),
    (["delete"], "exactly one --topic"),
    (["delete", "--topic", "a", "--partitions", "3"], "unknown option"),
    (["list", "--topic", "a"], "--topic"),
    (["list", "extra"], "unexpected argument"),
    (["list", "-b", "nohostport"], "--bootstrap-server"),
    (["describe", "--if-not-exists"], "unknown option"),
    (["frob"], "unknown action"),
])
def test_usage_errors(args, what):
    r = replog("topics", *args)
    assert r.rc == 2 and r.out == "", r
    assert what in r.err and "replog topics --help" in r.err, r


@pytest.mark.parametrize("args", [
    ["list"],
    ["create", "--topic", "t", "--partitions", "1"],
    ["delete", "--topic", "t"],
])
def test_broker_down(args):
    dead = f"127.0.0.1:{free_port()}"
    r = replog("topics", *args, "--bootstrap-server", dead, "--timeout-ms", "2000")
    assert r.rc == 1 and r.out == "", r
    assert dead in r.err and "refused" in r.err, r
    assert "no bootstrap server answered" in r.err, r


def test_help_names_every_action():
    r = replog("topics", "--help")
    assert r.rc == 0 and r.err == "", r
    for action in ("create", "list", "describe", "delete"):
        assert f"replog topics {action}" in r.out, action
    for opt in ("--partitions", "--replication-factor", "--config", "--if-not-exists"):
        assert opt in r.out, opt
    assert max(len(line) for line in r.out.splitlines()) <= 80
