"""The one exception type users see for bad input."""

MAX_MESSAGE = 800  # characters: a message may quote names from the file, never all of them


class InputError(ValueError):
    """Input the package cannot use: the message says what is wrong and what to do.

    A ``ValueError`` so that generic callers can catch it; the app and the CLI show
    ``str(err)`` to the user as is, so messages are full sentences without tracebacks.
    Messages are capped at ``MAX_MESSAGE`` characters: a long middle (names or cells
    quoted from a hostile file) is cut, the start (what is wrong) and the end (what
    to do) are kept.
    """

    def __init__(self, message: object = "") -> None:
        text = str(message)
        if len(text) > MAX_MESSAGE:
            head, tail = MAX_MESSAGE * 2 // 3, MAX_MESSAGE // 3 - 3
            text = f"{text[:head]} … {text[-tail:]}"
        super().__init__(text)
