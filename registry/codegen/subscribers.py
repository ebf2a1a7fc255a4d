"""Renders `consumers/subscribers.py`: one typed subscriber factory per declared durable consumer."""

from __future__ import annotations

from registry.codegen.locate import declaration_name, snake_from_durable
from registry.codegen.render import HEADER, import_block
from registry.registry import Registry


def render_subscribers(registry: Registry) -> str:
    """The source of consumers/subscribers.py for `registry`."""
    imports = {
        ("collections.abc", "Callable"),
        ("faststream.nats", "NatsBroker"),
        ("consumers.subscription", "Handler"),
        ("consumers.subscription", "subscriber"),
        ("registry.subject", "Service"),
        ("schemas", "REGISTRY"),
    }
    body: list[str] = []
    seen: dict[str, str] = {}
    for subject in registry:
        module, name = declaration_name(subject)
        payload = subject.payload.__name__
        imports |= {(module, payload), (module, name)}
        for spec in subject.consumers:
            fn = snake_from_durable(spec.durable)
            if fn in seen:
                raise ValueError(f"durables {spec.durable!r} and {seen[fn]!r} both generate {fn}()")
            seen[fn] = spec.durable
            names = [p.name for p in spec.instance] + list(spec.binds)
            params = "".join(f", {n}: str" for n in names)
            star = ", *" if names else ""
            call = "".join(f", {n}={n}" for n in names)
            kind = f"Callable[[Handler[{payload}]], Handler[{payload}]]"
            body += [
                "",
                "",
                f"def {fn}(broker: NatsBroker{star}{params}) -> {kind}:",
                f'    """Durable `{spec.durable}` of the {spec.service.value} service."""',
                f"    return subscriber(broker, REGISTRY, {name}, Service.{spec.service.name}{call})",
            ]
    lines = [
        HEADER.rstrip("\n"),
        '"""Typed subscriber factories: `@executor_default(broker)` decorates a handler of OrderIntent."""',
        "",
        "from __future__ import annotations",
        "",
        *import_block(imports),
        *body,
    ]
    return "\n".join(lines) + "\n"
