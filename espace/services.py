"""Writes of the espace app (STYLE R5): logins, second factors, accounts."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.auth import login as django_login
from django.contrib.auth import logout as django_logout
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_email.models import EmailDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent
from audit.services import audit_record
from espace.models import (
    Beneficiary,
    LegalRepresentation,
    Notification,
    ProvisionalCode,
    Space,
    SpaceHistory,
    User,
)
from lib.http import client_address

PENDING_USER = "pending_user_id"
PENDING_SINCE = "pending_since"
PENDING_FAILURES = "pending_failures"
PENDING_HASH = "pending_hash"
PASSWORD_RESETS_PER_HOUR = 5
MAX_REPRESENTATIVES = 2  # LC-10: the two parents, or a guardian
PENDING_TTL = 15 * 60


def login_pending_start(*, request: HttpRequest, user: User) -> None:
    """First factor accepted: remember who is halfway in, on a fresh session key."""
    request.session.cycle_key()
    request.session[PENDING_USER] = user.pk
    # A password changed meanwhile (reset) voids the half-done login.
    request.session[PENDING_HASH] = user.get_session_auth_hash()
    request.session[PENDING_SINCE] = time.time()
    request.session[PENDING_FAILURES] = 0


def login_pending_user(*, request: HttpRequest) -> User | None:
    user_id = request.session.get(PENDING_USER)
    since = request.session.get(PENDING_SINCE, 0)
    if not user_id or time.time() - since > PENDING_TTL:
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or user.get_session_auth_hash() != request.session.get(
        PENDING_HASH
    ):
        return None
    return user


def login_pending_clear(*, request: HttpRequest) -> None:
    for key in (PENDING_USER, PENDING_SINCE, PENDING_FAILURES, PENDING_HASH):
        request.session.pop(key, None)


def login_device_for(*, user: User) -> Device | None:
    """The confirmed TOTP device, else (patients only) the e-mail device."""
    totp = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if totp is not None:
        return totp
    if user.needs_totp or not user.email:
        return None  # must enrol first (SEC-2), or has no e-mail address
    return login_email_device(user=user)


def login_email_device(*, user: User) -> EmailDevice:
    device, _ = EmailDevice.objects.get_or_create(
        user=user, name="e-mail", defaults={"confirmed": True}
    )
    return device


def login_code_send(*, user: User) -> bool:
    """Send a one-time code by e-mail (LC-7). False while the cooldown runs."""
    device = login_email_device(user=user)
    allowed, _info = device.generate_is_allowed()
    if not allowed:
        return False
    device.generate_challenge({"user": user})
    return True


@transaction.atomic
def password_reset_allowed(*, request: HttpRequest) -> bool:
    """At most a few reset e-mails per hour from one address; each request is
    audited (codes only: never the address typed)."""
    from django.core.cache import cache

    key = f"password-reset:{client_address(request)}"
    cache.add(key, 0, timeout=3600)
    count = cache.incr(key)
    allowed = count <= PASSWORD_RESETS_PER_HOUR
    audit_record(
        actor=None,
        action=AuditEvent.Action.EXECUTE,
        target="espace.user",
        outcome=AuditEvent.Outcome.SUCCESS
        if allowed
        else AuditEvent.Outcome.MINOR_FAILURE,
        code="password.reset_requested" if allowed else "password.reset_throttled",
        request=request,
    )
    return allowed


@transaction.atomic
def login_refused(*, request: HttpRequest, code: str) -> None:
    """A refused password step, audited with codes only: the identifier typed
    is not recorded (it may be a password typed in the wrong field)."""
    audit_record(
        actor=None,
        action=AuditEvent.Action.LOGIN,
        target="espace.user",
        outcome=AuditEvent.Outcome.MINOR_FAILURE,
        code=code,
        request=request,
    )


def login_code_failed(*, request: HttpRequest, user: User) -> bool:
    """Count a wrong code; True when the half-done login is now thrown away."""
    failures = int(request.session.get(PENDING_FAILURES, 0)) + 1
    request.session[PENDING_FAILURES] = failures
    with transaction.atomic():
        audit_record(
            actor=user,
            action=AuditEvent.Action.LOGIN,
            target=user,
            outcome=AuditEvent.Outcome.MINOR_FAILURE,
            code="login.code_failed",
            request=request,
        )
    if failures >= settings.OTP_MAX_FAILURES:
        login_pending_clear(request=request)
        return True
    return False


@transaction.atomic
def login_complete(*, request: HttpRequest, user: User, device: Device) -> None:
    """Both factors passed: log in (new session key), mark verified, audit."""
    login_pending_clear(request=request)
    django_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    otp_login(request, device)
    request.session.cycle_key()
    request.session["auth_at"] = time.time()
    request.session["last_seen"] = time.time()
    request.session.set_expiry(user.idle_timeout + 300)
    if isinstance(device, EmailDevice) and user.email:
        # LC-6: the address typed at activation is proven now; it becomes
        # the contact address of the holder's space.
        Beneficiary.objects.filter(user=user).exclude(email=user.email).update(
            email=user.email
        )
    audit_record(
        actor=user,
        action=AuditEvent.Action.LOGIN,
        target=user,
        code=f"login.{device.__class__.__name__.lower()}",
        request=request,
    )


@transaction.atomic
def logout_user(*, request: HttpRequest, code: str = "logout") -> None:
    user = request.user
    if user.is_authenticated:
        audit_record(
            actor=user,
            action=AuditEvent.Action.LOGOUT,
            target=user,
            code=code,
            request=request,
        )
    django_logout(request)


def totp_first_enrolment_allowed(*, user: User) -> bool:
    """A half-logged-in user may enrol only as a professional or agent with no
    authenticator yet (SEC-2). Patients use their e-mail code; a user who has
    an authenticator must use it."""
    return (
        user.needs_totp
        and not TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    )


def totp_device_pending(*, user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).first()


def totp_device_start(*, user: User) -> TOTPDevice:
    """An unconfirmed TOTP device to enrol (one at a time per user)."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(
        user=user, name="Application d'authentification", confirmed=False
    )


