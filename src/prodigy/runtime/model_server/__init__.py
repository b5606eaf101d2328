"""The scripted model server: the Anthropic Messages API on loopback, answering with directives.

The real Claude Code CLI, pointed at it with `ANTHROPIC_BASE_URL`, performs a prompt's
`@write`/`@run`/`@commit` directives as its own Write and Bash tool calls, offline and free.
See docs/testing.md.
"""

from __future__ import annotations

from prodigy.runtime.model_server.limits import QuotaWarning, QuotaWindow
from prodigy.runtime.model_server.server import OFFLINE_ENV, ModelServer, Served, ServerOptions

__all__ = ["OFFLINE_ENV", "ModelServer", "QuotaWarning", "QuotaWindow", "Served", "ServerOptions"]
