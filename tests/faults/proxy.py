"""Description: a TCP fault proxy for replog's fault-injection harness.

What it is
----------
The harness runs 3 or 5 `replogd` brokers on 127.0.0.1 and routes every
link between two nodes through this proxy. Node ids are strings: broker ids
"1".."5", and "c" for clients. For each ordered pair (src, dst) there is one
proxy listening port that forwards to dst's real port: clients reach broker 1
through link ("c", "1"), and the connections broker 1 opens to broker 2 go
through link ("1", "2"). A connection on link (A, B) has two flows: A->B
(client to upstream) and B->A (upstream to client).

One process, one asyncio loop, all links, standard library only:

    /usr/bin/python3 tests/faults/proxy.py SPEC_JSON_FILE

    spec = {"control": PORT,
            "links": [{"src": "1", "dst": "2", "listen": PORT,
                       "upstream": "127.0.0.1:PORT"}, ...],
            "seed": INT}

Everything binds 127.0.0.1 only. When every listener and the control port
are bound it prints exactly one line, `ready`, to stdout. If a port cannot
be bound it prints `error: <which port, why>` to stderr and exits 1 (also
for an unreadable or malformed spec). SIGTERM or SIGINT closes everything
and exits 0.

Forwarding
----------
Accept, connect to the upstream (if the upstream refuses, the accepted
socket is closed with an RST, as a refused connection would be), then copy
both flows. Bytes are never reordered, dropped or duplicated, except by the
`reset` fault. Every socket has TCP_NODELAY. Memory is bounded per flow: at
most FLOW_QUEUE_MAX bytes wait in the proxy's own queue plus WRITE_HIGH in
the writing transport's buffer (~3.5 MiB, plus one read of at most 256 KiB);
when that is full the proxy stops reading the sending side, so the sender
waits on ordinary TCP backpressure. A half-close (EOF) is forwarded in order
after the bytes before it; when one side fails (RST), the other is reset.

Faults
------
Faults are set per DIRECTED NODE PAIR (A -> B) and apply at once to existing
and new connections. The flow "A -> B" is the client-to-upstream flow of
links (A, B) and the upstream-to-client flow of links (B, A).

  block A B    Bytes from A to B are HELD: the proxy stops reading the A-side
               socket (the accepted socket on links (A,B), the upstream
               socket on links (B,A)) and delivers nothing more of what it
               had already read (bytes already handed to the receiving
               socket are not recalled), so the bytes wait in socket buffers
               and the sender sees TCP backpressure, as in a network
               partition. New connections
               on a blocked pair are accepted and connected upstream, but
               their blocked flow does not move. On unblock everything flows
               on, in order. Blocking holds rather than drops bytes on
               purpose: a TCP stream that loses bytes in the middle is not a
               partitioned network but a corrupted one -- the Kafka framing
               (length-prefixed requests with correlation ids) would be cut
               mid-frame and the brokers would see garbage, not silence. A
               real partition delays bytes (and, if it lasts, makes the
               endpoints time out); it never splices a stream.
  delay A B ms [jitter_ms]
               Every chunk flowing A->B is delivered no earlier than
               ms + U(0, jitter_ms) milliseconds after it was read; the
               jitter is drawn from random.Random(seed). Order within a flow
               is always preserved (a chunk never overtakes an earlier one).
               The delay is evaluated when a chunk is due, so setting it also
               affects bytes already queued, and clearing it releases them.
  rate A B bytes_per_s
               Each A->B flow (each connection separately) is throttled by a
               token bucket refilled at bytes_per_s with a burst of 20 ms
               worth (at least 1 byte); chunks are split as needed, so a 1 MB
               transfer at 200 KB/s takes about 5 s.
  reset A B    One shot, both directions: every current connection on links
               (A,B) and (B,A) is closed abruptly on both sides with an RST
               (SO_LINGER 0). New connections work normally.
  unblock A B, clear A B
               Both remove block, delay and rate for the pair A -> B.
  heal         Removes every fault on every pair.
  isolate X [from]
               block X->Y and Y->X for every Y in `from` (default: every
               other node, including "c"). A partition of X from everyone.
  one_way A B  An alias of block (a partition in one direction only).

Control
-------
TCP on 127.0.0.1:control, newline-delimited JSON requests, one JSON response
line per request, {"ok": true, ...} or {"ok": false, "error": "..."}.

  {"op": "ping"}                                   -> {"ok": true, "pong": true}
  {"op": "block", "from": "1", "to": "2"}           (also "one_way")
  {"op": "unblock", "from": "1", "to": "2"}
  {"op": "clear", "from": "1", "to": "2"}
  {"op": "delay", "from": "1", "to": "2", "ms": 100, "jitter_ms": 0}
  {"op": "rate", "from": "1", "to": "2", "bytes_per_s": 200000}
  {"op": "reset", "from": "1", "to": "2"}          -> {"ok": true, "reset": N}
  {"op": "heal"}
  {"op": "isolate", "node": "1", "from": ["2", "c"]}  -> {"ok": true, "pairs": [...]}
  {"op": "faults"}  -> {"ok": true, "faults": [{"from", "to", "block",
                        "delay_ms", "jitter_ms", "bytes_per_s"}, ...]}
  {"op": "stats"}   -> {"ok": true, "links": [{"src", "dst", "listen",
                        "upstream", "open", "total", "refused",
                        "bytes_fwd", "bytes_rev", "held_fwd", "held_rev"}, ...]}

"fwd" is src->dst (client to upstream), "rev" is dst->src; bytes_* count
bytes delivered to the receiving socket, held_* the bytes read but not yet
sent on (the proxy's queue plus the writing transport's buffer; bytes a
block leaves unread in kernel socket buffers are not counted). Node ids must
be ones named by the spec's links. A request is answered only once the fault
is in effect for every existing connection: a block has stopped every
affected reader, a reset has closed every affected socket, so "block, then
send" is deterministic.

Python API (for tests and the harness)
--------------------------------------
  free_ports(n) -> list of n distinct free 127.0.0.1 ports
  make_spec(nodes, real_ports, control_port=None, seed=0) -> (spec, addr)
      a listen port for every (src, dst), src in nodes + ["c"], dst in nodes,
      src != dst; addr[(src, dst)] = "127.0.0.1:port". real_ports is a dict
      node -> port, or a sequence aligned with nodes.
  Proxy(spec, workdir): start(timeout_s=10), stop(timeout_s=5), running(),
      block(a, b), unblock(a, b), one_way(a, b), partition(a, b),
      isolate(x, from_=None), delay(a, b, ms, jitter_ms=0), rate(a, b, bps),
      clear(a, b), reset(a, b), heal(), faults(), stats(), ping(),
      request(op, timeout_s=5.0, **fields); a context manager. A request that
      gets {"ok": false} raises ProxyError.
"""
import asyncio
import collections
import json
import os
import random
import selectors
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