@transaction.atomic
def totp_device_confirm(
    *, actor: User, device: TOTPDevice, token: str, request: HttpRequest | None = None
) -> bool:
    """Confirm enrolment with a first valid code; replaces any older TOTP device."""
    if not device.verify_token(token):
        return False
    replaced = list(
        TOTPDevice.objects.filter(user=actor, confirmed=True)
        .exclude(pk=device.pk)
        .values_list("pk", flat=True)
    )
    TOTPDevice.objects.filter(pk__in=replaced).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    for old in replaced:
        audit_record(
            actor=actor,
            action=AuditEvent.Action.DELETE,
            target=("otp_totp.totpdevice", old),
            code="totp.replaced",
            request=request,
        )
    if replaced and actor.email:
        transaction.on_commit(lambda: _mail(actor.email, "totp-changed"))
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        target=device,
        code="totp.enrolled",
        request=request,
    )
    return True


def _mail(to: str, template: str, context: dict[str, Any] | None = None) -> None:
    """A multipart (text + HTML) e-mail from templates/emails/<template>-*."""
    from django.core.mail import EmailMultiAlternatives
    from django.template.loader import render_to_string

    context = context or {}
    subject = render_to_string(f"emails/{template}-subject.txt", context).strip()
    message = EmailMultiAlternatives(
        subject, render_to_string(f"emails/{template}-body.txt", context), to=[to]
    )
    message.attach_alternative(
        render_to_string(f"emails/{template}-body.html", context), "text/html"
    )
    message.send()


