"""A realistic Claude Code `stream-json --verbose` session, record by record."""

from __future__ import annotations

from typing import Any

SESSION = "4f1c2a9e-0b7d-4c55-9a51-2f6f2c0e8d11"
MODEL = "claude-sonnet-4-5-20250929"

INIT: dict[str, Any] = {
    "type": "system",
    "subtype": "init",
    "cwd": "/work/repo",
    "session_id": SESSION,
    "tools": ["Task", "Bash", "Glob", "Grep", "Read", "Edit", "Write"],
    "mcp_servers": [],
    "model": MODEL,
    "permissionMode": "bypassPermissions",
    "slash_commands": ["prodigy-lint"],
    "apiKeySource": "none",
    "uuid": "0d7a3c",
}
ASSISTANT_TOOLS: dict[str, Any] = {
    "type": "assistant",
    "message": {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": [
            {"type": "text", "text": "I'll check the repository state first.\nThen fix it."},
            {
                "type": "tool_use",
                "id": "toolu_01",
                "name": "Bash",
                "input": {"command": "git status --short", "description": "Show status"},
            },
            {
                "type": "tool_use",
                "id": "toolu_02",
                "name": "Edit",
                "input": {"file_path": "src/app.py", "old_string": "a", "new_string": "b"},
            },
        ],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 4, "output_tokens": 60},
    },
    "parent_tool_use_id": None,
    "session_id": SESSION,
}
USER_RESULT: dict[str, Any] = {
    "type": "user",
    "message": {
        "role": "user",
        "content": [{"tool_use_id": "toolu_01", "type": "tool_result", "content": " M src/app.py"}],
    },
    "parent_tool_use_id": None,
    "session_id": SESSION,
}
ASSISTANT_DONE: dict[str, Any] = {
    "type": "assistant",
    "message": {
        "id": "msg_02",
        "role": "assistant",
        "model": MODEL,
        "content": [{"type": "text", "text": "Fixed the typo in src/app.py."}],
    },
    "parent_tool_use_id": None,
    "session_id": SESSION,
}
RESULT: dict[str, Any] = {
    "type": "result",
    "subtype": "success",
    "is_error": False,
    "duration_ms": 12034,
    "duration_api_ms": 11020,
    "num_turns": 4,
    "result": "Fixed the typo in src/app.py.",
    "session_id": SESSION,
    "total_cost_usd": 0.0421,
    "usage": {
        "input_tokens": 12,
        "cache_creation_input_tokens": 5120,
        "cache_read_input_tokens": 20480,
        "output_tokens": 345,
        "server_tool_use": {"web_search_requests": 0},
        "service_tier": "standard",
    },
    "modelUsage": {
        "claude-3-5-haiku-20241022": {"inputTokens": 300, "costUSD": 0.0003},
        MODEL: {"inputTokens": 12, "outputTokens": 345, "costUSD": 0.0418},
    },
    "permission_denials": [],
    "uuid": "9e8f",
}

SESSION_RECORDS = [INIT, ASSISTANT_TOOLS, USER_RESULT, ASSISTANT_DONE, RESULT]
