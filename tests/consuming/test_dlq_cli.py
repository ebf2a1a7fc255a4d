"""`gordon dlq list` and `gordon dlq replay` as processes against a real nats-server."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from nats.js import JetStreamContext

from consumers.consumer import Consumer
from consumers.dlq_tools import REPLAY_OF
from registry import headers as h
from registry.subject import Service
from schemas import streams
from tests.consuming.conftest import AT, TEST_REGISTRY, TICKS, Tick, publish, publish_raw

GORDON = str(Path(sys.executable).with_name("gordon"))


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


async def gordon(*args: str, nats_url: str | None) -> Run:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    if nats_url is not None:
        env["GORDON_NATS_URL"] = nats_url
    process = await asyncio.create_subprocess_exec(
        GORDON, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return Run(process.returncode, out.decode(), err.decode())


async def dead_letter(js: JetStreamContext, events: list[Tick], reason: str) -> None:
    """Publish `events` and have manager-tick term each one with `reason`."""
    for event in events:
        await publish(js, event)
    consumer = await Consumer.open(js, TEST_REGISTRY, TICKS, Service.MANAGER)
    for _ in events:
        await (await consumer.next(timeout=5)).term(reason)
    await consumer.close()


async def test_list_shows_each_letter_with_its_origin_and_reason(
    bus: JetStreamContext, nats_url: str
) -> None:
    events = [Tick(n=1), Tick(n=2)]
    await dead_letter(bus, events, "unknown bot")
    await publish_raw(bus, b"not json", "raw-1")
    consumer = await Consumer.open(bus, TEST_REGISTRY, TICKS, Service.MANAGER)
    with pytest.raises(TimeoutError):
        await consumer.next(timeout=0.5)  # the undecodable one went straight to the DLQ
    await consumer.close()

    listed = await gordon("dlq", "list", "--format", "json", nats_url=nats_url)
    assert listed.code == 0, listed.err
    letters = json.loads(listed.out)
    assert [x["seq"] for x in letters] == [1, 2, 3]
    assert {x["consumer"] for x in letters} == {"manager-tick"}
    assert {x["subject"] for x in letters} == {AT}
    assert [x["reason"] for x in letters[:2]] == ["unknown bot", "unknown bot"]
    assert letters[2]["reason"].startswith("decode: invalid Tick at $")
    assert [x["msg_id"] for x in letters] == [str(e.event_id) for e in events] + ["raw-1"]
    assert all(x["deliveries"] == 1 and 0 <= x["age_s"] < 60 for x in letters)

    limited = await gordon("dlq", "list", "--limit", "1", nats_url=nats_url)
    assert limited.code == 0, limited.err
    lines = limited.out.splitlines()
    assert lines[0].split() == ["SEQ", "CONSUMER", "SUBJECT", "DELIVERIES", "AGE", "REASON"]
    assert lines[1].split()[:4] == ["1", "manager-tick", AT, "1"]
    assert lines[1].endswith("unknown bot")
    assert len(lines) == 2

    other = await gordon("dlq", "list", "--consumer", "risk-tick", "--format", "json", nats_url=nats_url)
    assert (other.code, json.loads(other.out)) == (0, [])


async def test_replay_republishes_to_the_original_subject_and_a_consumer_gets_it(
    bus: JetStreamContext, nats_url: str
) -> None:
    events = [Tick(n=1), Tick(n=2), Tick(n=3)]
    await dead_letter(bus, events, "downstream was down")
    bus_before = (await bus.stream_info(streams.BUS.name)).state.last_seq

    replayed = await gordon("dlq", "replay", "2", nats_url=nats_url)
    assert replayed.code == 0, replayed.err
    assert replayed.out.strip() == (
        f"replayed gordon-dlq seq 2 (manager-tick) to {AT} as gordon-bus seq {bus_before + 1}, "
        f"Msg-Id {events[1].event_id}:replay:2; deleted from gordon-dlq"
    )
    copy = await bus.get_msg(streams.BUS.name, bus_before + 1)
    headers = copy.headers or {}
    assert copy.subject == AT
    assert copy.data == TEST_REGISTRY.codec(TICKS).encode(events[1])
    assert headers[h.MSG_ID] == f"{events[1].event_id}:replay:2"
    assert headers[REPLAY_OF] == str(events[1].event_id)
    assert headers[h.SCHEMA] == "Tick:v1"
    assert not any(name.startswith("Gordon-Dlq-") for name in headers)

    consumer = await Consumer.open(bus, TEST_REGISTRY, TICKS, Service.MANAGER)
    delivery = await consumer.next(timeout=5)
    assert (delivery.event, delivery.stream_seq, delivery.deliveries) == (events[1], bus_before + 1, 1)
    await delivery.ack()

    left = json.loads((await gordon("dlq", "list", "--format", "json", nats_url=nats_url)).out)
    assert [x["seq"] for x in left] == [1, 3]

    rest = await gordon("dlq", "replay", "--consumer", "manager-tick", "--all", nats_url=nats_url)
    assert rest.code == 0, rest.err
    assert [line.split()[3] for line in rest.out.splitlines()] == ["1", "3"]
    got = []
    for _ in range(2):
        delivery = await consumer.next(timeout=5)
        got.append(delivery.event)
        await delivery.ack()
    await consumer.close()
    assert got == [events[0], events[2]]
    assert (await bus.stream_info(streams.DLQ.name)).state.messages == 0

    nothing = await gordon("dlq", "replay", "--consumer", "manager-tick", "--all", nats_url=nats_url)
    assert (nothing.code, nothing.out.strip()) == (0, "no dead letters of manager-tick in gordon-dlq")


async def test_replay_of_a_bad_sequence_is_one_line_and_replays_nothing(
    bus: JetStreamContext, nats_url: str
) -> None:
    await dead_letter(bus, [Tick(n=1)], "x")
    for args, message in [
        (("1", "99"), "no dead letter at sequence 99 in gordon-dlq"),
        (("first",), "not a DLQ sequence number: 'first'"),
        (("0",), "not a DLQ sequence number: '0'"),
        (("--all",), "--all needs --consumer NAME"),
        ((), "give the sequence numbers to replay"),
        (("1", "--consumer", "manager-tick", "--all"), "not both"),
    ]:
        run = await gordon("dlq", "replay", *args, nats_url=nats_url)
        assert run.code == 1, (args, run)
        assert run.err.count("\n") == 1, (args, run.err)
        assert message in run.err, (args, run.err)
        assert run.err.startswith("gordon dlq: ")
    assert (await bus.stream_info(streams.DLQ.name)).state.messages == 1  # seq 1 was not replayed


async def test_dlq_needs_gordon_nats_url(nats_url: str) -> None:
    run = await gordon("dlq", "list", nats_url=None)
    assert run.code == 1
    assert run.err.count("\n") == 1
    assert run.err.startswith(
        "gordon dlq: no NATS server for the dead letters in gordon-dlq: GORDON_NATS_URL is not set and no "
        "`gordon up` is running with GORDON_DATA_DIR="
    )


def gordon_in_a_terminal(*args: str, nats_url: str) -> str:
    """`gordon ARGS` with its stdout on a pseudo-terminal, as in a shell; what the terminal showed."""
    main, terminal = pty.openpty()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GORDON_NATS_URL": nats_url, "COLUMNS": "120"}
    process = subprocess.Popen([GORDON, *args], env=env, stdout=terminal, stderr=subprocess.PIPE)
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(main)
    assert process.wait(timeout=60) == 0, process.stderr.read() if process.stderr else ""
    return shown.decode(errors="replace")


async def test_replay_in_a_terminal_shows_its_progress(bus: JetStreamContext, nats_url: str) -> None:
    await dead_letter(bus, [Tick(n=1), Tick(n=2)], "downstream was down")
    shown = await asyncio.to_thread(
        gordon_in_a_terminal, "dlq", "replay", "--consumer", "manager-tick", "--all", nats_url=nats_url
    )
    assert "replay gordon-dlq" in shown
    assert "2/2" in shown
    assert "letters/s" in shown
    assert shown.count("replayed gordon-dlq seq") == 2
