"""Information by e-mail or letter, print batches, new codes (LC-2, LC-3, LC-12)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import smtplib
import subprocess
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from espace import codes, notifications
from espace.models import (
    Beneficiary,
    Notification,
    PrintBatch,
    ProvisionalCode,
    Space,
    User,
)
from lib import pdf, sms

Status = Notification.Status
Channel = Notification.Channel
State = Space.State
SERIAL = "8025 0000 0123 4567"
CODE_RE = re.compile(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}\b")

# LC-12: words that would betray health content. "maladie" is checked apart
# from the organisation's name, "Assurance Maladie".
HEALTH_WORDS = [
    "diagnostic",
    "pathologie",
    "traitement",
    "ordonnance",
    "prescription",
    "résultat",
    "analyse",
    "compte rendu",
    "compte-rendu",
    "hospitalisation",
    "médicament",
    "vaccin",
    "allergie",
    "grossesse",
    "cancer",
    "vih",
    "dépistage",
    "chronique",
    "symptôme",
    "antécédent",
    "médecin traitant",
    "maladie",
]


class BrokenEmailBackend(BaseEmailBackend):
    """An SMTP server that refuses everything."""

    def send_messages(self, email_messages: Sequence[Any]) -> int:
        raise smtplib.SMTPServerDisconnected("connection lost")


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def _beneficiary(n: int, **fields: Any) -> Beneficiary:
    """A beneficiary with a postal address and no e-mail unless given."""
    values: dict[str, Any] = {
        "nir": f"1800175{n:06d}{n % 97:02d}",
        "birth_name": f"TESTEUR{n}",
        "first_names": "JEAN",
        "sex": "M",
        "birth_date": dt.date(1980, 1, 1),
        "birth_place_code": "75056",
        "vitale_serial": f"SERIAL{n}",
        "address": f"{n} rue de la Paix",
        "postal_code": "75002",
        "city": "Paris",
    }
    values.update(fields)
    return Beneficiary.objects.create(**values)


def _space(beneficiary: Beneficiary) -> Space:
    return Space.objects.create(beneficiary=beneficiary)


@pytest.fixture
def alice_space(alice: User) -> Space:
    """alice: an e-mail address and a postal address."""
    Beneficiary.objects.filter(pk=alice.beneficiary.pk).update(
        vitale_serial=SERIAL,
        address="12 rue des Tanneurs",
        postal_code="51100",
        city="Reims",
        phone="+33612345678",
    )
    return _space(Beneficiary.objects.get(pk=alice.beneficiary.pk))


@pytest.fixture
def letter_space(db: Any) -> Space:
    """A beneficiary known only by post."""
    return _space(_beneficiary(1, sex="F", first_names="JEANNE"))


def _outbox(kind: str) -> list[Path]:
    from django.conf import settings

    folder = Path(settings.OUTBOX_DIR) / kind
    return sorted(folder.glob("*")) if folder.exists() else []


def _pdf_text(path: Path) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) not installed")
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.replace("\u2060", "")
    return " ".join(text.split())  # lines and columns do not matter here


def _pdf_pages(path: Path) -> int:
    if not shutil.which("pdfinfo"):
        pytest.skip("pdfinfo (poppler-utils) not installed")
    info = subprocess.run(
        ["pdfinfo", str(path)], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE)
    assert match
    return int(match.group(1))


def _valid(space: Space, shown_code: str) -> bool:
    beneficiary = Beneficiary.objects.get(pk=space.beneficiary_id)
    try:
        codes.code_check(
            nir=beneficiary.nir,
            vitale_serial=beneficiary.vitale_serial,
            birth_date=None,
            code=shown_code,
            client_address="192.0.2.1",
        )
    except ValidationError:
        return False
    return True


def _information(space: Space) -> Notification:
    return Notification.objects.get(
        beneficiary_id=space.beneficiary_id, kind=notifications.INFORMATION
    )


def _health_words(text: str) -> list[str]:
    text = re.sub(r"assurance\s+maladie", "", text.lower())
    return [word for word in HEALTH_WORDS if word in text]


@pytest.mark.django_db
class InformationEnqueueTestCase:
    def test_lc2_enqueue_respects_the_daily_cap_oldest_first(self) -> None:
        spaces = [_space(_beneficiary(n)) for n in range(1, 6)]
        assert notifications.information_enqueue(limit=3) == 3
        queued = set(Notification.objects.values_list("key", flat=True))
        assert queued == {f"lc2.information:{s.pk}" for s in spaces[:3]}
        assert notifications.information_enqueue(limit=3) == 2
        assert notifications.information_enqueue(limit=3) == 0
        assert Notification.objects.count() == 5

    def test_lc2_enqueue_twice_adds_nothing(self, alice_space: Space) -> None:
        _space(_beneficiary(1))
        assert notifications.information_enqueue(limit=100) == 2
        assert notifications.information_enqueue(limit=100) == 0
        assert Notification.objects.count() == 2

    def test_lc2_email_when_there_is_one_else_letter(
        self, alice_space: Space, letter_space: Space
    ) -> None:
        notifications.information_enqueue(limit=10)
        assert _information(alice_space).channel == Channel.EMAIL
        assert _information(letter_space).channel == Channel.LETTER

    def test_lc2_only_spaces_still_to_inform_are_queued(
        self, alice_space: Space
    ) -> None:
        Space.objects.filter(pk=alice_space.pk).update(
            state=State.INFORMED,
            informed_at=timezone.now(),
            opposition_until=timezone.now() + timedelta(weeks=6),
        )
        assert notifications.information_enqueue(limit=10) == 0

    def test_lc2_enqueue_is_set_based(self, django_assert_max_num_queries: Any) -> None:
        for n in range(1, 31):
            _space(_beneficiary(n))
        with django_assert_max_num_queries(3):
            assert notifications.information_enqueue(limit=100) == 30


@pytest.mark.django_db
class InformationSendTestCase:
    def test_lc2_email_goes_out_and_starts_the_six_weeks(
        self, alice_space: Space
    ) -> None:
        notifications.information_enqueue(limit=10)
        sent = timezone.now().replace(microsecond=0)
        with time_machine.travel(sent, tick=False):
            assert notifications.notification_send(
                notification_id=_information(alice_space).pk
            )
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == ["alice@example.test"]
        code = CODE_RE.search(message.body)
        assert code is not None
        assert _valid(alice_space, code.group())
        space = Space.objects.get(pk=alice_space.pk)
        assert space.state == State.INFORMED
        assert space.informed_at == sent
        assert space.opposition_until == sent + timedelta(weeks=6)
        row = ProvisionalCode.objects.get(space=space)
        assert row.expires_at == sent + timedelta(weeks=6)
        assert row.channel == "email"
        notification = _information(alice_space)
        assert notification.status == Status.SENT
        assert notification.sent_at == sent
        assert f"{space.opposition_until - timedelta(days=1):%Y}" in message.body

    def test_lc2_letter_is_a_pdf_with_the_code(self, letter_space: Space) -> None:
        notifications.information_enqueue(limit=10)
        with mock.patch.object(
            notifications, "render_pdf", wraps=notifications.render_pdf
        ) as render:
            assert notifications.notification_send(
                notification_id=_information(letter_space).pk
            )
        html = render.call_args.args[0]
        code = CODE_RE.search(html)
        assert code is not None and _valid(letter_space, code.group())
        (letter,) = _outbox("letters")
        assert letter.read_bytes().startswith(b"%PDF")
        text = _pdf_text(letter)
        assert code.group() in text
        for expected in (
            "Madame Jeanne TESTEUR1",
            "1 rue de la Paix",
            "75002 PARIS",
            "3422",
            "/activer/",
            "/opposition/",  # where to object online
            "Générer un nouveau code provisoire",
        ):
            assert expected in text
        assert _pdf_pages(letter) == 1
        assert Space.objects.get(pk=letter_space.pk).state == State.INFORMED

    def test_lc2_failed_email_falls_back_to_a_letter(
        self, alice_space: Space, settings: Any
    ) -> None:
        settings.EMAIL_BACKEND = f"{__name__}.BrokenEmailBackend"
        notifications.information_enqueue(limit=10)
        email = _information(alice_space)
        assert notifications.notification_send(notification_id=email.pk)
        email.refresh_from_db()
        assert email.status == Status.FAILED
        letter = Notification.objects.get(
            key=f"lc2.information:{alice_space.pk}:letter"
        )
        assert (letter.channel, letter.status) == (Channel.LETTER, Status.SENT)
        assert len(_outbox("letters")) == 1
        # The e-mail's code never arrived and is revoked; the letter's works.
        rows = ProvisionalCode.objects.filter(space=alice_space).order_by("pk")
        assert [r.channel for r in rows] == ["email", "letter"]
        assert rows[0].revoked_at is not None and rows[1].revoked_at is None
        assert Space.objects.get(pk=alice_space.pk).state == State.INFORMED
        # A second run of the job queues nothing more for this space.
        assert notifications.information_enqueue(limit=10) == 0

    def test_lc2_letter_without_postal_address_is_not_sent(self, db: Any) -> None:
        space = _space(_beneficiary(1, address="", postal_code="", city=""))
        notifications.information_enqueue(limit=10)
        assert not notifications.notification_send(
            notification_id=_information(space).pk
        )
        assert _information(space).status == Status.FAILED
        assert not ProvisionalCode.objects.exists()
        # The 6 weeks have not started: nothing was sent.
        assert Space.objects.get(pk=space.pk).state == State.PENDING

    def test_r15_a_claimed_notification_is_not_sent_twice(
        self, alice_space: Space
    ) -> None:
        notifications.information_enqueue(limit=10)
        notification = _information(alice_space)
        Notification.objects.filter(pk=notification.pk).update(
            status=Status.SENDING, claimed_at=timezone.now()
        )  # another worker has it
        assert not notifications.notification_send(notification_id=notification.pk)
        assert mail.outbox == []
        assert not ProvisionalCode.objects.exists()

    def test_r15_a_sent_notification_is_not_sent_again(
        self, alice_space: Space
    ) -> None:
        notifications.information_enqueue(limit=10)
        notification = _information(alice_space)
        assert notifications.notification_send(notification_id=notification.pk)
        assert not notifications.notification_send(notification_id=notification.pk)
        assert len(mail.outbox) == 1
        assert ProvisionalCode.objects.count() == 1

    def test_sweep_requeues_a_stuck_notification_and_one_code_stays_valid(
        self, alice_space: Space
    ) -> None:
        notifications.information_enqueue(limit=10)
        notification = _information(alice_space)
        # A worker claimed it, issued and mailed a code, then died.
        Notification.objects.filter(pk=notification.pk).update(
            status=Status.SENDING,
            claimed_at=timezone.now() - timedelta(hours=2),
            attempts=1,
        )
        lost_code = codes.code_issue(space=alice_space, channel="email")
        assert notifications.notifications_sweep(older_than=timedelta(hours=1)) == 1
        notification.refresh_from_db()
        assert (notification.status, notification.claimed_at) == (Status.PENDING, None)
        assert notifications.notification_send(notification_id=notification.pk)
        new_code = CODE_RE.search(mail.outbox[-1].body)
        assert new_code is not None
        assert _valid(alice_space, new_code.group())
        assert not _valid(alice_space, lost_code)

    def test_sweep_leaves_recent_claims_and_gives_up_after_max_attempts(
        self, alice_space: Space, letter_space: Space
    ) -> None:
        notifications.information_enqueue(limit=10)
        recent, tired = _information(alice_space), _information(letter_space)
        Notification.objects.filter(pk=recent.pk).update(
            status=Status.SENDING, claimed_at=timezone.now()
        )
        Notification.objects.filter(pk=tired.pk).update(
            status=Status.SENDING,
            claimed_at=timezone.now() - timedelta(hours=2),
            attempts=notifications.MAX_ATTEMPTS,
        )
        assert notifications.notifications_sweep(older_than=timedelta(hours=1)) == 0
        recent.refresh_from_db()
        tired.refresh_from_db()
        assert recent.status == Status.SENDING
        assert tired.status == Status.FAILED


@pytest.mark.django_db
class PrintBatchTestCase:
    def test_lc2_print_batch_is_one_pdf_with_one_page_per_letter(
        self, alice_space: Space, django_capture_on_commit_callbacks: Any
    ) -> None:
        spaces = [_space(_beneficiary(n)) for n in range(1, 4)]
        notifications.information_enqueue(limit=10)  # alice: e-mail, not printed
        with (
            mock.patch.object(
                notifications, "render_many", wraps=notifications.render_many
            ) as render,
            django_capture_on_commit_callbacks(execute=True),
        ):
            batch = notifications.letters_print_batch(limit=10)
        assert batch is not None and batch.status == PrintBatch.Status.READY
        assert batch.letters == 3
        (printed,) = _outbox("letters")
        assert printed.name == f"lot-{batch.pk:09d}.pdf"
        with default_storage.open(batch.file) as stored:
            assert stored.read() == printed.read_bytes()
        assert printed.read_bytes().startswith(b"%PDF")
        htmls = render.call_args.args[0]
        shown = [CODE_RE.search(html) for html in htmls]
        assert len(shown) == 3
        for space, code in zip(spaces, shown, strict=True):
            assert code is not None and _valid(space, code.group())
            assert Space.objects.get(pk=space.pk).state == State.INFORMED
            assert _information(space).status == Status.SENT
        assert _information(alice_space).status == Status.PENDING
        assert _pdf_pages(printed) == 3
        text = _pdf_text(printed)
        for n, code in enumerate(shown, start=1):
            assert f"Monsieur Jean TESTEUR{n}" in text
            assert code is not None and code.group() in text
        assert notifications.letters_print_batch(limit=10) is None
        # Publishing again replaces the same file: the printer sees it once.
        assert notifications.print_batch_publish(batch_id=batch.pk)
        assert [p.name for p in _outbox("letters")] == [printed.name]

    def test_sec6_a_batch_whose_worker_died_is_printed_once_by_another(
        self, db: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        """Killed after the PDF was stored but before READY: nothing reaches
        the printer; the sweep abandons the batch and its letters go into the
        next batch, with new codes (the first ones stop working)."""
        spaces = [_space(_beneficiary(n)) for n in range(1, 3)]
        notifications.information_enqueue(limit=10)

        def killed(*args: Any, **kwargs: Any) -> None:
            raise SystemExit("SIGKILL")

        with (
            mock.patch.object(notifications, "_sent", side_effect=killed),
            pytest.raises(SystemExit),
        ):
            notifications.letters_print_batch(limit=10)
        dead = PrintBatch.objects.get()
        assert dead.status == PrintBatch.Status.RENDERING
        assert _outbox("letters") == []
        # The generic sweep leaves batch letters alone; a fresh batch is not stale.
        assert notifications.notifications_sweep(older_than=timedelta(0)) == 0
        assert notifications.print_batches_sweep(older_than=timedelta(hours=1)) == 0
        assert notifications.letters_print_batch(limit=10) is None  # all claimed
        with time_machine.travel(timezone.now() + timedelta(minutes=20)):
            assert (
                notifications.print_batches_sweep(older_than=timedelta(minutes=15)) == 1
            )
            with django_capture_on_commit_callbacks(execute=True):
                batch = notifications.letters_print_batch(limit=10)
        dead.refresh_from_db()
        assert dead.status == PrintBatch.Status.ABANDONED
        assert batch is not None and batch.letters == 2
        (printed,) = _outbox("letters")
        assert printed.name == f"lot-{batch.pk:09d}.pdf"
        for space in spaces:
            information = _information(space)
            assert information.status == Status.SENT
            assert information.print_batch_id == batch.pk
            assert information.attempts == 2
            assert Space.objects.get(pk=space.pk).state == State.INFORMED
            assert (
                ProvisionalCode.objects.filter(
                    space=space, revoked_at__isnull=True, used_at__isnull=True
                ).count()
                == 1
            )

    def test_sec6_a_ready_batch_missed_by_the_printer_folder_is_copied_later(
        self, db: Any
    ) -> None:
        _space(_beneficiary(1))
        notifications.information_enqueue(limit=10)
        with mock.patch.object(notifications, "print_batch_publish"):
            batch = notifications.letters_print_batch(limit=10)
        assert batch is not None and _outbox("letters") == []
        with time_machine.travel(timezone.now() + timedelta(minutes=20)):
            notifications.print_batches_sweep(older_than=timedelta(minutes=15))
        assert len(_outbox("letters")) == 1
        batch.refresh_from_db()
        assert batch.published_at is not None

    def test_sec6_a_batch_abandoned_while_rendering_is_thrown_away(
        self, db: Any
    ) -> None:
        """A slow worker finishes after the sweep gave its batch up: it
        prints nothing, marks nothing; the letters are in the queue again."""
        space = _space(_beneficiary(1))
        notifications.information_enqueue(limit=10)
        real = notifications.render_many

        def slow(htmls: list[str]) -> bytes:
            PrintBatch.objects.update(status=PrintBatch.Status.ABANDONED)
            Notification.objects.update(
                status=Status.PENDING, print_batch=None, claimed_at=None
            )
            return real(htmls)

        with mock.patch.object(notifications, "render_many", side_effect=slow):
            assert notifications.letters_print_batch(limit=10) is None
        assert _outbox("letters") == []
        assert _information(space).status == Status.PENDING
        assert Space.objects.get(pk=space.pk).state == State.PENDING
        assert not list(default_storage.listdir("print-batches")[1])

    def test_lc2_print_batch_respects_its_limit(self, db: Any) -> None:
        for n in range(1, 4):
            _space(_beneficiary(n))
        notifications.information_enqueue(limit=10)
        batch = notifications.letters_print_batch(limit=2)
        assert batch is not None and batch.letters == 2
        assert Notification.objects.filter(status=Status.SENT).count() == 2
        assert Notification.objects.filter(status=Status.PENDING).count() == 1


@pytest.mark.django_db
class NewCodeTestCase:
    def test_lc3_new_code_by_email_replaces_the_old_one(
        self, alice_space: Space
    ) -> None:
        old = codes.code_issue(space=alice_space, channel="letter")
        assert notifications.new_code_send(space=alice_space, channel=Channel.EMAIL)
        (message,) = mail.outbox
        assert message.subject == "Votre nouveau code provisoire Mon espace santé"
        code = CODE_RE.search(message.body)
        assert code is not None
        assert _valid(alice_space, code.group())
        assert not _valid(alice_space, old)
        # A new code does not inform: the space's lifecycle is unchanged.
        assert Space.objects.get(pk=alice_space.pk).state == State.PENDING

    def test_lc3_new_code_by_sms_goes_to_the_outbox(self, alice_space: Space) -> None:
        assert notifications.new_code_send(space=alice_space, channel=Channel.SMS)
        (message,) = _outbox("sms")
        text = message.read_text()
        assert text.startswith("To: +33612345678\n\n")
        body = text.split("\n\n", 1)[1].strip()
        assert len(body) <= 160  # one SMS
        code = CODE_RE.search(body)
        assert code is not None and _valid(alice_space, code.group())

    def test_lc3_failing_sms_backend(self, alice_space: Space, settings: Any) -> None:
        settings.SMS_BACKEND = "lib.sms.FailingSmsBackend"
        assert not notifications.new_code_send(space=alice_space, channel=Channel.SMS)
        assert Notification.objects.get().status == Status.FAILED

    def test_lc3_new_code_needs_a_contact_on_that_channel(
        self, letter_space: Space
    ) -> None:
        assert not notifications.new_code_send(space=letter_space, channel="sms")
        assert not ProvisionalCode.objects.exists()
        with pytest.raises(ValueError):
            notifications.new_code_send(space=letter_space, channel="letter")

    def test_lc3_request_answer_never_reveals_whether_the_nir_exists(
        self, alice_space: Space
    ) -> None:
        def request(**overrides: Any) -> int | None:
            values: dict[str, Any] = {
                "nir": "279035121518989",
                "birth_date": dt.date(1979, 3, 14),
                "vitale_serial": SERIAL,
                "channel": "email",
                "client_address": "192.0.2.9",
            }
            values.update(overrides)
            return notifications.new_code_request(**values)

        assert request(nir="180017512345678") is None  # unknown
        assert request(birth_date=dt.date(1979, 3, 15)) is None
        assert request(vitale_serial="nope") is None
        assert not Notification.objects.exists()
        notification_id = request()
        assert notification_id is not None
        assert notifications.notification_send(notification_id=notification_id)
        assert len(mail.outbox) == 1
        assert "3422" in str(notifications.NEW_CODE_ANSWER)

    def test_lc3_new_code_requests_are_throttled(
        self, alice_space: Space, settings: Any
    ) -> None:
        settings.NEW_CODE_THROTTLE_REQUESTS = 2
        settings.NEW_CODE_MAX_PER_SPACE = 1
        values: dict[str, Any] = {
            "nir": "279035121518989",
            "birth_date": dt.date(1979, 3, 14),
            "vitale_serial": SERIAL,
            "channel": "sms",
        }
        assert notifications.new_code_request(**values, client_address="a") is not None
        # Per space: a second code within the hour is silently not sent.
        assert notifications.new_code_request(**values, client_address="b") is None
        notifications.new_code_request(**values, client_address="a")
        with pytest.raises(ValidationError) as caught:
            notifications.new_code_request(**values, client_address="a")
        assert caught.value.code == "throttled"

    def test_lc3_no_new_code_for_a_suspended_space(self, alice_space: Space) -> None:
        Space.objects.filter(pk=alice_space.pk).update(
            state=State.SUSPENDED, suspension_ends_at=timezone.now()
        )
        assert not notifications.new_code_send(space=alice_space, channel="email")
        assert mail.outbox == []


@pytest.mark.django_db
class NoHealthContentTestCase:
    def _all_texts(self, alice_space: Space, letter_space: Space) -> list[str]:
        notifications.information_enqueue(limit=10)
        for notification in Notification.objects.all():
            notifications.notification_send(notification_id=notification.pk)
        notifications.new_code_send(space=alice_space, channel="email")
        notifications.new_code_send(space=alice_space, channel="sms")
        texts = [m.subject for m in mail.outbox] + [m.body for m in mail.outbox]
        texts += [str(m.alternatives[0][0]) for m in mail.outbox]
        texts += [p.read_text() for p in _outbox("sms")]
        texts += [_pdf_text(p) for p in _outbox("letters")]
        return texts

    def test_lc12_no_message_carries_health_content(
        self, alice_space: Space, letter_space: Space
    ) -> None:
        texts = self._all_texts(alice_space, letter_space)
        # 2 e-mails (information, new code) × subject, text, HTML; 1 SMS; 1 letter
        assert len(texts) == 2 * 3 + 1 + 1
        for text in texts:
            assert _health_words(text) == [], text[:200]
            assert "désinscri" not in text.lower()
            assert "unsubscribe" not in text.lower()

    def test_lc12_emails_are_multipart_text_and_html_in_french(
        self, alice_space: Space
    ) -> None:
        notifications.information_enqueue(limit=10)
        notifications.notification_send(notification_id=_information(alice_space).pk)
        notifications.new_code_send(space=alice_space, channel="email")
        for message in mail.outbox:
            raw = message.message()
            assert raw.get_content_type() == "multipart/alternative"
            parts = [part.get_content_type() for part in raw.get_payload()]
            assert parts == ["text/plain", "text/html"]
            html = message.alternatives[0][0]
            assert '<html lang="fr">' in html
            code = CODE_RE.search(message.body)
            assert code is not None and code.group() in html
            assert "&#x27;" not in message.body  # text part is not HTML-escaped
        information = mail.outbox[0]
        assert "Mon espace santé" in information.subject
        for expected in (
            "/activer/",
            "numéro de sécurité sociale",
            "carte Vitale",
            "vous opposer",
            "fermer",
            "3422",
        ):
            assert expected in information.body

    def test_lc12_the_letter_is_french_and_names_no_health_data(
        self, letter_space: Space
    ) -> None:
        notifications.information_enqueue(limit=10)
        notifications.notification_send(notification_id=_information(letter_space).pk)
        (letter,) = _outbox("letters")
        text = _pdf_text(letter)
        assert "Objet : ouverture de Mon espace santé" in text
        assert _health_words(text) == []


def test_lc12_in_app_notifications_name_no_health_data() -> None:
    texts = [str(text) for text, _url in notifications.INAPP_TEXTS.values()]
    texts.append(str(notifications.INAPP_DEFAULT[0]))
    for text in texts:
        assert _health_words(text) == [], text


class LocalFetcherTestCase:
    def test_pdf_fetcher_refuses_the_network_and_foreign_files(self) -> None:
        fetcher = pdf.LocalFileFetcher([Path(__file__).parent])
        for url in (
            "http://example.com/logo.png",
            "https://example.com/style.css",
            "ftp://example.com/x",
            "file:///etc/passwd",
            f"file://{Path(__file__).parent}/../../config/settings.py",
        ):
            with pytest.raises(ValueError):
                fetcher.fetch(url)
        own = fetcher.fetch(Path(__file__).as_uri())
        assert own.read().startswith(b'"""')
        inline = fetcher.fetch("data:text/plain;base64,b2s=")
        assert inline.read() == b"ok"

    def test_pdf_render_ignores_remote_resources(self, settings: Any) -> None:
        html = (
            '<html><body><img src="http://192.0.2.1/x.png">'
            '<link rel="stylesheet" href="https://192.0.2.1/x.css">'
            "<p>Bonjour</p></body></html>"
        )
        with mock.patch("socket.socket.connect", side_effect=AssertionError("net")):
            document = pdf.render_pdf(html)
            batch = pdf.render_many([html, html])
        assert document.startswith(b"%PDF")
        assert batch.startswith(b"%PDF")


