"""Periodic jobs of the DMP and consent apps (DMP-9, CONS-6), set-based and
safe to repeat (STYLE R15): each batch claims its rows with SKIP LOCKED and
moves them with one conditional UPDATE; notifications have unique keys.
Run by Celery beat (`config/celery.py`) and by `manage.py lifecycle_tick`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone

from consent.models import ProfessionalNotice
from dmp.models import ANNOUNCEMENT_NOTICE, ANNOUNCEMENT_RELEASE, Document
from espace.models import Notification

BATCH = 5000


def _notify(kind: str, documents: Sequence[tuple[object, int]]) -> None:
    Notification.objects.bulk_create(
        [
            Notification(
                beneficiary_id=patient_id,
                kind=kind,
                key=f"{kind}:{pk}:{channel}",
                channel=channel,
            )
            for pk, patient_id in documents
            for channel in (Notification.Channel.INAPP, Notification.Channel.EMAIL)
        ],
        ignore_conflicts=True,
    )


def _told(rows: Sequence[tuple[object, int, bool]]) -> list[tuple[object, int]]:
    """The documents whose notice may go to the patient's inbox: not those
    hidden from the representatives, who read a child's inbox (CONS-7)."""
    return [(pk, patient) for pk, patient, hidden in rows if not hidden]


def withheld_notify(*, batch: int = BATCH) -> int:
    """DMP-9 (R1111-53): 2 weeks after the deposit of a result withheld for
    an announcement consultation that did not happen, the patient is told
    their DMP was updated (without saying what) and invited to see a
    professional."""
    done = 0
    while True:
        with transaction.atomic():
            due = timezone.now() - ANNOUNCEMENT_NOTICE
            rows = list(
                Document.objects.select_for_update(skip_locked=True)
                .filter(
                    invisible_patient=True,
                    announced_at__isnull=True,
                    patient_told_at__isnull=True,
                    status=Document.Status.CURRENT,
                    created_at__lte=due,
                )
                .values_list("pk", "patient_id", "invisible_representatives")[:batch]
            )
            if not rows:
                return done
            Document.objects.filter(pk__in=[pk for pk, _p, _h in rows]).update(
                patient_told_at=timezone.now()
            )
            _notify("dmp9.updated", _told(rows))
        done += len(rows)


def withheld_release(*, batch: int = BATCH) -> int:
    """DMP-9: one month after the deposit, a withheld result becomes visible
    to the patient (the selectors already show it from that instant; this
    records it and sends the "new document" notice)."""
    done = 0
    while True:
        with transaction.atomic():
            due = timezone.now() - ANNOUNCEMENT_RELEASE
            rows = list(
                Document.objects.select_for_update(skip_locked=True)
                .filter(
                    invisible_patient=True,
                    announced_at__isnull=True,
                    status=Document.Status.CURRENT,
                    created_at__lte=due,
                )
                .values_list("pk", "patient_id", "invisible_representatives")[:batch]
            )
            if not rows:
                return done
            Document.objects.filter(pk__in=[pk for pk, _p, _h in rows]).update(
                announced_at=timezone.now()
            )
            _notify("dmp.new_document", _told(rows))
        done += len(rows)


def professional_notices_send(*, batch: int = BATCH) -> int:
    """CONS-6: e-mails to professionals (the médecin traitant told of an
    emergency access), claimed one by one with a conditional UPDATE; no
    health content, a link to their portal."""
    from django.conf import settings

    from espace.notifications import email_render

    sent = 0
    pending = list(
        ProfessionalNotice.objects.filter(sent_at__isnull=True)
        .select_related("professional__user", "patient")
        .order_by("created_at")[:batch]
    )
    for notice in pending:
        claimed = ProfessionalNotice.objects.filter(
            pk=notice.pk, sent_at__isnull=True
        ).update(sent_at=timezone.now())
        if not claimed:
            continue
        user = notice.professional.user
        if not user.email:
            continue
        message = email_render(
            "pro-emergency",
            {
                "name": user.get_full_name(),
                "site_url": str(settings.SITE_URL).rstrip("/"),
            },
        )
        email = EmailMultiAlternatives(message.subject, message.text, to=[user.email])
        email.attach_alternative(message.html, "text/html")
        try:
            email.send()
        except Exception:  # any backend failure: try again at the next run
            ProfessionalNotice.objects.filter(pk=notice.pk).update(sent_at=None)
            continue
        sent += 1
    return sent


JOBS: dict[str, Callable[..., int]] = {
    "dmp_withheld_notify": withheld_notify,
    "dmp_withheld_release": withheld_release,
    "pro_notices": professional_notices_send,
}
