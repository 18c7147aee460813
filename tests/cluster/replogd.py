"""Description: fixtures for cluster tests of real `replogd` processes.

What is here:
  * Broker: one replogd process on 127.0.0.1 with its own data_dir and
    config under pytest's tmp_path and a free port; start (waits, with a
    deadline, until the process accepts a connection and answers an
    ApiVersions round trip), stop (SIGTERM, wait, check the exit code),
    kill9, restart on the same data_dir, its stderr log parsed into
    key=value events, RSS, the files of a partition, kcat against it.
  * KafkaConn: a raw Kafka-protocol client (socket + struct): frames with
    request header v1/v2, response reading with a timeout, "closed?"
    detection; encoders and decoders for the few requests tests send
    (ApiVersions, Metadata, Produce, Fetch, ListOffsets) and a RecordBatch
    v2 builder/parser with CRC-32C.
  * The `brokers` fixture (a factory; every process it started is killed by
    its PID at teardown if still running) and a report hook that appends the
    log lines each broker wrote during a failed test to the failure message.
    Test modules load this file with `pytest_plugins = ["replogd"]`.

Every wait here is a poll with a deadline; every loop is bounded.
"""
import os
import signal
import socket
import struct
import subprocess
import time
from pathlib import Path

import pytest

BUILD = Path(os.environ.get("REPLOG_BUILD_ROOT", ""))
REPLOGD = BUILD / "broker" / "replogd"
REPLOG = BUILD / "tools" / "replog"
KCAT = "/usr/bin/kcat"
HOST = "127.0.0.1"

START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 15.0
LOG_TAIL_LINES = 40

have_binaries = REPLOGD.exists() and REPLOG.exists() and os.path.exists(KCAT)
needs_broker = pytest.mark.skipif(
    not have_binaries,
    reason="REPLOG_BUILD_ROOT must name a build with broker/replogd and tools/replog, "
           "and /usr/bin/kcat must exist")

# ---- Kafka constants ---------------------------------------------------------

API_PRODUCE, API_FETCH, API_LIST_OFFSETS, API_METADATA = 0, 1, 2, 3
API_API_VERSIONS, API_CREATE_TOPICS, API_DELETE_TOPICS = 18, 19, 20

ERR_NONE = 0
ERR_OFFSET_OUT_OF_RANGE = 1
ERR_CORRUPT_MESSAGE = 2
ERR_UNKNOWN_TOPIC_OR_PARTITION = 3
ERR_MESSAGE_TOO_LARGE = 10
ERR_INVALID_TOPIC_EXCEPTION = 17
ERR_UNSUPPORTED_VERSION = 35
ERR_INVALID_RECORD = 87


# ---- free ports, polling ------------------------------------------------------

