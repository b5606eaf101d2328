"""The template registry and template checks."""