def totp_qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URL as an inline SVG data URI (CSP allows data: images)."""
    import base64
    import io

    import qrcode
    import qrcode.image.svg

    image = qrcode.make(
        device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=12
    )
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def totp_secret_text(device: TOTPDevice) -> str:
    """The secret in base32, grouped by 4, for manual entry."""
    import base64

    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@transaction.atomic
def user_create(
    *, actor: User | None, username: str, password: str, role: str, **fields: Any
) -> User:
    """Create a login (used by the demo seed and, later, activation)."""
    from django.contrib.auth.password_validation import validate_password

    user = User(username=username, role=role, **fields)
    validate_password(password, user)
    user.set_password(password)
    user.full_clean()
    user.save()
    audit_record(
        actor=actor, action=AuditEvent.Action.CREATE, target=user, code="user.created"
    )
    return user


def user_credentials_replace(
    *, user: User, username: str, email: str, password: str
) -> None:
    """New identifier, e-mail and password for a login never used yet. The
    e-mail device goes too (its pending code was sent to the old address);
    a new one is made for the next code."""
    from django.contrib.auth.password_validation import validate_password

    user.username = username
    user.email = email
    validate_password(password, user)
    user.set_password(password)
    user.full_clean()
    user.save()
    EmailDevice.objects.filter(user=user).delete()


# ---------------------------------------------------------------- space lifecycle
# SPEC §2. Each transition is a conditional UPDATE on `state` (so that two
# racing transitions — an opposition and the automatic opening, say — cannot
# both win), then one history row and one audit entry, in one transaction.
# Asking again for a transition already made changes nothing (idempotent).

OPPOSITION_WINDOW = timedelta(weeks=6)  # LC-4, LC-5 (R1111-28)
SUSPENSION_WINDOW = timedelta(weeks=6)  # LC-9 (R1111-36)
ARCHIVE_PERIOD = relativedelta(years=10)  # LC-8 (R1111-36, L1111-18)
# LC-8: "within 3 months at most" — a day short of 3 calendar months, so the
# daily purge never runs late.
EARLY_DELETION_DELAY = relativedelta(months=3, days=-1)

State = Space.State
Channel = SpaceHistory.Channel


def _refuse(space: Space, action: str) -> ValidationError:
    return ValidationError(
        _("Impossible de %(action)s cet espace : il est actuellement « %(state)s ».")
        % {"action": action, "state": space.get_state_display()},
        code="transition",
    )


def _transition(
    space: Space,
    *,
    from_states: tuple[str, ...],
    to: str,
    actor: User | None,
    channel: str,
    reason: str,
    action_label: str,
    updates: dict[str, Any] | None = None,
    condition: Q | None = None,
    request: HttpRequest | None = None,
) -> Space:
    now = timezone.now()
    rows = Space.objects.filter(pk=space.pk, state__in=from_states)
    if condition is not None:
        rows = rows.filter(condition)
    changed = rows.update(state=to, updated_at=now, **(updates or {}))
    current = Space.objects.get(pk=space.pk)
    if not changed:
        if current.state == to:
            return current  # already done: nothing more to write
        raise _refuse(current, action_label)
    previous = space.state if space.state in from_states else from_states[0]
    SpaceHistory.objects.create(
        space=current,
        from_state=previous,
        to_state=to,
        channel=channel,
        actor=actor,
        reason=reason,
        at=now,
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=current,
        patient=current.beneficiary_id,
        code=reason,
        request=request,
    )
    return current


@transaction.atomic
def space_inform(
    *, actor: User | None, space: Space, channel: str = Channel.BATCH
) -> Space:
    """LC-2: the information went out; the 6-week opposition window opens."""
    now = timezone.now()
    return _transition(
        space,
        from_states=(State.PENDING,),
        to=State.INFORMED,
        actor=actor,
        channel=channel,
        reason="lc2.informed",
        action_label=_("informer"),
        updates={"informed_at": now, "opposition_until": now + OPPOSITION_WINDOW},
    )


@transaction.atomic
def space_oppose(
    *,
    actor: User | None,
    space: Space,
    channel: str,
    request: HttpRequest | None = None,
) -> Space:
    """LC-4: opposition, online or by phone, within 6 weeks of the information."""
    current = Space.objects.get(pk=space.pk)
    if (
        current.state == State.INFORMED
        and current.opposition_until
        and (timezone.now() > current.opposition_until)
    ):
        raise ValidationError(
            _(
                "Le délai d'opposition de 6 semaines est dépassé : votre espace est "
                "ouvert. Vous pouvez le fermer à tout moment."
            ),
            code="opposition_late",
        )
    # LC-11: a new opposition after the confirmation letter closes the old
    # DMP for good.
    closes_legacy = current.legacy_dmp and current.legacy_confirmation_at is not None
    return _transition(
        current,
        from_states=(State.INFORMED,),
        to=State.OPPOSED,
        actor=actor,
        channel=channel,
        reason="lc11.opposed_again" if closes_legacy else "lc4.opposed",
        action_label=_("s'opposer à la création de"),
        condition=Q(opposition_until__gte=timezone.now()),
        updates={"legacy_dmp_closed_at": timezone.now()} if closes_legacy else None,
        request=request,
    )


@transaction.atomic
def space_auto_open(*, space: Space) -> Space:
    """LC-5: 6 weeks after the information, with no opposition, the space and
    its DMP open (one space; the batch job does the same set-based)."""
    now = timezone.now()
    return _transition(
        space,
        from_states=(State.INFORMED,),
        to=State.AUTO_OPENED,
        actor=None,
        channel=Channel.BATCH,
        reason="lc5.auto_opened",
        action_label=_("ouvrir"),
        updates={"opened_at": now, "dmp_created_at": now},
        condition=Q(opposition_until__lte=now),
    )


@transaction.atomic
def space_activate(
    *,
    actor: User | None,
    space: Space,
    channel: str = Channel.WEB,
    request: HttpRequest | None = None,
) -> Space:
    """LC-6: activation by the holder, before or after the automatic opening."""
    now = timezone.now()
    current = Space.objects.get(pk=space.pk)
    updates: dict[str, Any] = {"opened_at": current.opened_at or now}
    if current.dmp_created_at is None:
        updates["dmp_created_at"] = now
    return _transition(
        current,
        from_states=(State.INFORMED, State.AUTO_OPENED),
        to=State.ACTIVATED,
        actor=actor,
        channel=channel,
        reason="lc6.activated",
        action_label=_("activer"),
        updates=updates,
        request=request,
    )


@transaction.atomic
def space_close(
    *,
    actor: User | None,
    space: Space,
    channel: str,
    reason: str = "lc8.closed",
    request: HttpRequest | None = None,
) -> Space:
    """LC-8: closure at any time; the data is archived 10 years, then purged."""
    now = timezone.now()
    return _transition(
        space,
        from_states=(State.ACTIVATED, State.AUTO_OPENED, State.SUSPENDED),
        to=State.CLOSED,
        actor=actor,
        channel=channel,
        reason=reason,
        action_label=_("fermer"),
        updates={
            "closed_at": now,
            "purge_after": now + ARCHIVE_PERIOD,
            "deletion_requested_at": None,
            "suspension_ends_at": None,
            "suspended_from": "",
        },
        request=request,
    )


@transaction.atomic
def space_request_deletion(
    *,
    actor: User | None,
    space: Space,
    channel: str,
    request: HttpRequest | None = None,
) -> Space:
    """LC-8: early deletion of a closed space's archive, honoured within 3 months."""
    now = timezone.now()
    changed = Space.objects.filter(
        pk=space.pk, state=State.CLOSED, deletion_requested_at__isnull=True
    ).update(
        deletion_requested_at=now,
        purge_after=now + EARLY_DELETION_DELAY,
        updated_at=now,
    )
    current = Space.objects.get(pk=space.pk)
    if not changed:
        if current.state == State.CLOSED:
            return current
        raise _refuse(current, _("supprimer"))
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=current,
        patient=current.beneficiary_id,
        code="lc8.deletion_requested",
        request=request,
    )
    return current


