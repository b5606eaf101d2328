"""prodigy: reproducible Claude Code pipelines in isolated git worktrees."""

__version__ = "0.1.0"
