"""Read-only views of what prodigy recorded: sessions, worktrees, events, logs, environment."""
