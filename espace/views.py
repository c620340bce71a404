"""Login with two factors, enrolment, logout, homes (LC-7, SEC-2, SEC-3)."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from espace import selectors, services
from espace.decorators import patient_required, professional_required, role_required
from espace.forms import (
    AccountForm,
    CloseForm,
    CodeForm,
    IdentityCodeForm,
    InviteForm,
    LoginForm,
    NewCodeForm,
    ReauthForm,
    TotpEnrolForm,
)
from espace.models import Beneficiary, ProvisionalCode, Space, User
from lib.http import AuthenticatedHttpRequest, client_address

NEXT = "login_next"


def _home_for(user: object) -> str:
    role = getattr(user, "role", "")
    if role == "agent":
        return reverse("admin:index")
    if role == "professional":
        return reverse("espace:pro-home")
    return reverse("espace:patient-home")


def _after_login(request: HttpRequest) -> HttpResponse:
    target = request.session.pop(NEXT, "")
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, request.is_secure()
    ):
        return redirect(target)
    return redirect(_home_for(request.user))


@require_GET
def landing(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.user.is_verified():
        return redirect(_home_for(request.user))
    return render(request, "espace/landing.html")


@never_cache
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        user = authenticate(
            request,
            username=form.cleaned_data["identifier"],
            password=form.cleaned_data["password"],
        )
        if getattr(request, "axes_locked_out", False):
            services.login_refused(request=request, code="login.locked")
            return render(request, "espace/lockout.html", status=429)
        if user is None:
            services.login_refused(request=request, code="login.password_failed")
            # Same words and one hash for unknown and known identifiers.
            form.add_error(None, _("Identifiant ou mot de passe incorrect."))
        else:
            next_url = request.GET.get("next", "")
            services.login_pending_start(request=request, user=user)
            request.session[NEXT] = next_url
            return _second_factor(request, user)
    return render(request, "espace/login.html", {"form": form})


def _second_factor(request: HttpRequest, user: User) -> HttpResponse:
    device = services.login_device_for(user=user)
    if device is None and not user.needs_totp:
        # A patient with neither an authenticator nor an e-mail address.
        services.login_pending_clear(request=request)
        return render(request, "espace/login_no_channel.html", status=200)
    if device is None:
        return redirect("espace:totp-enrol")
    if not isinstance(device, TOTPDevice):
        services.login_code_send(user=user)
    return redirect("espace:login-code")


@never_cache
@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest) -> HttpResponse:
    user = services.login_pending_user(request=request)
    if user is None:
        messages.info(
            request,
            _("Identifiez-vous d'abord avec votre identifiant et votre mot de passe."),
        )
        return redirect("espace:login")
    device = services.login_device_for(user=user)
    if device is None:
        return redirect("espace:totp-enrol")
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        allowed, _info = device.verify_is_allowed()
        if allowed and device.verify_token(form.cleaned_data["code"]):
            services.login_complete(request=request, user=user, device=device)
            return _after_login(request)
        if services.login_code_failed(request=request, user=user):
            messages.error(
                request,
                _("Trop de codes incorrects. Reconnectez-vous depuis le début."),
            )
            return redirect("espace:login")
        form.add_error(
            "code",
            _("Code incorrect ou expiré.")
            if allowed
            else _("Trop d'essais : patientez quelques secondes."),
        )
    is_totp = isinstance(device, TOTPDevice)
    return render(
        request,
        "espace/login_code.html",
        {
            "form": form,
            "is_totp": is_totp,
            "can_email": is_totp and not user.needs_totp,
        },
    )


@require_POST
def login_code_email(request: HttpRequest) -> HttpResponse:
    """A patient who enrolled TOTP may still ask for an e-mail code (or a new one)."""
    user = services.login_pending_user(request=request)
    if user is None or user.needs_totp:
        return redirect("espace:login")
    if services.login_code_send(user=user):
        messages.success(
            request, _("Un nouveau code vient de vous être envoyé par e-mail.")
        )
    else:
        messages.info(
            request,
            _(
                _(
                    "Un code vient déjà d'être envoyé : patientez avant d'en demander un autre."
                )
            ),
        )
    # The e-mail device is used from now on for this login.
    request.session["login_by_email"] = True
    return redirect("espace:login-code-email-entry")


@never_cache
@require_http_methods(["GET", "POST"])
def login_code_email_entry(request: HttpRequest) -> HttpResponse:
    user = services.login_pending_user(request=request)
    if user is None or user.needs_totp or not request.session.get("login_by_email"):
        return redirect("espace:login")
    device = services.login_email_device(user=user)
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        allowed, _info = device.verify_is_allowed()
        if allowed and device.verify_token(form.cleaned_data["code"]):
            request.session.pop("login_by_email", None)
            services.login_complete(request=request, user=user, device=device)
            return _after_login(request)
        if services.login_code_failed(request=request, user=user):
            messages.error(
                request,
                _("Trop de codes incorrects. Reconnectez-vous depuis le début."),
            )
            return redirect("espace:login")
        form.add_error("code", _("Code incorrect ou expiré."))
    return render(request, "espace/login_code.html", {"form": form, "is_totp": False})


@never_cache
@require_http_methods(["GET", "POST"])
def totp_enrol(request: HttpRequest) -> HttpResponse:
    """QR code enrolment (SEC-2).

    Halfway through a login, only a professional or agent who has no
    authenticator yet may enrol one (their first login). Anyone else enrols or
    replaces theirs from a verified session, after typing their password again.
    """
    pending = services.login_pending_user(request=request)
    if pending is not None and not services.totp_first_enrolment_allowed(user=pending):
        return redirect("espace:login-code")
    user = pending or (
        request.user
        if request.user.is_authenticated and request.user.is_verified()
        else None
    )
    if user is None:
        return redirect("espace:login")
    device = services.totp_device_pending(user=user)
    if device is None or request.method == "GET":
        device = services.totp_device_start(user=user)
    form = TotpEnrolForm(
        request.POST if request.method == "POST" else None,
        user=user,
        reauth=pending is None,
    )
    if request.method == "POST" and form.is_valid():
        if services.totp_device_confirm(
            actor=user, device=device, token=form.cleaned_data["code"], request=request
        ):
            if pending is not None:
                services.login_complete(request=request, user=pending, device=device)
                return _after_login(request)
            messages.success(
                request, _("Votre application d'authentification est enregistrée.")
            )
            return redirect(_home_for(user))
        form.add_error(
            "code",
            _("Code incorrect : vérifiez l'heure de votre téléphone et réessayez."),
        )
    context = {
        "form": form,
        "qr": services.totp_qr_svg(device),
        "secret": services.totp_secret_text(device),
        "mandatory": user.needs_totp,
    }
    return render(request, "espace/totp_enrol.html", context)


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    services.logout_user(request=request)
    messages.success(request, _("Vous êtes déconnecté."))
    return redirect("espace:login")


@require_GET
@patient_required
def patient_home(request: AuthenticatedHttpRequest) -> HttpResponse:
    profiles = selectors.profile_list_for(actor=request.user)
    context = {
        "profiles": profiles,
        "active": selectors.profile_active_for(
            actor=request.user, profile_id=request.session.get(PROFILE)
        ),
        "invitations": selectors.invitation_list_for(actor=request.user),
    }
    return render(request, "espace/patient_home.html", context)


PROFILE = "profile_id"


def active_profile(request: AuthenticatedHttpRequest) -> Beneficiary:
    """The patient the logged-in holder is acting for (their own space, or a
    child's chosen with `profile_switch`); 404 when they have none."""
    profile = selectors.profile_active_for(
        actor=request.user, profile_id=request.session.get(PROFILE)
    )
    if profile is None:
        raise Http404
    return profile


@never_cache
@require_GET
@patient_required
def inbox(request: AuthenticatedHttpRequest) -> HttpResponse:
    """LC-12: the in-app notifications; shown means read."""
    from espace.notifications import inapp_text

    notifications = selectors.inbox_for(actor=request.user)
    items = [
        {
            "notification": n,
            "text": inapp_text(n.kind)[0],
            "url": reverse(inapp_text(n.kind)[1]) if inapp_text(n.kind)[1] else "",
            "unread": n.read_at is None,
            "own": n.beneficiary.user_id == request.user.pk,
        }
        for n in notifications
    ]
    services.inbox_mark_read(actor=request.user, notifications=notifications)
    return render(request, "espace/inbox.html", {"items": items})


@require_POST
@patient_required
def profile_switch(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """LC-10: act in a child's space (or back in one's own)."""
    profile = selectors.profile_get_for(actor=request.user, pk=pk)
    request.session[PROFILE] = profile.pk
    return redirect("espace:patient-home")


@never_cache
@require_http_methods(["GET", "POST"])
@patient_required
def profile_share(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """LC-10: invite the child's other parent to co-manage the space."""
    child = selectors.profile_get_for(actor=request.user, pk=pk)
    if child.user_id == request.user.pk:
        raise Http404  # one's own space is not shared this way
    form = InviteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.representation_invite(
                actor=request.user,
                minor=child,
                nir=form.cleaned_data["nir"],
                birth_date=form.cleaned_data["birth_date"],
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error)
            return render(
                request,
                "espace/profile_share.html",
                {"child": child, "form": form},
                status=429,
            )
        messages.success(
            request,
            _(
                "Si cette personne a activé son espace, elle trouvera votre "
                "invitation en se connectant."
            ),
        )
        return redirect("espace:patient-home")
    return render(request, "espace/profile_share.html", {"child": child, "form": form})


@require_POST
@patient_required
def invitation_accept(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    invitation = selectors.invitation_get_for(actor=request.user, pk=pk)
    services.representation_answer(
        actor=request.user, invitation=invitation, accept=True, request=request
    )
    messages.success(request, _("Vous gérez maintenant cet espace."))
    return redirect("espace:patient-home")


@require_POST
@patient_required
def invitation_refuse(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    invitation = selectors.invitation_get_for(actor=request.user, pk=pk)
    services.representation_answer(
        actor=request.user, invitation=invitation, accept=False, request=request
    )
    messages.info(request, _("Invitation refusée."))
    return redirect("espace:patient-home")


@require_GET
@professional_required
def pro_home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """CONS-1: the professional's patients in care (médecin traitant, care
    relationships), with the ways to find another one."""
    from django.core.paginator import Paginator

    from dmp.pro_selectors import PATIENTS_PER_PAGE, patients_in_care_for

    patients = Paginator(patients_in_care_for(actor=request.user), PATIENTS_PER_PAGE)
    page = patients.get_page(request.GET.get("page"))
    return render(request, "espace/pro_home.html", {"page": page})


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "espace/password_reset.html"
    email_template_name = "emails/password-reset-body.txt"
    html_email_template_name = "emails/password-reset-body.html"
    subject_template_name = "emails/password-reset-subject.txt"
    success_url = reverse_lazy("espace:password-reset-done")
    extra_email_context = {"SERVICE_NAME": "Mon espace santé"}

    def form_valid(self, form: Any) -> HttpResponse:
        # SEC-3: a mailbox cannot be flooded from one address; the answer is
        # the same whether the address is known or not.
        if not services.password_reset_allowed(request=self.request):
            return redirect(self.success_url)
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "espace/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "espace/password_reset_confirm.html"
    success_url = reverse_lazy("espace:password-reset-complete")
    post_reset_login = False


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "espace/password_reset_complete.html"


# ---------------------------------------------------------------- journeys
# Activation (LC-6), opposition (LC-4), new code (LC-3), closure (LC-8).

JOURNEY = "journey_code"
JOURNEY_TTL = 15 * 60


def _journey_start(request: HttpRequest, purpose: str, code_id: int) -> None:
    request.session.cycle_key()
    request.session[JOURNEY] = {"purpose": purpose, "id": code_id, "at": time.time()}


def _journey_code(request: HttpRequest, purpose: str) -> ProvisionalCode | None:
    """The provisional code checked at the first step, if still fresh and unused."""
    journey = request.session.get(JOURNEY) or {}
    if (
        journey.get("purpose") != purpose
        or time.time() - journey.get("at", 0) > JOURNEY_TTL
    ):
        return None
    return (
        ProvisionalCode.objects.select_related("space", "space__beneficiary")
        .filter(
            pk=int(journey.get("id") or 0),
            used_at__isnull=True,
            revoked_at__isnull=True,
        )
        .first()
    )


def _identity_step(
    request: HttpRequest, purpose: str, next_url: str, template: str
) -> HttpResponse:
    from espace.codes import code_check

    form = IdentityCodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            code_row = code_check(
                nir=data["nir"],
                vitale_serial=data["vitale_serial"],
                birth_date=data["birth_date"],
                code=data["code"],
                client_address=client_address(request),
            )
        except ValidationError as error:
            form.add_error(None, error)
            status = 429 if getattr(error, "code", "") == "throttled" else 200
            return render(request, template, {"form": form}, status=status)
        _journey_start(request, purpose, code_row.pk)
        return redirect(next_url)
    return render(request, template, {"form": form})


@never_cache
@require_http_methods(["GET", "POST"])
def activation(request: HttpRequest) -> HttpResponse:
    return _identity_step(
        request, "activation", "espace:activation-account", "espace/activation.html"
    )


@never_cache
@require_http_methods(["GET", "POST"])
def activation_account(request: HttpRequest) -> HttpResponse:
    code_row = _journey_code(request, "activation")
    if code_row is None:
        messages.info(request, _("Commencez par saisir votre code provisoire."))
        return redirect("espace:activation")
    beneficiary = code_row.space.beneficiary
    initial = {"email": beneficiary.email}
    form = AccountForm(
        request.POST if request.method == "POST" else None, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.space_account_create(
                code_row=code_row,
                username=data["username"],
                email=data["email"],
                password=data["password1"],
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            request.session.pop(JOURNEY, None)
            messages.success(
                request,
                _("Votre espace est activé. Dernière étape : le code reçu par e-mail."),
            )
            services.login_pending_start(request=request, user=user)
            return _second_factor(request, user)
    return render(request, "espace/activation_account.html", {"form": form})


@never_cache
@require_http_methods(["GET", "POST"])
def opposition(request: HttpRequest) -> HttpResponse:
    return _identity_step(
        request, "opposition", "espace:opposition-confirm", "espace/opposition.html"
    )


@never_cache
@require_http_methods(["GET", "POST"])
def opposition_confirm(request: HttpRequest) -> HttpResponse:
    code_row = _journey_code(request, "opposition")
    if code_row is None:
        return redirect("espace:opposition")
    space = code_row.space
    if request.method == "POST":
        try:
            space = services.space_oppose_with_code(code_row=code_row, request=request)
        except ValidationError as error:
            return render(
                request,
                "espace/opposition_confirm.html",
                {"space": space, "error": error},
                status=200,
            )
        request.session.pop(JOURNEY, None)
        request.session["opposition_receipt"] = {"space": space.pk, "at": time.time()}
        return redirect("espace:opposition-done")
    return render(request, "espace/opposition_confirm.html", {"space": space})


def _receipt_space(request: HttpRequest) -> Space | None:
    receipt = request.session.get("opposition_receipt") or {}
    if time.time() - receipt.get("at", 0) > JOURNEY_TTL:
        return None
    return (
        Space.objects.select_related("beneficiary")
        .filter(pk=int(receipt.get("space") or 0), state=Space.State.OPPOSED)
        .first()
    )


@never_cache
@require_GET
def opposition_done(request: HttpRequest) -> HttpResponse:
    space = _receipt_space(request)
    if space is None:
        return redirect("espace:opposition")
    return render(request, "espace/opposition_done.html", {"space": space})


@never_cache
@require_GET
def opposition_receipt(request: HttpRequest) -> HttpResponse:
    """LC-4: the PDF proof of the opposition (A2.7)."""
    from lib.pdf import render_pdf

    space = _receipt_space(request)
    if space is None:
        raise Http404
    opposed = space.history.filter(to_state=Space.State.OPPOSED).order_by("-at").first()
    html = render_to_string(
        "letters/opposition-receipt.html",
        {
            "space": space,
            "beneficiary": space.beneficiary,
            "opposed": opposed,
            "SITE_URL": settings.SITE_URL,
        },
    )
    response = HttpResponse(render_pdf(html), content_type="application/pdf")
    response["Content-Disposition"] = (
        'attachment; filename="attestation-opposition.pdf"'
    )
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def new_code(request: HttpRequest) -> HttpResponse:
    """LC-3 "Générer un nouveau code provisoire": the answer never tells
    whether the NIR exists."""
    from espace.notifications import NEW_CODE_ANSWER, new_code_request
    from espace.tasks import notification_send

    form = NewCodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            notification_id = new_code_request(
                nir=data["nir"],
                birth_date=data["birth_date"],
                vitale_serial=data["vitale_serial"],
                channel=data["channel"],
                client_address=client_address(request),
            )
        except ValidationError as error:
            form.add_error(None, error)
            return render(request, "espace/new_code.html", {"form": form}, status=429)
        if notification_id is not None:
            transaction.on_commit(lambda: notification_send.delay(notification_id))
        messages.success(request, str(NEW_CODE_ANSWER))
        return redirect("espace:new-code")
    return render(request, "espace/new_code.html", {"form": form})


@never_cache
@require_http_methods(["GET", "POST"])
@patient_required
def space_close(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = CloseForm(
        request.POST if request.method == "POST" else None, user=request.user
    )
    if request.method == "POST" and form.is_valid():
        services.space_close_by_holder(
            actor=request.user,
            early_deletion=form.cleaned_data["early_deletion"],
            request=request,
        )
        services.logout_user(request=request, code="logout.closed")
        return redirect("espace:space-closed-info")
    return render(request, "espace/space_close.html", {"form": form})


@require_GET
def space_closed_info(request: HttpRequest) -> HttpResponse:
    return render(request, "espace/space_closed_info.html")


@never_cache
@require_http_methods(["GET", "POST"])
@role_required("patient", any_state=True)
def space_reopen(request: AuthenticatedHttpRequest) -> HttpResponse:
    """LC-8: a holder whose space is closed logs in and opens it again, after
    typing the password again (sensitive action, R11)."""
    space = Space.objects.filter(beneficiary__user=request.user).first()
    if space is None or space.is_open:
        return redirect("espace:patient-home")
    form = ReauthForm(
        request.POST if request.method == "POST" else None, user=request.user
    )
    if (
        request.method == "POST"
        and space.state == Space.State.CLOSED
        and form.is_valid()
    ):
        try:
            services.space_reopen_by_holder(actor=request.user, request=request)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, _("Votre espace est de nouveau ouvert, avec vos données.")
            )
            return redirect("espace:patient-home")
    fraud = services.space_closed_for_fraud(space=space)
    return render(
        request,
        "espace/space_reopen.html",
        {"space": space, "form": form, "fraud": fraud},
    )
