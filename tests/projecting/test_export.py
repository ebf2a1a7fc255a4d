"""`gordon stream export` against a real server: what was published comes back from parquet, decoded."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import polars as pl
import pytest
from nats.aio.client import Client as NatsClient

from gordon.cli import main
from projections.export import ExportRefused, decimal_column, export
from registry.ids import uuid7
from schemas import REGISTRY
from schemas.common import Market, Side, bot_token
from schemas.trading import Fill, Liquidity
from tests.projecting.helpers import history_has, publish
from tests.projecting.test_rebuild import AT as ORDERS_AT
from tests.projecting.test_rebuild import lifecycle


def fill(bot: UUID, version: int, qty: str) -> Fill:
    return Fill(
        fill_id=uuid7(),
        bot_id=bot,
        order_id=uuid7(),
        version=version,
        symbol="BTCUSDT",
        market=Market.SPOT,
        side=Side.BUY if version % 2 else Side.SELL,
        qty=Decimal(qty),
        price=64000.25 + version,
        fee=Decimal("0.000100"),
        fee_asset="BNB",
        liquidity=Liquidity.MAKER,
        ts_ms=1_700_000_000_000 + version,
    )


async def test_export_round_trip_through_parquet(
    nats: NatsClient,
    nats_url: str,
    fresh_bus: Callable[[], Awaitable[None]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await fresh_bus()
    js = nats.jetstream()
    bots = [uuid7(), uuid7()]
    published: list[tuple[int, str, Fill]] = []
    for version, qty in enumerate(["0.30", "1", "0.125", "2.50000000"], start=1):
        for bot in bots:
            subject = f"trading.fills.{bot_token(bot)}"
            event = fill(bot, version, qty)
            published.append((0, subject, event))
        for e in lifecycle(uuid7())[:1]:  # orders in between: not exported
            await publish(js, ORDERS_AT, e)
        for i in range(len(published) - 2, len(published)):
            _, subject, event = published[i]
            published[i] = (await publish(js, subject, event), subject, event)
    await history_has(js, 12)
    started = datetime.now(UTC)
    monkeypatch.setenv("GORDON_NATS_URL", nats_url)
    out = tmp_path / "fills.parquet"

    code = await asyncio.to_thread(
        main, ["stream", "export", "--subject", "trading.fills.>", "--out", str(out)]
    )

    assert code == 0
    assert capsys.readouterr().out == f"exported 8 event(s) of trading.fills.> from gordon-history to {out}\n"
    frame = pl.read_parquet(out)
    assert frame.columns[:3] == ["seq", "subject", "ts"]
    assert frame.schema["ts"] == pl.Datetime("us", "UTC")
    assert frame["subject"].to_list() == [s for _, s, _ in published]
    assert frame["seq"].is_sorted()
    # decimals are typed columns at the largest scale their values need (2.50000000: 8 places), floats floats
    assert (frame.schema["qty"], frame.schema["fee"]) == (pl.Decimal(38, 8), pl.Decimal(38, 6))
    assert (frame.schema["price"], frame.schema["fee_asset"]) == (pl.Float64(), pl.String())
    for row, (_, _, event) in zip(frame.iter_rows(named=True), published, strict=True):
        payload = {k: v for k, v in row.items() if k not in ("seq", "subject", "ts")}
        assert payload == {**event.model_dump(mode="json"), "qty": event.qty, "fee": event.fee}
        assert Fill.model_validate(payload) == event
        assert abs(row["ts"] - started) < timedelta(seconds=30)
    assert frame["qty"].to_list()[:2] == [Decimal("0.30")] * 2
    assert frame.select(pl.col("qty").sum()).item() == 2 * sum(
        Decimal(q) for q in ["0.30", "1", "0.125", "2.5"]
    )

    seen: list[tuple[int, int | None]] = []
    again = await export(
        js,
        REGISTRY,
        REGISTRY.history.name,
        "trading.fills.>",
        tmp_path / "again.parquet",
        progress=lambda done, total: seen.append((done, total)),
    )
    assert again.rows == 8
    assert seen == [(n, 8) for n in range(1, 9)]


def test_a_decimal_column_takes_the_largest_scale_and_refuses_what_does_not_fit() -> None:
    column = decimal_column(pl.Series("fee", ["0.1", None, "12.000345", "0E-8"]))
    assert column.dtype == pl.Decimal(38, 8)
    assert column.to_list() == [Decimal("0.1"), None, Decimal("12.000345"), Decimal(0)]
    with pytest.raises(
        ExportRefused, match=r"column qty: its values need 40 digits \(30 before the point, 10"
    ):
        decimal_column(pl.Series("qty", ["1" * 30 + ".0", "0.0000000001"]))


async def test_export_refuses_an_undeclared_subject_or_one_the_stream_does_not_hold(
    nats_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GORDON_NATS_URL", nats_url)
    target = tmp_path / "x.parquet"
    out = str(target)
    assert await asyncio.to_thread(main, ["stream", "export", "--subject", "payments.>", "--out", out]) == 1
    assert capsys.readouterr().err == "gordon stream: no declared subject matches 'payments.>'\n"
    code = await asyncio.to_thread(main, ["stream", "export", "--subject", "market.klines.>", "--out", out])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("gordon stream: stream gordon-history stores none of 'market.klines.>'")
    assert err.count("\n") == 1
    assert not await asyncio.to_thread(target.exists)