def free_port():
    """A port nobody listens on right now (bind port 0, read it, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_for(pred, timeout_s, what, interval_s=0.02, ctx=lambda: "", alive=None):
    """Poll pred() until it returns something truthy; fail after timeout_s,
    or at once when the Broker `alive` is no longer running."""
    deadline = time.monotonic() + timeout_s
    last_exc = None
    for _ in range(int(timeout_s / interval_s) + 2):
        if alive is not None and not alive.running():
            raise AssertionError(f"replogd exited (rc {alive.proc.poll()}) while waiting for "
                                 f"{what}" + alive.ctx())
        try:
            v = pred()
            if v:
                return v
        except (OSError, ConnectionError, TimeoutError) as e:
            last_exc = e
        if time.monotonic() >= deadline:
            break
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}"
                         + (f" (last error: {last_exc!r})" if last_exc else "") + ctx())


def flush(producer, broker, timeout_s=60.0):
    """Flush a confluent-kafka Producer; fail at once if the broker dies.
    Returns what is still undelivered (0 when all is)."""
    deadline = time.monotonic() + timeout_s
    remaining = None
    for _ in range(int(timeout_s * 4) + 2):
        remaining = producer.flush(0.25)
        if remaining == 0:
            return 0
        if not broker.running():
            raise AssertionError(f"replogd exited (rc {broker.proc.poll()}) with {remaining} "
                                 "messages undelivered" + broker.ctx())
        if time.monotonic() > deadline:
            break
    return remaining


# ---- the broker's log: key=value lines ---------------------------------------

def parse_log_line(line):
    """{key: value} of one log line; double-quoted values unescaped."""
    out, i, n = {}, 0, len(line)
    for _ in range(n + 1):
        while i < n and line[i] == " ":
            i += 1
        if i >= n:
            break
        eq = line.find("=", i)
        sp = line.find(" ", i)
        if eq < 0 or (0 <= sp < eq):  # a bare word: keep it as a flag
            end = n if sp < 0 else sp
            out[line[i:end]] = ""
            i = end
            continue
        key = line[i:eq]
        i = eq + 1
        if i < n and line[i] == '"':
            i += 1
            val = []
            while i < n and line[i] != '"':
                if line[i] == "\\" and i + 1 < n:
                    i += 1
                val.append(line[i])
                i += 1
            i += 1
            out[key] = "".join(val)
        else:
            end = n if (sp := line.find(" ", i)) < 0 else sp
            out[key] = line[i:end]
            i = end
    return out


# ---- the broker process ------------------------------------------------------

def _yaml(d, indent=0):
    out = []
    for k, v in d.items():
        pad = "  " * indent
        if isinstance(v, dict):
            out.append(f"{pad}{k}:")
            out.extend(_yaml(v, indent + 1))
        elif isinstance(v, (list, tuple)):
            import json
            out.append(f"{pad}{k}: {json.dumps(list(v))}")  # JSON is YAML flow style
        elif isinstance(v, bool):
            out.append(f"{pad}{k}: {'true' if v else 'false'}")
        else:
            out.append(f"{pad}{k}: {v}")
    return out


def _merge(base, over):
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            _merge(base[k], v)
        else:
            base[k] = v
    return base


class Broker:
    """One replogd. `config` is merged over broker.{id,listen,data_dir}."""

    def __init__(self, root, name="broker", config=None, port=None, binary=None, env=None):
        self.dir = Path(root) / name
        self.binary = Path(binary) if binary else REPLOGD  # e.g. the fault-injection build
        self.env = env  # extra environment variables for the process, or None
        self.dir.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.data_dir = self.dir / "data"
        self.config_path = self.dir / "replogd.yaml"
        self.log_path = self.dir / "replogd.log"
        self.config = config or {}
        self.port = port
        self.fixed_port = port is not None  # a cluster member: others know its port
        self.proc = None
        self.pid = None
        self.paused = False  # SIGSTOPped by sigstop(): running, but answers nothing
        self.start_log_offset = 0  # where the current start's lines begin
        self.returncodes = []

    # -- addresses and config
    @property
    def bootstrap(self):
        return f"{HOST}:{self.port}"

    def _write_config(self):
        cfg = {"broker": {"id": 1, "listen": self.bootstrap, "data_dir": str(self.data_dir)}}
        _merge(cfg, {k: (dict(v) if isinstance(v, dict) else v) for k, v in self.config.items()})
        self.config_path.write_text("\n".join(_yaml(cfg)) + "\n")

    # -- life cycle
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout_s=START_TIMEOUT_S, wait_unfenced=True, wait_leaders=True):
        """Start (or restart on the same data_dir, and the same port unless
        someone took it meanwhile); return once it answers ApiVersions and,
        unless wait_unfenced is False, the controller has unfenced it (it
        may lead partitions: the cluster counts it), and, unless
        wait_leaders is False, every partition has a leader again (what a
        lone broker restarting must reach)."""
        assert not self.running(), "already running"
        # A cluster member keeps its port (the others know it): right after
        # a kill -9 the kernel may still refuse it for a moment while the
        # dead process's connections close, so it retries, bounded in time.
        give_up = time.monotonic() + timeout_s
        for attempt in range(200 if self.fixed_port else 3):
            if self.fixed_port and attempt > 0:
                if time.monotonic() >= give_up:
                    break
                time.sleep(0.05)
            elif self.port is None or attempt > 0:
                self.port = free_port()
            self._write_config()
            self.start_log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
            with open(self.log_path, "ab") as logf:
                env = {**os.environ, **self.env} if self.env else None
                self.proc = subprocess.Popen([str(self.binary), "--config", str(self.config_path)],
                                             stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                                             cwd=str(self.dir), env=env)
            self.pid = self.proc.pid
            try:
                self._wait_ready(timeout_s, wait_unfenced)
                if wait_leaders:
                    self.wait_all_led(timeout_s)
                return self
            except _ListenFailed:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
                continue
        raise AssertionError("replogd could not listen on a free port" + self.ctx())

    def _wait_ready(self, timeout_s, wait_unfenced):
        deadline = time.monotonic() + timeout_s
        for _ in range(int(timeout_s / 0.02) + 2):
            rc = self.proc.poll()
            if rc is not None:
                self.returncodes.append(rc)
                if any(e.get("event") == "start_failed" and e.get("reason") == "cannot listen"
                       for e in self.events(since_start=True)):
                    raise _ListenFailed()
                raise AssertionError(f"replogd exited with {rc} while starting" + self.ctx())
            if self.events("broker_started", since_start=True) and (
                    not wait_unfenced or self.events("broker_is_unfenced", since_start=True)):
                try:
                    with KafkaConn(self.port, timeout_s=2.0) as c:
                        v = c.api_versions()
                        if v["error_code"] == 0:
                            return
                except (OSError, ConnectionError, TimeoutError, Closed, Garbled):
                    pass
            if time.monotonic() >= deadline:
                break
            time.sleep(0.02)
        raise AssertionError(f"replogd did not answer within {timeout_s}s" + self.ctx())

    def stop(self, expect_rc=0, timeout_s=STOP_TIMEOUT_S, sig=signal.SIGTERM):
        """SIGTERM (or sig), wait for the exit, check its code. Returns the
        seconds it took to exit."""
        assert self.running(), "not running" + self.ctx()
        t0 = time.monotonic()
        os.kill(self.pid, sig)
        try:
            rc = self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.kill(self.pid, signal.SIGKILL)
            self.proc.wait(timeout=STOP_TIMEOUT_S)
            raise AssertionError(f"replogd did not exit within {timeout_s}s of signal {sig} "
                                 "(killed)" + self.ctx())
        took = time.monotonic() - t0
        self.returncodes.append(rc)
        if expect_rc is not None:
            assert rc == expect_rc, f"replogd exited with {rc}, expected {expect_rc}" + self.ctx()
        return took

    def sigstop(self):
        os.kill(self.pid, signal.SIGSTOP)
        self.paused = True

    def sigcont(self):
        os.kill(self.pid, signal.SIGCONT)
        self.paused = False

    def kill9(self):
        assert self.running(), "not running" + self.ctx()
        os.kill(self.pid, signal.SIGKILL)
        rc = self.proc.wait(timeout=STOP_TIMEOUT_S)
        self.returncodes.append(rc)
        return rc

    def wait_unfenced(self, timeout_s=START_TIMEOUT_S):
        """Wait until this run of the broker logged that the controller
        unfenced it."""
        wait_for(lambda: self.events("broker_is_unfenced", since_start=True), timeout_s,
                 f"{self.name} unfenced", ctx=self.ctx, alive=self)

    def restart(self):
        if self.running():
            self.stop()
        return self.start()

    def cleanup(self):
        """Teardown: kill by PID whatever is still running."""
        if self.running():
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=STOP_TIMEOUT_S)

    # -- its log
    def log_text(self, since_start=False, since=0):
        if not self.log_path.exists():
            return ""
        with open(self.log_path, "rb") as f:
            f.seek(self.start_log_offset if since_start else since)
            return f.read().decode("utf-8", "replace")

    def log_size(self):
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def events(self, event=None, since_start=False, since=0):
        out = []
        for line in self.log_text(since_start, since).splitlines():
            e = parse_log_line(line)
            if event is None or e.get("event") == event:
                out.append(e)
        return out

    def tail(self, n=LOG_TAIL_LINES, since=0):
        lines = self.log_text(since=since).splitlines()
        return "\n".join(lines[-n:])

    def ctx(self, n=15):
        """For assertion messages: the last log lines."""
        return f"\n--- {self.name} log tail ({self.log_path}) ---\n{self.tail(n)}\n---"

    # -- its process
    def rss_kb(self):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS")

    # -- its files
    def partition_dir(self, topic, partition=0):
        return self.data_dir / f"{topic}-{partition}"

    METADATA_DIR = "__cluster_metadata-0"

    def partition_dirs(self):
        """Topic partition directories, sorted: the cluster metadata log,
        which grows with every registration, is not one."""
        return sorted(p for p in self.data_dir.iterdir()
                      if p.is_dir() and p.name != self.METADATA_DIR)

    def files(self, topic, partition=0):
        """{relative path: size} of every file of a partition."""
        d = self.partition_dir(topic, partition)
        return {str(p.relative_to(d)): p.stat().st_size for p in sorted(d.rglob("*"))
                if p.is_file()}

    # -- clients
    def kcat(self, *args, input=None, timeout_s=60, check=True):
        r = subprocess.run([KCAT, "-b", self.bootstrap, *map(str, args)], input=input,
                           capture_output=True, timeout=timeout_s, check=False)
        if check:
            assert r.returncode == 0, (f"kcat {' '.join(map(str, args))} exited "
                                       f"{r.returncode}\nstderr: {r.stderr[-2000:]!r}" + self.ctx())
        return r

    def metadata_json(self):
        import json
        r = self.kcat("-L", "-J", "-m", "10")
        return json.loads(r.stdout)

    def conn(self, timeout_s=10.0):
        return KafkaConn(self.port, timeout_s=timeout_s)

    def offline_partitions(self):
        """[(topic, partition)] without a leader, by this broker's Metadata."""
        with self.conn() as c:
            md = c.metadata(topics=None, version=7, allow_auto=False)
        return [(t["name"], p["partition_index"]) for t in md["topics"]
                for p in t["partitions"] if p["leader_id"] < 0]

    def wait_all_led(self, timeout_s=START_TIMEOUT_S):
        wait_for(lambda: not self.offline_partitions(), timeout_s,
                 "every partition to have a leader", ctx=self.ctx, alive=self)


