"""``plugins.toml``: which adapter serves each package type, and each adapter's settings. Strict: an
unknown key fails at start with its name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import msgspec

from core.errors import ConfigError, FieldError
from core.kombo import PackageType

ROUTE_KEYS: Final = frozenset({*(t.value for t in PackageType), "inline", "default"})


class Routes(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    default: str = "accept"
    inline: str | None = None
    BEHAVIORAL: str | None = None
    VIDEO_INTERVIEW: str | None = None
    SKILLS_TEST: str | None = None
    BACKGROUND_CHECK: str | None = None
    REFERENCE_CHECK: str | None = None

    def adapter_for(self, package_type: str, *, inline: bool, overrides: Mapping[str, str] | None = None) -> str:
        """The adapter for an order: a tenant's override first (inline, then its type, then its default),
        then this file's routes (inline, type, default)."""
        for table in (overrides or {}, msgspec.structs.asdict(self)):
            if inline and table.get("inline"):
                return str(table["inline"])
            if table.get(package_type):
                return str(table[package_type])
            if table.get("default"):
                return str(table["default"])
        return self.default


class PluginsFile(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    routes: Routes = Routes()
    adapters: dict[str, dict[str, Any]] = {}


def parse_plugins_file(raw: bytes, *, source: str) -> PluginsFile:
    try:
        return msgspec.toml.decode(raw, type=PluginsFile)
    except msgspec.ValidationError as exc:
        error = FieldError.of(exc)
        raise ConfigError(f"{source} {error.path}", error.message) from None
    except msgspec.DecodeError as exc:
        raise ConfigError(source, f"not valid TOML: {exc}") from None
