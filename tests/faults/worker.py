"""Description: the clients of the fault-injection harness. Each run of this
program is one client process that records every operation it makes as
one JSON line (flushed at once, so a client killed mid-run keeps its
history) for tests/faults/checker.py.

    worker.py produce BOOTSTRAP TOPIC PARTITIONS ACKS NAME OUT STOP_FILE [RATE [RETRIES]]
        librdkafka (confluent-kafka) producer: record i has value
        "NAME-i" and goes to partition i % PARTITIONS; at most RATE
        records/s (default 200). Events:
          {"type":"invoke","id","topic","partition","acks"}
          {"type":"ok","id","topic","partition","offset"}
          {"type":"fail","id","error","definite"}
        definite is true only when the write certainly was not appended:
        a single attempt (RETRIES 0) refused with NOT_ENOUGH_REPLICAS.
        Stops producing when STOP_FILE exists, then waits (at most 60 s)
        for the outcome of every record in flight.
    worker.py consume BOOTSTRAP TOPIC PARTITIONS NAME OUT STOP_FILE
        librdkafka consumer, assigned every partition from the beginning
        (no group, no auto reset): {"type":"read","topic","partition",
        "offset","value"} per record, {"type":"error","error"} per error.
        Stops when STOP_FILE exists.

Every event also has "t" (time.monotonic(), CLOCK_MONOTONIC: comparable
across processes) and "proc" (NAME). Run with /usr/bin/python3.
"""
import json
import os
import sys
import time

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

NOT_ENOUGH_REPLICAS = 19
FLUSH_TIMEOUT_S = 60.0


class Recorder:
    def __init__(self, name, path):
        self.name = name
        self.f = open(path, "a", buffering=1)

    def __call__(self, **ev):
        ev["t"] = time.monotonic()
        ev["proc"] = self.name
        self.f.write(json.dumps(ev) + "\n")


def produce(boot, topic, nparts, acks, name, out, stop_file, rate=200.0, retries=5):
    rec = Recorder(name, out)
    p = Producer({
        "bootstrap.servers": boot,
        "acks": "all" if acks == "all" else acks,
        "linger.ms": 2,
        "max.in.flight.requests.per.connection": 1,
        "message.send.max.retries": retries,
        "retry.backoff.ms": 100,
        "request.timeout.ms": 5000,
        "message.timeout.ms": 20000,
        "enable.idempotence": False,
        "topic.metadata.refresh.interval.ms": 1000,
        "socket.timeout.ms": 5000,
    })

    def delivered(err, msg):
        mid = msg.value().decode()
        if err is None:
            rec(type="ok", id=mid, topic=topic, partition=msg.partition(), offset=msg.offset())
        else:
            rec(type="fail", id=mid, error=err.name(),
                definite=retries == 0 and err.code() == NOT_ENOUGH_REPLICAS)

    interval = 1.0 / rate
    next_t = time.monotonic()
    i = 0
    while not os.path.exists(stop_file):
        now = time.monotonic()
        if now < next_t:
            p.poll(min(next_t - now, 0.05))
            continue
        next_t += interval
        mid = f"{name}-{i}"
        part = i % nparts
        rec(type="invoke", id=mid, topic=topic, partition=part, acks=acks)
        for _ in range(200):  # a full local queue: serve callbacks, retry, bounded
            try:
                p.produce(topic, value=mid.encode(), key=mid.encode(), partition=part,
                          on_delivery=delivered)
                break
            except BufferError:
                p.poll(0.05)
        else:  # never handed to the client library: certainly not written
            rec(type="fail", id=mid, error="LOCAL_QUEUE_FULL", definite=True)
        i += 1
        p.poll(0)
    left = p.flush(FLUSH_TIMEOUT_S)
    rec(type="done", invoked=i, unresolved=left)


def consume(boot, topic, nparts, name, out, stop_file):
    rec = Recorder(name, out)
    c = Consumer({
        "bootstrap.servers": boot,
        "group.id": f"harness-{name}",  # required by librdkafka; never joined (assign)
        "enable.auto.commit": False,
        "auto.offset.reset": "error",
        "topic.metadata.refresh.interval.ms": 1000,
        "fetch.wait.max.ms": 100,
        "socket.timeout.ms": 5000,
    })
    pos = {p: -2 for p in range(nparts)}  # next offset to read; -2: the beginning
    c.assign([TopicPartition(topic, p, pos[p]) for p in range(nparts)])
    while not os.path.exists(stop_file):
        msgs = c.consume(500, 0.2)
        stalled = False
        for m in msgs:
            err = m.error()
            if err is not None:
                if err.code() != KafkaError._PARTITION_EOF:
                    rec(type="error", error=err.name(), partition=m.partition())
                    # librdkafka stops fetching a partition after these
                    # (no auto reset): assign again at the same position.
                    stalled |= err.code() in (KafkaError._AUTO_OFFSET_RESET,
                                              KafkaError.UNKNOWN_TOPIC_OR_PART,
                                              KafkaError.OFFSET_OUT_OF_RANGE)
                continue
            pos[m.partition()] = m.offset() + 1
            rec(type="read", topic=topic, partition=m.partition(), offset=m.offset(),
                value=m.value().decode(errors="replace"))
        if stalled:
            c.assign([TopicPartition(topic, p, pos[p]) for p in range(nparts)])
    c.close()
    rec(type="done")


def main(argv):
    if len(argv) >= 8 and argv[1] == "produce":
        boot, topic, nparts, acks, name, out, stop = argv[2:9]
        rate = float(argv[9]) if len(argv) > 9 else 200.0
        retries = int(argv[10]) if len(argv) > 10 else 5
        produce(boot, topic, int(nparts), acks, name, out, stop, rate, retries)
        return 0
    if len(argv) == 8 and argv[1] == "consume":
        boot, topic, nparts, name, out, stop = argv[2:8]
        consume(boot, topic, int(nparts), name, out, stop)
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
