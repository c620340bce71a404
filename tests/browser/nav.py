"""The patient's main navigation groups its pages in DSFR menus: open one,
then follow one of its links."""

from __future__ import annotations

from typing import Any


def go_to(page: Any, menu: str, link: str) -> None:
    nav = page.get_by_role("navigation", name="Menu principal")
    nav.get_by_role("button", name=menu).click()
    nav.get_by_role("link", name=link, exact=True).click()
