"""One session: created or reopened, its steps run with checkpoints, merged back."""