HOST = "127.0.0.1"
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
PROXY_PY = os.path.abspath(__file__)

FLOW_QUEUE_MAX = 2 * 1024 * 1024      # stop reading a side at this much queued
FLOW_QUEUE_LOW = 1024 * 1024          # ... and read again below this
WRITE_HIGH = 1024 * 1024              # transport write buffer: pause pumping above
WRITE_LOW = 256 * 1024
CONNECT_TIMEOUT_S = 10.0
CONTROL_LINE_MAX = 64 * 1024
RATE_BURST_S = 0.02

_EOF = object()


# =============================================================================
# The proxy process
# =============================================================================

class PairState:
    """The faults on one directed node pair, and the flows they govern."""
    __slots__ = ("src", "dst", "blocked", "delay_ms", "jitter_ms", "rate", "flows")

    def __init__(self, src, dst):
        self.src, self.dst = src, dst
        self.blocked = False
        self.delay_ms = 0.0
        self.jitter_ms = 0.0
        self.rate = 0.0
        self.flows = set()

    def active(self):
        return self.blocked or self.delay_ms > 0 or self.jitter_ms > 0 or self.rate > 0

    def clear(self):
        self.blocked = False
        self.delay_ms = self.jitter_ms = self.rate = 0.0

    def describe(self):
        return {"from": self.src, "to": self.dst, "block": self.blocked,
                "delay_ms": self.delay_ms, "jitter_ms": self.jitter_ms,
                "bytes_per_s": self.rate}


