"""An import-linter contract that lists what a package MAY import (an allow-list), where ``forbidden`` lists
what it may not: a dependency nobody thought to forbid (jinja2, aiosmtplib, ...) breaks it too.

``pyproject.toml`` uses it for ``core``: the standard library, msgspec and core itself, nothing else.
"""

from __future__ import annotations

import sys

from grimp import ImportGraph
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck

STDLIB = "stdlib"  # the allowed-list's name for every module of Python's standard library


class AllowedImportsContract(Contract):
    """Options: ``source_modules`` (packages checked) and ``allowed_modules`` (top-level names they may import,
    ``stdlib`` standing for the standard library). Only direct imports count: what an allowed library imports
    in turn is its own business."""

    type_name = "allowed"

    source_modules = fields.ListField(subfield=fields.StringField())
    allowed_modules = fields.ListField(subfield=fields.StringField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        del verbose
        allowed = {str(name) for name in self.allowed_modules}  # type: ignore[attr-defined]
        sources = [str(name) for name in self.source_modules]  # type: ignore[attr-defined]
        own = {source.split(".")[0] for source in sources}
        broken: list[dict[str, object]] = []
        for source in sources:
            for importer in sorted({source, *graph.find_descendants(source)}):
                for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                    top = imported.split(".")[0]
                    if top in own or top in allowed or (STDLIB in allowed and top in sys.stdlib_module_names):
                        continue
                    details = graph.get_import_details(importer=importer, imported=imported)
                    lines = [int(d["line_number"]) for d in details]
                    broken.append({"importer": importer, "imported": imported, "lines": lines})
        return ContractCheck(kept=not broken, metadata={"broken": broken})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for item in check.metadata["broken"]:
            lines = ", ".join(f"l.{n}" for n in item["lines"]) or "?"
            output.print_error(f"{item['importer']} imports {item['imported']} ({lines}), which is not allowed")
