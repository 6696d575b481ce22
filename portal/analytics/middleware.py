"""Page-view counting per section per day (no personal data); see tracking.py."""

import logging

from portal.analytics import tracking

log = logging.getLogger("portal.analytics")


class PageViewMiddleware:
    """Counts each successful full-page GET in the cache; the counts reach the database
    in one statement at most once a minute (see tracking.py).

    Counting is a side show: whatever goes wrong in it (the database is down, the table is
    missing) is logged and the page is still served.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        try:
            if tracking.should_count(request, response):
                tracking.record_page_view(tracking.section_for(request.path))
        except Exception:  # a counter must never turn a page into an error
            log.exception("page view counter failed")
        return response
