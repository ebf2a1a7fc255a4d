"""The AsyncAPI document: valid against the official 3.0.0 schema, complete, deterministic, fresh on disk."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any
from uuid import UUID

import jsonschema
import pytest
import yaml

from gordon.cli import main as gordon
from registry.asyncapi import DEFAULT_NATS_HOST, HEADER, build, render
from registry.event import Event
from registry.registry import Registry
from registry.subject import ConsumerSpec, MigrationWindow, Service, Subject, Upcaster
from schemas import REGISTRY, streams
from schemas.common import BOT_ID, Market, Side
from schemas.trading import Fill, Liquidity

ROOT = Path(__file__).resolve().parent.parent
SPEC = json.loads((ROOT / "tests" / "specs" / "asyncapi-3.0.0.json").read_text())
VALIDATOR = jsonschema.Draft7Validator(SPEC, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)

Json = dict[str, Any]


def spec_errors(document: Json) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in VALIDATOR.iter_errors(document)
    ]


def channel_for(document: Json, subject: Subject[Any]) -> tuple[str, Json]:
    found = [(cid, ch) for cid, ch in document["channels"].items() if ch["address"] == subject.template_text]
    assert len(found) == 1, f"{subject.template_text}: {len(found)} channels"
    return found[0]


def refs(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "$ref":
                yield item
            else:
                yield from refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from refs(item)


def resolve(document: Json, ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict), ref
        assert part in node, f"{ref}: no {part!r}"
        node = node[part]
    return node


def payload_validator(document: Json, message_id: str) -> jsonschema.Draft202012Validator:
    """A validator of one message's payload, its `#/components/...` refs resolved in the document."""
    schema = dict(document["components"]["messages"][message_id]["payload"])
    schema["components"] = document["components"]
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture(scope="module")
def document() -> Json:
    return build(REGISTRY)


def test_document_is_valid_asyncapi_3(document: Json) -> None:
    assert document["asyncapi"] == "3.0.0"
    assert spec_errors(document) == []


def test_the_official_schema_rejects_broken_documents(document: Json) -> None:
    bad_action = json.loads(json.dumps(document))
    next(iter(bad_action["operations"].values()))["action"] = "publish"
    assert spec_errors(bad_action)
    no_host = json.loads(json.dumps(document))
    del no_host["servers"]["nats"]["host"]
    assert spec_errors(no_host)


def test_info_and_server(document: Json) -> None:
    assert document["info"]["title"] == "gordon-bus"
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert document["info"]["version"] == pyproject["project"]["version"]
    assert document["servers"]["nats"]["host"] == DEFAULT_NATS_HOST
    assert document["servers"]["nats"]["protocol"] == "nats"
    assert build(REGISTRY, "nats.internal:4333")["servers"]["nats"]["host"] == "nats.internal:4333"


def test_every_subject_is_a_channel_with_its_parameters(document: Json) -> None:
    assert len(document["channels"]) == len(REGISTRY.subjects)
    for subject in REGISTRY:
        _, channel = channel_for(document, subject)
        assert list(channel.get("parameters", {})) == list(subject.template.names)
        for name, body in channel.get("parameters", {}).items():
            param = subject.param(name)
            assert body["description"] == param.description
            assert body.get("enum", []) == list(param.enum)
            assert body["examples"] == list(param.examples)
            for example in body["examples"]:
                param.check(example)
        assert channel["x-gordon-producer"] == subject.producer.value
        assert channel["x-gordon-tier"] == subject.tier.value
        assert channel["x-jetstream-stream"]["live"] == REGISTRY.bus.name


def test_enum_parameters_carry_their_values(document: Json) -> None:
    _, klines = channel_for(document, REGISTRY.get("market.klines.binance.{market}.{symbol_lc}.{tf}"))
    assert klines["parameters"]["market"]["enum"] == ["spot", "perp"]
    assert "1m" in klines["parameters"]["tf"]["enum"]
    assert "enum" not in klines["parameters"]["symbol_lc"]


