"""Small payloads and registries for the gate tests: one `Widget` payload in several shapes and versions.

Every shape sets the schema title `Widget`, so class names (which must differ) do not show up as
title changes; each declares `name="Widget"`, so its message is `Widget.vN` whatever the class.
"""

from __future__ import annotations

from datetime import date

from pydantic import ConfigDict

from registry.event import Event
from registry.registry import Registry
from registry.subject import ConsumerSpec, MigrationWindow, Service, Subject, Upcaster
from registry.tokens import Param, enum_param
from schemas import streams
from schemas.common import BOT_ID

TEMPLATE = "trading.widgets.{bot_id}"
FAR = date(2100, 1, 1)
MANAGER = ConsumerSpec(Service.MANAGER, "manager-widgets")
RISK = ConsumerSpec(Service.RISK, "risk-widgets")
COLOR = enum_param("color", ("red", "green", "blue"), "Paint colour")


class WidgetV1(Event, version=1, name="Widget"):
    model_config = ConfigDict(title="Widget")
    qty: int
    side: str


class WidgetWithNote(Event, version=1, name="Widget"):
    # v1 with an optional field appended: additive.
    model_config = ConfigDict(title="Widget")
    qty: int
    side: str
    note: str = ""


class WidgetNoSide(Event, version=1, name="Widget"):
    # v1 with `side` removed: a break.
    model_config = ConfigDict(title="Widget")
    qty: int


class WidgetV2(Event, version=2, name="Widget"):
    # v2: `qty` becomes a decimal string, a break relative to v1.
    model_config = ConfigDict(title="Widget")
    qty: str
    side: str


class WidgetV2Additive(Event, version=2, name="Widget"):
    # A v2 that only appends an optional field to v1: no break, so no need for a new version.
    model_config = ConfigDict(title="Widget")
    qty: int
    side: str
    note: str = ""


class WidgetV3(Event, version=3, name="Widget"):
    # v3: a new required `venue`, a break relative to v2.
    model_config = ConfigDict(title="Widget")
    qty: str
    side: str
    venue: str


class Gadget(Event, version=1):
    """Another payload, for the channel rules."""

    size: int


def v1_to_v2(old: Event) -> WidgetV2:
    assert isinstance(old, WidgetV1)
    return WidgetV2(qty=str(old.qty), side=old.side)


def v2_to_v3(old: Event) -> WidgetV3:
    assert isinstance(old, WidgetV2)
    return WidgetV3(qty=old.qty, side=old.side, venue="binance")


UPCASTERS = {1: Upcaster(1, v1_to_v2), 2: Upcaster(2, v2_to_v3)}


def widgets(
    *versions: type[Event],
    template: str = TEMPLATE,
    params: tuple[Param, ...] = (BOT_ID,),
    producer: Service = Service.EXECUTOR,
    consumers: tuple[ConsumerSpec, ...] = (MANAGER,),
    upcasters: tuple[Upcaster, ...] | None = None,
    windows: tuple[MigrationWindow, ...] | None = None,
    name: str = "",
) -> Subject[Event]:
    """A widgets subject with `versions` (oldest first); by default each older version has its
    upcaster and a window to the newest that expires in 2100."""
    newest = versions[-1].VERSION
    older = versions[:-1]
    if upcasters is None:
        upcasters = tuple(UPCASTERS[v.VERSION] for v in older)
    if windows is None:
        windows = tuple(MigrationWindow(v.VERSION, newest, FAR, "test") for v in older)
    return Subject(
        template,
        versions[-1],
        producer=producer,
        params=params,
        consumers=consumers,
        older=older,
        upcasters=upcasters,
        windows=windows,
        name=name,
    )


def gadgets(
    template: str = "trading.gadgets.{color}", params: tuple[Param, ...] = (COLOR,)
) -> Subject[Event]:
    """A gadgets subject with an enum parameter."""
    return Subject(template, Gadget, producer=Service.RISK, params=params)


def registry(*subjects: Subject[Event]) -> Registry:
    """A registry of `subjects` on the platform's streams."""
    return Registry(subjects, streams.ALL, streams.BUS, streams.HISTORY, streams.DLQ)
