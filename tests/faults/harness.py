"""Description: the fault-injection harness: a cluster of 3 or 5 real
replogd processes on 127.0.0.1 whose every link goes through the fault
proxy (tests/faults/proxy.py), clients that record their histories
(tests/faults/worker.py), faults scheduled from a seed, and the history
checker (tests/faults/checker.py) at the end.

Wiring, by configuration only: broker i listens on its own port L_i but
advertises the proxy port of the link client->i (so every client
connection, after bootstrap, goes through the proxy), and its
cluster.brokers list gives, for every other broker j, `address` = the
client->j proxy port and `peer_address` = the proxy port of the link i->j
(so replication, controller and quorum traffic from i to j goes through
that link and can be cut, delayed or slowed on its own). The brokers run
tests/faults/replogd-faults, the build with the I/O fault hook, each with
REPLOG_FAULT_FILE naming a file the harness writes to fail its writes or
fsyncs.

A run: start the cluster and the proxy, create the topic, start the
clients, let a scenario inject faults (every random choice comes from
random.Random(seed), so a failing seed replays the same schedule), heal
everything, measure how long the cluster takes to converge (every
partition led, its ISR full), stop the producers, let the consumer read
to the end, collect every replica's files, and check the history.
"""
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "cluster"))
sys.path.insert(0, str(HERE))

import checker  # noqa: E402
import logstate  # noqa: E402
import proxy as proxymod  # noqa: E402
from replogd import (BUILD, HOST, REPLOG, Closed, Cluster, Garbled,  # noqa: E402
                     describe_quorum, describe_replicas, wait_for)

NET_ERRORS = (OSError, ConnectionError, TimeoutError, Closed, Garbled, AssertionError)

FAULTY = BUILD / "tests" / "faults" / "replogd-faults"
PY = "/usr/bin/python3"
WORKER = HERE / "worker.py"
CONVERGE_BOUND_S = 30.0
CLIENT_STOP_S = 90.0


def _ephemeral_range():
    try:
        lo, hi = open("/proc/sys/net/ipv4/ip_local_port_range").read().split()
        return int(lo), int(hi)
    except (OSError, ValueError):
        return 32768, 60999


def stable_port(rng, taken):
    """A free port outside the kernel's ephemeral range. Brokers restart on
    their port while clients keep reconnecting through the proxy; an
    ephemeral port can meanwhile be handed to one of those connections (a
    connect to a dead port in the range may even connect to itself), and
    the restart could not listen."""
    lo, hi = _ephemeral_range()
    ranges = [(10000, lo - 1)] if lo > 11000 else [(hi + 1, 65000)]
    for _ in range(1000):
        a, b = ranges[0]
        port = rng.randrange(a, b)
        if port in taken:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((HOST, port))
            except OSError:
                continue
        taken.add(port)
        return port
    raise AssertionError("no free port outside the ephemeral range")


def faults_available():
    return FAULTY.exists() and REPLOG.exists()


