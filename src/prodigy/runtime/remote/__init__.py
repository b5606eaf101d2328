"""Running one map attempt on another machine: plain data in, an outcome and a git bundle out.

Nothing here imports Ray: `node.run_remote_attempt` is what a worker runs, `coordinator`
prepares the base bundles and lands what comes back, and `ray_adapter` is the thin layer that
ships them through a Ray cluster (another engine could wrap the same two halves).
"""
