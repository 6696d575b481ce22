"""Small request helpers."""

from django.http import HttpRequest, QueryDict


def posted_data(request: HttpRequest) -> QueryDict | None:
    """The submitted data for a POST (even an empty one), None for a GET: bind forms with it.

    `request.POST or None` treats an empty POST as "not submitted" and skips validation.
    """
    return request.POST if request.method == "POST" else None
