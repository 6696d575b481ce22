"""An article's body as HTML: the portal's Markdown sanitiser (portal/lib/markdown.py),
keeping images only when their address is one of the portal's own article images
(`/help/images/<id>`, served by `kb.views.article_image` after the article's audience
check). Pages (`article_markdown` filter) and the API (`body_html`) both use it."""

import re

from portal.lib import markdown

IMAGE_SRC = re.compile(r"/help/images/[1-9][0-9]{0,18}")


def article_html(text: str) -> str:
    """Sanitised HTML (plain `str`: the caller marks it safe where it is trusted)."""
    return markdown.render(text, image_src=IMAGE_SRC)
