"""Description: tests of the TCP fault proxy (tests/faults/proxy.py).

Real sockets on 127.0.0.1, no broker: every node ("1", "2", "3") is a tiny
acceptor thread whose accepted sockets the test takes over, so a test holds
both ends of a proxied connection -- `a` (the client side, node src) and `b`
(the upstream side, node dst) -- and can check each flow on its own. One
proxy process serves the module (faults healed after every test); the exit
code tests start their own.

Every wait is a poll or a socket timeout with a deadline; every loop is
bounded in count and time. Run:

    cd /work/main && /usr/bin/python3 -m pytest -q -p no:cacheprovider \
        --rootdir tests tests/faults/test_proxy.py

`/usr/bin/python3 tests/faults/test_proxy.py` measures throughput (64 MB)
and round-trip latency (1000 ping-pongs) through one link against direct.
"""
import sys, os; sys.path.insert(0, os.path.dirname(__file__))  # noqa: E401,E702

import hashlib
import json
import queue
import signal
import socket
import statistics
import threading
import time

import pytest

import proxy

HOST = "127.0.0.1"
NODES = ["1", "2", "3"]
SILENT_S = 0.3          # "nothing arrives" window
MB = 1024 * 1024


# ---- helpers -------------------------------------------------------------------

class Upstream:
    """A listening socket of a node; accepted sockets go to a queue."""

    def __init__(self):
        self.lsock = socket.create_server((HOST, 0))
        self.lsock.settimeout(0.1)
        self.port = self.lsock.getsockname()[1]
        self.accepted = queue.Queue()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping.is_set():
            try:
                s, _ = self.lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.accepted.put(s)

    def accept(self, timeout_s=5.0):
        try:
            return self.accepted.get(timeout=timeout_s)
        except queue.Empty:
            raise AssertionError(f"no connection reached upstream port {self.port} "
                                 f"within {timeout_s}s") from None

    def drain(self):
        for _ in range(10000):
            try:
                self.accepted.get_nowait().close()
            except queue.Empty:
                return

    def close(self):
        self.stopping.set()
        self.thread.join(timeout=2)
        self.lsock.close()
        self.drain()


class Bg:
    """Run fn in a thread; join() re-raises its exception."""

    def __init__(self, fn, *args):
        self.exc = None
        self.result = None

        def run():
            try:
                self.result = fn(*args)
            except BaseException as e:      # re-raised in join()
                self.exc = e
        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def join(self, timeout_s=20.0):
        self.thread.join(timeout=timeout_s)
        assert not self.thread.is_alive(), f"background thread still running after {timeout_s}s"
        if self.exc is not None:
            raise self.exc
        return self.result


def recv_exact(s, n, timeout_s=10.0):
    deadline = time.monotonic() + timeout_s
    buf = bytearray()
    while len(buf) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"received {len(buf)} of {n} bytes within {timeout_s}s")
        s.settimeout(left)
        try:
            chunk = s.recv(min(n - len(buf), MB))
        except socket.timeout:
            continue
        if not chunk:
            raise AssertionError(f"EOF after {len(buf)} of {n} bytes")
        buf += chunk
    return bytes(buf)


def assert_silent(s, window_s=SILENT_S):
    """Nothing arrives on s within window_s."""
    s.settimeout(window_s)
    try:
        got = s.recv(65536)
    except socket.timeout:
        return
    raise AssertionError(f"expected nothing for {window_s}s, got {len(got)} bytes "
                         f"({'EOF' if not got else got[:16]!r})")


def wait_closed(s, timeout_s=3.0):
    """Read until EOF or a reset; return "eof" or "rst"."""
    deadline = time.monotonic() + timeout_s
    for _ in range(100000):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            if not s.recv(65536):
                return "eof"
        except socket.timeout:
            break
        except ConnectionResetError:
            return "rst"
    raise AssertionError(f"socket still open after {timeout_s}s")


def wait_for(pred, timeout_s, what):
    deadline = time.monotonic() + timeout_s
    last = None
    for _ in range(int(timeout_s / 0.01) + 2):
        last = pred()
        if last:
            return last
        if time.monotonic() >= deadline:
            break
        time.sleep(0.01)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what} (last: {last!r})")


