"""The one error type for unusable files on disk (results, sub-runs, checkpoints)."""


class ResultsError(RuntimeError):
    """Stored results or checkpoints are missing, corrupt or were produced by a different configuration."""
