"""LC-10 in Chromium: the parent switches to the child's space, invites the
second parent, who accepts from their own account."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_login_journeys import (
    BrowserProblems,
    _screenshot,
    problems,  # noqa: F401 - fixture
)
from tests.personas import verified_client

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in_as(page: Page, user: Any) -> None:
    """Reuse the test client's verified session cookie in the browser."""
    client = verified_client(user)
    page.context.clear_cookies()
    page.context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": client.cookies["sessionid"].value,
                "url": page.url or "http://localhost",
            }
        ]
    )


def test_parent_switches_to_the_child_and_invites_the_second_parent(
    page: Page,
    problems: BrowserProblems,
    alice: Any,
    eve: Any,
    leo: Any,
    live_server: Any,
) -> None:
    page.goto("/")
    _log_in_as(page, alice)
    page.goto("/mon-espace/")
    page.get_by_role("button", name="Espace de Leo").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Espace de Leo")
    _screenshot(page, "children-1-switched")
    page.get_by_role("link", name="Inviter l'autre parent").click()
    page.get_by_label("Numéro de sécurité sociale (NIR) de l'autre parent").fill(
        eve.beneficiary.nir
    )
    page.get_by_label("Sa date de naissance").fill("01/10/1995")
    page.get_by_role("button", name="Envoyer l'invitation").click()
    expect(page.get_by_role("status")).to_contain_text("trouvera votre invitation")

    _log_in_as(page, eve)
    page.goto("/mon-espace/")
    # LC-12: the invitation is also an in-app notification, with a badge.
    page.get_by_test_id("inbox-link").click()
    expect(page.get_by_test_id("inbox-item")).to_contain_text(
        "Vous êtes invité(e) à gérer le profil d'un enfant"
    )
    _screenshot(page, "children-2-inbox")
    expect(page.get_by_test_id("inbox-link")).to_have_text("Notifications")
    page.get_by_role("link", name="Voir").click()
    expect(
        page.get_by_text("Vous êtes invité à gérer l'espace de Leo.")
    ).to_be_visible()
    _screenshot(page, "children-3-invitation")
    page.get_by_role("button", name="Accepter").click()
    page.get_by_role("button", name="Espace de Leo").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Espace de Leo")
    problems.assert_clean()
