"""Handler adapters: discovered through the ``assessgate.adapters`` entry points, configured by plugins.toml.

Our own adapters are found the same way a third party's are. An adapter whose plugin fails to import or
whose settings do not validate is reported (and not used); the others still load.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Final

import msgspec
import structlog

from core.adapters import API_VERSION, Adapter, AdapterPlugin
from core.errors import ConfigError, FieldError
from core.plugins_file import PluginsFile, parse_plugins_file

GROUP: Final = "assessgate.adapters"
log = structlog.get_logger()


@dataclass
class PluginStatus:
    name: str
    distribution: str
    version: str
    status: str  # loaded | failed | disabled
    reason: str = ""


@dataclass
class Adapters:
    """The loaded adapters (an :class:`core.ports.AdapterDirectory`). A tenant with its own settings for an
    adapter gets an instance created from plugins.toml's settings with the tenant's merged over them; one
    instance per distinct merged config is kept."""

    routes: PluginsFile
    plugins: dict[str, AdapterPlugin] = field(default_factory=dict)
    loaded: dict[str, Adapter] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    statuses: list[PluginStatus] = field(default_factory=list)
    _tenant_instances: dict[tuple[str, bytes], Adapter] = field(default_factory=dict)

    def route(self, package_type: str, *, inline: bool, overrides: Mapping[str, str]) -> str:
        return self.routes.routes.adapter_for(package_type, inline=inline, overrides=overrides)

    def adapter(self, name: str, settings: Mapping[str, Any]) -> Adapter | None:
        if not settings or name not in self.loaded:
            return self.loaded.get(name)
        key = (name, msgspec.json.encode(settings, order="sorted"))
        if key not in self._tenant_instances:
            self._tenant_instances[key] = self.plugins[name].create(self._config(name, settings))
        return self._tenant_instances[key]

    def check_settings(self, name: str, settings: Mapping[str, Any]) -> list[FieldError]:
        if name not in self.plugins:
            return [FieldError(path="$", message=f"no adapter named {name!r} is loaded")]
        try:
            self._config(name, settings)
        except msgspec.ValidationError as exc:
            return [FieldError.of(exc)]
        return []

    def _config(self, name: str, settings: Mapping[str, Any]) -> msgspec.Struct:
        merged = _merge(self.routes.adapters.get(name, {}), settings)
        return msgspec.convert(merged, self.plugins[name].config_type, strict=True)


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``; tables (such as ``branding``) merge key by key, anything else is replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_plugins_file(path: str) -> PluginsFile:
    file = Path(path)
    if not file.exists():
        return PluginsFile()
    return parse_plugins_file(file.read_bytes(), source=str(file))


def load_adapters(plugins: PluginsFile, allowed: Sequence[str] = ()) -> Adapters:
    """Load every installed adapter (or those ``ASSESSGATE_ADAPTERS`` allows), recording each one's fate."""
    adapters = Adapters(routes=plugins)
    for entry in entry_points(group=GROUP):
        distribution = entry.dist.name if entry.dist else "?"
        version = entry.dist.version if entry.dist else "?"
        if allowed and entry.name not in allowed:
            adapters.statuses.append(
                PluginStatus(entry.name, distribution, version, "disabled", "not listed in ASSESSGATE_ADAPTERS")
            )
            continue
        try:
            plugin = entry.load()
            if not isinstance(plugin, AdapterPlugin):
                raise TypeError(f"{entry.value} is not an AdapterPlugin")
            if plugin.api_version > API_VERSION:
                raise TypeError(f"needs contract version {plugin.api_version}; this assessgate offers {API_VERSION}")
            try:
                config = msgspec.convert(plugins.adapters.get(plugin.name, {}), plugin.config_type, strict=True)
            except msgspec.ValidationError as exc:
                raise ConfigError(f"plugins.toml [adapters.{plugin.name}]", str(exc)) from None
            adapters.loaded[plugin.name] = plugin.create(config)
            adapters.plugins[plugin.name] = plugin
            adapters.statuses.append(PluginStatus(entry.name, distribution, version, "loaded"))
        except Exception as exc:  # noqa: BLE001 - one broken plugin must not stop the others
            adapters.failed[entry.name] = f"{type(exc).__name__}: {exc}"
            adapters.statuses.append(
                PluginStatus(entry.name, distribution, version, "failed", adapters.failed[entry.name])
            )
            log.error("adapter_not_loaded", adapter=entry.name, reason=adapters.failed[entry.name])
    unknown = set(plugins.adapters) - set(adapters.loaded) - set(adapters.failed)
    for name in sorted(unknown):
        adapters.failed[name] = "configured in plugins.toml but no installed plugin has this name"
        adapters.statuses.append(PluginStatus(name, "-", "-", "failed", adapters.failed[name]))
    return adapters
