"""Removing finished sessions, worktrees and branches without losing work."""