def sha(b):
    return hashlib.sha256(b).hexdigest()


def rtt(a, b, n=1, size=16):
    """n ping-pongs a -> b -> a; b answers by hand. Returns the round-trip times."""
    out = []
    for i in range(n):
        msg = (b"%08d" % i).ljust(size, b".")
        t0 = time.monotonic()
        a.sendall(msg)
        assert recv_exact(b, size, 5) == msg
        b.sendall(msg)
        assert recv_exact(a, size, 5) == msg
        out.append(time.monotonic() - t0)
    return out


# ---- fixtures ------------------------------------------------------------------

class Env:
    def __init__(self, tmp):
        self.up = {n: Upstream() for n in NODES}
        # node "9": a port bound but never listening, so connecting is refused
        self.dead = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.dead.bind((HOST, 0))
        spec, self.addr = proxy.make_spec(NODES, {n: u.port for n, u in self.up.items()},
                                          seed=7)
        used = {e["listen"] for e in spec["links"]} | {spec["control"]}
        for _ in range(100):
            dead_listen = proxy.free_ports(1)[0]
            if dead_listen not in used:
                break
        spec["links"].append({"src": "c", "dst": "9", "listen": dead_listen,
                              "upstream": f"{HOST}:{self.dead.getsockname()[1]}"})
        self.addr[("c", "9")] = f"{HOST}:{dead_listen}"
        self.spec = spec
        self.proxy = proxy.Proxy(spec, tmp)
        self.socks = []

    def port(self, src, dst):
        return int(self.addr[(src, dst)].rpartition(":")[2])

    def dial(self, src, dst):
        s = socket.create_connection((HOST, self.port(src, dst)), timeout=5)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.socks.append(s)
        return s

    def connect(self, src, dst):
        """(a, b): a dials link (src, dst), b is the socket dst's server accepted."""
        a = self.dial(src, dst)
        b = self.up[dst].accept()
        self.socks.append(b)
        return a, b

    def cleanup(self):
        for s in self.socks:
            s.close()
        self.socks = []
        for u in self.up.values():
            u.drain()


@pytest.fixture(scope="module")
def env_mod(tmp_path_factory):
    env = Env(tmp_path_factory.mktemp("proxy"))
    env.proxy.start()
    yield env
    rc = env.proxy.stop()
    for u in env.up.values():
        u.close()
    env.dead.close()
    assert rc == 0, f"proxy exit code {rc}: {env.proxy.stderr()}"


@pytest.fixture
def env(env_mod):
    assert env_mod.proxy.running(), env_mod.proxy.stderr()
    yield env_mod
    env_mod.cleanup()
    env_mod.proxy.heal()
    assert env_mod.proxy.faults() == []
    assert env_mod.proxy.running(), env_mod.proxy.stderr()


def echo(s):
    """Echo on s until EOF (in a thread); returns the Bg."""
    def run():
        for _ in range(1 << 30):
            d = s.recv(MB)
            if not d:
                s.shutdown(socket.SHUT_WR)
                return
            s.sendall(d)
    return Bg(run)


# ---- forwarding ----------------------------------------------------------------

def test_8mb_echo_round_trip_intact(env):
    a, b = env.connect("c", "1")
    e = echo(b)
    data = os.urandom(8 * MB)
    sender = Bg(a.sendall, data)
    got = recv_exact(a, len(data), 20)
    sender.join()
    assert sha(got) == sha(data)
    a.shutdown(socket.SHUT_WR)
    assert wait_closed(a) == "eof"      # the echo's EOF comes back after the data
    e.join()


def test_8mb_each_way_full_duplex_and_half_close(env):
    a, b = env.connect("1", "2")
    x, y = os.urandom(8 * MB), os.urandom(8 * MB)

    def send_then_eof(s, data):
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
    sa, sb = Bg(send_then_eof, a, x), Bg(send_then_eof, b, y)
    gb = Bg(recv_exact, b, len(x), 20)
    ga = recv_exact(a, len(y), 20)
    got_b = gb.join()
    sa.join()
    sb.join()
    assert sha(got_b) == sha(x), "1->2 flow corrupted"
    assert sha(ga) == sha(y), "2->1 flow corrupted"
    assert wait_closed(a) == "eof" and wait_closed(b) == "eof"