@transaction.atomic
def space_reopen(
    *,
    actor: User | None,
    space: Space,
    channel: str,
    request: HttpRequest | None = None,
) -> Space:
    """LC-4/LC-8: an opposed or closed person asks for their space. A closed
    space comes back with its archived data; a holder who never activated must
    then activate it with a provisional code."""
    current = Space.objects.get(pk=space.pk)
    has_account = Beneficiary.objects.filter(
        pk=current.beneficiary_id, user__isnull=False
    ).exists()
    to = State.ACTIVATED if has_account else State.AUTO_OPENED
    now = timezone.now()
    return _transition(
        current,
        from_states=(State.OPPOSED, State.CLOSED),
        to=to,
        actor=actor,
        channel=channel,
        reason="lc8.reopened",
        action_label=_("rouvrir"),
        updates={
            "opened_at": now,
            "dmp_created_at": current.dmp_created_at or now,
            "closed_at": None,
            "purge_after": None,
            "deletion_requested_at": None,
        },
        request=request,
    )


@transaction.atomic
def space_suspend(
    *,
    actor: User | None,
    space: Space,
    reason: str = "lc9.fraud",
    request: HttpRequest | None = None,
) -> Space:
    """LC-9: suspended for fraud or malfunction; closes by itself after 6 weeks
    unless the holder objects."""
    current = Space.objects.get(pk=space.pk)
    space = _transition(
        current,
        from_states=tuple(Space.OPEN_STATES),
        to=State.SUSPENDED,
        actor=actor,
        channel=Channel.PHONE,
        reason=reason,
        action_label=_("suspendre"),
        updates={
            "suspended_from": current.state,
            "suspension_ends_at": timezone.now() + SUSPENSION_WINDOW,
        },
        request=request,
    )
    # LC-9: the holder is told (e-mail without content; in the space otherwise).
    email = (
        Beneficiary.objects.filter(pk=space.beneficiary_id)
        .values_list("email", flat=True)
        .first()
    )
    notice = Notification.objects.create(
        beneficiary_id=space.beneficiary_id,
        kind="lc9.suspended",
        key=f"lc9.suspended:{space.pk}:{int(timezone.now().timestamp())}",
        channel=Notification.Channel.EMAIL if email else Notification.Channel.INAPP,
    )
    if email:
        from espace.tasks import notification_send

        transaction.on_commit(lambda: notification_send.delay(notice.pk))
    return space


