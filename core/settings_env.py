"""How the settings tree is read from ``ASSESSGATE_*`` environment variables, derived from its declarations.

A field of the tree is a variable when its annotation carries :class:`EnvVar`::

    port: Annotated[int, Meta(ge=1, le=65535), EnvVar("PORT")] = 8000

so its name, type, bounds, default, variable (and the ``#:`` comment above it) stand in one place. msgspec
ignores the marker; :func:`variables_of` walks the tree (nested Structs too) and collects every marked field.
A nested Struct declared elsewhere (the result bounds) is marked as a whole with :class:`EnvGroup`: each of its
fields is then the variable ``<prefix><FIELD>``. Fields without a marker (derived ones) are never read.

:func:`read_environment` turns the variables set into the nested dict the tree is decoded from, each value
passed through its field's parser; :func:`decode` then checks types and bounds. Both raise
:class:`core.errors.ConfigError` naming the variable at fault.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Final, TypeVar

import msgspec

from core.errors import ConfigError, FieldError

PREFIX: Final = "ASSESSGATE_"

TreeT = TypeVar("TreeT", bound=msgspec.Struct)


@dataclass(frozen=True, slots=True)
class EnvVar:
    """Marks a settings field as the variable ``ASSESSGATE_<name>``. ``parse`` turns the variable's text into
    the field's value (a comma list into a tuple, say) or raises :class:`ValueError` saying why it is wrong;
    without it msgspec converts the text (``"8000"`` to an int) and checks the field's bounds."""

    name: str
    parse: Callable[[str], object] | None = None


@dataclass(frozen=True, slots=True)
class EnvGroup:
    """Marks a nested settings Struct whose every field is the variable ``ASSESSGATE_<prefix><FIELD>``."""

    prefix: str


@dataclass(frozen=True, slots=True)
class Variable:
    """One variable the settings read: its full name, where its field sits in the tree, and its parser."""

    name: str
    path: tuple[str, ...]
    parse: Callable[[str], object] | None = None


def variables_of(tree: type[msgspec.Struct], path: tuple[str, ...] = ()) -> tuple[Variable, ...]:
    """Every variable declared on ``tree`` and the Structs nested in it, in declaration order."""
    hints = typing.get_type_hints(tree, include_extras=True)
    found: list[Variable] = []
    for field in tree.__struct_fields__:
        hint = hints[field]
        markers = hint.__metadata__ if typing.get_origin(hint) is Annotated else ()
        base = typing.get_args(hint)[0] if markers else hint
        var = next((m for m in markers if isinstance(m, EnvVar)), None)
        group = next((m for m in markers if isinstance(m, EnvGroup)), None)
        if var is not None:
            found.append(Variable(PREFIX + var.name, (*path, field), var.parse))
        elif group is not None:
            found.extend(
                Variable(PREFIX + group.prefix + name.upper(), (*path, field, name)) for name in base.__struct_fields__
            )
        elif isinstance(base, type) and issubclass(base, msgspec.Struct):
            found.extend(variables_of(base, (*path, field)))
    return tuple(found)


def read_environment(environ: Mapping[str, str], variables: tuple[Variable, ...]) -> dict[str, Any]:
    """The nested dict of the variables set in ``environ`` (an empty value counts as unset), each parsed."""
    tree: dict[str, Any] = {}
    for variable in variables:
        text = environ.get(variable.name, "")
        if text == "":
            continue
        try:
            value = variable.parse(text) if variable.parse is not None else text
        except ValueError as exc:
            raise ConfigError(variable.name, str(exc)) from None
        *parents, leaf = variable.path
        node = tree
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return tree


def decode(values: dict[str, Any], tree: type[TreeT], variables: tuple[Variable, ...]) -> TreeT:
    """``values`` as ``tree``, text converted to each field's type and its bounds checked."""
    try:
        return msgspec.convert(values, tree, strict=False)
    except msgspec.ValidationError as exc:
        error = FieldError.of(exc)
        raise ConfigError(_variable_at(error.path, variables), error.message) from None


def variable_at(variables: tuple[Variable, ...], *path: str) -> str:
    """The name of the variable of the field at ``path`` (a KeyError if no variable sets that field)."""
    for variable in variables:
        if variable.path == path:
            return variable.name
    raise KeyError(".".join(path))


def comma_list(text: str) -> tuple[str, ...]:
    """``" a, b,,"`` -> ``("a", "b")``: entries trimmed, empty ones dropped."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _variable_at(json_path: str, variables: tuple[Variable, ...]) -> str:
    """The variable named by msgspec's error path (``$.limits.rate_per_s``, ``$.adapters[0]``)."""
    if not json_path.startswith("$."):
        return PREFIX + "*"
    path = tuple(json_path.removeprefix("$.").split("[")[0].split("."))
    try:
        return variable_at(variables, *path)
    except KeyError:
        return PREFIX + "*"
