"""Implementations that talk to the outside: the Kombo HTTP client, mail, handler adapters (depend on core only)."""