def test_refused_upstream_closes_client(env):
    before = env.proxy.stats()[("c", "9")]["refused"]
    try:
        a = env.dial("c", "9")
    except ConnectionResetError:
        pass        # the RST can beat connect()'s return on loopback: fine too
    else:
        assert wait_closed(a) == "rst"
    wait_for(lambda: env.proxy.stats()[("c", "9")]["refused"] == before + 1, 3, "refused count")
    a2, b2 = env.connect("c", "1")
    assert rtt(a2, b2)


def test_backpressure_bounds_memory(env):
    """A receiver that does not read stalls the sender; the proxy holds at most
    ~4 MiB of the flow; everything arrives intact once the receiver reads."""
    a, b = env.connect("c", "3")
    a.setblocking(False)
    block = os.urandom(256 * 1024)
    h = hashlib.sha256()
    sent = 0
    stalled = False
    deadline = time.monotonic() + 10
    for _ in range(2000):                     # at most 500 MB
        if time.monotonic() > deadline:
            break
        try:
            n = a.send(block[sent % len(block):])
        except BlockingIOError:
            import select
            if not select.select([], [a], [], 0.3)[1]:
                stalled = True
                break
            continue
        h.update(block[sent % len(block):][:n])
        sent += n
    assert stalled, f"sender never stalled after {sent} bytes"
    assert sent < 400 * MB
    held = env.proxy.stats()[("c", "3")]["held_fwd"]
    assert 0 < held <= 4.5 * MB, f"proxy holds {held} bytes of one flow"
    got = recv_exact(b, sent, 20)
    assert hashlib.sha256(got).hexdigest() == h.hexdigest()
    assert_silent(b, 0.05)


# ---- block ---------------------------------------------------------------------

def test_block_holds_bytes_then_unblock_delivers_in_order(env):
    p = env.proxy
    a, b = env.connect("1", "2")
    assert rtt(a, b)
    p.block("1", "2")
    assert p.faults() == [{"from": "1", "to": "2", "block": True, "delay_ms": 0.0,
                           "jitter_ms": 0.0, "bytes_per_s": 0.0}]
    held = os.urandom(200 * 1024)
    a.sendall(held)
    assert_silent(b)
    # held in socket buffers, not read into the proxy
    assert p.stats()[("1", "2")]["held_fwd"] == 0
    b.sendall(b"still flowing 2->1")                     # the reverse flow moves
    assert recv_exact(a, 18, 3) == b"still flowing 2->1"
    assert_silent(b, 0.05)
    p.unblock("1", "2")
    assert p.faults() == []
    more = os.urandom(1000)
    a.sendall(more)
    assert recv_exact(b, len(held) + len(more), 5) == held + more
    assert_silent(b, 0.05)


def test_block_holds_bytes_already_read(env):
    """Bytes the proxy had read (here: waiting out a delay) are held too."""
    p = env.proxy
    a, b = env.connect("c", "2")
    p.delay("c", "2", 300)
    a.sendall(b"queued")
    wait_for(lambda: p.stats()[("c", "2")]["held_fwd"] == 6, 3, "6 bytes read and delayed")
    p.block("c", "2")
    assert_silent(b, 0.6)                                # well past the 300 ms delay
    p.unblock("c", "2")                                  # also removes the delay
    assert recv_exact(b, 6, 3) == b"queued"


def test_block_applies_to_new_connections_and_reverse_link(env):
    p = env.proxy
    p.block("1", "2")
    # a new connection on link (1,2) is accepted and connected upstream ...
    a1, b1 = env.connect("1", "2")
    a1.sendall(b"x" * 1000)
    # link (2,1): node 1's answers to node 2 (upstream-to-client) are held too
    a2, b2 = env.connect("2", "1")
    b2.sendall(b"y" * 2000)
    a2.sendall(b"z" * 3000)                             # 2->1 is not blocked
    assert recv_exact(b2, 3000, 3) == b"z" * 3000
    assert_silent(b1)
    assert_silent(a2, 0.05)
    # other pairs are untouched
    a3, b3 = env.connect("c", "2")
    assert rtt(a3, b3)
    p.unblock("1", "2")
    assert recv_exact(b1, 1000, 3) == b"x" * 1000
    assert recv_exact(a2, 2000, 3) == b"y" * 2000


