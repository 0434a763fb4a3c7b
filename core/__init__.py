"""assessgate's pure domain: Kombo wire types, state machines, ports and the error tree.

Nothing here performs I/O or imports a framework; import-linter enforces it (see pyproject.toml).
"""