class Link:
    __slots__ = ("src", "dst", "listen", "up_host", "up_port", "conns", "total",
                 "refused", "bytes", "server")

    def __init__(self, src, dst, listen, up_host, up_port):
        self.src, self.dst, self.listen = src, dst, listen
        self.up_host, self.up_port = up_host, up_port
        self.conns = set()
        self.total = 0
        self.refused = 0
        self.bytes = [0, 0]          # [fwd (src->dst), rev (dst->src)]
        self.server = None


def _set_nodelay(transport):
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass


def _rst(transport):
    """Close a transport abruptly so that the peer gets an RST."""
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    transport.abort()


class Flow:
    """One direction of one connection: read `reader`, write `writer`."""
    __slots__ = ("proxy", "conn", "pair", "idx", "reader", "writer", "queue", "pending",
                 "reading", "writer_paused", "eof", "done", "timer", "tokens",
                 "tb_time", "tb_rate")

    def __init__(self, proxy, conn, pair, idx):
        self.proxy = proxy
        self.conn = conn
        self.pair = pair
        self.idx = idx                 # index into link.bytes
        self.reader = None
        self.writer = None
        self.queue = collections.deque()
        self.pending = 0
        self.reading = False           # whether we let the reader read
        self.writer_paused = False
        self.eof = False               # EOF read (and queued)
        self.done = False              # EOF forwarded
        self.timer = None
        self.tokens = 0.0
        self.tb_time = 0.0
        self.tb_rate = 0.0

    # -- reading side --------------------------------------------------------

    def on_data(self, data):
        pair = self.pair
        if (not self.queue and not self.writer_paused and self.writer is not None
                and not pair.active()):
            self._write(data)
            return
        jitter = self.proxy.rng.uniform(0.0, pair.jitter_ms) if pair.jitter_ms > 0 else 0.0
        self.queue.append((self.proxy.loop.time(), jitter, data))
        self.pending += len(data)
        self.pump()

    def on_eof(self):
        self.eof = True
        self.queue.append(_EOF)
        self.pump()

    def update_reading(self):
        reader = self.reader
        if reader is None or self.eof or self.conn.closed:
            return
        if self.pair.blocked or self.pending >= FLOW_QUEUE_MAX or not self.conn.connected:
            want = False
        elif self.pending <= FLOW_QUEUE_LOW:
            want = True
        else:
            want = self.reading
        if want != self.reading:
            self.reading = want
            if want:
                reader.resume_reading()
            else:
                reader.pause_reading()

    # -- writing side --------------------------------------------------------

    def _write(self, data):
        self.writer.write(data)
        self.conn.link.bytes[self.idx] += len(data)

    def held(self):
        n = self.pending
        if self.writer is not None and not self.conn.closed:
            n += self.writer.get_write_buffer_size()
        return n

    def pump(self):
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.conn.closed:
            return
        pair = self.pair
        queue = self.queue
        loop = self.proxy.loop
        while queue and not pair.blocked and not self.writer_paused and self.writer is not None:
            item = queue[0]
            if item is _EOF:
                queue.popleft()
                self.done = True
                try:
                    if self.writer.can_write_eof():
                        self.writer.write_eof()
                except OSError:
                    pass  # the other side is already gone (ENOTCONN): nothing to end
                self.conn.flow_done()
                return
            t_read, jitter, data = item
            if pair.delay_ms > 0 or pair.jitter_ms > 0:
                due = t_read + (pair.delay_ms + jitter) / 1000.0
                now = loop.time()
                if due > now:
                    self.timer = loop.call_at(due, self.pump)
                    break
            n = len(data)
            if pair.rate > 0:
                now = loop.time()
                burst = max(1.0, pair.rate * RATE_BURST_S)
                if self.tb_rate != pair.rate:
                    self.tb_rate, self.tokens, self.tb_time = pair.rate, 0.0, now
                else:
                    self.tokens = min(burst, self.tokens + (now - self.tb_time) * pair.rate)
                    self.tb_time = now
                need = min(float(n), burst)
                if self.tokens < need:
                    self.timer = loop.call_at(now + (need - self.tokens) / pair.rate, self.pump)
                    break
                n = min(n, int(self.tokens))
                self.tokens -= n
            else:
                self.tb_rate = 0.0
            if n < len(data):
                queue[0] = (t_read, jitter, data[n:])
                data = data[:n]
            else:
                queue.popleft()
            self.pending -= n
            self._write(data)
        self.update_reading()

    def stop(self):
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.queue.clear()
        self.pending = 0