def test_isolate_and_partition(env):
    p = env.proxy
    r = p.isolate("3")
    want = {("3", n) for n in ("1", "2", "c", "9")} | {(n, "3") for n in ("1", "2", "c", "9")}
    assert {tuple(x) for x in r["pairs"]} == want
    assert {(f["from"], f["to"]) for f in p.faults() if f["block"]} == want
    a, b = env.connect("c", "3")
    a.sendall(b"hello")
    assert_silent(b)
    p.heal()
    assert recv_exact(b, 5, 3) == b"hello"
    p.isolate("3", from_=["1"])
    assert {(f["from"], f["to"]) for f in p.faults()} == {("3", "1"), ("1", "3")}
    p.heal()
    p.partition("1", "2")
    assert {(f["from"], f["to"]) for f in p.faults()} == {("1", "2"), ("2", "1")}
    a, b = env.connect("1", "2")
    a.sendall(b"a")
    b.sendall(b"b")
    assert_silent(b)
    assert_silent(a, 0.05)


# ---- delay, rate -----------------------------------------------------------------

def test_delay_adds_latency_and_clear_removes_it(env):
    p = env.proxy
    a, b = env.connect("c", "1")
    base = min(rtt(a, b, 5))
    assert base < 0.05
    p.delay("c", "1", 100)
    assert all(t >= 0.100 for t in rtt(a, b, 3)), "delay c->1 100 ms"
    p.delay("1", "c", 100)                               # now both directions
    assert all(t >= 0.200 for t in rtt(a, b, 2))
    an, bn = env.connect("c", "1")                       # a new connection too
    assert all(t >= 0.200 for t in rtt(an, bn, 1))
    p.clear("c", "1")
    assert all(0.100 <= t < 0.200 for t in rtt(a, b, 2))
    p.clear("1", "c")
    assert max(rtt(a, b, 5)) < 0.05


def test_delay_with_jitter_preserves_order(env):
    p = env.proxy
    a, b = env.connect("c", "1")
    p.delay("c", "1", 5, jitter_ms=30)
    msgs = [b"<%05d>" % i for i in range(200)]
    t0 = time.monotonic()
    for m in msgs:
        a.sendall(m)
        time.sleep(0.0005)                               # pacing: many separate chunks
    got = recv_exact(b, sum(map(len, msgs)), 10)
    assert got == b"".join(msgs)
    assert time.monotonic() - t0 >= 0.005


def test_rate_throttles_one_direction(env):
    p = env.proxy
    a, b = env.connect("1", "2")
    assert rtt(a, b)
    bps, size = 200_000, 300_000
    p.rate("1", "2", bps)
    data = os.urandom(size)
    t0 = time.monotonic()
    sender = Bg(a.sendall, data)
    got = recv_exact(b, size, 10)
    took = time.monotonic() - t0
    sender.join()
    assert got == data
    assert took >= 0.8 * size / bps, f"{size} bytes at {bps} B/s took only {took:.2f}s"
    assert took < 4 * size / bps
    # the reverse direction is not throttled
    t0 = time.monotonic()
    back = os.urandom(2 * MB)
    sender = Bg(b.sendall, back)
    assert recv_exact(a, len(back), 10) == back
    sender.join()
    assert time.monotonic() - t0 < 1.0
    p.clear("1", "2")
    t0 = time.monotonic()
    sender = Bg(a.sendall, back)
    assert recv_exact(b, len(back), 10) == back
    sender.join()
    assert time.monotonic() - t0 < 1.0


# ---- reset, heal -------------------------------------------------------------------

def test_reset_closes_existing_connections_only(env):
    p = env.proxy
    a1, b1 = env.connect("1", "2")
    a2, b2 = env.connect("2", "1")
    a3, b3 = env.connect("c", "1")                       # another pair: survives
    for a, b in ((a1, b1), (a2, b2), (a3, b3)):
        assert rtt(a, b)
    r = p.reset("1", "2")
    assert r["reset"] == 2
    # SO_LINGER 0: an RST, not an orderly FIN
    assert wait_closed(a1) == "rst"
    assert wait_closed(b1) == "rst"
    assert wait_closed(a2) in ("eof", "rst")
    assert wait_closed(b2) in ("eof", "rst")
    assert rtt(a3, b3)
    n1, m1 = env.connect("1", "2")                       # new connections work
    assert rtt(n1, m1)
    wait_for(lambda: env.proxy.stats()[("1", "2")]["open"] == 1, 3, "one open conn on 1->2")
    assert p.faults() == []                              # one-shot


