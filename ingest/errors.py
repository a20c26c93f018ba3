"""The base of the one error family users see (re-exported by ``app.errors``)."""


class OpsqaError(Exception):
    """A problem the user can act on; str(exc) is the whole message."""


class IndexStoreError(OpsqaError):
    """The index is missing, damaged, locked, or built with another embedding model."""


class SkipFile(Exception):
    """A file that cannot be ingested; str(exc) is the one-line reason shown to users."""


def first_line(exc: BaseException) -> str:
    """The first line of ``exc``'s message (its type when it has none), for a skip reason."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:120]
