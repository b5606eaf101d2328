"""The dashboard's web layer: Starlette app, templates and assets (docs/dashboard.md)."""
