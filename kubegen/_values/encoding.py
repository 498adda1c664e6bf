"""Base64 as Kubernetes reads it, identical on every Python version.

The API server and controllers such as sealed-secrets decode ``[]byte`` fields with Go's
``base64.StdEncoding``: standard alphabet, length a multiple of 4, ``=`` only as the final padding.
Python's decoder is looser and changes between releases (3.11 and 3.12 accept ``"YWJj=="`` with
excess padding, 3.13 refuses it), so a value could pass on one Python and fail on another, or pass
here and fail in the cluster. :func:`decode_base64` checks the shape first, with a pattern that
means the same everywhere, and only then decodes.
"""

from __future__ import annotations

import base64
import re

__all__ = ["decode_base64"]

# Whole quanta of 4 characters; the last may end in "xx==" or "xxx=". ASCII only, no whitespace.
_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?", re.ASCII)


def decode_base64(text: str) -> bytes | None:
    """The bytes ``text`` encodes in standard, padded base64, or ``None`` if it is not that.

    Newlines, URL-safe characters, missing or excess padding are refused, as Go's
    ``base64.StdEncoding`` refuses them (it would skip newlines; kubeseal never writes any).
    """
    if _BASE64.fullmatch(text) is None:
        return None
    return base64.b64decode(text)
