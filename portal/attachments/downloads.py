"""Download responses that are safe whatever the file contains or is called.

The caller (the tickets app's access-checked view) decides *whether* someone may have a
file; this module decides *how* it is sent:
- local storage: a streamed FileResponse;
- S3/R2: a redirect to a presigned URL (at most 5 minutes) whose response-content-type
  and response-content-disposition parameters make the bucket send the same safe headers,
  after one bounded HEAD of the object: a storage that is down or hanging gets the
  portal's own message (StorageUnavailable) within seconds instead of a redirect to the
  bucket's XML error or to a page that never loads. Inline thumbnails are not checked.
Always a download (`Content-Disposition: attachment`) except raster images the caller
wants inline as thumbnails; `X-Content-Type-Options: nosniff`; and a CSP that sandboxes
the response, so even a file a browser did render could run nothing and reach nothing.
"""

import unicodedata
from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import Storage
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.http.response import HttpResponseBase

from portal.attachments import bounded
from portal.attachments.names import sanitize_filename, split_extension
from portal.attachments.sniff import INLINE_SAFE_TYPES
from portal.attachments.storage import MAX_URL_EXPIRY_SECONDS, is_s3, translated_errors

SANDBOX_CSP = "default-src 'none'; sandbox"
_FALLBACK_ASCII_STEM = "download"


def content_disposition(name: str, *, inline: bool = False) -> str:
    """`attachment; filename="ascii"; filename*=UTF-8''percent-encoded` (RFC 6266/5987).

    The name is sanitised first (no CR/LF or other controls can reach the header), the
    ASCII fallback keeps only printable ASCII other than `"` and `\\`, and the UTF-8 form
    percent-encodes everything but RFC 5987 attr-chars, so no character of the name can
    end the parameter or the header.
    """
    safe = sanitize_filename(name)
    disposition = "inline" if inline else "attachment"
    fallback = _ascii_fallback(safe)
    header = f'{disposition}; filename="{fallback}"'
    if fallback != safe:
        header += f"; filename*=UTF-8''{quote(safe, safe='')}"
    return header


def _ascii_fallback(name: str) -> str:
    """Accents dropped (é → e), anything else outside printable ASCII becomes `_`."""
    decomposed = unicodedata.normalize("NFKD", name)
    chars = []
    for char in decomposed:
        if unicodedata.combining(char):
            continue
        chars.append(char if " " <= char <= "~" and char not in '"\\%' else "_")
    fallback = "".join(chars).strip()
    stem, extension = split_extension(fallback)
    if not stem.strip("_ ."):
        # Nothing readable left (a name in Chinese, say): "download.pdf" beats "____.pdf".
        fallback = _FALLBACK_ASCII_STEM + extension
    return fallback


def _secure[R: HttpResponseBase](response: R) -> R:
    response["X-Content-Type-Options"] = "nosniff"
    # Set here so the site-wide CSP middleware (which never overwrites) leaves it alone.
    response["Content-Security-Policy"] = SANDBOX_CSP
    # Access-checked content: no shared cache may keep it, and a presigned URL expires.
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


def url_expiry_seconds() -> int:
    """ATTACHMENT_DOWNLOAD_URL_SECONDS (default and maximum: 300), read at call time."""
    configured = int(getattr(settings, "ATTACHMENT_DOWNLOAD_URL_SECONDS", MAX_URL_EXPIRY_SECONDS))
    return max(1, min(configured, MAX_URL_EXPIRY_SECONDS))


def download_response(
    storage: Storage,
    key: str,
    *,
    original_name: str,
    content_type: str,
    inline_ok: bool = False,
) -> HttpResponseBase:
    """The response that hands the stored file `key` to a browser that may have it.

    `content_type` is the type recorded at upload (from the sniffed bytes); inline is
    honoured only for PNG/JPEG/GIF/WebP. Raises Http404 when the file is not stored (any
    backend), and StorageUnavailable when S3 does not answer the check within
    DOWNLOAD_CHECK_SECONDS or cannot sign.
    """
    media_type = content_type.split(";", 1)[0].strip().lower()
    inline = inline_ok and media_type in INLINE_SAFE_TYPES
    disposition = content_disposition(original_name, inline=inline)
    if is_s3(storage):
        # Thumbnails (inline images) skip the check: a browser shows its own placeholder
        # for an image that does not load, and a page of thumbnails must not hold a web
        # worker for DOWNLOAD_CHECK_SECONDS per image while the storage hangs.
        if not inline and not bounded.exists(
            storage, key, bounded.Deadline(bounded.DOWNLOAD_CHECK_SECONDS)
        ):
            raise Http404("The file is no longer stored.")
        with translated_errors("sign a download link"):
            url = storage.url(
                key,
                parameters={
                    "ResponseContentDisposition": disposition,
                    "ResponseContentType": content_type,
                },
                expire=url_expiry_seconds(),
            )
        return _secure(HttpResponseRedirect(url))
    try:
        with translated_errors("open a file"):
            handle = storage.open(key, "rb")
    except FileNotFoundError:
        raise Http404("The file is no longer stored.") from None
    response = FileResponse(handle, content_type=content_type)
    response["Content-Disposition"] = disposition
    return _secure(response)
