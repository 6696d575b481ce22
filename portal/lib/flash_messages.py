"""Flash messages ("TKT-000123 raised.") wait for the next page that shows them: at most
the newest ten.

Django's default storage keeps every message until a page displays it: in a cookie while
they fit in about 2 KB, the rest in the session. A client posting forms without loading a
page in between (a script, a tab that never shows the page it is sent to, the side-by-side
benchmark, which does not follow redirects) piled them up. Each later request then
encoded all of them again, several times over to find how many fit the cookie, and wrote
a session that grew at every post: measured served, a create took 7 ms at first and 16 ms
a thousand creates later, and a comment likewise (docs/benchmarks.md, "Writes that got
slower the longer a client posted"). Whoever comes back to a page after many actions is
better served by the newest few anyway; the older ones are dropped when the next message
is stored.
"""

from django.contrib.messages.storage.fallback import FallbackStorage

KEPT = 10


class NewestMessagesStorage(FallbackStorage):
    """Django's cookie-then-session storage, keeping the newest `KEPT` messages, and always
    every message of the request storing them (a comment with many files refused says so
    for each, besides "Comment added.")."""

    def _store(self, messages, response, *args, **kwargs):
        # This request's messages come last (`BaseStorage.update`). django-stubs declares
        # neither `_queued_messages` nor the storages' `_store`, which Django documents for
        # writing a storage.
        queued = len(self._queued_messages)  # type: ignore[attr-defined]
        kept = messages[-max(KEPT, queued) :]
        return super()._store(kept, response, *args, **kwargs)  # type: ignore[misc]
