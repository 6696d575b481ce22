"""Values computed once per object and kept on it (a user's roles, their reach)."""

from collections.abc import Callable


def memoised_on[T](obj: object, name: str, compute: Callable[[], T]) -> T:
    """`compute()` the first time, kept on `obj` as the attribute `name` afterwards.

    For what one request asks many times about its user: the cache lives exactly as long
    as the object (the request's user), so nothing outlives a request in process memory.
    """
    cached: T | None = getattr(obj, name, None)
    if cached is None:
        cached = compute()
        setattr(obj, name, cached)
    return cached