def test_history_stream_named_only_where_the_subject_is_sourced(document: Json) -> None:
    _, klines = channel_for(document, REGISTRY.get("market.klines.binance.{market}.{symbol_lc}.{tf}"))
    _, fills = channel_for(document, REGISTRY.get("trading.fills.{bot_id}"))
    assert "history" not in klines["x-jetstream-stream"]
    assert fills["x-jetstream-stream"] == {"live": "gordon-bus", "history": "gordon-history"}


def test_every_payload_version_is_a_message(document: Json) -> None:
    messages = document["components"]["messages"]
    for subject in REGISTRY:
        _, channel = channel_for(document, subject)
        for model in subject.versions:
            mid = f"{model.NAME}.v{model.VERSION}"
            assert channel["messages"][mid] == {"$ref": f"#/components/messages/{mid}"}
            message = messages[mid]
            assert message["contentType"] == "application/json"
            assert list(message["payload"]["properties"]) == list(model.model_fields)
            assert message["payload"]["properties"]["schema_version"]["const"] == model.VERSION
            assert "$defs" not in json.dumps(message["payload"])
            headers = message["headers"]["properties"]
            assert headers["Gordon-Schema"]["const"] == model.schema_id()
            assert set(headers) >= {
                "Nats-Msg-Id",
                "Gordon-Schema",
                "Gordon-Source",
                "traceparent",
                "Gordon-Actor",
            }


def test_messages_carry_the_whole_docstring_and_the_declared_examples(document: Json) -> None:
    messages = document["components"]["messages"]
    request = messages["OperatorRequest.v2"]
    assert request["summary"].startswith("An operator's request to the risk service")
    assert (
        "pause every bot (which halts the latch as a manual trip and keeps the positions)"
        in request["description"]
    )
    assert "\n" not in request["description"], "a paragraph's wrapped lines are joined"
    for subject in REGISTRY:
        for model in subject.versions:
            message = messages[f"{model.NAME}.v{model.VERSION}"]
            declared = model.__dict__.get("EXAMPLES", ())
            assert len(message.get("examples", [])) == len(declared)
            validator = payload_validator(document, f"{model.NAME}.v{model.VERSION}")
            headers = jsonschema.Draft202012Validator(message["headers"])
            for example, shown in zip(declared, message.get("examples", []), strict=True):
                assert list(validator.iter_errors(shown["payload"])) == []
                assert list(headers.iter_errors(shown["headers"])) == []
                assert {k: shown["payload"][k] for k in example} == json.loads(
                    model.model_validate(example).model_dump_json(include=set(example))
                )
                assert shown["headers"]["Gordon-Source"] == subject.producer.value
    pause = messages["OperatorRequest.v2"]["examples"][1]
    assert (pause["summary"], pause["payload"]["action"]) == ("pause", "pause")
    assert messages["Fill.v1"]["examples"][0]["payload"]["qty"] == "0.015", "decimals as on the wire"


def test_operations_read_as_sentences(document: Json) -> None:
    operations = document["operations"]
    assert operations["trading.fills.bot_id.send"]["summary"] == (
        "Published by the executor service. Fills per bot (bot_id with underscores)."
    )
    assert operations["trading.fills.bot_id.receive.risk-fills"]["summary"] == (
        "Consumed by the risk service as durable `risk-fills`."
    )
    assert all(op["summary"] for op in operations.values())


def test_a_cluster_gets_one_server_per_node() -> None:
    servers = build(REGISTRY, ["n1:4222", "n2:4222"])["servers"]
    assert {name: s["host"] for name, s in servers.items()} == {"nats": "n1:4222", "nats-2": "n2:4222"}


def test_payload_schema_accepts_real_events_and_resolves_its_refs(document: Json) -> None:
    fill = Fill(
        fill_id=UUID(int=1),
        bot_id=UUID(int=2),
        order_id=UUID(int=3),
        version=1,
        symbol="BTCUSDT",
        market=Market.SPOT,
        side=Side.BUY,
        qty="0.5",
        price=65000.5,
        fee="0.01",
        fee_asset="USDT",
        liquidity=Liquidity.TAKER,
        ts_ms=1_700_000_000_000,
    )
    validator = payload_validator(document, "Fill.v1")
    wire = json.loads(fill.model_dump_json())
    assert list(validator.iter_errors(wire)) == []
    assert not validator.is_valid({**wire, "side": "hold"})
    assert not validator.is_valid({**wire, "qty": 0.5})


