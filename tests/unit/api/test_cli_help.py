"""Every ``assessgate`` option's help states its real default: the parser's own default where it has one, and
for an option that falls back to a setting, that setting's variable and its default as the settings load it."""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Iterator
from functools import reduce

import pytest

from api.cli import build_parser
from core.settings import VARIABLES, load_settings

#: ``default: $ASSESSGATE_X, else V``: the option falls back to a variable, then to V.
FALLBACK = re.compile(r"default: \$(?P<variable>ASSESSGATE_[A-Z0-9_]+), else (?P<value>\S+?)(?=[,;)]?(?:\s|$))")
NO_VALUE = (argparse._StoreTrueAction, argparse._StoreFalseAction, argparse._HelpAction)


def commands(
    parser: argparse.ArgumentParser, name: str = "assessgate"
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                yield from commands(sub, f"{name} {sub_name}")


def options() -> Iterator[tuple[str, argparse.Action, str]]:
    """(command, option, the option's help as ``--help`` prints it) for every option that takes a value."""
    for command, parser in commands(build_parser()):
        formatter = parser._get_formatter()
        for action in parser._actions:
            if action.option_strings and not isinstance(action, NO_VALUE) and not action.required:
                yield command, action, " ".join(formatter._expand_help(action).split())


@pytest.fixture(autouse=True)
def no_assessgate_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Options read some variables when the parser is built: without them, each default is the fallback."""
    for name in os.environ:
        if name.startswith("ASSESSGATE_"):
            monkeypatch.delenv(name)


def shown(default: object) -> str:
    return "none" if default == "" else str(default)


def test_every_option_states_its_default() -> None:
    silent = [f"{command} {action.option_strings[0]}" for command, action, text in options() if "default" not in text]
    assert silent == []


def test_a_stated_default_is_the_real_one() -> None:
    checked = fallbacks = 0
    for command, action, text in options():
        where = f"{command} {action.option_strings[0]}: {text}"
        if action.default is not None:
            assert shown(action.default) in text, where
            checked += 1
        for fallback in FALLBACK.finditer(text):
            real = setting_default(fallback["variable"]) or shown(action.default)
            assert fallback["value"] == real, where
            fallbacks += 1
    assert checked >= 15
    assert fallbacks >= 8  # serve, demo, worker, the sandbox's: the settings' defaults are compared


def setting_default(variable: str) -> str | None:
    """The default of the setting read from ``variable`` as text; None for a variable that is no setting (the
    sandbox's, read by its options alone: their parser default is the fallback)."""
    declared = {v.name: v for v in VARIABLES}
    if variable not in declared:
        return None
    return str(reduce(getattr, declared[variable].path, load_settings({})))


def test_the_sandbox_commands_default_to_the_standalone_sandbox() -> None:
    """The issue's case: `sandbox integration|order --help` named the gateway-mounted sandbox as the default."""
    for command, action, text in options():
        if (
            command in {"assessgate sandbox integration", "assessgate sandbox order"}
            and "--url" in action.option_strings
        ):
            assert action.default == "http://127.0.0.1:9000"
            assert "else http://127.0.0.1:9000" in text
