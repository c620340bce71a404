"""Information messages and provisional codes on their way out (LC-2, LC-3, LC-12).

The daily information job has two halves:

1. `information_enqueue(limit=…)`: one `Notification` per space still to
   inform (oldest first, up to the daily cap), by e-mail when the beneficiary
   has an address, else by post. Set-based and idempotent (unique `key`).
2. Sending: `notification_send(notification_id=…)` one at a time (e-mails,
   single letters), or `letters_print_batch(limit=…)` for one PDF of many
   letters for the printer.

A notification is claimed with a conditional UPDATE (PENDING → SENDING, R15)
and its provisional code is issued at that moment, so that the 6 weeks of
validity start at sending. Issuing revokes the space's older codes: a message
sent twice (a worker killed between sending and marking, then
`notifications_sweep`) never leaves two valid codes. Delivery is therefore
"at least once", and only the newest code works.

LC-12: e-mails, SMS and letters never carry health content; the tests check
the rendered texts against a list of health words.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy

from audit.models import AuditEvent
from audit.services import audit_record
from espace import codes
from espace.models import (
    Beneficiary,
    Notification,
    PrintBatch,
    ProvisionalCode,
    Space,
    User,
)
from espace.services import space_inform
from lib import outbox
from lib.pdf import render_many, render_pdf
from lib.sms import SmsError, send_sms

logger = logging.getLogger(__name__)

INFORMATION = "lc2.information"
NEW_CODE = "lc3.new_code"
# LC-10: at 18, a space opened during childhood stays open; the young adult
# gets their own provisional code (the parents' access has ended).
ADULT = "lc10.adult_open"
# Notices without a code (LC-9, LC-12): kind -> e-mail template name.
NOTICES = {
    "lc9.suspended": "notice-suspended",
    "lc9.closed": "notice-suspension-closed",
    "dmp.new_document": "notice-new-document",
    "dmp9.updated": "notice-dmp-updated",
    "cons3.access": "notice-access",
    "cons6.emergency": "notice-emergency",
    # AG-2 reminders: when, never what (agenda.reminders.notice_context)
    "ag2.appointment.day_before": "notice-agenda-reminder",
    "ag2.appointment.same_day": "notice-agenda-reminder",
    "ag2.item.day_before": "notice-agenda-reminder",
    "ag2.item.same_day": "notice-agenda-reminder",
    "msg.new_message": "notice-new-message",
}
# Notices that may also go by SMS when the person chose it (MSG-3): kind ->
# SMS template, with no content either.
SMS_NOTICES = {
    "msg.new_message": "sms/notice-new-message.txt",
}
# MSG-4: a prevention message of Assurance maladie (e-mail without content,
# sent by messagerie.campaign_jobs, which leaves out those who refused it,
# CONS-9; and an in-app notice).
PREVENTION = "msg4.prevention"
NOTICES[PREVENTION] = "notice-prevention"
# Kinds whose e-mail needs more than the name and the link: kind -> a
# function(notification) -> extra context, or None when the notice is no
# longer true (the reminder of a cancelled appointment): it is not sent.
NOTICE_CONTEXTS = dict.fromkeys(
    [kind for kind in NOTICES if kind.startswith("ag2.")],
    "agenda.reminders.notice_context",
)
# Claims of one notification before the sweep gives it up (FAILED).
MAX_ATTEMPTS = 5

Status = Notification.Status
Channel = Notification.Channel

# What "Générer un nouveau code provisoire" answers, whatever happened: the
# answer never tells whether the NIR exists (LC-3).
NEW_CODE_ANSWER = gettext_lazy(
    "Si les informations saisies correspondent à un espace et que nous avons "
    "vos coordonnées, un nouveau code provisoire vient de vous être envoyé. "
    "Sinon, appelez le 3422."
)


# LC-12: what an in-app notification says, and where its link leads (a URL
# name, or "" for none). Never any health content: an event and a link.
INAPP_TEXTS: dict[str, tuple[Any, str]] = {
    "lc5.opened": (
        gettext_lazy(
            "Votre profil Mon espace santé est ouvert : vous pouvez y retrouver "
            "et y ajouter vos documents."
        ),
        "espace:patient-home",
    ),
    "lc9.suspended": (
        gettext_lazy(
            "Votre profil a été suspendu. Si vous n'êtes pas à l'origine de cette "
            "suspension, appelez le 3422 : sans réponse de votre part sous "
            "6 semaines, il sera fermé."
        ),
        "",
    ),
    "lc9.closed": (
        gettext_lazy("Votre profil a été fermé à la fin de sa suspension."),
        "",
    ),
    "lc11.integrated": (
        gettext_lazy(
            "Votre dossier médical partagé (DMP) créé avant 2022 a rejoint "
            "votre profil."
        ),
        "espace:patient-home",
    ),
    "lc10.invitation": (
        gettext_lazy(
            "Vous êtes invité(e) à gérer le profil d'un enfant dont vous êtes "
            "représentant légal."
        ),
        "espace:patient-home",
    ),
}
INAPP_TEXTS.update(
    {
        "dmp.new_document": (
            gettext_lazy("Un nouveau document a été ajouté à votre dossier."),
            "dmp:documents",
        ),
        "dmp9.updated": (
            gettext_lazy(
                "Votre dossier médical partagé a été mis à jour. Nous vous invitons "
                "à en parler avec un professionnel de santé qui vous suit."
            ),
            "",
        ),
        "cons3.access": (
            gettext_lazy("Un professionnel de santé a consulté votre dossier."),
            "consent:history",
        ),
        "cons6.emergency": (
            gettext_lazy(
                "Votre dossier a été consulté en urgence par un professionnel de "
                "santé. Le détail est dans l'historique des accès."
            ),
            "consent:history",
        ),
    }
)
INAPP_TEXTS[PREVENTION] = (
    gettext_lazy("Vous avez reçu un message de prévention de l'Assurance Maladie."),
    "prevention:list",
)
INAPP_TEXTS.update(
    {
        "ag2.appointment.day_before": (
            gettext_lazy("Rappel : vous avez un rendez-vous santé demain."),
            "rendezvous:list",
        ),
        "ag2.appointment.same_day": (
            gettext_lazy("Rappel : vous avez un rendez-vous santé aujourd'hui."),
            "rendezvous:list",
        ),
        "ag2.item.day_before": (
            gettext_lazy(
                "Rappel : une étape de prévention recommandée est prévue demain."
            ),
            "rendezvous:list",
        ),
        "ag2.item.same_day": (
            gettext_lazy(
                "Rappel : une étape de prévention recommandée est prévue aujourd'hui."
            ),
            "rendezvous:list",
        ),
    }
)
# MSG-3, LC-12: a new message, neither its content nor its sender.
INAPP_TEXTS["msg.new_message"] = (
    gettext_lazy("Vous avez reçu un nouveau message dans votre messagerie."),
    "messagerie:conversations",
)
INAPP_DEFAULT = (gettext_lazy("Vous avez une nouvelle notification."), "")


def inapp_text(kind: str) -> tuple[Any, str]:
    return INAPP_TEXTS.get(kind, INAPP_DEFAULT)


# ---------------------------------------------------------------- rendering


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str


def _activate_url() -> str:
    return str(settings.SITE_URL).rstrip("/") + "/activer/"


def _oppose_url() -> str:
    return str(settings.SITE_URL).rstrip("/") + "/opposition/"


def _printed_url(url: str) -> str:
    """The address as printed on paper: no scheme, and a WORD JOINER (U+2060,
    invisible) after each slash so that the line never breaks inside it."""
    return url.split("://", 1)[-1].replace("/", "/\u2060").removesuffix("\u2060")


def _last_full_day(deadline: dt.datetime) -> dt.date:
    """The last calendar day (Paris time) entirely before `deadline`.

    Letters say "jusqu'au <jour> inclus": printing the deadline's own day
    would promise its evening, which the deadline has already passed.
    """
    return (timezone.localtime(deadline) - timedelta(days=1)).date()


def _civility(beneficiary: Beneficiary) -> str:
    return "Madame" if beneficiary.sex == Beneficiary.Sex.FEMALE else "Monsieur"


def _context(
    *, beneficiary: Beneficiary, code: str, sent_at: dt.datetime, reference: str
) -> dict[str, Any]:
    # The code was issued at `sent_at` or a moment later: dates computed from
    # `sent_at` are never later than the real deadlines.
    deadline = sent_at + codes.VALIDITY
    return {
        "name": beneficiary.display_name,
        "civility": _civility(beneficiary),
        "code": codes.code_display(code),
        "valid_until": _last_full_day(deadline),
        "opposition_until": _last_full_day(deadline),
        "open_on": timezone.localtime(deadline).date(),
        "sent_on": timezone.localtime(sent_at).date(),
        "activate_url": _activate_url(),
        "printed_url": _printed_url(_activate_url()),
        "oppose_url": _oppose_url(),
        "printed_oppose_url": _printed_url(_oppose_url()),
        "reference": reference,
        "address_lines": [
            line.strip() for line in beneficiary.address.splitlines() if line.strip()
        ],
        "postal_code": beneficiary.postal_code,
        "city": beneficiary.city.upper(),
    }


def _render(template: str, context: dict[str, Any]) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string(template, context)


def email_render(name: str, context: dict[str, Any]) -> Message:
    """An e-mail triplet of templates/emails (STYLE R21)."""
    subject = _render(f"emails/{name}-subject.txt", context)
    return Message(
        subject=" ".join(subject.split()),
        text=_render(f"emails/{name}-body.txt", context),
        html=_render(f"emails/{name}-body.html", context),
    )


def letter_html(context: dict[str, Any], kind: str = "lc2.information") -> str:
    """The information letter (LC-2), or a new code sent by post (LC-3, 3422)."""
    template = {
        NEW_CODE: "letters/new-code.html",
        ADULT: "letters/adult-open.html",
    }.get(kind, "letters/information.html")
    return _render(template, context)


def _reference(notification: Notification) -> str:
    return f"MES-{notification.pk:09d}"


def _has_postal_address(beneficiary: Beneficiary) -> bool:
    return bool(
        beneficiary.address.strip()
        and beneficiary.postal_code.strip()
        and beneficiary.city.strip()
    )


# ---------------------------------------------------------------- enqueue


INFORMATION_ATTEMPTS = (
    3  # failed informations retried (e.g. an address added by a later import)
)


def information_enqueue(*, limit: int) -> int:
    """LC-2, first half of the daily job: queue the information of up to
    `limit` spaces still to inform, oldest first.

    E-mail when the beneficiary has an address, else a letter. A space whose
    information is queued, going out or sent is skipped; one whose earlier
    tries all failed (no address, a bounced e-mail) is tried again, a few
    times, so that contact details fixed by a later import are used. The key
    numbers the tries, so a concurrent run is harmless.
    """
    live = Notification.objects.filter(
        beneficiary_id=OuterRef("beneficiary_id"),
        kind=INFORMATION,
        status__in=[Status.PENDING, Status.SENDING, Status.SENT],
    )
    failed = (
        Notification.objects.filter(
            beneficiary_id=OuterRef("beneficiary_id"),
            kind=INFORMATION,
            status=Status.FAILED,
        )
        .order_by()
        .values("beneficiary_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    rows = list(
        Space.objects.filter(state=Space.State.PENDING)
        .filter(~Exists(live))
        .annotate(failures=Coalesce(Subquery(failed), 0))
        .filter(failures__lt=INFORMATION_ATTEMPTS)
        .order_by("pk")
        .values_list("pk", "beneficiary_id", "beneficiary__email", "failures")[:limit]
    )
    Notification.objects.bulk_create(
        [
            Notification(
                beneficiary_id=beneficiary_id,
                kind=INFORMATION,
                channel=Channel.EMAIL if email else Channel.LETTER,
                key=f"{INFORMATION}:{space_id}"
                + (f":{failures + 1}" if failures else ""),
            )
            for space_id, beneficiary_id, email, failures in rows
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )
    return len(rows)


def notifications_pending(*, channel: str, limit: int) -> list[int]:
    """Ids of notifications waiting on `channel`, oldest first (for the job)."""
    return list(
        Notification.objects.filter(status=Status.PENDING, channel=channel)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


# ---------------------------------------------------------------- sending


def _claim(notification_id: int) -> bool:
    return (
        Notification.objects.filter(pk=notification_id, status=Status.PENDING).update(
            status=Status.SENDING,
            claimed_at=timezone.now(),
            attempts=F("attempts") + 1,
        )
        == 1
    )


def _undeliverable_reason(
    notification: Notification, space: Space | None
) -> str | None:
    """Why this notification cannot go out now (a code), or None."""
    beneficiary = notification.beneficiary
    if space is None:
        return "no_space"
    if notification.kind == INFORMATION:
        if space.state != Space.State.PENDING:
            return "already_informed"
    elif notification.kind in (NEW_CODE, ADULT):
        if space.state not in codes.CODE_STATES:
            return "space_state"
        if notification.channel == Channel.INAPP:
            return "channel"
    elif notification.kind in NOTICES:
        sms_ok = notification.kind in SMS_NOTICES
        if notification.channel != Channel.EMAIL and not (
            sms_ok and notification.channel == Channel.SMS
        ):
            return "channel"
    else:
        return "unknown_kind"
    if notification.channel == Channel.EMAIL and not beneficiary.email:
        return "no_email"
    if notification.channel == Channel.SMS and not beneficiary.phone.strip():
        return "no_phone"
    if notification.channel == Channel.LETTER and not _has_postal_address(beneficiary):
        return "no_postal_address"
    if notification.channel == Channel.INAPP:
        return "channel"
    return None


def _space_of(beneficiary: Beneficiary) -> Space | None:
    space: Space | None = getattr(beneficiary, "space", None)
    return space


def _mark(notification_ids: Sequence[int], status: str) -> None:
    values: dict[str, Any] = {"status": status}
    if status == Status.SENT:
        values["sent_at"] = timezone.now()
    Notification.objects.filter(pk__in=notification_ids, status=Status.SENDING).update(
        **values
    )


@transaction.atomic
def _sent(notifications: Sequence[Notification], spaces: Sequence[Space]) -> None:
    """Mark sent and, for information, start the 6-week window (LC-2, LC-5)."""
    _mark([n.pk for n in notifications], Status.SENT)
    for notification, space in zip(notifications, spaces, strict=True):
        if notification.kind == INFORMATION:
            space_inform(actor=None, space=space)


def notification_send(*, notification_id: int) -> bool:
    """Send one notification (LC-2, LC-3); True when it went out.

    Claims it first (PENDING → SENDING, must change exactly one row), so a
    notification handled by another worker, or already sent, is left alone.
    An information e-mail that fails falls back to a letter (R1111-28: "by
    post if the e-mail cannot be sent").
    """
    if not _claim(notification_id):
        return False
    notification = Notification.objects.select_related("beneficiary__space").get(
        pk=notification_id
    )
    beneficiary = notification.beneficiary
    space = _space_of(beneficiary)
    reason = _undeliverable_reason(notification, space)
    if reason is not None or space is None:
        logger.warning("notification %s not sent: %s", notification.pk, reason)
        _mark([notification.pk], Status.FAILED)
        return False
    if notification.kind in NOTICES:
        return _notice_send(notification, space)

    sent_at = timezone.now()
    code = codes.code_issue(space=space, channel=notification.channel)
    context = _context(
        beneficiary=beneficiary,
        code=code,
        sent_at=sent_at,
        reference=_reference(notification),
    )
    if notification.channel == Channel.LETTER:
        outbox.write(
            "letters", ".pdf", render_pdf(letter_html(context, notification.kind))
        )
    elif notification.channel == Channel.EMAIL:
        name = {INFORMATION: "information", ADULT: "adult-open"}.get(
            notification.kind, "new-code"
        )
        message = email_render(name, context)
        email = EmailMultiAlternatives(
            message.subject, message.text, to=[beneficiary.email]
        )
        email.attach_alternative(message.html, "text/html")
        try:
            email.send()
        except Exception as exc:  # any backend failure: SMTP, network, provider
            logger.warning(
                "notification %s: e-mail failed (%s)",
                notification.pk,
                type(exc).__name__,
            )
            _mark([notification.pk], Status.FAILED)
            if notification.kind == INFORMATION:
                return _information_by_letter(space, notification)
            return False
    else:  # SMS
        try:
            send_sms(beneficiary.phone, _render("sms/new-code.txt", context).strip())
        except SmsError:
            logger.warning("notification %s: SMS failed", notification.pk)
            _mark([notification.pk], Status.FAILED)
            return False
    _sent([notification], [space])
    return True


def _notice_send(notification: Notification, space: Space) -> bool:
    """A lifecycle notice by e-mail (or SMS, SMS_NOTICES), with a link and no
    health content (LC-12)."""
    context = {
        "name": notification.beneficiary.display_name,
        "site_url": str(settings.SITE_URL).rstrip("/"),
        "suspension_ends_at": space.suspension_ends_at,
    }
    if notification.kind in NOTICE_CONTEXTS:
        extra = import_string(NOTICE_CONTEXTS[notification.kind])(notification)
        if extra is None:
            logger.info("notification %s not sent: outdated", notification.pk)
            _mark([notification.pk], Status.FAILED)
            return False
        context |= extra
    if notification.channel == Channel.SMS:
        try:
            send_sms(
                notification.beneficiary.phone,
                _render(SMS_NOTICES[notification.kind], context).strip(),
            )
        except SmsError:
            logger.warning("notification %s: SMS failed", notification.pk)
            _mark([notification.pk], Status.FAILED)
            return False
        Notification.objects.filter(pk=notification.pk).update(
            status=Status.SENT, sent_at=timezone.now()
        )
        return True
    message = email_render(NOTICES[notification.kind], context)
    email = EmailMultiAlternatives(
        message.subject, message.text, to=[notification.beneficiary.email]
    )
    email.attach_alternative(message.html, "text/html")
    try:
        email.send()
    except Exception as exc:  # any backend failure
        logger.warning(
            "notification %s: e-mail failed (%s)", notification.pk, type(exc).__name__
        )
        _mark([notification.pk], Status.FAILED)
        return False
    Notification.objects.filter(pk=notification.pk).update(
        status=Status.SENT, sent_at=timezone.now()
    )
    return True


def _information_by_letter(space: Space, source: Notification) -> bool:
    """LC-2: the e-mail could not be sent; the information goes by post (one
    letter per failed e-mail: the key derives from the e-mail's own)."""
    letter, _created = Notification.objects.get_or_create(
        key=f"{source.key}:letter",
        defaults={
            "beneficiary_id": space.beneficiary_id,
            "kind": INFORMATION,
            "channel": Channel.LETTER,
        },
    )
    return notification_send(notification_id=letter.pk)


def notifications_sweep(*, older_than: timedelta) -> int:
    """Put back notifications stuck in SENDING (a worker died mid-send).

    Re-sending issues a new code and revokes the previous one, so the person
    never holds two valid codes. After MAX_ATTEMPTS claims a notification is
    given up (FAILED) for an agent to look at. Returns how many were re-queued.
    """
    stuck = Notification.objects.filter(
        status=Status.SENDING,
        claimed_at__lt=timezone.now() - older_than,
        print_batch__isnull=True,  # print batches: print_batches_sweep
    )
    stuck.filter(attempts__gte=MAX_ATTEMPTS).update(status=Status.FAILED)
    return stuck.filter(attempts__lt=MAX_ATTEMPTS).update(
        status=Status.PENDING, claimed_at=None
    )


def letters_print_batch(*, limit: int) -> PrintBatch | None:
    """LC-2, batch mode: up to `limit` pending letters as one PDF, one letter
    after the other, each on its own pages. Returns the READY batch (its PDF
    in storage, a copy in the printer's folder), or None when there was
    nothing to print.

    Exactly once (SEC-6, see PrintBatch): claim into a RENDERING batch,
    render, store, then READY + letters SENT in one transaction. If the sweep
    abandoned the batch meanwhile (a worker thought dead), its letters are
    already back in the queue: the PDF is thrown away.
    """
    batch = _print_batch_claim(limit)
    if batch is None:
        return None
    notifications = list(
        Notification.objects.filter(print_batch=batch, status=Status.SENDING)
        .select_related("beneficiary__space")
        .order_by("created_at", "pk")
    )
    printable: list[Notification] = []
    spaces: list[Space] = []
    htmls: list[str] = []
    failed: list[int] = []
    sent_at = timezone.now()
    with transaction.atomic():  # the batch's codes: one commit, not one each
        for notification in notifications:
            space = _space_of(notification.beneficiary)
            reason = _undeliverable_reason(notification, space)
            if reason is not None or space is None:
                logger.warning(
                    "notification %s not printed: %s", notification.pk, reason
                )
                failed.append(notification.pk)
                continue
            code = codes.code_issue(space=space, channel=ProvisionalCode.Channel.LETTER)
            context = _context(
                beneficiary=notification.beneficiary,
                code=code,
                sent_at=sent_at,
                reference=_reference(notification),
            )
            htmls.append(letter_html(context, notification.kind))
            printable.append(notification)
            spaces.append(space)
        _mark(failed, Status.FAILED)
        Notification.objects.filter(pk__in=failed).update(print_batch=None)
    if not htmls:
        PrintBatch.objects.filter(
            pk=batch.pk, status=PrintBatch.Status.RENDERING
        ).update(status=PrintBatch.Status.ABANDONED)
        return None
    name = default_storage.save(
        f"print-batches/lot-{batch.pk:09d}.pdf", ContentFile(render_many(htmls))
    )
    with transaction.atomic():
        ready = PrintBatch.objects.filter(
            pk=batch.pk, status=PrintBatch.Status.RENDERING
        ).update(
            status=PrintBatch.Status.READY,
            ready_at=timezone.now(),
            letters=len(printable),
            file=name,
        )
        if ready:
            _sent(printable, spaces)
            transaction.on_commit(lambda: print_batch_publish(batch_id=batch.pk))
    if not ready:
        default_storage.delete(name)
        return None
    batch.refresh_from_db()
    return batch


def _print_batch_claim(limit: int) -> PrintBatch | None:
    """Pending letters (oldest first) into a new RENDERING batch, atomically
    (R15: SKIP LOCKED, so two printers never share a letter)."""
    with transaction.atomic():
        ids = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(status=Status.PENDING, channel=Channel.LETTER)
            .order_by("created_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return None
        batch = PrintBatch.objects.create()
        Notification.objects.filter(pk__in=ids, status=Status.PENDING).update(
            status=Status.SENDING,
            claimed_at=timezone.now(),
            attempts=F("attempts") + 1,
            print_batch=batch,
        )
    return batch


def print_batch_publish(*, batch_id: int) -> bool:
    """Copy a READY batch to the printer's folder (the outbox, `letters/`)
    under a name fixed by the batch: publishing twice replaces the same file,
    so the printer sees each batch once. True when a copy was written."""
    batch = PrintBatch.objects.filter(
        pk=batch_id, status=PrintBatch.Status.READY
    ).first()
    if batch is None:
        return False
    with default_storage.open(batch.file) as source:
        outbox.write_named("letters", f"lot-{batch.pk:09d}.pdf", source.read())
    PrintBatch.objects.filter(pk=batch.pk).update(published_at=timezone.now())
    return True


def print_batches_sweep(*, older_than: timedelta) -> int:
    """SEC-6: batches stuck RENDERING (their worker died) are ABANDONED and
    their letters go back to the queue (or FAILED after MAX_ATTEMPTS claims);
    READY batches never copied to the printer's folder are copied now.
    Returns how many batches were abandoned."""
    cutoff = timezone.now() - older_than
    abandoned = 0
    with transaction.atomic():
        stale = list(
            PrintBatch.objects.select_for_update(skip_locked=True)
            .filter(status=PrintBatch.Status.RENDERING, created_at__lt=cutoff)
            .values_list("pk", flat=True)
        )
        if stale:
            abandoned = PrintBatch.objects.filter(pk__in=stale).update(
                status=PrintBatch.Status.ABANDONED
            )
            letters = Notification.objects.filter(
                print_batch__in=stale, status=Status.SENDING
            )
            letters.filter(attempts__gte=MAX_ATTEMPTS).update(
                status=Status.FAILED, print_batch=None
            )
            letters.update(status=Status.PENDING, claimed_at=None, print_batch=None)
    for batch_id in PrintBatch.objects.filter(
        status=PrintBatch.Status.READY, published_at__isnull=True, ready_at__lt=cutoff
    ).values_list("pk", flat=True):
        print_batch_publish(batch_id=batch_id)
    return abandoned


def print_batch_download(*, actor: User, batch: PrintBatch) -> bytes:
    """An agent downloads a READY batch to print it (3422 back office):
    counted and audited (names, addresses and codes, never health data)."""
    if batch.status != PrintBatch.Status.READY:
        raise ValueError("only a ready batch can be downloaded")
    with default_storage.open(batch.file) as source:
        content = bytes(source.read())
    PrintBatch.objects.filter(pk=batch.pk).update(
        downloads=F("downloads") + 1, last_download_at=timezone.now()
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.READ,
        target=batch,
        code="lc2.print_batch_downloaded",
    )
    return content


# ---------------------------------------------------------------- new code


def new_code_send(*, space: Space, channel: str) -> bool:
    """LC-3 "Générer un nouveau code provisoire": a new code to the e-mail
    address or phone number on file (never to one typed in a form), now.

    The previous codes stop working. True when the message went out.
    """
    if channel not in (Channel.EMAIL, Channel.SMS):
        raise ValueError("a new code goes by e-mail or SMS")
    notification = Notification.objects.create(
        beneficiary_id=space.beneficiary_id,
        kind=NEW_CODE,
        channel=channel,
        key=f"{NEW_CODE}:{space.pk}:{uuid.uuid4().hex}",
    )
    return notification_send(notification_id=notification.pk)


def new_code_request(
    *,
    nir: str,
    birth_date: dt.date,
    vitale_serial: str,
    channel: str,
    client_address: str,
) -> int | None:
    """LC-3: the "Générer un nouveau code provisoire" form (NIR, birth date,
    carte Vitale serial, e-mail or SMS).

    Queues a NEW_CODE notification when everything matches a space that may
    get a code and the beneficiary has a contact on that channel; returns its
    id for the caller to send through a task (`notification_send`), or None.
    The caller answers NEW_CODE_ANSWER either way, so that neither the answer
    nor its timing tells whether the NIR exists. Raises ValidationError
    (code "throttled") after too many requests from one address, and
    ValueError for a channel other than e-mail or SMS.
    """
    if channel not in (Channel.EMAIL, Channel.SMS):
        raise ValueError("a new code goes by e-mail or SMS")
    if codes.throttle_exceeded(bucket="new-code", client_address=client_address):
        raise codes.throttled_error()
    codes.throttle_hit(bucket="new-code", client_address=client_address)
    beneficiary = codes.beneficiary_identify(
        nir=nir, vitale_serial=vitale_serial, birth_date=birth_date
    )
    space = _space_of(beneficiary) if beneficiary is not None else None
    if beneficiary is None or space is None or space.state not in codes.CODE_STATES:
        return None
    contact = beneficiary.email if channel == Channel.EMAIL else beneficiary.phone
    if not contact.strip():
        return None
    # A few new codes per space and hour: whoever knows someone's traits
    # cannot flood their phone or mailbox.
    space_key = f"space-{space.pk}"
    if codes.throttle_exceeded(bucket="new-code-space", client_address=space_key):
        return None
    codes.throttle_hit(bucket="new-code-space", client_address=space_key)
    with transaction.atomic():
        notification = Notification(
            beneficiary=beneficiary,
            kind=NEW_CODE,
            channel=channel,
            key=f"{NEW_CODE}:{space.pk}:{uuid.uuid4().hex}",
        )
        notification.full_clean()
        notification.save()
        audit_record(
            actor=None,
            action=AuditEvent.Action.CREATE,
            target=notification,
            patient=beneficiary.pk,
            code="lc3.new_code_requested",
        )
    return notification.pk
