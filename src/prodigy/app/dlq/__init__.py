"""The dead letter queue: inspecting failed items and retrying them."""
