"""Writes of the consent app (STYLE R5): care relationships, blocks, emergency
settings and emergency accesses, and the notices they trigger (CONS-1 to
CONS-6). Each one is one transaction with one audit entry (ids and codes:
an emergency access's written reason is kept encrypted on its own row).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import audit_record
from consent.models import (
    Block,
    CareRelationship,
    EmergencyAccess,
    PrivacySettings,
    ProfessionalNotice,
)
from consent.policy import (
    EMERGENCY,
    Access,
    Purpose,
    access_audit,
    access_for,
    dmp_exists,
    emergency_allowed,
    is_representative,
)
from espace.models import Beneficiary, Notification, Professional, User

Action = AuditEvent.Action
REASON_MIN = 15
REASON_MAX = 1000


def _professional_of(actor: User) -> Professional:
    professional = getattr(actor, "professional", None)
    if actor.role != User.Role.PROFESSIONAL or professional is None:
        raise PermissionDenied
    return professional  # type: ignore[no-any-return]


def _manage(
    *,
    actor: User,
    patient: Beneficiary,
    code: str,
    target: object,
    request: HttpRequest | None,
) -> Access:
    """The patient side (the holder, or a representative of a child)."""
    access = access_for(actor=actor, patient=patient, purpose=Purpose.MANAGE)
    if not access.allowed:
        access_audit(
            access, action=Action.UPDATE, target=target, code=code, request=request
        )
        raise PermissionDenied
    return access


# ---------------------------------------------------------------- care (CONS-1)


def care_declare(
    *,
    actor: User,
    patient: Beneficiary,
    kind: str,
    request: HttpRequest | None = None,
) -> CareRelationship:
    """CONS-1: a professional declares the patient's consent collected at a
    consultation, or their membership of the care team. A blocked
    professional cannot (CONS-2); a patient without a DMP has none to open."""
    professional = _professional_of(actor)
    if kind not in CareRelationship.Kind.values:
        raise ValidationError(_("Choisissez le motif de l'accès."), code="kind")
    refused = ""
    if not dmp_exists(patient):
        refused = "no_dmp"
    elif (
        patient.medecin_traitant_id != professional.pk
        and Block.objects.filter(patient=patient, professional=professional).exists()
    ):
        refused = "blocked"
    if refused:
        audit_record(
            actor=actor,
            action=Action.CREATE,
            target="consent.carerelationship",
            patient=patient,
            outcome=AuditEvent.Outcome.MINOR_FAILURE,
            code=f"consent.care.declare:refused.{refused}",
            request=request,
        )
        raise PermissionDenied
    with transaction.atomic():
        relationship = CareRelationship.objects.filter(
            patient=patient, professional=professional, revoked_at__isnull=True
        ).first()
        if relationship is None:
            relationship = CareRelationship.objects.create(
                patient=patient, professional=professional, kind=kind
            )
        audit_record(
            actor=actor,
            action=Action.CREATE,
            target=relationship,
            patient=patient,
            code=f"consent.care.declare:{relationship.kind}",
            request=request,
        )
    return relationship


def care_revoke(
    *,
    actor: User,
    relationship: CareRelationship,
    request: HttpRequest | None = None,
) -> CareRelationship:
    """CONS-5: the patient (or a representative) revokes a professional's
    access from the authorisations page; a professional may end their own."""
    patient = relationship.patient
    own = (
        actor.role == User.Role.PROFESSIONAL
        and getattr(actor, "professional", None) is not None
        and actor.professional.pk == relationship.professional_id
    )
    basis = "author"  # a professional ending their own access
    if not own:
        basis = _manage(
            actor=actor,
            patient=patient,
            code="consent.care.revoke",
            target=relationship,
            request=request,
        ).code
    with transaction.atomic():
        CareRelationship.objects.filter(
            pk=relationship.pk, revoked_at__isnull=True
        ).update(revoked_at=timezone.now(), revoked_by=actor)
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            target=relationship,
            patient=patient,
            code=f"consent.care.revoke:{basis}",
            request=request,
        )
    relationship.refresh_from_db()
    return relationship


# ---------------------------------------------------------------- blocks (CONS-2)


def professional_block(
    *,
    actor: User,
    patient: Beneficiary,
    professional: Professional,
    request: HttpRequest | None = None,
) -> Block:
    """CONS-2: a blocked professional sees nothing and deposits nothing. The
    médecin traitant cannot be blocked: the patient changes médecin traitant
    instead (with the Assurance maladie)."""
    access = _manage(
        actor=actor,
        patient=patient,
        code="consent.block",
        target=("espace.professional", professional.pk),
        request=request,
    )
    if patient.medecin_traitant_id == professional.pk:
        raise ValidationError(
            _(
                "Votre médecin traitant ne peut pas être bloqué. Pour en changer, "
                "déclarez un nouveau médecin traitant auprès de l'Assurance Maladie."
            ),
            code="medecin_traitant",
        )
    with transaction.atomic():
        block, _created = Block.objects.get_or_create(
            patient=patient, professional=professional
        )
        audit_record(
            actor=actor,
            action=Action.CREATE,
            target=block,
            patient=patient,
            code=f"consent.block:{access.code}",
            request=request,
        )
    return block


def professional_unblock(
    *,
    actor: User,
    patient: Beneficiary,
    professional: Professional,
    request: HttpRequest | None = None,
) -> None:
    access = _manage(
        actor=actor,
        patient=patient,
        code="consent.unblock",
        target=("espace.professional", professional.pk),
        request=request,
    )
    with transaction.atomic():
        Block.objects.filter(patient=patient, professional=professional).delete()
        audit_record(
            actor=actor,
            action=Action.DELETE,
            target=("espace.professional", professional.pk),
            patient=patient,
            code=f"consent.unblock:{access.code}",
            request=request,
        )


# ---------------------------------------------------------------- emergency (CONS-6)


def privacy_settings_update(
    *,
    actor: User,
    patient: Beneficiary,
    bris_de_glace: bool,
    samu: bool,
    request: HttpRequest | None = None,
) -> PrivacySettings:
    """CONS-6: the two emergency accesses, each opposable on its own."""
    access = _manage(
        actor=actor,
        patient=patient,
        code="consent.emergency_settings",
        target="consent.privacysettings",
        request=request,
    )
    with transaction.atomic():
        privacy, _created = PrivacySettings.objects.get_or_create(patient=patient)
        privacy.bris_de_glace = bris_de_glace
        privacy.samu = samu
        privacy.save()
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            target=privacy,
            patient=patient,
            code=(
                f"consent.emergency_settings.bdg_{'on' if bris_de_glace else 'off'}"
                f".samu_{'on' if samu else 'off'}:{access.code}"
            ),
            request=request,
        )
    return privacy


def prevention_refusal_set(
    *,
    actor: User,
    patient: Beneficiary,
    refused: bool,
    request: HttpRequest | None = None,
) -> PrivacySettings:
    """CONS-9 (A8.4): the patient refuses personalised prevention messages,
    or accepts them again, at any time and without a reason. Takes effect at
    once: the next batch of a campaign being sent leaves them out, messages
    written but not yet notified are withheld (messagerie.campaign_jobs), and
    prevention e-mails still waiting in the outbox are dropped here."""
    from espace.notifications import PREVENTION

    _manage(
        actor=actor,
        patient=patient,
        code="cons9.prevention",
        target="consent.privacysettings",
        request=request,
    )
    with transaction.atomic():
        privacy, _created = PrivacySettings.objects.get_or_create(patient=patient)
        privacy.prevention_refused = refused
        privacy.save()
        if refused:
            Notification.objects.filter(
                beneficiary=patient,
                kind=PREVENTION,
                channel=Notification.Channel.EMAIL,
                status=Notification.Status.PENDING,
            ).delete()
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            target=privacy,
            patient=patient,
            code=f"cons9.prevention.{'refused' if refused else 'accepted'}",
            request=request,
        )
    return privacy


def privacy_settings_of(patient: Beneficiary) -> PrivacySettings:
    """The settings, or the defaults (both on) when never changed."""
    return PrivacySettings.objects.filter(patient=patient).first() or PrivacySettings(
        patient=patient
    )


def emergency_access_start(
    *,
    actor: User,
    patient: Beneficiary,
    mode: str,
    reason: str,
    request: HttpRequest | None = None,
) -> EmergencyAccess:
    """CONS-6: open the DMP in an emergency, with a written reason: "bris de
    glace" for any professional facing a patient unable to consent, or the
    SAMU-Centre 15 regulator. Refused when the patient opposed that mode.
    The patient and the médecin traitant are told afterwards."""
    professional = _professional_of(actor)
    reason = " ".join(reason.split())
    if mode not in EmergencyAccess.Mode.values:
        raise ValidationError(_("Choisissez le type d'accès en urgence."), code="mode")
    if len(reason) < REASON_MIN:
        raise ValidationError(
            _("Décrivez la situation d'urgence (%(n)s caractères au moins).")
            % {"n": REASON_MIN},
            code="reason",
        )
    if len(reason) > REASON_MAX:
        raise ValidationError(
            _("Le motif dépasse %(n)s caractères.") % {"n": REASON_MAX}, code="reason"
        )
    refused = ""
    if mode == EmergencyAccess.Mode.SAMU and not professional.is_samu_regulator:
        refused = "not_regulator"
    elif not dmp_exists(patient):
        refused = "no_dmp"
    elif Block.objects.filter(patient=patient, professional=professional).exists():
        refused = "blocked"
    elif not emergency_allowed(patient=patient, mode=mode):
        refused = "opposed"
    if refused:
        audit_record(
            actor=actor,
            action=Action.READ,
            target="consent.emergencyaccess",
            patient=patient,
            outcome=AuditEvent.Outcome.MINOR_FAILURE,
            code=f"consent.emergency.{mode}:refused.{refused}",
            request=request,
        )
        if refused == "opposed":
            raise ValidationError(
                _(
                    "Ce patient s'est opposé à ce type d'accès en urgence : "
                    "son dossier ne peut pas être ouvert ainsi."
                ),
                code="opposed",
            )
        raise PermissionDenied
    now = timezone.now()
    with transaction.atomic():
        emergency = EmergencyAccess.objects.create(
            patient=patient,
            professional=professional,
            mode=mode,
            reason=reason,
            ends_at=now + timedelta(minutes=int(settings.EMERGENCY_ACCESS_MINUTES)),
        )
        audit_record(
            actor=actor,
            action=Action.READ,
            target=emergency,
            patient=patient,
            code=f"consent.emergency.{mode}",
            request=request,
        )
        _emergency_notices(emergency)
    return emergency


def _emergency_notices(emergency: EmergencyAccess) -> None:
    """R1111-48: the patient (in the space and by e-mail) and the médecin
    traitant (by e-mail and in the portal) are told, one notice each per
    emergency access, never with its reason."""
    patient = emergency.patient
    Notification.objects.bulk_create(
        [
            Notification(
                beneficiary=patient,
                kind="cons6.emergency",
                key=f"cons6.emergency:{emergency.pk}:{channel}",
                channel=channel,
            )
            for channel in (Notification.Channel.INAPP, Notification.Channel.EMAIL)
        ],
        ignore_conflicts=True,
    )
    doctor = patient.medecin_traitant_id
    if doctor is not None and doctor != emergency.professional_id:
        ProfessionalNotice.objects.get_or_create(
            key=f"cons6.emergency:{emergency.pk}",
            defaults={
                "professional_id": doctor,
                "patient": patient,
                "kind": "cons6.emergency",
            },
        )


# ---------------------------------------------------------------- notices (CONS-3)


def access_notice(access: Access) -> None:
    """CONS-3: a professional read the DMP: the patient is told (in the space
    and by e-mail, without content) at the first access of that professional,
    then at most once a day per professional (the day is in the key)."""
    if access.professional is None or access.basis in EMERGENCY:
        return  # emergencies have their own notice (CONS-6)
    day = timezone.localdate().isoformat()
    base = f"cons3.access:{access.patient.pk}:{access.professional.pk}:{day}"
    Notification.objects.bulk_create(
        [
            Notification(
                beneficiary=access.patient,
                kind="cons3.access",
                key=f"{base}:{channel}",
                channel=channel,
            )
            for channel in (Notification.Channel.INAPP, Notification.Channel.EMAIL)
        ],
        ignore_conflicts=True,
    )


def representative_or_self(*, actor: User, patient: Beneficiary) -> bool:
    return patient.user_id == actor.pk or is_representative(
        actor=actor, patient=patient
    )