def test_every_consumer_durable_is_a_receive_operation(document: Json) -> None:
    operations = document["operations"].values()
    for subject in REGISTRY:
        cid, _ = channel_for(document, subject)
        mine = [op for op in operations if op["channel"] == {"$ref": f"#/channels/{cid}"}]
        sends = [op for op in mine if op["action"] == "send"]
        assert [op["x-gordon-service"] for op in sends] == [subject.producer.value]
        receives = {op["x-jetstream-durable"]: op for op in mine if op["action"] == "receive"}
        assert set(receives) == {spec.durable for spec in subject.consumers}
        for spec in subject.consumers:
            op = receives[spec.durable]
            assert op["x-gordon-service"] == spec.service.value
            assert op["x-jetstream-stream"] == REGISTRY.bus.name
            assert op["x-jetstream-max-deliver"] == spec.max_deliver
            assert op["x-jetstream-ack-wait"] == spec.ack_wait_s
            assert op["x-jetstream-start"] == spec.start_at.value
            assert len(op["messages"]) == len(subject.versions)


def test_per_instance_durable_describes_its_filter_and_instance_parameters(document: Json) -> None:
    ops = {
        op["x-jetstream-durable"]: op for op in document["operations"].values() if op["action"] == "receive"
    }
    bot = ops["bot-{bot_id}-{market}-{symbol_lc}-{tf}-klines"]
    assert bot["x-jetstream-filter"] == "market.klines.binance.{market}.{symbol_lc}.{tf}"
    assert list(bot["x-jetstream-durable-parameters"]) == ["bot_id"]
    assert ops["risk-klines"]["x-jetstream-filter"] == "market.klines.binance.*.*.*"


def test_every_ref_resolves_and_operations_use_their_channels_messages(document: Json) -> None:
    for ref in refs(document):
        resolve(document, ref)
    for oid, op in document["operations"].items():
        channel = resolve(document, op["channel"]["$ref"])
        for message in op["messages"]:
            assert message["$ref"].startswith(op["channel"]["$ref"] + "/messages/"), oid
            assert resolve(document, message["$ref"]) in channel["messages"].values()


def test_streams_extension_lists_every_stream(document: Json) -> None:
    found = {s["name"]: s for s in document["x-jetstream-streams"]}
    assert list(found) == [spec.name for spec in REGISTRY.streams]
    bus = found[REGISTRY.bus.name]
    assert bus["subjects"] == list(REGISTRY.bus.subjects)
    assert (bus["max_age"], bus["max_bytes"]) == (REGISTRY.bus.max_age_s, REGISTRY.bus.max_bytes)
    assert (bus["storage"], bus["discard"], bus["replicas"]) == ("file", "old", REGISTRY.bus.replicas)
    assert bus["duplicate_window"] == REGISTRY.bus.duplicate_window_s
    history = found[REGISTRY.history.name]
    assert "subjects" not in history
    assert history["sources"] == [
        {"name": REGISTRY.bus.name, "subjects": list(REGISTRY.history.sourced_subjects)}
    ]


def test_render_is_deterministic_and_round_trips(document: Json) -> None:
    text = render(document)
    assert text.startswith(HEADER)
    for words in ("Generated by `gordon asyncapi`", "schemas/", "do not edit", "CI fails when it is stale"):
        assert words in HEADER
    assert text == render(build(REGISTRY))
    assert "&id" not in text
    assert yaml.safe_load(text) == json.loads(json.dumps(document))


def test_checked_in_asyncapi_yaml_is_fresh() -> None:
    path = ROOT / "asyncapi.yaml"
    assert path.read_text(encoding="utf-8") == render(build(REGISTRY)), "run `gordon asyncapi`"
    assert spec_errors(yaml.safe_load(path.read_text(encoding="utf-8"))) == []


