"""Writes of the espace app (STYLE R5): logins, second factors, accounts."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib.auth import login as django_login
from django.contrib.auth import logout as django_logout
from django.db import transaction
from django.http import HttpRequest
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_email.models import EmailDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent
from audit.services import audit_record
from espace.models import User

PENDING_USER = "pending_user_id"
PENDING_SINCE = "pending_since"
PENDING_FAILURES = "pending_failures"
PENDING_TTL = 15 * 60


def login_pending_start(*, request: HttpRequest, user: User) -> None:
    """First factor accepted: remember who is halfway in, on a fresh session key."""
    request.session.cycle_key()
    request.session[PENDING_USER] = user.pk
    request.session[PENDING_SINCE] = time.time()
    request.session[PENDING_FAILURES] = 0


def login_pending_user(*, request: HttpRequest) -> User | None:
    user_id = request.session.get(PENDING_USER)
    since = request.session.get(PENDING_SINCE, 0)
    if not user_id or time.time() - since > PENDING_TTL:
        return None
    return User.objects.filter(pk=user_id, is_active=True).first()


def login_pending_clear(*, request: HttpRequest) -> None:
    for key in (PENDING_USER, PENDING_SINCE, PENDING_FAILURES):
        request.session.pop(key, None)


def login_device_for(*, user: User) -> Device | None:
    """The confirmed TOTP device, else (patients only) the e-mail device."""
    totp = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if totp is not None:
        return totp
    if user.needs_totp:
        return None  # must enrol first (SEC-2)
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
    TOTPDevice.objects.filter(user=actor, confirmed=True).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        target=device,
        code="totp.enrolled",
        request=request,
    )
    return True


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
