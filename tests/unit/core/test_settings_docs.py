"""The configuration table of README.md and the settings' declarations agree: the same variables, and where the
table gives a plain default, the default the settings load."""

from __future__ import annotations

import re
from functools import reduce

from agtest import REPO_ROOT
from core.settings import ENV_VARIABLES, VARIABLES, load_settings

#: One row of the table: | `ASSESSGATE_NAME` | default | meaning |
ROW = re.compile(r"^\| `(?P<variable>ASSESSGATE_[A-Z0-9_]+)` \| (?P<default>[^|]*) \|", re.MULTILINE)
#: A default cell that is one literal value (not "generated in development", "— (all)" or a `$VARIABLE` path).
LITERAL = re.compile(r"^`(?P<value>[^`$]+)`$")


def documented() -> dict[str, str]:
    """Each variable of README.md's "Configuration" section with its default cell."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = [(m["variable"], m["default"].strip()) for m in ROW.finditer(section)]
    assert len(rows) == len(dict(rows)), "a variable is documented twice"
    return dict(rows)


def test_every_variable_the_settings_read_is_documented() -> None:
    assert len(ENV_VARIABLES) == len(set(ENV_VARIABLES)), "two settings declare the same variable"
    missing = [name for name in ENV_VARIABLES if name not in documented()]
    assert missing == [], f"add these to README.md's configuration table: {missing}"


def test_every_documented_variable_is_read_by_the_settings() -> None:
    unknown = [name for name in documented() if name not in ENV_VARIABLES]
    assert unknown == [], f"README.md documents variables no setting declares: {unknown}"


def test_documented_plain_defaults_are_the_loaded_defaults() -> None:
    defaults = load_settings({})
    table = documented()
    compared = 0
    for variable in VARIABLES:
        literal = LITERAL.match(table[variable.name])
        value: object = reduce(getattr, variable.path, defaults)
        if literal is None or value in ("", ()):
            continue
        if isinstance(value, int | float):
            assert float(literal["value"]) == value, variable.name
        else:
            assert literal["value"] == value, variable.name
        compared += 1
    assert compared >= len(VARIABLES) // 2  # most rows give a plain default: the comparison is not vacuous
