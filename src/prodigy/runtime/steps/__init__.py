"""Executing workflow steps: actions, options, retries, validation, foreach, goal_seek."""
