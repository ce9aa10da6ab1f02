"""The exceptions oddskit raises.

Every error subclasses :class:`OddskitError` *and* the matching builtin, so callers
can catch either. Messages say what was wrong, where, and what to do about it.
"""

from __future__ import annotations


class OddskitError(Exception):
    """Base class of every error oddskit raises on purpose."""


class ConfigurationError(OddskitError, ValueError):
    """A setting, URL or argument is invalid (for example a naive datetime)."""


class DatabaseError(OddskitError, RuntimeError):
    """The database refused an operation or could not be reached."""


class PartitionError(OddskitError, RuntimeError):
    """Partition maintenance failed or found rows in a default partition."""


class ValidationError(OddskitError, ValueError):
    """Input data broke a rule of the input format."""


class RejectsError(OddskitError, OSError):
    """Rejected rows could not be written to their rejects file (so nothing was loaded)."""


class ConfirmationRequired(ConfigurationError):
    """A change would drop data and was not confirmed (``confirm=True``, ``--yes``)."""


class OddskitWarning(UserWarning):
    """Base class of the warnings oddskit gives (filter them with ``warnings``)."""


class InsufficientDataWarning(OddskitWarning):
    """The data given cannot fully support the answer asked for (e.g. a cross-bookmaker
    comparison on matches that only one bookmaker prices): the result is partial or
    empty, not wrong, and the message says what is missing and what to do."""