def test_heal_clears_every_fault(env):
    p = env.proxy
    a, b = env.connect("1", "2")
    c, d = env.connect("c", "1")
    p.block("1", "2")
    p.delay("2", "1", 50)
    p.rate("c", "1", 1000)
    p.isolate("3")
    assert len(p.faults()) >= 3 + 8
    a.sendall(b"held until heal")
    assert_silent(b)
    p.heal()
    assert p.faults() == []
    assert recv_exact(b, 15, 3) == b"held until heal"
    assert max(rtt(a, b, 3)) < 0.05
    data = os.urandom(MB)
    t0 = time.monotonic()
    sender = Bg(c.sendall, data)
    assert recv_exact(d, len(data), 10) == data
    sender.join()
    assert time.monotonic() - t0 < 1.0


# ---- stats, control --------------------------------------------------------------

def test_stats_count_bytes_and_connections(env):
    p = env.proxy
    before = p.stats()[("2", "3")]
    a, b = env.connect("2", "3")
    a.sendall(b"f" * 12345)
    assert recv_exact(b, 12345, 3)
    b.sendall(b"r" * 777)
    assert recv_exact(a, 777, 3)
    st = p.stats()[("2", "3")]
    assert st["bytes_fwd"] - before["bytes_fwd"] == 12345
    assert st["bytes_rev"] - before["bytes_rev"] == 777
    assert st["total"] == before["total"] + 1
    assert st["open"] == before["open"] + 1
    assert st["held_fwd"] == 0 and st["held_rev"] == 0
    assert st["upstream"] == f"{HOST}:{env.up['3'].port}" and st["listen"] == env.port("2", "3")
    a.close()
    b.close()
    wait_for(lambda: p.stats()[("2", "3")]["open"] == before["open"], 3, "connection closed")


def test_malformed_control_requests_get_ok_false(env):
    bad = [b"not json", b"[1, 2]", b"{}", b'{"op": 5}', b'{"op": "explode"}',
           b'{"op": "block", "from": "1"}', b'{"op": "block", "from": "1", "to": "1"}',
           b'{"op": "block", "from": "7", "to": "1"}',
           b'{"op": "block", "from": true, "to": "1"}',
           b'{"op": "delay", "from": "1", "to": "2"}',
           b'{"op": "delay", "from": "1", "to": "2", "ms": -5}',
           b'{"op": "delay", "from": "1", "to": "2", "ms": "100"}',
           b'{"op": "rate", "from": "1", "to": "2", "bytes_per_s": 0}',
           b'{"op": "isolate", "node": "1", "from": "2"}',
           b"\xff\xfe garbage"]
    with socket.create_connection((HOST, env.spec["control"]), timeout=5) as s:
        f = s.makefile("rb")
        for line in bad:
            s.sendall(line + b"\n")
            resp = json.loads(f.readline())
            assert resp["ok"] is False and resp["error"], (line, resp)
        s.sendall(b'{"op": "ping"}\n')
        assert json.loads(f.readline()) == {"ok": True, "pong": True}
        s.sendall(b"x" * (100 * 1024) + b"\n")          # over the line limit
        resp = json.loads(f.readline())
        assert resp["ok"] is False
    assert env.proxy.faults() == []                      # nothing was applied
    with pytest.raises(proxy.ProxyError):
        env.proxy.request("nope")
    assert env.proxy.ping()["pong"] is True
    a, b = env.connect("c", "2")
    assert rtt(a, b)


def test_throughput_and_latency_sanity(env):
    """Loose bounds only (the numbers are measured by running this file)."""
    a, b = env.connect("c", "2")
    times = rtt(a, b, 200, size=8)
    assert statistics.median(times) < 0.002, f"median RTT {statistics.median(times)}"
    data = os.urandom(32 * MB)
    t0 = time.monotonic()
    sender = Bg(a.sendall, data)
    got = recv_exact(b, len(data), 20)
    dt = time.monotonic() - t0
    sender.join()
    assert sha(got) == sha(data)
    assert len(data) / dt > 10 * 1e6, f"{len(data) / dt / 1e6:.1f} MB/s"


