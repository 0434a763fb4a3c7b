"""Sandbox fixtures (defined in agtest.sandbox_support so tests can import its helpers too)."""

from agtest.sandbox_support import receiver, sandbox

__all__ = ["receiver", "sandbox"]