class _ListenFailed(Exception):
    pass


def dump_log(path):
    """Run `replog dump-log`; returns the CompletedProcess (text)."""
    return subprocess.run([str(REPLOG), "dump-log", str(path)], capture_output=True,
                          timeout=120, check=False, text=True, errors="replace")


class Cluster:
    """N replogd processes on 127.0.0.1 that know each other (cluster.brokers).
    The metadata quorum is broker 1 alone (cluster.controller: 1: the others
    are standbys) unless `controllers` names the voters (cluster.controllers).
    `config` is merged into every broker's (e.g. topic_defaults,
    replication); brokers are `self.brokers[id]`. Ports are chosen up front:
    every config names every address. `binary` replaces broker/replogd (the
    fault-injection build); `env` is a dict of extra environment variables,
    or a function of the broker id returning one."""

    def __init__(self, root, n=3, config=None, session_timeout_ms=2000, lag_max_ms=2000,
                 controllers=None, controller_only=(), binary=None, env=None):
        self.n = n
        ports = []
        while len(ports) < n:
            p = free_port()
            if p not in ports:
                ports.append(p)
        members = [{"id": i + 1, "address": f"{HOST}:{ports[i]}"} for i in range(n)]
        self.brokers = {}
        for i in range(1, n + 1):
            quorum = {"controllers": list(controllers)} if controllers else {"controller": 1}
            cfg = {"cluster": {**quorum, "brokers": members},
                   "replication": {"session_timeout_ms": session_timeout_ms,
                                   "lag_max_ms": lag_max_ms}}
            _merge(cfg, {k: (dict(v) if isinstance(v, dict) else v)
                         for k, v in (config or {}).items()})
            _merge(cfg, {"broker": {"id": i}})
            if i in controller_only:
                _merge(cfg, {"broker": {"controller_only": True}})
            benv = env(i) if callable(env) else env
            self.brokers[i] = Broker(root, f"broker{i}", cfg, port=ports[i - 1], binary=binary,
                                     env=benv)
        self.session_timeout_s = session_timeout_ms / 1000.0
        self.controllers = list(controllers) if controllers else [1]
        self.controller_only = set(controller_only)

    def __getitem__(self, broker_id):
        return self.brokers[broker_id]

    def __iter__(self):
        return iter(self.brokers.values())

    @property
    def bootstrap(self):
        return ",".join(b.bootstrap for b in self)

    def running(self):
        return [b for b in self if b.running()]

    def start(self, timeout_s=START_TIMEOUT_S):
        """Start every broker; return once each is registered and unfenced.
        A lone controller starts first; a quorum of voters needs a majority
        running before anyone can register, so then all start at once."""
        if len(self.controllers) == 1:
            ctl = self.controllers[0]
            for i in [ctl] + [i for i in self.brokers if i != ctl]:
                if not self[i].running():
                    self[i].start(timeout_s, wait_unfenced=i not in self.controller_only,
                                  wait_leaders=False)
            return self
        for b in self:
            if not b.running():
                b.start(timeout_s, wait_unfenced=False, wait_leaders=False)
        for i, b in self.brokers.items():
            if i not in self.controller_only:  # those never register
                b.wait_unfenced(timeout_s)
        return self

    def quorum(self, via=None):
        """The metadata quorum as one running broker sees it
        (describe_quorum)."""
        return describe_quorum(via or self.any_running())

    def active_controller(self, timeout_s=30.0, not_in=()):
        """Wait until the running brokers agree on one active controller (a
        running voter, not in not_in) and it says it leads: return its id."""
        def agreed():
            views = []
            for b in self.running():
                if b.paused:
                    continue
                try:
                    views.append(describe_quorum(b, timeout_s=2.0))
                except (OSError, ConnectionError, TimeoutError, AssertionError):
                    return None
            ids = {v["leader_id"] for v in views}
            if len(ids) != 1:
                return None
            (lid,) = ids
            if lid < 0 or lid in not_in or not self[lid].running() or self[lid].paused:
                return None
            lead = [v for v in views if v["broker_id"] == lid]
            return lid if lead and lead[0]["state"] == "leader" else None
        return wait_for(agreed, timeout_s, "one active controller", ctx=self.ctx)

    def any_running(self):
        """The first broker running and not paused."""
        live = [b for b in self.running() if not b.paused]
        assert live, "no broker of the cluster is running"
        return live[0]

    def metadata(self, topics=None, via=None):
        """Metadata v7 as one broker (broker 1 when it runs) sees it."""
        b = via or (self[1] if self[1].running() and not self[1].paused
                    else self.any_running())
        with b.conn() as c:
            return c.metadata(topics=topics, version=7, allow_auto=False)

    def partition(self, topic, partition=0, via=None):
        md = self.metadata([topic], via)
        for t in md["topics"]:
            if t["name"] == topic:
                for p in t["partitions"]:
                    if p["partition_index"] == partition:
                        return p
        return None

    def leader(self, topic, partition=0, via=None):
        p = self.partition(topic, partition, via)
        return p["leader_id"] if p else -1

    def wait_leader(self, topic, partition=0, timeout_s=30.0, not_in=(), via=None):
        """Wait for a live leader (not in not_in) that itself says it leads:
        returns its id."""
        def led():
            lid = self.leader(topic, partition, via)
            if lid < 0 or lid in not_in or lid not in self.brokers \
                    or not self.brokers[lid].running():
                return None
            return lid if self.leader(topic, partition, self.brokers[lid]) == lid else None
        return wait_for(led, timeout_s, f"a leader for {topic}-{partition}", ctx=self.ctx)

    def wait_isr(self, topic, partition, want, timeout_s=30.0):
        """Wait until the controller's ISR is exactly the set `want`."""
        want = set(want)
        return wait_for(lambda: set(self.partition(topic, partition)["isr_nodes"]) == want,
                        timeout_s, f"ISR {sorted(want)} for {topic}-{partition}", ctx=self.ctx)

    def create_topic(self, topic, partitions=1, replication_factor=3, min_isr=2, via=None,
                     **configs):
        """CreateTopics through kafka-python's admin client (bootstrapped
        from `via`, else broker 1 or the first running); waits for leaders."""
        from kafka.admin import KafkaAdminClient, NewTopic
        cfg = {"min.insync.replicas": str(min_isr)}
        cfg.update({k.replace("_", "."): str(v) for k, v in configs.items()})
        boot = via or (self[1] if self[1].running() and not self[1].paused
                       else self.any_running())
        admin = KafkaAdminClient(bootstrap_servers=boot.bootstrap, request_timeout_ms=20000)
        try:
            admin.create_topics([NewTopic(topic, partitions, replication_factor,
                                          topic_configs=cfg)])
        finally:
            admin.close()
        for p in range(partitions):
            self.wait_leader(topic, p, via=via)

    def ctx(self, n=12):
        return "".join(b.ctx(n) for b in self)

    def cleanup(self):
        for b in self:
            try:
                if b.running():
                    b.sigcont()
            except ProcessLookupError:
                pass
            b.cleanup()


