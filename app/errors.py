"""Errors a user can meet, each with a message that says what to do.

The UI and the CLI show ``str(error)`` as it is, so messages are full
sentences that name the setting, file or service at fault and the fix.
"""


class AppError(Exception):
    """Base of every error meant for a person rather than a traceback."""


class ConfigError(AppError):
    """A setting (environment, ``.env`` or ``system_config``) has a bad value."""


class ServiceError(AppError):
    """PostgreSQL or Redis could not be started, found or reached."""


class MigrationError(AppError):
    """A migration file failed, or was changed after it was applied."""
