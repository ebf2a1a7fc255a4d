"""Renders `producers/channels.py`: one typed channel per subject, its parameters as keyword arguments.

Publishing takes an `Address[E]` and an `E`: a payload of the wrong type, or a missing or unknown subject
parameter, fails `mypy --strict`; a bad parameter value fails at run time with the parameter named.
"""

from __future__ import annotations

from registry.codegen.locate import camel, declaration_name
from registry.codegen.render import HEADER, import_block
from registry.registry import Registry


def render_channels(registry: Registry) -> str:
    """The source of producers/channels.py for `registry`."""
    imports = {("registry.address", "Address"), ("registry.address", "Channel")}
    body: list[str] = []
    exported: list[str] = []
    for subject in registry:
        module, name = declaration_name(subject)
        payload = subject.payload.__name__
        imports |= {(module, payload), (module, f"{name} as _{name}")}
        cls = f"{camel(name)}Channel"
        names = subject.template.names
        params = "".join(f", {n}: str" for n in names)
        star = ", *" if names else ""
        call = ", ".join(f"{n}={n}" for n in names)
        body += [
            "",
            "",
            f"class {cls}(Channel[{payload}]):",
            f'    """`{subject.template_text}`: {payload} from {subject.producer.value}."""',
            "",
            f"    def __call__(self{star}{params}) -> Address[{payload}]:",
            f"        return self._address({call})",
            "",
            "",
            f"{name} = {cls}(_{name})",
        ]
        exported.append(name)
    lines = [
        HEADER.rstrip("\n"),
        '"""Typed channels of every declared subject: `FILLS(bot_id=...)` is an `Address[Fill]`."""',
        "",
        "from __future__ import annotations",
        "",
        *import_block(imports),
        "",
        "__all__ = [" + ", ".join(f'"{n}"' for n in sorted(exported)) + "]",
        *body,
    ]
    return "\n".join(lines) + "\n"
