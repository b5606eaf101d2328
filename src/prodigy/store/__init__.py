"""Durable state: one SQLite database."""