# ---- the process -------------------------------------------------------------------

def test_sigterm_and_sigint_exit_0(tmp_path):
    up = Upstream()
    try:
        for sig in (signal.SIGTERM, signal.SIGINT):
            spec, addr = proxy.make_spec(["1"], {"1": up.port})
            p = proxy.Proxy(spec, tmp_path / sig.name).start()
            a = socket.create_connection((HOST, int(addr[("c", "1")].rpartition(":")[2])),
                                         timeout=5)
            b = up.accept()
            p.proc.send_signal(sig)
            assert p.proc.wait(timeout=5) == 0, p.stderr()
            assert wait_closed(a) in ("eof", "rst")
            a.close()
            b.close()
            assert p.stop() == 0
    finally:
        up.close()


def test_listen_port_taken_exits_1_with_message(tmp_path):
    taken = socket.create_server((HOST, 0))
    try:
        port = taken.getsockname()[1]
        spec, _ = proxy.make_spec(["1", "2"], {"1": 1, "2": 2})
        spec["links"][2]["listen"] = port
        p = proxy.Proxy(spec, tmp_path)
        with pytest.raises(proxy.ProxyError) as ei:
            p.start(timeout_s=10)
        assert p.proc.returncode == 1
        err = p.stderr()
        assert err.startswith("error:") and str(port) in err, err
        assert str(port) in str(ei.value)
        # the control port, too
        spec, _ = proxy.make_spec(["1"], {"1": 1}, control_port=port)
        p = proxy.Proxy(spec, tmp_path / "ctl")
        with pytest.raises(proxy.ProxyError):
            p.start(timeout_s=10)
        assert p.proc.returncode == 1 and "control" in p.stderr()
    finally:
        taken.close()


def test_make_spec_and_free_ports():
    ports = proxy.free_ports(20)
    assert len(set(ports)) == 20
    spec, addr = proxy.make_spec(["1", "2", "3"], [9001, 9002, 9003], seed=3)
    pairs = {(s, d) for s in ("1", "2", "3", "c") for d in ("1", "2", "3") if s != d}
    assert set(addr) == pairs and len(spec["links"]) == 9
    listen = [e["listen"] for e in spec["links"]] + [spec["control"]]
    assert len(set(listen)) == 10
    for e in spec["links"]:
        assert e["upstream"] == f"{HOST}:{9000 + int(e['dst'])}"
        assert addr[(e["src"], e["dst"])] == f"{HOST}:{e['listen']}"
    assert spec["seed"] == 3


# ---- measurement (not a test) ------------------------------------------------------

def _bench():
    import tempfile
    up = Upstream()
    spec, addr = proxy.make_spec(["1"], {"1": up.port})
    with tempfile.TemporaryDirectory() as tmp, proxy.Proxy(spec, tmp):
        results = {}
        for name, port in (("direct", up.port),
                           ("proxy", int(addr[("c", "1")].rpartition(":")[2]))):
            a = socket.create_connection((HOST, port), timeout=10)
            a.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            b = up.accept()
            times = rtt(a, b, 1000, size=8)
            data = os.urandom(64 * MB)
            t0 = time.monotonic()
            sender = Bg(a.sendall, data)
            got = recv_exact(b, len(data), 60)
            dt = time.monotonic() - t0
            sender.join()
            assert sha(got) == sha(data)
            results[name] = (len(data) / dt / 1e6, statistics.median(times) * 1e6,
                             statistics.mean(times) * 1e6)
            print(f"{name:7s} 64 MB: {results[name][0]:7.1f} MB/s   1000 ping-pongs: "
                  f"median RTT {results[name][1]:6.1f} us, mean {results[name][2]:6.1f} us")
            a.close()
            b.close()
        print(f"added RTT: median {results['proxy'][1] - results['direct'][1]:.1f} us, "
              f"mean {results['proxy'][2] - results['direct'][2]:.1f} us")
    up.close()


if __name__ == "__main__":
    _bench()
