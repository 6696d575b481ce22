"""HTML mail bodies as the Markdown the ticket pages use.

nh3 first drops what must never be read (scripts, styles, event handlers, anything not on
its allow-list, with the content of <script> and <style>); what is left is walked with the
standard library's HTMLParser and written as plain Markdown: paragraphs, line breaks,
lists, emphasis, links and quotes. The page renders that Markdown through its own
sanitiser again, so this is about reading well, not about safety alone.
"""

import re
from html.parser import HTMLParser

import nh3

_KEPT_TAGS = {
    "a", "b", "strong", "i", "em", "u", "p", "div", "br", "ul", "ol", "li", "blockquote",
    "h1", "h2", "h3", "h4", "h5", "h6", "pre", "code", "table", "tr", "td", "th", "span", "hr",
}  # fmt: skip
_BLOCKS = {"p", "div", "table", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "ul", "ol", "hr"}
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]#])")


def html_to_markdown(html: str) -> str:
    cleaned = nh3.clean(
        html,
        tags=_KEPT_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto"},
        link_rel=None,
    )
    writer = _MarkdownWriter()
    writer.feed(cleaned)
    writer.close()
    return writer.text()


class _MarkdownWriter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.quote_depth = 0
        self.lists: list[list] = []  # [kind, counter]
        self.href: str | None = None
        self.link_text: list[str] = []
        self.in_pre = False

    # Lines ---------------------------------------------------------------------------
    def _prefix(self) -> str:
        return "> " * self.quote_depth

    def _newline(self) -> None:
        """Start a new line unless the current one is still empty."""
        if self.lines[-1].strip("> "):
            self.lines.append(self._prefix())
        else:
            self.lines[-1] = self._prefix()

    def _write(self, text: str) -> None:
        if self.href is not None:
            self.link_text.append(text)
            return
        if not self.lines[-1]:
            self.lines[-1] = self._prefix()
        self.lines[-1] += text

    # Parser callbacks -----------------------------------------------------------------
    def handle_starttag(self, tag, attrs):
        if tag in _BLOCKS:
            self._newline()
        if tag == "br":
            self.lines.append(self._prefix())
        elif tag in {"b", "strong"}:
            self._write("**")
        elif tag in {"i", "em"}:
            self._write("_")
        elif tag == "blockquote":
            self._newline()
            self.quote_depth += 1
            self.lines.append(self._prefix())
        elif tag in {"ul", "ol"}:
            self.lists.append([tag, 0])
        elif tag == "li":
            self._newline()
            indent = "  " * max(len(self.lists) - 1, 0)
            if self.lists and self.lists[-1][0] == "ol":
                self.lists[-1][1] += 1
                self._write(f"{indent}{self.lists[-1][1]}. ")
            else:
                self._write(f"{indent}- ")
        elif tag == "a":
            self.href = dict(attrs).get("href") or ""
            self.link_text = []
        elif tag == "pre":
            self.in_pre = True
        elif tag == "hr":
            self._write("---")
            self._newline()
        elif tag in {"td", "th"}:
            self._write(" ")

    def handle_endtag(self, tag):
        if tag in {"b", "strong"}:
            self._write("**")
        elif tag in {"i", "em"}:
            self._write("_")
        elif tag == "a" and self.href is not None:
            label, href = "".join(self.link_text).strip(), self.href
            self.href = None
            if href and label and label != href:
                self._write(f"[{label}]({href})")
            else:
                self._write(label or href)
        elif tag == "blockquote":
            # A blank line after it, or Markdown would read the next line as quoted too.
            self.quote_depth = max(self.quote_depth - 1, 0)
            self.lines.extend(["", self._prefix()])
        elif tag in {"ul", "ol"} and self.lists:
            self.lists.pop()
            self._newline()
        elif tag == "pre":
            self.in_pre = False
        if tag in _BLOCKS or tag == "li":
            self._newline()
            if tag in {"p", "h1", "h2", "h3", "h4", "h5", "h6"}:
                self.lines.append(self._prefix())

    def handle_data(self, data):
        if not self.in_pre:
            data = re.sub(r"\s+", " ", data)
            if not self.lines[-1].strip("> "):
                data = data.lstrip()
            data = _MARKDOWN_SPECIALS.sub(r"\\\1", data)
        if data:
            self._write(data)

    def text(self) -> str:
        lines = [line.rstrip() for line in self.lines]
        text = "\n".join(lines)
        text = re.sub(r"\n(?:>\s*)?(?:\n(?:>\s*)?){2,}", "\n\n", text)  # at most one blank line
        return text.strip()