# ---- the fixture and the report hook -------------------------------------------

_all_brokers = []
_log_marks = {}


def register(b):
    """Make a Broker made outside the `brokers` fixture (module scope) part of
    failure reports. The caller stops it."""
    _all_brokers.append(b)
    _log_marks[id(b)] = b.log_size()
    return b


@pytest.fixture
def brokers(tmp_path):
    """Factory: brokers(config=None, name="broker", start=True) -> Broker."""
    made = []

    def make(config=None, name=None, start=True):
        b = Broker(tmp_path, name or f"broker{len(made) + 1}", config)
        made.append(b)
        register(b)
        if start:
            b.start()
        return b

    yield make
    for b in made:
        b.cleanup()


@pytest.fixture
def cluster(tmp_path):
    """Factory: cluster(n=3, config=None, start=True, **timeouts) -> Cluster."""
    made = []

    def make(n=3, config=None, start=True, **kw):
        c = Cluster(tmp_path, n, config, **kw)
        made.append(c)
        for b in c:
            register(b)
        if start:
            c.start()
        return c

    yield make
    for c in made:
        c.cleanup()


def pytest_runtest_setup(item):
    for b in _all_brokers:
        _log_marks[id(b)] = b.log_size()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if not rep.failed or call.when == "teardown":
        return
    extra = []
    for b in _all_brokers:
        text = b.tail(LOG_TAIL_LINES, since=_log_marks.get(id(b), 0))
        if text:
            extra.append(f"--- {b.name} (port {b.port}) log lines written during this test "
                         f"(last {LOG_TAIL_LINES}) ---\n{text}")
    if extra:
        rep.longrepr = f"{rep.longrepr}\n" + "\n".join(extra)