@transaction.atomic
def space_restore(
    *,
    actor: User | None,
    space: Space,
    channel: str,
    request: HttpRequest | None = None,
) -> Space:
    """LC-9: the holder objected to the suspension; the space is back as it was."""
    current = Space.objects.get(pk=space.pk)
    back_to = current.suspended_from or State.ACTIVATED
    return _transition(
        current,
        from_states=(State.SUSPENDED,),
        to=back_to,
        actor=actor,
        channel=channel,
        reason="lc9.restored",
        action_label=_("rétablir"),
        updates={"suspended_from": "", "suspension_ends_at": None},
        request=request,
    )


@transaction.atomic
def space_purge(*, space: Space) -> Space:
    """LC-8: the archive period (or the early-deletion delay) is over."""
    return _transition(
        space,
        from_states=(State.CLOSED,),
        to=State.PURGED,
        actor=None,
        channel=Channel.BATCH,
        reason="lc8.purged",
        action_label=_("supprimer"),
        condition=Q(purge_after__lte=timezone.now()),
    )


# ---------------------------------------------------------------- journeys
# Activation (LC-6), opposition (LC-4) and closure (LC-8) by the holder online.


def beneficiary_is_minor(beneficiary: Beneficiary) -> bool:
    from espace.selectors import adult_cutoff

    return beneficiary.birth_date > adult_cutoff()