def test_sms_backend_is_pluggable(settings: Any) -> None:
    settings.SMS_BACKEND = "lib.sms.LocmemSmsBackend"
    sms.LocmemSmsBackend.outbox.clear()
    sms.send_sms("+33600000000", "Bonjour")
    assert sms.LocmemSmsBackend.outbox == [("+33600000000", "Bonjour")]
    with pytest.raises(sms.SmsError):
        sms.send_sms(" ", "Bonjour")


@pytest.mark.django_db
def test_lc2_a_failed_information_is_tried_again_a_few_times(alice) -> None:  # type: ignore[no-untyped-def]
    """No address yet: the letter fails; a later import adds one; the next
    daily run informs the space. After 3 failures the space is left alone."""
    from espace.jobs import letters_print
    from espace.models import Beneficiary, Notification, Space

    Beneficiary.objects.filter(pk=alice.beneficiary.pk).update(
        email="", address="", postal_code="", city=""
    )
    space = Space.objects.create(beneficiary=alice.beneficiary)
    assert notifications.information_enqueue(limit=10) == 1
    letters_print()
    assert (
        Notification.objects.get(key=f"lc2.information:{space.pk}").status == "failed"
    )
    assert notifications.information_enqueue(limit=10) == 1  # second try
    Beneficiary.objects.filter(pk=alice.beneficiary.pk).update(
        address="12 rue des Lilas", postal_code="51100", city="REIMS"
    )
    letters_print()
    space.refresh_from_db()
    assert space.state == "informed"
    assert notifications.information_enqueue(limit=10) == 0


def test_lc12_notice_emails_name_no_health_data() -> None:
    """The DMP and consent notices (CONS-3, CONS-6, DMP-9) say that
    something happened, never what."""
    from django.template.loader import render_to_string

    for name in set(notifications.NOTICES.values()) | {"pro-emergency"}:
        context = {"name": "Alice MOREAU", "site_url": "https://mes.example"}
        for part in ("subject.txt", "body.txt", "body.html"):
            text = render_to_string(f"emails/{name}-{part}", context)
            assert _health_words(text) == [], (name, part)
