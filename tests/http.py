"""Comparing answers as a user would see them (G-S1: same 404 body)."""

from __future__ import annotations

import re

_CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"')


def page_body(content: bytes) -> bytes:
    """The page without its per-response CSRF token (masked anew each time)."""
    return _CSRF.sub(b'name="csrfmiddlewaretoken" value=""', content)