class Run:
    """One harness run. Use as a context manager: everything it started is
    stopped by PID on exit."""

    def __init__(self, root, seed, n=3, topic="events", partitions=3, rf=3, min_isr=2,
                 unclean=False, session_timeout_ms=2000, lag_max_ms=2000, controllers=None,
                 controller_only=(), config=None, rate=150.0):
        self.root = Path(root)
        self.seed = seed
        self.rng = random.Random(seed)
        self.n = n
        self.topic = topic
        self.partitions = partitions
        self.rf = rf
        self.min_isr = min_isr
        self.unclean = unclean
        self.rate = rate
        self.clients = {}  # name -> Popen
        self.client_files = {}
        self.acks_of = {}  # producer name -> "all" | "1"
        self._read = {}  # client name -> (bytes read, events)
        self.faulted = False  # a fault since the last heal
        self.stop_file = self.root / "producers.stop"
        self.consumers_stop_file = self.root / "consumers.stop"
        self.recoveries = []
        self.log = []  # (t, what): the nemesis' own record, printed with the report
        cfg = {"topic_defaults": {"unclean_leader_election": unclean}}
        for k, v in (config or {}).items():
            cfg[k] = {**cfg.get(k, {}), **v} if isinstance(v, dict) else v
        self.c = Cluster(self.root, n, cfg, session_timeout_ms, lag_max_ms,
                         controllers=controllers or [1, 2, 3], controller_only=controller_only,
                         binary=FAULTY,
                         env=lambda i: {"REPLOG_FAULT_FILE": str(self.fault_file(i))})
        prng, taken = random.Random(), set()  # ports are not part of the seed's schedule
        for i in range(1, n + 1):
            self.c[i].port = stable_port(prng, taken)
        self.nodes = [str(i) for i in range(1, n + 1)]
        self.data_brokers = [i for i in range(1, n + 1) if i not in controller_only]
        spec, self.addr = proxymod.make_spec(self.nodes, {str(i): self.c[i].port
                                                          for i in range(1, n + 1)}, seed=seed)
        for i in range(1, n + 1):
            b = self.c[i]
            members = []
            for j in range(1, n + 1):
                m = {"id": j, "address": self.addr[("c", str(j))]}
                if j != i:
                    m["peer_address"] = self.addr[(str(i), str(j))]
                members.append(m)
            b.config["broker"] = {**b.config.get("broker", {}),
                                  "advertised": self.addr[("c", str(i))]}
            b.config["cluster"] = {**b.config["cluster"], "brokers": members}
        self.proxy = proxymod.Proxy(spec, self.root / "proxy")
        self.session_s = session_timeout_ms / 1000.0

    # ---- life cycle ---------------------------------------------------------------------
    def __enter__(self):
        try:
            self.proxy.start()
            self.c.start()
            self.c.create_topic(self.topic, self.partitions, self.rf, self.min_isr,
                                unclean_leader_election_enable=str(self.unclean).lower())
            for p in range(self.partitions):
                self.c.wait_leader(self.topic, p)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        try:
            for name, proc in self.clients.items():
                if proc.poll() is None:
                    proc.kill()
                    proc.wait(timeout=10)
            self.c.cleanup()
        finally:
            if self.proxy.running():
                self.proxy.stop()
        return False

    @property
    def bootstrap(self):
        """What clients are given: the proxy's client links."""
        return ",".join(self.addr[("c", str(i))] for i in self.data_brokers)

    def fault_file(self, i):
        return self.root / f"broker{i}.faults"

    def note(self, what):
        self.log.append((round(time.monotonic(), 3), what))

    def fault(self, what):
        self.faulted = True
        self.note(what)

    def write_faults(self, i, text):
        """Replace broker i's fault file at once (the hook re-reads it)."""
        tmp = self.fault_file(i).with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, self.fault_file(i))

    # ---- clients ------------------------------------------------------------------------
    def _client(self, name, args):
        out = self.root / f"{name}.history.jsonl"
        self.client_files[name] = out
        errf = open(self.root / f"{name}.stderr", "ab")
        self.clients[name] = subprocess.Popen([PY, str(WORKER)] + args, stdin=subprocess.DEVNULL,
                                              stdout=errf, stderr=errf, cwd=str(self.root))
        errf.close()

    def start_producer(self, name, acks="all", rate=None, retries=5):
        self.acks_of[name] = acks
        self._client(name, ["produce", self.bootstrap, self.topic, str(self.partitions), acks,
                            name, str(self.root / f"{name}.history.jsonl"),
                            str(self.stop_file), str(rate or self.rate), str(retries)])

    def start_consumer(self, name):
        self._client(name, ["consume", self.bootstrap, self.topic, str(self.partitions), name,
                            str(self.root / f"{name}.history.jsonl"),
                            str(self.consumers_stop_file)])

    def start_workload(self):
        """The default mix: an acks=all producer, an acks=1 producer, a consumer."""
        self.start_producer("p-all", "all")
        self.start_producer("p-one", "1")
        self.start_consumer("c1")

    def events_of(self, name):
        """The events client `name` has written so far, read incrementally
        (polls call this often; the files grow to 100k lines in a soak)."""
        path = self.client_files[name]
        pos, evs = self._read.get(name, (0, []))
        if path.exists():
            with open(path, "rb") as f:
                f.seek(pos)
                data = f.read()
            end = data.rfind(b"\n") + 1  # a line still being written waits
            for line in data[:end].splitlines():
                try:
                    evs.append(json.loads(line))
                except ValueError:
                    pass  # cut short by a kill, then continued: skip it
            pos += end
        self._read[name] = (pos, evs)
        return evs

    def history(self):
        out = []
        for name in self.client_files:
            out += self.events_of(name)
        out.sort(key=lambda e: e["t"])
        return out

    def acked(self, acks=None):
        """ok events: of every producer, or those writing with acks=`acks`."""
        out = []
        for name in self.client_files:
            if name.startswith("p") and (acks is None or self.acks_of[name] == acks):
                out += [e for e in self.events_of(name) if e["type"] == "ok"]
        return out

    def wait_acks(self, count, timeout_s=30.0, acks="all"):
        """Wait until at least `count` more writes are acknowledged."""
        base = len(self.acked(acks))
        wait_for(lambda: len(self.acked(acks)) >= base + count, timeout_s,
                 f"{count} more acks={acks} acknowledgements", interval_s=0.05, ctx=self.ctx)

    def ctx(self):
        return (self.c.ctx() + "\nnemesis: " + json.dumps(self.log[-12:]) + "\nviews:\n"
                + self.views_text())

    def views_text(self):
        """Every live broker's view of the topic, one line per partition."""
        out = []
        for i in self.live():
            try:
                v = self.view(via=i)
                out += [f"  via {i}: p{p} leader {e['leader_id']} epoch {e.get('leader_epoch')} "
                        f"isr {sorted(e['isr_nodes'])} replicas {sorted(e['replica_nodes'])} "
                        f"err {e.get('error_code')}" for p, e in sorted(v.items())]
            except Exception as e:  # diagnostics only: say what failed
                out.append(f"  via {i}: {type(e).__name__}: {e}")
        for i in self.live():
            try:
                for (t, p), d in sorted(describe_replicas(self.c[i], self.topic).items()):
                    fol = " ".join(f"{f['replica_id']}:leo {f['log_end_offset']} caught up "
                                   f"{f['caught_up_ms_ago']} ms ago" for f in d["followers"])
                    out.append(f"  broker {i} p{p}: {d['role']} leader {d['leader_id']} epoch "
                               f"{d['leader_epoch']}/{d['partition_epoch']} leo "
                               f"{d['log_end_offset']} hw {d['high_watermark']} isr {d['isr']} "
                               f"{fol}")
            except Exception as e:  # diagnostics only
                out.append(f"  broker {i}: {type(e).__name__}: {e}")
        try:
            st = self.proxy.stats()
            out.append("  proxy: " + " ".join(
                f"{a}>{b}:{v['open']}open/{v['bytes_fwd']}f/{v['bytes_rev']}r"
                for (a, b), v in sorted(st.items()) if a != "c"))
        except Exception as e:  # diagnostics only
            out.append(f"  proxy: {type(e).__name__}: {e}")
        return "\n".join(out)

    # ---- cluster state ------------------------------------------------------------------
    def live(self):
        """Data brokers running and not paused."""
        return [i for i in self.data_brokers if self.c[i].running() and not self.c[i].paused]

    def view(self, via=None):
        """{partition: metadata entry} as one live data broker sees it."""
        b = self.c[via] if via else self.c[self.live()[0]]
        md = self.c.metadata([self.topic], b)
        return {p["partition_index"]: p for t in md["topics"] if t["name"] == self.topic
                for p in t["partitions"]}

    def controller_elsewhere(self, ctl, timeout_s=30.0):
        """Wait until every live broker but `ctl` names the same active
        controller, not ctl, and it says it leads: return its id."""
        def agreed():
            views = []
            for i in self.live():
                if i == ctl:
                    continue
                try:
                    views.append(describe_quorum(self.c[i], timeout_s=2.0))
                except NET_ERRORS:
                    return None
            ids = {v["leader_id"] for v in views}
            if len(ids) != 1 or next(iter(ids)) in (-1, ctl):
                return None
            (lid,) = ids
            return lid if any(v["broker_id"] == lid and v["state"] == "leader"
                              for v in views) else None
        return wait_for(agreed, timeout_s, f"a controller other than {ctl}", ctx=self.ctx)

    def replicas(self, p):
        return list(self.view().get(p, {}).get("replica_nodes", []))

    def leader(self, p, via=None):
        return self.view(via).get(p, {}).get("leader_id", -1)

    def converged(self):
        """Every live broker sees the same thing (an isolated or resumed one
        may still hold an old picture): each partition led by a live broker
        in one leader epoch, its ISR holding every replica."""
        try:
            seen = None
            for i in self.live():
                v = self.view(via=i)
                now = []
                for p in range(self.partitions):
                    e = v.get(p)
                    if not e or e["leader_id"] not in self.live():
                        return False
                    if sorted(e["isr_nodes"]) != sorted(e["replica_nodes"]):
                        return False
                    now.append((e["leader_id"], e.get("leader_epoch")))
                if seen is not None and now != seen:
                    return False
                seen = now
            return seen is not None
        except NET_ERRORS:
            return False

    def heal(self, fault_name, t_fault):
        """Clear every network and disk fault, resume paused brokers,
        restart stopped ones; then wait for convergence and record it. The
        time to recover counts from the heal, restarts included."""
        self.proxy.heal()
        healed = time.monotonic()
        for i, b in self.c.brokers.items():
            self.write_faults(i, "")
            if b.running() and b.paused:
                b.sigcont()
        for i, b in self.c.brokers.items():
            if not b.running():
                b.start(wait_unfenced=False, wait_leaders=False)
        self.faulted = False
        self.note(f"healed {fault_name}")
        conv = None
        try:
            wait_for(self.converged, CONVERGE_BOUND_S + 15, "convergence", interval_s=0.1)
            conv = time.monotonic()
        except AssertionError:
            # What stayed apart, for the report (the run goes on).
            self.note(f"not converged after {fault_name}:\n{self.views_text()}")
        self.recoveries.append({"fault": fault_name, "started_at": t_fault,
                                "healed_at": healed, "converged_at": conv})
        self.note(f"converged after {fault_name}: "
                  f"{'never' if conv is None else round(conv - healed, 2)}")
        return conv

    # ---- faults -------------------------------------------------------------------------
    def isolate(self, i, from_=None):
        """Cut broker i from `from_` (node names; default every other node,
        clients included) in both directions."""
        others = from_ if from_ is not None else [s for s in self.nodes + ["c"] if s != str(i)]
        for o in others:
            self.proxy.partition(str(i), o)
        self.fault(f"isolate {i} from {others}")

    def cut_one_way(self, a, b):
        self.proxy.block(str(a), str(b))
        self.fault(f"block {a}->{b}")

    def disk_fault(self, i, kind, path_part=""):
        self.write_faults(i, f"{kind} {path_part}".strip() + "\n")
        self.fault(f"disk {kind} on {i} {path_part}")

    def kill9(self, i):
        self.c[i].kill9()
        self.fault(f"kill -9 {i}")

    def pause(self, i):
        self.c[i].sigstop()
        self.fault(f"SIGSTOP {i}")

    def stop_clean(self, i):
        self.c[i].stop()
        self.fault(f"SIGTERM {i}")

    # ---- the end ------------------------------------------------------------------------
    def finish(self, converge_bound_s=CONVERGE_BOUND_S, allow_loss_reported=False):
        """Heal, stop producers, drain the consumer, collect, check. Returns
        the checker's result (the caller asserts .ok)."""
        if self.faulted:
            self.heal("final", time.monotonic())
        self.stop_file.touch()
        for name, proc in self.clients.items():
            if name.startswith("p"):
                try:
                    proc.wait(timeout=CLIENT_STOP_S)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
        # Not converging is a failure the checker reports (a liveness
        # one); the run is still checked in full for safety, over the
        # replicas that are in sync.
        t_end = time.monotonic()
        try:
            wait_for(self.converged, converge_bound_s + 15, "convergence at the end",
                     interval_s=0.1)
            self.note("converged at the end")
        except AssertionError:
            self.note(f"not converged at the end:\n{self.views_text()}")
            self.recoveries.append({"fault": "end of the run", "started_at": t_end,
                                    "healed_at": t_end, "converged_at": None})
        hws = {p: self._hw(p) for p in range(self.partitions)}
        self._wait_replicas_hold(hws)
        self._wait_consumers_reach(hws)
        self.consumers_stop_file.touch()
        for name, proc in self.clients.items():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        final = self.final_state(hws)
        res = checker.check(self.history(), final, self.recoveries, converge_bound_s)
        report = checker.format_report(res)
        print(f"seed {self.seed}\n{report}\nnemesis:")
        for t, what in self.log:
            print(f"  {t:.3f} {what}")
        (self.root / "report.txt").write_text(report + "\n")
        return res

    def _hw(self, p):
        """The HW partition p's leader reports now."""
        def read():
            try:
                lid = self.leader(p)
                if lid not in self.live():
                    return None
                with self.c[lid].conn() as k:
                    r = k.fetch(self.topic, p, 0, max_wait_ms=0, partition_max_bytes=1)
            except NET_ERRORS:
                return None
            return r["high_watermark"] if r["error_code"] == 0 else None
        return wait_for(read, 20, f"the HW of {self.topic}-{p}", ctx=self.ctx)

    def data_dirs(self):
        return {i: b.data_dir for i, b in self.c.brokers.items()}

    def _wait_replicas_hold(self, hws):
        """Followers fetch on their own: wait until every in-sync replica's
        files reach the HW the leader reported."""
        view = self.view()

        def held():
            for p, hw in hws.items():
                isr = view[p]["isr_nodes"]
                for i, st in logstate.read_replicas(self.data_dirs(), self.topic, p).items():
                    if i not in isr:
                        continue  # out of sync: the checker does not count it either
                    end = st["batches"][-1]["last_offset"] + 1 if st["batches"] else 0
                    if end < hw:
                        return False
            return True
        wait_for(held, 30, "every replica holding the HW", interval_s=0.2, ctx=self.ctx)

    def _wait_consumers_reach(self, hws):
        consumers = [n for n in self.clients if n.startswith("c")]

        def reached():
            for n in consumers:
                last = {}
                for e in self.events_of(n):
                    if e["type"] == "read":
                        last[e["partition"]] = max(last.get(e["partition"], -1), e["offset"])
                for p, hw in hws.items():
                    if hw > 0 and last.get(p, -1) < hw - 1:
                        return False
            return True
        wait_for(reached, 60, "the consumers reading up to the HW", interval_s=0.2,
                 ctx=self.ctx)

    def final_state(self, hws):
        leaders = []
        for i, b in self.c.brokers.items():
            for e in b.events("became_leader"):
                if e.get("topic") == self.topic:
                    leaders.append({"broker": i, "epoch": int(e["leader_epoch"]),
                                    "partition": int(e["partition"])})
        view = self.view()
        final = {}
        for p in range(self.partitions):
            final[(self.topic, p)] = {
                "replicas": logstate.read_replicas(self.data_dirs(), self.topic, p),
                "leader": view[p]["leader_id"],
                "isr": list(view[p]["isr_nodes"]),
                "hw": hws[p],
                "unclean": self.unclean,
                "leaders": [x for x in leaders if x["partition"] == p],
            }
        return final