@transaction.atomic
def space_account_create(
    *,
    code_row: ProvisionalCode,
    username: str,
    email: str,
    password: str,
    request: HttpRequest | None = None,
) -> User:
    """LC-6: the checked provisional code is spent, the holder's login is
    created and the space is activated (after the automatic opening too). An
    opposed person who changed their mind gets their space opened first."""
    from espace.codes import code_consume

    code_consume(code_row=code_row)
    space = Space.objects.select_for_update().get(pk=code_row.space_id)
    beneficiary = Beneficiary.objects.select_for_update().get(pk=space.beneficiary_id)
    if beneficiary_is_minor(beneficiary):
        raise ValidationError(
            _(
                "L'espace d'un enfant s'active depuis l'espace de son représentant "
                "légal. À ses 18 ans, il reçoit son propre code."
            ),
            code="minor",
        )
    if beneficiary.user_id is not None:
        user = User.objects.select_for_update().get(pk=beneficiary.user_id)
        if user.last_login is not None:
            raise ValidationError(
                _(
                    "Votre espace est déjà activé : connectez-vous avec votre "
                    "identifiant."
                ),
                code="already_activated",
            )
        # Activated but never logged in (an e-mail address mistyped, the code
        # never received): a new provisional code starts the activation again
        # and replaces the identifier, the address and the password.
        user_credentials_replace(
            user=user, username=username, email=email, password=password
        )
        audit_record(
            actor=user,
            action=AuditEvent.Action.UPDATE,
            target=user,
            patient=beneficiary.pk,
            code="lc6.activation_restarted",
            request=request,
        )
    else:
        first_name, _sep, _rest = beneficiary.first_names.partition(" ")
        user = user_create(
            actor=None,
            username=username,
            password=password,
            role=User.Role.PATIENT,
            email=email,
            first_name=first_name.title(),
            last_name=(beneficiary.usual_name or beneficiary.birth_name).title(),
        )
        # The contact address on file (from the Assurance maladie) changes
        # only once the new one is proven by a first login (`login_complete`).
        Beneficiary.objects.filter(pk=beneficiary.pk).update(user=user)
    if space.state in (State.OPPOSED, State.CLOSED):
        # Changed their mind (LC-4), or closed before ever activating (LC-8).
        space = space_reopen(
            actor=user, space=space, channel=Channel.WEB, request=request
        )
    space_activate(actor=user, space=space, channel=Channel.WEB, request=request)
    return user


@transaction.atomic
def space_oppose_with_code(
    *,
    code_row: ProvisionalCode,
    actor: User | None = None,
    channel: str = Channel.WEB,
    request: HttpRequest | None = None,
) -> Space:
    """LC-4: opposition proved by the provisional code (spent), online or by
    phone through an agent (A2.7: the 3422 also asks for the code)."""
    from espace.codes import code_consume

    code_consume(code_row=code_row)
    space = Space.objects.get(pk=code_row.space_id)
    return space_oppose(actor=actor, space=space, channel=channel, request=request)


@transaction.atomic
def phone_action_audit(*, actor: User, space: Space, code: str) -> None:
    """An agent's act on the 3422 line that changes no state, for the record."""
    audit_record(
        actor=actor,
        action=AuditEvent.Action.EXECUTE,
        target=space,
        patient=space.beneficiary_id,
        code=code,
    )


@transaction.atomic
def new_code_by_letter(*, actor: User, space: Space) -> Notification:
    """LC-3 by phone: a new code by post, printed with the next letter batch."""
    notification = Notification.objects.create(
        beneficiary_id=space.beneficiary_id,
        kind="lc3.new_code",
        channel=Notification.Channel.LETTER,
        key=f"lc3.new_code:{space.pk}:letter:{timezone.now().timestamp()}",
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        target=notification,
        patient=space.beneficiary_id,
        code="lc3.new_code.letter",
    )
    return notification


@transaction.atomic
def space_close_by_holder(
    *, actor: User, early_deletion: bool, request: HttpRequest | None = None
) -> Space:
    """LC-8: the holder closes their space; a confirmation e-mail follows."""
    space = Space.objects.get(beneficiary__user=actor)
    space = space_close(actor=actor, space=space, channel=Channel.WEB, request=request)
    if early_deletion:
        space = space_request_deletion(
            actor=actor, space=space, channel=Channel.WEB, request=request
        )
    if actor.email:
        context = {"early_deletion": early_deletion, "purge_after": space.purge_after}
        transaction.on_commit(lambda: _mail(actor.email, "closure", context))
    return space


def space_closed_for_fraud(*, space: Space) -> bool:
    """LC-9: closed at the end of a suspension: only the 3422 may reopen it."""
    last = space.history.filter(to_state=State.CLOSED).order_by("-at", "-pk").first()
    return last is not None and last.reason.startswith("lc9.")


