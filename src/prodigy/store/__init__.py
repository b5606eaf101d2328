"""Durable state: one SQLite database (see docs/state-store.md)."""

from prodigy.store.store import Store, open_store

__all__ = ["Store", "open_store"]