def test_cli_writes_and_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "api.yaml"
    assert gordon(["asyncapi", "--check", "--output", str(out)]) == 1
    assert str(out) in capsys.readouterr().err
    assert gordon(["asyncapi", "--output", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == render(build(REGISTRY))
    assert gordon(["asyncapi", "--check", "--output", str(out)]) == 0
    out.write_text(out.read_text(encoding="utf-8").replace("gordon-dlq", "gordon-dead"), encoding="utf-8")
    assert gordon(["asyncapi", "--check", "--output", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{out} is stale" in err.splitlines()[0]
    assert "-- name: gordon-dead" in err


def test_cli_host_option_and_unwritable_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "api.yaml"
    assert gordon(["asyncapi", "--output", str(out), "--nats-host", "nats.internal:4333"]) == 0
    assert yaml.safe_load(out.read_text(encoding="utf-8"))["servers"]["nats"]["host"] == "nats.internal:4333"
    capsys.readouterr()
    assert gordon(["asyncapi", "--output", str(tmp_path / "missing" / "api.yaml")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "cannot write" in err[0]


class Trade(Event, version=1):
    """First shape of a trade."""

    qty: int


class TradeV2(Event, version=2, name="Trade"):
    """Second shape: quantity as a decimal string."""

    qty: str
    side: Side


class Status(StrEnum):
    OPEN = "open"


OtherStatus = StrEnum("Status", {"SHUT": "shut"})  # type: ignore[misc]
"""Another enum whose schema is also named `Status`."""


class Door(Event, version=1):
    """Uses an enum named Status."""

    status: Status


class Gate(Event, version=1):
    """Uses a different enum, also named Status."""

    status: OtherStatus


def small_registry() -> Registry:
    trades = Subject(
        "trading.trades.{bot_id}",
        TradeV2,
        producer=Service.EXECUTOR,
        params=(BOT_ID,),
        consumers=(ConsumerSpec(Service.MANAGER, "manager-trades"),),
        older=(Trade,),
        upcasters=(Upcaster(1, lambda old: TradeV2(qty=str(old.qty), side=Side.BUY)),),
        windows=(MigrationWindow(1, 2, date(2030, 1, 1), "qty becomes a decimal string"),),
    )
    doors = Subject("trading.doors", Door, producer=Service.RISK, params=())
    gates = Subject("trading.gates", Gate, producer=Service.RISK, params=())
    return Registry((trades, doors, gates), streams.ALL, streams.BUS, streams.HISTORY, streams.DLQ)


def test_older_versions_and_migration_windows() -> None:
    document = build(small_registry())
    assert spec_errors(document) == []
    channel = document["channels"]["trading.trades.bot_id"]
    assert list(channel["messages"]) == ["Trade.v1", "Trade.v2"]
    assert channel["x-gordon-migration-window"] == [
        {"old": 1, "new": 2, "expires": "2030-01-01", "reason": "qty becomes a decimal string"}
    ]
    assert document["components"]["messages"]["Trade.v1"]["deprecated"] is True
    assert "deprecated" not in document["components"]["messages"]["Trade.v2"]
    send = document["operations"]["trading.trades.bot_id.send"]
    assert send["messages"] == [{"$ref": "#/channels/trading.trades.bot_id/messages/Trade.v2"}]
    receive = document["operations"]["trading.trades.bot_id.receive.manager-trades"]
    assert len(receive["messages"]) == 2
    assert "x-gordon-migration-window" not in document["channels"]["trading.doors"]


def test_definitions_with_one_name_and_two_shapes_are_kept_apart() -> None:
    document = build(small_registry())
    schemas = document["components"]["schemas"]
    assert schemas["Status"]["enum"] == ["open"]
    assert schemas["Gate.v1.Status"]["enum"] == ["shut"]
    gate = document["components"]["messages"]["Gate.v1"]["payload"]
    assert gate["properties"]["status"] == {"$ref": "#/components/schemas/Gate.v1.Status"}
    assert payload_validator(document, "Gate.v1").is_valid({"schema_version": 1, "status": "shut"})
    assert not payload_validator(document, "Gate.v1").is_valid({"schema_version": 1, "status": "open"})