@transaction.atomic
def space_reopen_by_holder(*, actor: User, request: HttpRequest | None = None) -> Space:
    """LC-8: a holder who closed their space opens it again; the archived
    data is back. Not after a fraud suspension (LC-9): that goes by phone."""
    space = Space.objects.get(beneficiary__user=actor)
    if space_closed_for_fraud(space=space):
        raise ValidationError(
            _("Votre espace a été fermé après une suspension : appelez le 3422."),
            code="fraud",
        )
    return space_reopen(actor=actor, space=space, channel=Channel.WEB, request=request)


# ---------------------------------------------------------------- children (LC-10)


INVITATIONS_PER_DAY = 10


@transaction.atomic
def representation_invite(
    *,
    actor: User,
    minor: Beneficiary,
    nir: str,
    birth_date: Any,
    request: HttpRequest | None = None,
) -> LegalRepresentation | None:
    """LC-10: a legal representative invites the child's other parent, found
    by NIR and birth date. The answer never says whether that person exists;
    they accept (or refuse) from their own account."""
    from django.core.cache import cache

    from lib.identifiers import compact_nir

    # SEC-3: each try is a (NIR, birth date) guess; a few a day are plenty.
    key = f"lc10-invite:{actor.pk}"
    cache.add(key, 0, timeout=24 * 3600)
    if cache.incr(key) > INVITATIONS_PER_DAY:
        raise ValidationError(
            _(
                "Vous avez envoyé beaucoup d'invitations aujourd'hui : "
                "réessayez demain, ou appelez le 3422."
            ),
            code="throttled",
        )
    inviter = Beneficiary.objects.get(user=actor)
    other = (
        Beneficiary.objects.filter(nir=compact_nir(nir).upper(), birth_date=birth_date)
        .exclude(pk__in=[inviter.pk, minor.pk])
        .first()
    )
    if other is None or other.user_id is None:
        return None
    # A child has two legal representatives at most, and a refused
    # invitation is not sent again (no flooding).
    current = LegalRepresentation.objects.filter(
        minor=minor,
        status__in=[
            LegalRepresentation.Status.ACTIVE,
            LegalRepresentation.Status.INVITED,
        ],
    )
    if current.count() >= MAX_REPRESENTATIVES:
        return None
    invitation, created = LegalRepresentation.objects.get_or_create(
        representative=other,
        minor=minor,
        defaults={"status": LegalRepresentation.Status.INVITED},
    )
    if not created:
        return invitation  # already invited, refused, or a representative
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        target=invitation,
        patient=minor.pk,
        code="lc10.invited",
        request=request,
    )
    Notification.objects.get_or_create(
        key=f"lc10.invitation:{invitation.pk}",
        defaults={
            "beneficiary": other,
            "kind": "lc10.invitation",
            "channel": Notification.Channel.INAPP,
        },
    )
    return invitation


@transaction.atomic
def representation_answer(
    *,
    actor: User,
    invitation: LegalRepresentation,
    accept: bool,
    request: HttpRequest | None = None,
) -> None:
    """LC-10: the invited parent accepts (the child's space appears in their
    account) or refuses (the invitation is gone)."""
    changed = LegalRepresentation.objects.filter(
        pk=invitation.pk,
        representative__user=actor,
        status=LegalRepresentation.Status.INVITED,
    )
    changed.update(
        status=LegalRepresentation.Status.ACTIVE
        if accept
        else LegalRepresentation.Status.REFUSED
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE if accept else AuditEvent.Action.DELETE,
        target=("espace.legalrepresentation", invitation.pk),
        patient=invitation.minor_id,
        code="lc10.accepted" if accept else "lc10.refused",
        request=request,
    )


def inbox_mark_read(*, actor: User, notifications: Sequence[Notification]) -> int:
    """LC-12: the notifications the actor has just been shown are read (only
    those of their own profiles: `notifications` comes from `inbox_for`)."""
    unread = [n.pk for n in notifications if n.read_at is None]
    if not unread:
        return 0
    return Notification.objects.filter(pk__in=unread, read_at__isnull=True).update(
        read_at=timezone.now()
    )
