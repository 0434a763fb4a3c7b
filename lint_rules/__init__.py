"""Rules of the code's shape that linters check (import-linter loads these contract types from here)."""
