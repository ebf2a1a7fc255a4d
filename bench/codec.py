"""Codec throughput: decode+validate of each payload through the registry codec, vs raw `json.loads`.

The ratio compares klines decoded by the codec (parse, validate, version dispatch) with the same bytes
parsed by `json.loads` alone; the goal is the absolute rate (≥ 100k klines/s) so the codec is never the
bottleneck of a consumer.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

from bench.report import closing_line, record
from bench.samples import samples
from schemas import REGISTRY
from schemas.market import Kline


def rate(fn: Callable[[], object], seconds: float) -> float:
    """Calls per second of `fn`, measured over about `seconds`."""
    n, batch = 0, 1000
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(batch):
            fn()
        n += batch
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.codec")
    parser.add_argument("--quick", action="store_true", help="0.3 s per measurement instead of 2 s")
    args = parser.parse_args()
    seconds = 0.3 if args.quick else 2.0
    rows = ["| payload | subject | bytes | decodes/s | encodes/s |", "|---|---|---:|---:|---:|"]
    kline_rate = 0.0
    by_model = {s.payload: s for s in REGISTRY}
    for model, event in samples().items():
        codec = REGISTRY.codec(by_model[model])
        data = codec.encode(event)
        decodes = rate(lambda c=codec, d=data: c.decode(d), seconds)
        encodes = rate(lambda c=codec, e=event: c.encode(e), seconds)
        rows.append(
            f"| {model.__name__} | `{by_model[model].template_text}` | {len(data)} "
            f"| {decodes:,.0f} | {encodes:,.0f} |"
        )
        if model is Kline:
            kline_rate = decodes
            raw = rate(lambda d=data: json.loads(d), seconds)
    ratio = kline_rate / raw
    summary = f"Kline decode {kline_rate:,.0f}/s vs json.loads {raw:,.0f}/s (ratio {ratio:.3f})."
    print("\n".join(rows))
    print(summary)
    record("codec", "\n".join(rows) + "\n\n" + summary + " Goal: ≥ 100,000 Kline decodes/s.")
    print(closing_line("codec", f"kline_decodes_per_s={kline_rate:,.0f}", ratio, ">=100000/s"))


if __name__ == "__main__":
    main()
