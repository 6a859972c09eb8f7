"""The error types a user can act on: unusable files on disk (results, sub-runs, checkpoints) and failed shards."""


class ResultsError(RuntimeError):
    """Stored results or checkpoints are missing, corrupt or were produced by a different configuration."""


class DamagedResultError(ResultsError):
    """A stored result exists but is damaged (a checksum fails, a file is unreadable, missing beside its partner,
    or not what it claims to be). Unlike a missing result it is never read as "not run" and never trained over
    in silence: the message names the file and how to restore it."""


class ShardError(RuntimeError):
    """A shard (one sub-run trained in a job of its own) failed; the message names it and its log."""