class SideProtocol(asyncio.Protocol):
    """One socket of a connection; `inflow` reads it, `outflow` writes it."""

    def __init__(self, conn, is_client):
        self.conn = conn
        self.is_client = is_client
        self.inflow = conn.c2u if is_client else conn.u2c
        self.outflow = conn.u2c if is_client else conn.c2u

    def connection_made(self, transport):
        _set_nodelay(transport)
        transport.set_write_buffer_limits(high=WRITE_HIGH, low=WRITE_LOW)
        # The transport starts reading in a callback queued after this one
        # (and Python 3.11 registers the reader even if we paused it here),
        # so the flow's reading state is settled in a later callback; a
        # chunk read before that is queued in order like any other.
        self.inflow.reading = True
        asyncio.get_running_loop().call_soon(self.inflow.update_reading)
        if self.is_client:
            self.conn.client_made(transport)
        else:
            self.conn.upstream_made(transport)

    def data_received(self, data):
        self.inflow.on_data(data)

    def eof_received(self):
        self.inflow.on_eof()
        return True      # keep the socket open: a half-close is forwarded

    def pause_writing(self):
        self.outflow.writer_paused = True

    def resume_writing(self):
        self.outflow.writer_paused = False
        self.outflow.pump()

    def connection_lost(self, exc):
        self.conn.lost(self.is_client, exc)


class Conn:
    """One accepted connection and its upstream connection."""

    def __init__(self, proxy, link):
        self.proxy = proxy
        self.link = link
        self.client = None
        self.upstream = None
        self.client_gone = False
        self.upstream_gone = False
        self.connected = False
        self.closed = False
        self.connecting = False
        self.c2u = Flow(proxy, self, proxy.pair(link.src, link.dst), 0)
        self.u2c = Flow(proxy, self, proxy.pair(link.dst, link.src), 1)
        self.task = None

    def client_made(self, transport):
        self.client = transport
        self.c2u.reader = transport
        self.u2c.writer = transport
        link = self.link
        link.conns.add(self)
        link.total += 1
        self.c2u.pair.flows.add(self.c2u)
        self.u2c.pair.flows.add(self.u2c)
        self.proxy.conns.add(self)
        self.connecting = True
        self.task = self.proxy.loop.create_task(self.connect())

    async def connect(self):
        link = self.link
        try:
            await asyncio.wait_for(self.proxy.loop.create_connection(
                lambda: SideProtocol(self, False), link.up_host, link.up_port),
                CONNECT_TIMEOUT_S)
        except (OSError, asyncio.TimeoutError):
            # Refused (or unreachable): the client sees its connection reset,
            # as it would see a refused connection.
            link.refused += 1
            if not self.client_gone:
                _rst(self.client)
            self.closed = True
        finally:
            self.connecting = False
            self.maybe_unregister()

    def upstream_made(self, transport):
        self.upstream = transport
        if self.closed or self.client_gone:
            _rst(transport)
            return
        self.u2c.reader = transport
        self.c2u.writer = transport
        self.connected = True
        self.c2u.pump()         # sends what the client sent early, resumes reading

    def flow_done(self):
        if self.c2u.done and self.u2c.done and not self.closed:
            self.closed = True
            self.client.close()
            self.upstream.close()

    def reset(self):
        """Abort both sockets with an RST."""
        if self.closed and self.client_gone and self.upstream_gone:
            return
        self.closed = True
        self.c2u.stop()
        self.u2c.stop()
        if not self.client_gone:
            _rst(self.client)
        if self.upstream is not None and not self.upstream_gone:
            _rst(self.upstream)

    def lost(self, is_client, exc):
        if is_client:
            self.client_gone = True
        else:
            self.upstream_gone = True
        other_gone = self.upstream_gone if is_client else self.client_gone
        other = self.upstream if is_client else self.client
        if not other_gone and other is not None:
            if exc is not None:
                # One side failed (RST, EPIPE): the other side gets an RST too.
                self.reset()
            elif not self.closed:
                self.closed = True
                other.close()
        self.closed = True
        self.maybe_unregister()

    def maybe_unregister(self):
        """Forget the connection once neither socket is open any more."""
        if self.connecting or not self.client_gone:
            return
        if self.upstream is not None and not self.upstream_gone:
            return
        self.c2u.stop()
        self.u2c.stop()
        self.link.conns.discard(self)
        self.c2u.pair.flows.discard(self.c2u)
        self.u2c.pair.flows.discard(self.u2c)
        self.proxy.conns.discard(self)


