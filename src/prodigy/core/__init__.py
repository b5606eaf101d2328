"""Pure layer: workflow model, loader, interpolation, expressions; no I/O but reading workflows."""
