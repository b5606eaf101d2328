"""The web dashboard's read models and actions (docs/dashboard.md)."""