class ControlError(Exception):
    pass


class ProxyServer:
    def __init__(self, spec):
        self.spec = spec
        self.loop = None
        self.rng = random.Random(spec.get("seed", 0))
        self.pairs = {}
        self.links = []
        self.conns = set()
        self.nodes = []
        self.servers = []
        self.control_writers = set()
        self.stopping = None
        for entry in spec["links"]:
            src, dst = str(entry["src"]), str(entry["dst"])
            host, _, port = str(entry["upstream"]).rpartition(":")
            self.links.append(Link(src, dst, int(entry["listen"]), host or HOST, int(port)))
            for n in (src, dst):
                if n not in self.nodes:
                    self.nodes.append(n)

    def pair(self, src, dst):
        key = (src, dst)
        p = self.pairs.get(key)
        if p is None:
            p = self.pairs[key] = PairState(src, dst)
        return p

    # -- startup / shutdown --------------------------------------------------

    async def run(self):
        self.loop = asyncio.get_running_loop()
        self.stopping = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            self.loop.add_signal_handler(sig, self.stopping.set)
        try:
            for link in self.links:
                what = f"listen port {link.listen} of link {link.src}->{link.dst}"
                link.server = await self._listen(what, lambda link=link: self._accept(link),
                                                 link.listen)
            control = int(self.spec["control"])
            await self._listen(f"control port {control}", None, control)
        except OSError as e:
            await self.shutdown()
            sys.stderr.write(f"error: {e.args[0]}\n")
            sys.stderr.flush()
            return 1
        try:
            sys.stdout.write("ready\n")
            sys.stdout.flush()
        except OSError:
            pass
        await self.stopping.wait()
        await self.shutdown()
        return 0

    async def _listen(self, what, factory, port):
        try:
            if factory is None:
                server = await asyncio.start_server(self._control_client, HOST, port,
                                                    limit=CONTROL_LINE_MAX)
            else:
                server = await self.loop.create_server(factory, HOST, port)
        except OSError as e:
            why = os.strerror(e.errno) if e.errno else str(e)
            raise OSError(f"cannot bind {what} on {HOST}:{port}: {why}") from None
        self.servers.append(server)
        return server

    def _accept(self, link):
        return SideProtocol(Conn(self, link), True)

    async def shutdown(self):
        for server in self.servers:
            server.close()
        for conn in list(self.conns):
            conn.reset()
        for w in list(self.control_writers):
            w.close()
        for server in self.servers:
            try:
                await asyncio.wait_for(server.wait_closed(), 1.0)
            except (asyncio.TimeoutError, OSError):
                pass
        await asyncio.sleep(0)

    # -- control -------------------------------------------------------------

    async def _control_client(self, reader, writer):
        self.control_writers.add(writer)
        _set_nodelay(writer.transport)
        try:
            while True:                   # until EOF or an error
                try:
                    line = await reader.readline()
                except (ValueError, asyncio.LimitOverrunError):
                    writer.write(b'{"ok": false, "error": "request line too long"}\n')
                    await writer.drain()
                    break
                if not line:
                    break
                if not line.strip():
                    continue
                try:
                    resp = await self.handle(line)
                except ControlError as e:
                    resp = {"ok": False, "error": str(e)}
                except Exception as e:      # a bug must not kill the proxy
                    resp = {"ok": False, "error": f"internal error: {e!r}"}
                writer.write(json.dumps(resp).encode() + b"\n")
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self.control_writers.discard(writer)
            writer.close()

    def _node(self, req, key):
        if key not in req:
            raise ControlError(f"missing field {key!r}")
        return self._check_node(req[key], f"field {key!r}")

    def _check_node(self, v, what):
        if isinstance(v, bool) or not isinstance(v, (str, int)):
            raise ControlError(f"{what} must be a node id string")
        v = str(v)
        if v not in self.nodes:
            raise ControlError(f"unknown node {v!r} in {what} (nodes: {', '.join(self.nodes)})")
        return v

    def _pair_of(self, req):
        a, b = self._node(req, "from"), self._node(req, "to")
        if a == b:
            raise ControlError("from and to must differ")
        return self.pair(a, b)

    @staticmethod
    def _number(req, key, default=None, positive=False):
        if key not in req:
            if default is None:
                raise ControlError(f"missing field {key!r}")
            return float(default)
        v = req[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v or v in (
                float("inf"), float("-inf")):
            raise ControlError(f"field {key!r} must be a number")
        if v < 0 or (positive and v <= 0):
            raise ControlError(f"field {key!r} must be {'> 0' if positive else '>= 0'}")
        return float(v)

    def _apply(self, pair):
        """Make every flow of the pair obey its current faults, now."""
        for flow in list(pair.flows):
            try:
                flow.update_reading()
                flow.pump()
            except OSError:
                flow.conn.reset()  # a socket that broke meanwhile: as a peer would see it

    async def handle(self, line):
        try:
            req = json.loads(line)
        except (ValueError, UnicodeDecodeError) as e:
            raise ControlError(f"malformed JSON: {e}")
        if not isinstance(req, dict):
            raise ControlError("a request must be a JSON object")
        op = req.get("op")
        if not isinstance(op, str):
            raise ControlError("missing or non-string field 'op'")
        if op == "ping":
            return {"ok": True, "pong": True}
        if op in ("block", "one_way"):
            pair = self._pair_of(req)
            pair.blocked = True
            self._apply(pair)
            return {"ok": True}
        if op in ("unblock", "clear"):
            pair = self._pair_of(req)
            pair.clear()
            self._apply(pair)
            return {"ok": True}
        if op == "delay":
            pair = self._pair_of(req)
            ms = self._number(req, "ms")
            jitter = self._number(req, "jitter_ms", 0)
            pair.delay_ms, pair.jitter_ms = ms, jitter
            self._apply(pair)
            return {"ok": True}
        if op == "rate":
            pair = self._pair_of(req)
            pair.rate = self._number(req, "bytes_per_s", positive=True)
            self._apply(pair)
            return {"ok": True}
        if op == "reset":
            a, b = self._node(req, "from"), self._node(req, "to")
            if a == b:
                raise ControlError("from and to must differ")
            n = 0
            for link in self.links:
                if (link.src, link.dst) in ((a, b), (b, a)):
                    for conn in list(link.conns):
                        if not (conn.client_gone and conn.upstream_gone):
                            conn.reset()
                            n += 1
            # abort() closes the sockets in callbacks already queued: let
            # them run so the RSTs are sent before we answer.
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            return {"ok": True, "reset": n}
        if op == "heal":
            for pair in list(self.pairs.values()):
                if pair.active():
                    pair.clear()
                    self._apply(pair)
            return {"ok": True}
        if op == "isolate":
            x = self._node(req, "node")
            others = req.get("from")
            if others is None:
                others = [n for n in self.nodes if n != x]
            elif not isinstance(others, list):
                raise ControlError("field 'from' must be a list of node ids")
            else:
                others = [self._check_node(o, "field 'from'") for o in others]
            pairs = []
            for y in others:
                if y == x:
                    continue
                for p in (self.pair(x, y), self.pair(y, x)):
                    p.blocked = True
                    self._apply(p)
                    pairs.append([p.src, p.dst])
            return {"ok": True, "pairs": pairs}
        if op == "faults":
            return {"ok": True, "faults": [p.describe() for p in self.pairs.values()
                                           if p.active()]}
        if op == "stats":
            out = []
            for link in self.links:
                out.append({
                    "src": link.src, "dst": link.dst, "listen": link.listen,
                    "upstream": f"{link.up_host}:{link.up_port}",
                    "open": len(link.conns), "total": link.total, "refused": link.refused,
                    "bytes_fwd": link.bytes[0], "bytes_rev": link.bytes[1],
                    "held_fwd": sum(c.c2u.held() for c in link.conns),
                    "held_rev": sum(c.u2c.held() for c in link.conns),
                })
            return {"ok": True, "links": out}
        raise ControlError(f"unknown op {op!r}")


def _load_spec(path):
    with open(path) as f:
        spec = json.load(f)
    if not isinstance(spec, dict) or not isinstance(spec.get("links"), list):
        raise ValueError("spec must be an object with a 'links' list")
    int(spec["control"])
    for e in spec["links"]:
        for key in ("src", "dst", "listen", "upstream"):
            if key not in e:
                raise ValueError(f"link {e!r} lacks {key!r}")
        int(e["listen"])
        int(str(e["upstream"]).rpartition(":")[2])
    return spec


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: proxy.py SPEC_JSON_FILE\n")
        return 2
    try:
        spec = _load_spec(argv[1])
    except (OSError, ValueError, KeyError, TypeError) as e:
        sys.stderr.write(f"error: bad spec {argv[1]}: {e}\n")
        return 1
    return asyncio.run(ProxyServer(spec).run())


# =============================================================================
# Helpers for tests and the harness
# =============================================================================

class ProxyError(Exception):
    pass


def free_ports(n):
    """n distinct 127.0.0.1 ports nobody listens on right now."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            s.bind((HOST, 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def make_spec(nodes, real_ports, control_port=None, seed=0):
    """A spec with a proxy port for every (src, dst), src in nodes + ["c"],
    dst in nodes, src != dst. Returns (spec, addr) with
    addr[(src, dst)] = "127.0.0.1:port" (the proxy's listen address)."""
    nodes = [str(n) for n in nodes]
    if isinstance(real_ports, dict):
        real = {str(k): int(v) for k, v in real_ports.items()}
    else:
        real = dict(zip(nodes, (int(p) for p in real_ports)))
    missing = [n for n in nodes if n not in real]
    if missing:
        raise ValueError(f"no real port for nodes {missing}")
    pairs = [(s, d) for s in nodes + ["c"] for d in nodes if s != d]
    ports = free_ports(len(pairs) + (1 if control_port is None else 0))
    if control_port is None:
        control_port = ports.pop()
    links, addr = [], {}
    for (s, d), port in zip(pairs, ports):
        links.append({"src": s, "dst": d, "listen": port, "upstream": f"{HOST}:{real[d]}"})
        addr[(s, d)] = f"{HOST}:{port}"
    return {"control": int(control_port), "links": links, "seed": int(seed)}, addr


class Proxy:
    """A proxy process for tests: start(), the fault methods, stop()."""

    def __init__(self, spec, workdir):
        self.spec = spec
        self.workdir = Path(workdir)
        self.proc = None
        self.spec_path = self.workdir / "proxy-spec.json"
        self.stderr_path = self.workdir / "proxy.stderr"
        self._sock = None
        self._buf = b""
        self._lock = threading.Lock()

    # -- process -------------------------------------------------------------

    def start(self, timeout_s=10):
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.spec_path.write_text(json.dumps(self.spec, indent=1))
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen([PYTHON, PROXY_PY, str(self.spec_path)],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=err)
        out = b""
        deadline = time.monotonic() + timeout_s
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            while b"\n" not in out:
                left = deadline - time.monotonic()
                if left <= 0:
                    self.stop()
                    raise ProxyError(f"proxy not ready within {timeout_s}s: {self.stderr()}")
                if not sel.select(min(left, 0.5)):
                    continue
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    rc = self.proc.wait(timeout=5)
                    raise ProxyError(f"proxy exited (rc {rc}) before ready: {self.stderr()}")
                out += chunk
        if out.split(b"\n")[0].strip() != b"ready":
            self.stop()
            raise ProxyError(f"proxy printed {out!r} instead of 'ready': {self.stderr()}")
        return self

    def stderr(self):
        try:
            return self.stderr_path.read_text(errors="replace").strip()
        except OSError:
            return ""

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout_s=5):
        """SIGTERM by PID, wait; SIGKILL after timeout_s. Returns the exit code."""
        self._close_control()
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=timeout_s)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return self.proc.returncode

    def __enter__(self):
        if self.proc is None:
            self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    # -- control -------------------------------------------------------------

    def _close_control(self):
        if self._sock is not None:
            self._sock.close()
            self._sock = None
            self._buf = b""

    def request(self, op, timeout_s=5.0, **fields):
        """Send one control request; return its response (a dict), raise
        ProxyError on {"ok": false} or when no answer comes in timeout_s."""
        req = dict(fields, op=op)
        with self._lock:
            deadline = time.monotonic() + timeout_s
            try:
                if self._sock is None:
                    self._sock = socket.create_connection((HOST, self.spec["control"]),
                                                          timeout=timeout_s)
                    self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._sock.settimeout(timeout_s)
                self._sock.sendall(json.dumps(req).encode() + b"\n")
                while b"\n" not in self._buf:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise socket.timeout()
                    self._sock.settimeout(left)
                    chunk = self._sock.recv(65536)
                    if not chunk:
                        raise ConnectionError("proxy closed the control connection")
                    self._buf += chunk
            except (OSError, ConnectionError) as e:
                self._close_control()
                raise ProxyError(f"control request {req} failed: {e!r}") from e
            line, _, self._buf = self._buf.partition(b"\n")
        resp = json.loads(line)
        if not resp.get("ok"):
            raise ProxyError(f"control request {req} refused: {resp.get('error')}")
        return resp

    def ping(self):
        return self.request("ping")

    def block(self, a, b):
        return self.request("block", **{"from": str(a), "to": str(b)})

    def one_way(self, a, b):
        return self.block(a, b)

    def unblock(self, a, b):
        return self.request("unblock", **{"from": str(a), "to": str(b)})

    def partition(self, a, b):
        """Block both directions between a and b."""
        self.block(a, b)
        return self.block(b, a)

    def isolate(self, x, from_=None):
        fields = {"node": str(x)}
        if from_ is not None:
            fields["from"] = [str(n) for n in from_]
        return self.request("isolate", **fields)

    def delay(self, a, b, ms, jitter_ms=0):
        return self.request("delay", ms=ms, jitter_ms=jitter_ms, **{"from": str(a), "to": str(b)})

    def rate(self, a, b, bps):
        return self.request("rate", bytes_per_s=bps, **{"from": str(a), "to": str(b)})

    def clear(self, a, b):
        return self.request("clear", **{"from": str(a), "to": str(b)})

    def reset(self, a, b):
        return self.request("reset", **{"from": str(a), "to": str(b)})

    def heal(self):
        return self.request("heal")

    def faults(self):
        """The active faults: a list of {"from", "to", "block", "delay_ms",
        "jitter_ms", "bytes_per_s"}."""
        return self.request("faults")["faults"]

    def stats(self):
        """Per link: {(src, dst): {"open", "total", "refused", "bytes_fwd",
        "bytes_rev", "held_fwd", "held_rev", ...}}."""
        return {(e["src"], e["dst"]): e for e in self.request("stats")["links"]}


if __name__ == "__main__":
    sys.exit(main(sys.argv))