# ---- CRC-32C and varints -----------------------------------------------------------

def _crc32c_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
        t.append(c)
    return t


_CRC_TABLE = _crc32c_table()


def crc32c(data):
    crc = 0xFFFFFFFF
    t = _CRC_TABLE
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def varint(n):
    """Zig-zag varint (inside RecordBatch)."""
    z = (n << 1) ^ (n >> 63)
    z &= (1 << 64) - 1
    out = bytearray()
    while True:
        if z < 0x80:
            out.append(z)
            return bytes(out)
        out.append((z & 0x7F) | 0x80)
        z >>= 7


def uvarint(n):
    out = bytearray()
    while True:
        if n < 0x80:
            out.append(n)
            return bytes(out)
        out.append((n & 0x7F) | 0x80)
        n >>= 7


def read_varint(b, i):
    shift, z = 0, 0
    for _ in range(10):
        c = b[i]
        i += 1
        z |= (c & 0x7F) << shift
        if not c & 0x80:
            return (z >> 1) ^ -(z & 1), i
        shift += 7
    raise ValueError("varint too long")


# ---- RecordBatch v2 ------------------------------------------------------------

def build_record(offset_delta, ts_delta, key, value, headers=()):
    body = bytearray(b"\x00")
    body += varint(ts_delta) + varint(offset_delta)
    body += varint(-1) if key is None else varint(len(key)) + key
    body += varint(-1) if value is None else varint(len(value)) + value
    body += varint(len(headers))
    for hk, hv in headers:
        hk = hk.encode() if isinstance(hk, str) else hk
        body += varint(len(hk)) + hk
        body += varint(-1) if hv is None else varint(len(hv)) + hv
    return varint(len(body)) + bytes(body)


def build_batch(records, base_ts=None, attributes=0, producer_id=-1, producer_epoch=-1,
                base_sequence=-1, leader_epoch=-1):
    """records: [(key, value, headers)]. Returns the batch bytes, valid CRC."""
    if base_ts is None:
        base_ts = int(time.time() * 1000)
    recs = b"".join(build_record(i, 0, k, v, h) for i, (k, v, h) in enumerate(records))
    tail = struct.pack(">hiqqqhii", attributes, len(records) - 1, base_ts, base_ts,
                       producer_id, producer_epoch, base_sequence, len(records)) + recs
    crc = crc32c(tail)
    return struct.pack(">qiibI", 0, 4 + 1 + 4 + len(tail), leader_epoch, 2, crc) + tail


def parse_batches(data):
    """Batches in a record set: [{base_offset, last_offset, count, size,
    complete, crc_ok, records: [(offset, key, value, headers)] (uncompressed)}].
    A cut-short trailing batch is returned with complete=False."""
    out, pos = [], 0
    for _ in range(len(data) // 61 + 1):
        if pos + 12 > len(data):
            if pos < len(data):
                out.append({"complete": False, "position": pos})
            break
        base, blen = struct.unpack_from(">qi", data, pos)
        size = blen + 12
        if pos + size > len(data) or size < 61:
            out.append({"complete": False, "position": pos, "base_offset": base})
            break
        (ple, magic, crc, attrs, lod, bts, mts, pid, pep, bseq,
         count) = struct.unpack_from(">ibIhiqqqhii", data, pos + 12)
        b = {"base_offset": base, "last_offset": base + lod, "count": count, "size": size,
             "position": pos, "complete": True, "magic": magic, "leader_epoch": ple,
             "codec": attrs & 7, "max_timestamp": mts, "base_timestamp": bts,
             "crc_ok": crc32c(data[pos + 21:pos + size]) == crc, "records": None}
        if magic == 2 and attrs & 7 == 0:
            recs, i, end = [], pos + 61, pos + size
            for _ in range(count):
                ln, i = read_varint(data, i)
                j = i + 1  # attributes
                tsd, j = read_varint(data, j)
                od, j = read_varint(data, j)
                kl, j = read_varint(data, j)
                key = None if kl < 0 else bytes(data[j:j + kl])
                j += max(kl, 0)
                vl, j = read_varint(data, j)
                val = None if vl < 0 else bytes(data[j:j + vl])
                j += max(vl, 0)
                hc, j = read_varint(data, j)
                hdrs = []
                for _ in range(hc):
                    hkl, j = read_varint(data, j)
                    hk = bytes(data[j:j + hkl]).decode()
                    j += hkl
                    hvl, j = read_varint(data, j)
                    hv = None if hvl < 0 else bytes(data[j:j + hvl])
                    j += max(hvl, 0)
                    hdrs.append((hk, hv))
                recs.append((base + od, key, val, hdrs, bts + tsd))
                i += ln
            assert i == end, "records do not fill the batch"
            b["records"] = recs
        out.append(b)
        pos += size
    return out


# ---- wire encoding ---------------------------------------------------------------

def s16(s):
    if s is None:
        return struct.pack(">h", -1)
    s = s.encode() if isinstance(s, str) else s
    return struct.pack(">h", len(s)) + s


def cstr(s):
    if s is None:
        return b"\x00"
    s = s.encode() if isinstance(s, str) else s
    return uvarint(len(s) + 1) + s


def bytes32(b):
    if b is None:
        return struct.pack(">i", -1)
    return struct.pack(">i", len(b)) + b


def array(items, enc=lambda x: x):
    if items is None:
        return struct.pack(">i", -1)
    return struct.pack(">i", len(items)) + b"".join(enc(x) for x in items)


def request_frame(api_key, version, corr, body=b"", client_id="replog-test", flexible=False):
    """A whole frame: size, header v1 (v2 when flexible), body."""
    hdr = struct.pack(">hhi", api_key, version, corr) + s16(client_id)
    if flexible:
        hdr += b"\x00"
    msg = hdr + body
    return struct.pack(">i", len(msg)) + msg


def apiversions_body(version):
    if version >= 3:
        return cstr("replog-test") + cstr("1.0") + b"\x00"
    return b""


def metadata_body(version, topics=None, allow_auto=True):
    """topics None = all topics (an empty array in v0)."""
    if version == 0:
        body = array(topics or [], s16)
    else:
        body = array(topics, s16)
    if version >= 4:
        body += struct.pack(">?", allow_auto)
    return body


def produce_body(topic, partition, records, acks=-1, timeout_ms=30000, version=7):
    """Produce v0-v8 (non-flexible): transactional_id from v3."""
    part = struct.pack(">i", partition) + bytes32(records)
    return ((s16(None) if version >= 3 else b"") + struct.pack(">hi", acks, timeout_ms)
            + array([s16(topic) + array([part])]))


def fetch_body(topic, partition, offset, max_wait_ms=0, min_bytes=1, max_bytes=1 << 20,
               partition_max_bytes=1 << 20, isolation=0):
    """Fetch v4."""
    part = struct.pack(">iqi", partition, offset, partition_max_bytes)
    return (struct.pack(">iiiib", -1, max_wait_ms, min_bytes, max_bytes, isolation)
            + array([s16(topic) + array([part])]))


def listoffsets_body(topic, partition, timestamp):
    """ListOffsets v1."""
    return struct.pack(">i", -1) + array([s16(topic) + array(
        [struct.pack(">iq", partition, timestamp)])])


# ---- wire decoding ---------------------------------------------------------------

class Reader:
    def __init__(self, b):
        self.b, self.i = b, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.b, self.i)
        self.i += struct.calcsize(fmt)
        return v[0] if len(v) == 1 else v

    def i8(self):
        return self.take(">b")

    def i16(self):
        return self.take(">h")

    def i32(self):
        return self.take(">i")

    def i64(self):
        return self.take(">q")

    def string(self):
        n = self.i16()
        if n < 0:
            return None
        s = bytes(self.b[self.i:self.i + n]).decode()
        self.i += n
        return s

    def bytes32(self):
        n = self.i32()
        if n < 0:
            return None
        v = bytes(self.b[self.i:self.i + n])
        assert len(v) == n, f"bytes field of {n} cut at {len(v)}"
        self.i += n
        return v

    def array(self, fn):
        n = self.i32()
        if n < 0:
            return None
        return [fn(self) for _ in range(n)]

    def done(self):
        return self.i == len(self.b)


