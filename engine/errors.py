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


class InputError(AppError):
    """A value someone typed or sent is not usable; ``field`` names it, ``reason`` says what is wrong.

    ``str()`` is ``"field: reason"``: the CLI prints it, the window shows it
    beside the field, the API answers it as a 422.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class ServicesStopped(AppError):
    """A view asked for data while the app's services are stopped (starting or shutting down)."""

    def __init__(self) -> None:
        super().__init__("The services are stopped (the app is starting or shutting down).")


def require(resource: object | None) -> object:
    """``resource`` (a pool, a client) while the services run; ``ServicesStopped`` once they do not.

    Services are built on the app's pool when a view asks for them, and a
    view's timer may tick once more after shutdown: the refusal then comes
    from inside the coroutine, where the view's error handler hears it,
    not from the tick itself (a Qt event-loop traceback).
    """
    if resource is None:
        raise ServicesStopped()
    return resource


class BadResult(AppError):
    """A result read back from a shared store (PostgreSQL, Redis) is not one we would have written: input, refused."""
