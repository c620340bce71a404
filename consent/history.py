"""The patient's access history in words (CONS-4, A6.10): a French label
for each audit code, the kinds it can be filtered by, and its exports (CSV
and PDF). Knows no query: `consent.selectors.access_history_for` builds the
entries, this module names and writes them.

An audit code is `<action>[:<basis or refusal>]` (consent.policy.access_audit):
`dmp.document.read:care_consent`, `consent.block`, `dmp.documents.list:
refused.blocked`. Labels match on the action part, the longest known prefix
first, on whole dotted segments (`consent.block` is not `consent.blocks`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.models import AuditEvent


class Tab:
    MINE = "mine"
    OTHERS = "others"


TAB_LABELS = {
    Tab.MINE: gettext_lazy("Mes actions"),
    Tab.OTHERS: gettext_lazy("Les actions des autres"),
}

# How the data was reached (CONS-4: normal, emergency, service).
HOW_NORMAL = "normal"
HOW_EMERGENCY = "urgence"
HOW_SERVICE = "service"
HOW_LABELS = {
    HOW_NORMAL: gettext_lazy("Accès normal"),
    HOW_EMERGENCY: gettext_lazy("Accès en urgence"),
    HOW_SERVICE: gettext_lazy("Service référencé"),
}

_LABELS: dict[str, Promise] = {
    # The DMP (dmp.selectors, dmp.services)
    "dmp.documents": gettext_lazy("Consultation de la liste des documents"),
    "dmp.document.read": gettext_lazy("Consultation d'un document"),
    "dmp.document.download": gettext_lazy("Téléchargement d'un document"),
    "dmp.document.deposit": gettext_lazy("Ajout d'un document"),
    "dmp.document.new_version": gettext_lazy(
        "Ajout d'une nouvelle version d'un document"
    ),
    "dmp.document.delete": gettext_lazy("Suppression d'un document"),
    "dmp.document.mask": gettext_lazy("Masquage de document aux professionnels"),
    "dmp.document.unmask": gettext_lazy("Fin du masquage de document"),
    "dmp.document.announce": gettext_lazy(
        "Mise à disposition d'un résultat après la consultation d'annonce"
    ),
    "dmp.document.move": gettext_lazy("Classement d'un document"),
    "dmp.folder.create": gettext_lazy("Création d'un dossier"),
    "dmp.folder.rename": gettext_lazy("Renommage d'un dossier"),
    "dmp.folder.delete": gettext_lazy("Suppression d'un dossier"),
    "dmp.folders.list": gettext_lazy("Consultation de la liste des dossiers"),
    "dmp.folder.change": gettext_lazy("Modification d'un dossier"),
    "dmp.document.change": gettext_lazy("Modification d'un document"),
    # The medical profile and the administrative data (dmp.profile_*)
    "dmp.profile.read": gettext_lazy("Consultation du profil médical"),
    "dmp.profile.entry.read": gettext_lazy("Consultation d'une rubrique du profil"),
    "dmp.profile.entry.history": gettext_lazy(
        "Consultation de l'historique d'une rubrique du profil"
    ),
    "dmp.profile.entry.add": gettext_lazy("Ajout au profil médical"),
    "dmp.profile.entry.update": gettext_lazy("Modification du profil médical"),
    "dmp.profile.entry.delete": gettext_lazy("Suppression dans le profil médical"),
    "dmp.profile.measures.read": gettext_lazy("Consultation des mesures"),
    "dmp.profile.measure.add": gettext_lazy("Ajout d'une mesure"),
    "dmp.profile.measure.delete": gettext_lazy("Suppression d'une mesure"),
    "dmp.profile.copy": gettext_lazy("Copie du profil médical dans les documents"),
    "dmp.administrative.read": gettext_lazy("Consultation des données administratives"),
    "dmp.reimbursement.import": gettext_lazy(
        "Import de l'historique des remboursements par l'Assurance Maladie"
    ),
    # The professional portal
    "pro.patient.search": gettext_lazy("Recherche du dossier par un professionnel"),
    # Consent (consent.services, consent.selectors)
    "consent.emergency.bris_de_glace": gettext_lazy("Accès en urgence (bris de glace)"),
    "consent.emergency.samu": gettext_lazy(
        "Accès en urgence par le médecin régulateur du SAMU-Centre 15"
    ),
    "consent.emergency_settings": gettext_lazy(
        "Modification des réglages d'accès en urgence"
    ),
    "consent.care.declare": gettext_lazy("Déclaration d'accès au dossier"),
    "consent.care.revoke": gettext_lazy("Retrait de l'accès d'un professionnel"),
    "consent.block": gettext_lazy("Blocage d'un professionnel"),
    "consent.unblock": gettext_lazy("Déblocage d'un professionnel"),
    "consent.authorisations.read": gettext_lazy(
        "Consultation de la liste des professionnels autorisés"
    ),
    "consent.blocks.read": gettext_lazy(
        "Consultation de la liste des professionnels bloqués"
    ),
    "consent.privacy.read": gettext_lazy(
        "Consultation des réglages d'accès en urgence"
    ),
    "consent.history.read": gettext_lazy("Consultation de l'historique d'activité"),
    "consent.history.export_csv": gettext_lazy(
        "Export de l'historique d'activité (CSV)"
    ),
    "consent.history.export_pdf": gettext_lazy(
        "Export de l'historique d'activité (PDF)"
    ),
    # The profile's life (espace): import, information, codes, states
    "lc1.imported": gettext_lazy("Création du profil par l'Assurance Maladie"),
    "lc1.updated": gettext_lazy("Mise à jour des données administratives"),
    "lc2": gettext_lazy("Envoi de l'information sur Mon espace santé"),
    "lc3": gettext_lazy("Code provisoire"),
    "lc3.code_issued": gettext_lazy("Envoi d'un code provisoire"),
    "lc3.code_used": gettext_lazy("Utilisation du code provisoire"),
    "lc3.code_locked": gettext_lazy("Code provisoire bloqué après trop d'essais"),
    "lc3.new_code": gettext_lazy("Demande d'un nouveau code provisoire"),
    "lc3.new_code_requested": gettext_lazy("Demande d'un nouveau code provisoire"),
    "lc4.opposed": gettext_lazy("Opposition à la création du profil"),
    "lc5.auto_opened": gettext_lazy("Ouverture automatique du profil"),
    "lc6.activated": gettext_lazy("Activation du profil"),
    "lc6.activation_restarted": gettext_lazy("Reprise de l'activation du profil"),
    "lc8.closed": gettext_lazy("Fermeture du profil"),
    "lc8.reopened": gettext_lazy("Réouverture du profil"),
    "lc8.deletion_requested": gettext_lazy("Demande de suppression anticipée"),
    "lc8.purged": gettext_lazy("Suppression des données archivées"),
    "lc9": gettext_lazy("Suspension du profil"),
    "lc9.restored": gettext_lazy("Rétablissement du profil"),
    "lc9.closed": gettext_lazy("Fermeture du profil à la fin de la suspension"),
    "lc10.invited": gettext_lazy("Invitation d'un second représentant légal"),
    "lc10.accepted": gettext_lazy("Un représentant légal a accepté l'invitation"),
    "lc10.refused": gettext_lazy("Un représentant légal a refusé l'invitation"),
    "lc10.majority": gettext_lazy("Fin de l'accès des représentants légaux (18 ans)"),
    "lc10.adult_informed": gettext_lazy("Information à la majorité"),
    "lc11": gettext_lazy("Intégration du dossier médical créé avant 2022"),
    "lc11.opposed_again": gettext_lazy(
        "Opposition confirmée : fermeture du dossier médical créé avant 2022"
    ),
    "lc11.confirmation": gettext_lazy("Demande de confirmation de l'opposition"),
}
_OTHER = gettext_lazy("Autre opération sur le profil")

_CARE_KINDS = {
    "consent": gettext_lazy("consentement recueilli en consultation"),
    "care_team": gettext_lazy("équipe de soins"),
}
_REFUSALS = {
    "blocked": gettext_lazy("professionnel bloqué"),
    "not_in_care": gettext_lazy("aucun accès autorisé"),
    "not_related": gettext_lazy("aucun lien avec ce profil"),
    "no_dmp": gettext_lazy("dossier non ouvert"),
    "opposed": gettext_lazy("accès en urgence refusé par vos réglages"),
    "not_regulator": gettext_lazy("réservé au médecin régulateur du SAMU"),
    "not_visible": gettext_lazy("document non accessible"),
    "not_author": gettext_lazy("réservé à l'auteur du document"),
    "not_medecin_traitant": gettext_lazy("réservé au médecin traitant"),
    "patient_side_only": gettext_lazy("réservé au patient et à ses représentants"),
    "invalid": gettext_lazy("demande incorrecte"),
}

# The kinds the history can be narrowed to (`refus` is a flag, not a kind:
# every kind has its refused attempts). `profil` is whatever is in no other.
KIND_PREFIXES: dict[str, tuple[str, ...]] = {
    "consultation": (
        "dmp.documents",
        "dmp.document.read",
        "dmp.document.download",
        "dmp.folders.list",
        "dmp.profile.read",
        "dmp.profile.entry.read",
        "dmp.profile.entry.history",
        "dmp.profile.measures.read",
        "dmp.administrative.read",
        "pro.patient.search",
        "consent.authorisations.read",
        "consent.blocks.read",
        "consent.privacy.read",
        "consent.history",
    ),
    "ajout": (
        "dmp.document.deposit",
        "dmp.document.new_version",
        "dmp.document.announce",
    ),
    "suppression": ("dmp.document.delete",),
    "masquage": ("dmp.document.mask", "dmp.document.unmask"),
    "urgence": ("consent.emergency",),
    "autorisations": (
        "consent.care",
        "consent.block",
        "consent.unblock",
        "consent.emergency_settings",
    ),
    "classement": ("dmp.folder", "dmp.document.move"),
}
KINDS: dict[str, Promise] = {
    "consultation": gettext_lazy("Consultations"),
    "ajout": gettext_lazy("Ajouts de documents"),
    "suppression": gettext_lazy("Suppressions de documents"),
    "masquage": gettext_lazy("Masquages"),
    "urgence": gettext_lazy("Accès en urgence"),
    "autorisations": gettext_lazy("Autorisations et blocages"),
    "classement": gettext_lazy("Classement (dossiers)"),
    "profil": gettext_lazy("Vie du profil (ouverture, codes, représentants)"),
    "refus": gettext_lazy("Tentatives refusées"),
}
# Reads made under an emergency access carry the emergency basis.
_EMERGENCY_BASIS = ":emergency_"


def _matches(base: str, prefix: str) -> bool:
    return base == prefix or base.startswith(prefix + ".")


def _prefix_q(prefix: str) -> Q:
    return (
        Q(code=prefix)
        | Q(code__startswith=prefix + ".")
        | Q(code__startswith=prefix + ":")
    )


def kind_q(kind: str) -> Q:
    """The filter of one kind, on `audit.AuditEvent` (index-friendly: the
    patient and the period narrow the rows first)."""
    if kind == "refus":
        return ~Q(outcome=AuditEvent.Outcome.SUCCESS)
    if kind == "profil":
        known = Q(code__contains=_EMERGENCY_BASIS)
        for prefixes in KIND_PREFIXES.values():
            for prefix in prefixes:
                known |= _prefix_q(prefix)
        return ~known
    q = Q(pk__in=[])
    for prefix in KIND_PREFIXES.get(kind, ()):
        q |= _prefix_q(prefix)
    if kind == "urgence":
        q |= Q(code__contains=_EMERGENCY_BASIS)
    return q


def kind_of(code: str) -> str:
    base = code.partition(":")[0]
    if _EMERGENCY_BASIS in code or _matches(base, "consent.emergency"):
        return "urgence"
    for kind, prefixes in KIND_PREFIXES.items():
        if any(_matches(base, prefix) for prefix in prefixes):
            return kind
    return "profil"


def what_label(code: str) -> str:
    """The French label of an audit code (its action part)."""
    base = code.partition(":")[0]
    best = ""
    for prefix in _LABELS:
        if _matches(base, prefix) and len(prefix) > len(best):
            best = prefix
    return str(_LABELS[best]) if best else str(_OTHER)


def detail_label(code: str) -> str:
    """What the code says beyond its action: the care basis declared, the
    emergency settings chosen, why an attempt was refused."""
    base, _sep, suffix = code.partition(":")
    if suffix.startswith("refused."):
        why = suffix.removeprefix("refused.")
        return str(_REFUSALS.get(why, ""))
    if _matches(base, "consent.care.declare"):
        return str(_CARE_KINDS.get(suffix, ""))
    if _matches(base, "consent.emergency_settings"):
        # consent.emergency_settings.bdg_on.samu_off
        parts = dict(p.split("_", 1) for p in base.split(".")[2:] if "_" in p)
        if set(parts) == {"bdg", "samu"}:
            return _("bris de glace : %(bdg)s ; SAMU-Centre 15 : %(samu)s") % {
                "bdg": _("autorisé") if parts["bdg"] == "on" else _("refusé"),
                "samu": _("autorisé") if parts["samu"] == "on" else _("refusé"),
            }
    return ""


def how_of(code: str, actor_role: str) -> str:
    if actor_role == "service":
        return HOW_SERVICE
    if kind_of(code) == "urgence":
        return HOW_EMERGENCY
    return HOW_NORMAL


@dataclass(frozen=True)
class HistoryEntry:
    """One line of the history, ready to show (the patient side only: the
    emergency `reason` is health text, never logged nor sent)."""

    at: dt.datetime
    who: str
    what: str
    detail: str
    how: str
    refused: bool
    reason: str
    kind: str
    mine: bool

    @property
    def how_label(self) -> str:
        return str(HOW_LABELS[self.how])

    @property
    def local_at(self) -> dt.datetime:
        return timezone.localtime(self.at)  # Europe/Paris (settings.TIME_ZONE)


# ---------------------------------------------------------------- exports

CSV_MAX = 50_000
PDF_MAX = 1_000
CSV_HEADER = (
    gettext_lazy("Date et heure"),
    gettext_lazy("Qui"),
    gettext_lazy("Action"),
    gettext_lazy("Précision"),
    gettext_lazy("Modalité"),
    gettext_lazy("Résultat"),
    gettext_lazy("Motif de l'accès en urgence"),
)


def _cell(value: str) -> str:
    """A spreadsheet never runs a cell as a formula (CSV injection): the
    emergency reason is free text written by a professional."""
    if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def history_csv(entries: Iterable[HistoryEntry], *, truncated: bool) -> bytes:
    """CSV for a spreadsheet in French: UTF-8 with a BOM, `;` separated."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([str(h) for h in CSV_HEADER])
    for entry in entries:
        writer.writerow(
            [
                _cell(value)
                for value in (
                    entry.local_at.strftime("%d/%m/%Y %H:%M:%S"),
                    entry.who,
                    entry.what,
                    entry.detail,
                    entry.how_label,
                    _("Tentative refusée") if entry.refused else _("Effectuée"),
                    entry.reason,
                )
            ]
        )
    if truncated:
        writer.writerow(
            [
                _(
                    "Export limité aux %(n)s entrées les plus récentes : "
                    "choisissez une période plus courte."
                )
                % {"n": CSV_MAX}
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def history_pdf(
    entries: Sequence[HistoryEntry],
    *,
    profile_name: str,
    tab: str,
    period: str,
    kind: str,
    truncated: bool,
) -> bytes:
    from lib.pdf import render_pdf

    html = render_to_string(
        "consent/history_pdf.html",
        {
            "entries": entries,
            "profile_name": profile_name,
            "tab_label": TAB_LABELS[tab],
            "period": period,
            "kind_label": KINDS.get(kind, ""),
            "truncated": truncated,
            "limit": PDF_MAX,
            "generated_at": timezone.localtime(),
        },
    )
    return render_pdf(html)