def decode_apiversions(body, version=0):
    r = Reader(body)
    out = {"error_code": r.i16()}
    out["api_keys"] = {k: (lo, hi) for k, lo, hi in
                       r.array(lambda r: (r.i16(), r.i16(), r.i16()))}
    if version >= 1:
        out["throttle_time_ms"] = r.i32()
    assert r.done(), "trailing bytes in an ApiVersions response"
    return out


def decode_metadata(body, version):
    r = Reader(body)
    out = {}
    if version >= 3:
        out["throttle_time_ms"] = r.i32()

    def broker(r):
        b = {"node_id": r.i32(), "host": r.string(), "port": r.i32()}
        if version >= 1:
            b["rack"] = r.string()
        return b

    out["brokers"] = r.array(broker)
    if version >= 2:
        out["cluster_id"] = r.string()
    if version >= 1:
        out["controller_id"] = r.i32()

    def part(r):
        p = {"error_code": r.i16(), "partition_index": r.i32(), "leader_id": r.i32()}
        if version >= 7:
            p["leader_epoch"] = r.i32()
        p["replica_nodes"] = r.array(lambda r: r.i32())
        p["isr_nodes"] = r.array(lambda r: r.i32())
        if version >= 5:
            p["offline_replicas"] = r.array(lambda r: r.i32())
        return p

    def topic(r):
        t = {"error_code": r.i16(), "name": r.string()}
        if version >= 1:
            t["is_internal"] = r.i8()
        t["partitions"] = r.array(part)
        return t

    out["topics"] = r.array(topic)
    assert r.done(), "trailing bytes in a Metadata response"
    return out


def decode_produce(body, version=7):
    r = Reader(body)

    def part(r):
        p = {"index": r.i32(), "error_code": r.i16(), "base_offset": r.i64()}
        if version >= 2:
            p["log_append_time_ms"] = r.i64()
        if version >= 5:
            p["log_start_offset"] = r.i64()
        return p

    out = {"responses": r.array(lambda r: {"name": r.string(), "partitions": r.array(part)})}
    out["throttle_time_ms"] = r.i32()
    assert r.done(), "trailing bytes in a Produce response"
    return out


def decode_fetch(body):
    """Fetch v4 response."""
    r = Reader(body)
    out = {"throttle_time_ms": r.i32()}

    def part(r):
        p = {"partition_index": r.i32(), "error_code": r.i16(), "high_watermark": r.i64(),
             "last_stable_offset": r.i64()}
        p["aborted_transactions"] = r.array(lambda r: (r.i64(), r.i64()))
        p["records"] = r.bytes32()
        return p

    out["responses"] = r.array(lambda r: {"topic": r.string(), "partitions": r.array(part)})
    assert r.done(), "trailing bytes in a Fetch response"
    return out


def decode_listoffsets(body):
    """ListOffsets v1 response."""
    r = Reader(body)

    def part(r):
        return {"partition_index": r.i32(), "error_code": r.i16(), "timestamp": r.i64(),
                "offset": r.i64()}

    out = {"topics": r.array(lambda r: {"name": r.string(), "partitions": r.array(part)})}
    assert r.done(), "trailing bytes in a ListOffsets response"
    return out


# ---- the raw connection ----------------------------------------------------------

class Closed(Exception):
    """The peer closed the connection (EOF or reset)."""


