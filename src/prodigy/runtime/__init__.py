"""Effects: processes, git, worktrees, agents, step execution."""