def signal_name(rc):
    return signal.Signals(-rc).name if rc is not None and rc < 0 else str(rc)


def env_seeds(default):
    """REPLOG_FAULT_SEEDS=1,2,3 replays chosen seeds instead of the fixed ones."""
    s = os.environ.get("REPLOG_FAULT_SEEDS")
    return [int(x) for x in s.split(",")] if s else default


# ---- a random mix of faults (CI seeds and the soak) -------------------------------------------

FAULT_KINDS = ["kill9-leader", "kill9-any", "clean-bounce", "pause-leader", "pause-follower",
               "isolate-leader", "isolate-any", "one-way-leader", "isolate-controller",
               "slow-follower", "delay-links", "enospc", "eio-fsync", "stall-disk"]


def _pick(seq, x):
    """The element of seq that x in [0, 1) names: the draw is the seed's,
    whatever the list holds at the time."""
    seq = list(seq)
    return seq[min(int(x * len(seq)), len(seq) - 1)]


def inject_one(r, kind):
    """Start one fault of `kind`; returns its name. Every fault draws the
    same numbers from r.rng in the same order, so a seed replays the same
    schedule of kinds and draws (what they land on can differ only when
    the cluster's state at that moment does)."""
    rng = r.rng
    p = rng.randrange(r.partitions)
    x, y = rng.random(), rng.random()
    ms = rng.choice([50, 200, 1000])
    bps = rng.choice([300, 2000, 20000])
    live = r.live()
    lid = r.leader(p)
    if lid not in live:
        lid = _pick(live, x)
    others = [s for s in r.nodes if s != str(lid)]
    followers = [i for i in r.replicas(p) if i != lid and i in live] or [
        i for i in live if i != lid]
    if kind == "kill9-leader":
        r.kill9(lid)
    elif kind == "kill9-any":
        lid = _pick(live, x)
        r.kill9(lid)
    elif kind == "clean-bounce":
        r.stop_clean(lid)
    elif kind == "pause-leader":
        r.pause(lid)
    elif kind == "pause-follower":
        lid = _pick(followers, y)
        r.pause(lid)
    elif kind == "isolate-leader":
        r.isolate(lid, from_=others)
    elif kind == "isolate-any":
        lid = _pick(live, x)
        r.isolate(lid)  # from every node, clients included
    elif kind == "one-way-leader":
        for o in others:
            r.cut_one_way(lid, o)
    elif kind == "isolate-controller":
        lid = r.c.active_controller()
        r.isolate(lid, from_=[s for s in r.nodes if s != str(lid)])
    elif kind == "slow-follower":
        f = _pick(followers, y)
        r.proxy.rate(str(lid), str(f), bps)
        r.fault(f"rate {lid}->{f} {bps} B/s")
    elif kind == "delay-links":
        a = _pick(r.nodes, x)
        b = _pick([n for n in r.nodes if n != a], y)
        r.proxy.delay(a, b, ms, jitter_ms=ms // 2)
        r.proxy.delay(b, a, ms, jitter_ms=ms // 2)
        r.fault(f"delay {a}<->{b} {ms} ms")
    elif kind == "stall-disk":
        # One broker's fsyncs of one partition hang until the heal (a
        # disk that stalls); the broker keeps running.
        lid = _pick(live, x)
        r.disk_fault(lid, "hold-fsync", f"/{r.topic}-{p}/")
    elif kind in ("enospc", "eio-fsync"):
        r.disk_fault(lid, kind, f"/{r.topic}-{p}/")
        # It stops by itself (exit 74) at its next write or fsync there;
        # a heal before it has exited would find it running and leave it.
        b = r.c[lid]
        try:
            wait_for(lambda: not b.running(), 30, f"broker {lid} stopping on {kind}",
                     interval_s=0.05)
        except AssertionError:
            r.note(f"broker {lid} did not stop on {kind}")
    return f"{kind} on {lid}"


def random_faults(r, duration_s, kinds=FAULT_KINDS):
    """Faults one after another for duration_s: inject, hold 1-5 s
    (longer than the session timeout for pauses), heal, converge."""
    deadline = time.monotonic() + duration_s
    for _ in range(10000):
        if time.monotonic() >= deadline:
            break
        kind = r.rng.choice(kinds)
        t = time.monotonic()
        name = inject_one(r, kind)
        hold = r.rng.uniform(1.0, 5.0)
        if kind.startswith("pause-"):
            hold = max(hold, r.session_s * 1.5)
        end = time.monotonic() + hold
        while time.monotonic() < end:
            time.sleep(0.05)
        r.heal(name, t)