class Garbled(AssertionError):
    """The response stream does not frame: a size no response can have."""


class KafkaConn:
    def __init__(self, port, host=HOST, timeout_s=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout_s)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout_s = timeout_s
        self.corr = 0
        self.buf = bytearray()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    @property
    def local_port(self):
        return self.sock.getsockname()[1]

    def next_corr(self):
        self.corr += 1
        return self.corr

    def send_raw(self, data):
        """Send bytes; False if the peer already closed (EPIPE / reset)."""
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError):
            return False

    def send(self, api_key, version, body=b"", corr=None, flexible=False, client_id="replog-test"):
        corr = self.next_corr() if corr is None else corr
        self.send_raw(request_frame(api_key, version, corr, body, client_id, flexible))
        return corr

    def _fill(self, n, deadline):
        for _ in range(1 << 20):
            if len(self.buf) >= n:
                return
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no complete response within the deadline "
                                   f"(have {len(self.buf)} of {n} bytes)")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(max(1 << 20, n - len(self.buf)))
            except socket.timeout:
                raise TimeoutError(f"no complete response within the deadline "
                                   f"(have {len(self.buf)} of {n} bytes)") from None
            except ConnectionResetError:
                raise Closed("connection reset") from None
            if not chunk:
                raise Closed(f"connection closed (had {len(self.buf)} bytes buffered)")
            self.buf += chunk
        raise AssertionError("unreachable")

    def recv_frame(self, timeout_s=None):
        """(correlation id, body bytes after it) of the next response."""
        deadline = time.monotonic() + (self.timeout_s if timeout_s is None else timeout_s)
        self._fill(4, deadline)
        size = struct.unpack_from(">i", self.buf, 0)[0]
        if not 4 <= size <= (256 << 20):
            raise Garbled(f"impossible response frame size {size} (next bytes "
                          f"{bytes(self.buf[:24]).hex()})")
        self._fill(4 + size, deadline)
        frame = bytes(self.buf[4:4 + size])
        del self.buf[:4 + size]
        return struct.unpack_from(">i", frame, 0)[0], frame[4:]

    def request(self, api_key, version, body=b"", flexible=False, timeout_s=None):
        corr = self.send(api_key, version, body, flexible=flexible)
        got, resp = self.recv_frame(timeout_s)
        assert got == corr, f"correlation id {got}, expected {corr}"
        if flexible and api_key != API_API_VERSIONS:
            assert resp[0] == 0, "expected an empty response header tag buffer"
            resp = resp[1:]
        return resp

    def wait_closed(self, timeout_s=5.0):
        """True if the peer closes within timeout_s (any bytes it sends first
        are kept in self.buf); False if it is still open."""
        deadline = time.monotonic() + timeout_s
        for _ in range(1 << 16):
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(1 << 16)
            except socket.timeout:
                return False
            except ConnectionResetError:
                return True
            if not chunk:
                return True
            self.buf += chunk
        return False

    # -- typed helpers
    def api_versions(self, version=0):
        body = self.request(API_API_VERSIONS, version, apiversions_body(version),
                            flexible=version >= 3)
        if version >= 3:
            return _decode_apiversions_v3(body)
        return decode_apiversions(body, version)

    def metadata(self, topics=None, version=1, allow_auto=True):
        return decode_metadata(self.request(API_METADATA, version,
                                            metadata_body(version, topics, allow_auto)), version)

    def produce(self, topic, partition, records, acks=-1, timeout_ms=30000, version=7,
                timeout_s=None):
        body = produce_body(topic, partition, records, acks, timeout_ms, version)
        if acks == 0:
            return self.send(API_PRODUCE, version, body)
        resp = decode_produce(self.request(API_PRODUCE, version, body, timeout_s=timeout_s),
                              version)
        return resp["responses"][0]["partitions"][0]

    def fetch(self, topic, partition, offset, timeout_s=None, **kw):
        resp = decode_fetch(self.request(API_FETCH, 4, fetch_body(topic, partition, offset, **kw),
                                         timeout_s=timeout_s))
        return resp["responses"][0]["partitions"][0]

    def list_offset(self, topic, partition, timestamp):
        resp = decode_listoffsets(self.request(API_LIST_OFFSETS, 1,
                                               listoffsets_body(topic, partition, timestamp)))
        return resp["topics"][0]["partitions"][0]


def _decode_apiversions_v3(body):
    """ApiVersions v3 response body (compact array, tagged fields)."""
    r = _CompactReader(body)  # defined below, with the private APIs' decoders
    out = {"error_code": r.i16()}
    uv = r.uvarint
    n = uv() - 1
    keys = {}
    for _ in range(max(n, 0)):
        k, lo, hi = r.take(">hhh")
        assert uv() == 0
        keys[k] = (lo, hi)
    out["api_keys"] = keys
    out["throttle_time_ms"] = r.i32()
    return out


def log_end(broker, topic, partition=0):
    """The latest offset (HW) by a raw ListOffsets."""
    with broker.conn() as c:
        p = c.list_offset(topic, partition, -1)
    assert p["error_code"] == 0, p
    return p["offset"]


# ---- replog's private ReplogDescribeReplicas (added for test_replication.py) ----
#
# Additive: nothing above uses these. ReplogDescribeReplicas (API key 10003,
# v0, flexible: compact strings/arrays, tagged fields; layout in
# client/kp_replog.c) is answered by every broker about the replicas it
# holds, followers included: role, leader, epochs, log start/end, flushed
# offset, HW, ISR/ELR as that replica knows them, the leader's view of each
# follower, and how many discards it recorded.

API_REPLOG_DESCRIBE_QUORUM = 10006
API_REPLOG_DESCRIBE_REPLICAS = 10003
REPLOG_ROLES = {0: "none", 1: "leader", 2: "follower"}


