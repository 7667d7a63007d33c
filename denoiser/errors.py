"""The one exception type users see for bad input."""


class InputError(ValueError):
    """Input the package cannot use: the message says what is wrong and what to do.

    A ``ValueError`` so that generic callers can catch it; the app and the CLI show
    ``str(err)`` to the user as is, so messages are full sentences without tracebacks.
    """
