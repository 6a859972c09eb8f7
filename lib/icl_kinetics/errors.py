"""The error types a user can act on: unusable files on disk (results, sub-runs, checkpoints) and failed shards."""


class ResultsError(RuntimeError):
    """Stored results or checkpoints are missing, corrupt or were produced by a different configuration."""


class ShardError(RuntimeError):
    """A shard (one sub-run trained in a job of its own) failed; the message names it and its log."""