class _CompactReader(Reader):
    def uvarint(self):
        shift, n = 0, 0
        for _ in range(10):
            c = self.b[self.i]
            self.i += 1
            n |= (c & 0x7F) << shift
            if not c & 0x80:
                return n
            shift += 7
        raise ValueError("uvarint too long")

    def cstring(self):
        n = self.uvarint() - 1
        if n < 0:
            return None
        s = bytes(self.b[self.i:self.i + n]).decode()
        self.i += n
        return s

    def carray(self, fn):
        n = self.uvarint() - 1
        if n < 0:
            return None
        return [fn(self) for _ in range(n)]

    def tags(self):
        for _ in range(self.uvarint()):
            self.uvarint()
            self.i += self.uvarint()


def describe_replicas_body(topics=None):
    """topics None = every topic; else {name: [partitions] or None}."""
    if topics is None:
        return b"\x00" + b"\x00"
    body = uvarint(len(topics) + 1)
    for name, parts in topics.items():
        body += cstr(name)
        body += b"\x00" if parts is None else (
            uvarint(len(parts) + 1) + b"".join(struct.pack(">i", p) for p in parts))
        body += b"\x00"
    return body + b"\x00"


def decode_describe_replicas(body):
    r = _CompactReader(body)
    out = {"error_code": r.i16(), "broker_id": r.i32()}

    def follower(r):
        f = {"replica_id": r.i32(), "log_end_offset": r.i64(), "caught_up_ms_ago": r.i64()}
        r.tags()
        return f

    def replica(r):
        p = {"partition_index": r.i32(), "role": REPLOG_ROLES.get(r.i8(), "unknown"),
             "leader_id": r.i32(), "leader_epoch": r.i32(), "partition_epoch": r.i32(),
             "log_start_offset": r.i64(), "log_end_offset": r.i64(),
             "flushed_offset": r.i64(), "high_watermark": r.i64(),
             "replicas": r.carray(lambda r: r.i32()), "isr": r.carray(lambda r: r.i32()),
             "elr": r.carray(lambda r: r.i32()), "followers": r.carray(follower),
             "discarded_events": r.i32(), "discarded_records": r.i64(),
             "error_code": r.i16()}
        r.tags()
        return p

    def topic(r):
        t = {"name": r.cstring(), "partitions": r.carray(replica)}
        r.tags()
        return t

    out["topics"] = r.carray(topic)
    r.tags()
    assert r.done(), "trailing bytes in a ReplogDescribeReplicas response"
    return out


def describe_replicas(broker, topic=None, partition=None, timeout_s=5.0):
    """This broker's view of its replicas: {(topic, partition): {...}} (see
    decode_describe_replicas), or the one entry when topic and partition
    are given (None if the broker holds no such replica)."""
    want = None if topic is None else {topic: None if partition is None else [partition]}
    with broker.conn(timeout_s=timeout_s) as c:
        resp = decode_describe_replicas(c.request(API_REPLOG_DESCRIBE_REPLICAS, 0,
                                                  describe_replicas_body(want), flexible=True))
    assert resp["error_code"] == 0, resp
    out = {(t["name"], p["partition_index"]): p for t in resp["topics"]
           for p in t["partitions"]}
    if topic is not None and partition is not None:
        return out.get((topic, partition))
    return out


QUORUM_STATES = {0: "unavailable", 1: "follower", 2: "candidate", 3: "leader"}
QUORUM_ROLES = {0: "standby", 1: "voter", 2: "spare"}


def decode_describe_quorum(body):
    r = _CompactReader(body)
    out = {"error_code": r.i16(), "broker_id": r.i32(), "leader_id": r.i32(),
           "state": QUORUM_STATES.get(r.i8(), "unknown"), "term": r.i64(),
           "commit_index": r.i64(), "last_applied": r.i64(), "last_index": r.i64(),
           "snapshot_index": r.i64(), "metadata_offset": r.i64()}

    def member(r):
        m = {"id": r.i32(), "role": QUORUM_ROLES.get(r.i8(), "unknown"),
             "match_index": r.i64(), "last_contact_ms_ago": r.i64()}
        r.tags()
        return m

    def broker(r):
        b = {"id": r.i32(), "address": r.cstring(), "broker_epoch": r.i64(),
             "registered": r.i8() != 0, "fenced": r.i8() != 0, "shutting_down": r.i8() != 0,
             "session_ms_ago": r.i64()}
        r.tags()
        return b

    out["members"] = r.carray(member)
    out["brokers"] = r.carray(broker)
    r.tags()
    return out


def describe_quorum(broker, timeout_s=5.0):
    """One broker's view of the metadata quorum (ReplogDescribeQuorum)."""
    with broker.conn(timeout_s=timeout_s) as c:
        resp = decode_describe_quorum(c.request(API_REPLOG_DESCRIBE_QUORUM, 0, b"\x00",
                                                flexible=True))
    assert resp["error_code"] == 0, resp
    return resp


# ---- running the replog tool ---------------------------------------------------------

class ToolRun:
    """One run of the `replog` binary: rc, out, err, took_s."""

    def __init__(self, args, proc, took_s):
        self.args = args
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr
        self.took_s = took_s

    def __repr__(self):
        return (f"replog {' '.join(self.args)}\nrc={self.rc} ({self.took_s:.2f}s)\n"
                f"--- stdout\n{self.out[-4000:]}\n--- stderr\n{self.err[-3000:]}")


def run_replog(*args, timeout_s=120):
    """Run `replog ARGS...` and capture everything (never raises on rc)."""
    args = [str(a) for a in args]
    t0 = time.monotonic()
    p = subprocess.run([str(REPLOG), *args], capture_output=True, text=True, errors="replace",
                       timeout=timeout_s, check=False)
    return ToolRun(args, p, time.monotonic() - t0)
