"""Document codes from `../shared/reference/reference-data.md` §2 (DMP-1, DMP-4).

typeCode (JDV_J07, LOINC and TRE_A05 codes), the classCode (JDV_J57) each one
belongs to, and the formatCode (JDV_J60) of each accepted file type. The
type → class pairing follows the reference's suggested mapping (ANS publishes
the official association table in the SMT); the codes themselves are never
invented.
"""

from __future__ import annotations

# Documents professionals deposit (arrêté du 26 avril 2022 and the usual
# liaison documents, reference §2.6): typeCode -> (label, classCode).
PROFESSIONAL_TYPES: dict[str, tuple[str, str]] = {
    "11502-2": ("CR d'examens biologiques", "10"),
    "18748-4": ("CR d'imagerie médicale", "10"),
    "34874-8": ("CR opératoire", "10"),
    "11488-4": ("CR ou fiche de consultation ou de visite", "10"),
    "15507-7": ("CR de passage aux urgences", "10"),
    "60568-3": ("CR d'anatomie et de cytologie pathologiques", "10"),
    "11490-0": ("Lettre de liaison à la sortie d'un établissement de soins", "10"),
    "18761-7": ("Note de transfert (dont lettre de liaison à l'entrée)", "10"),
    "96349-6": ("Lettre d'adressage", "10"),
    "87273-9": ("Note de vaccination", "10"),
    "60591-5": ("Synthèse médicale (VSM)", "11"),
    "34133-9": ("Synthèse d'épisode de soins", "11"),
    "11369-6": ("Historique des vaccinations", "11"),
    "57833-6": ("Prescription de produits de santé", "42"),
    "PRESC-BIO": ("Prescription d'examens de biologie", "42"),
    "55115-0": ("Demande d'actes d'imagerie", "42"),
    "57832-8": ("Prescription de soins", "42"),
    "60593-1": ("Dispensation médicamenteuse", "43"),
    "83869-8": ("Plan personnalisé de prévention", "44"),
    "80565-5": ("CR d'administration de médicaments", "45"),
    "89601-9": ("Certificat médical", "52"),
    "51851-4": ("Document administratif", "95"),
}

# The médecin traitant's yearly summary (L1111-15, DMP-4).
YEARLY_SUMMARY = "60591-5"

# Documents the patient adds (TRE_A05 DOCPAT01…09), all in class 90.
PATIENT_TYPES: dict[str, tuple[str, str]] = {
    "DOCPAT01": ("Synthèse", "90"),
    "DOCPAT02": ("Traitement ou soins", "90"),
    "DOCPAT03": ("Compte rendu", "90"),
    "DOCPAT04": ("Imagerie", "90"),
    "DOCPAT05": ("Compte rendu de biologie", "90"),
    "DOCPAT06": ("Compte rendu de prévention", "90"),
    "DOCPAT07": ("Certificat", "90"),
    "DOCPAT08": ("Profil médical Mon espace santé", "90"),
    "DOCPAT09": ("Document administratif", "90"),
}
MEDICAL_PROFILE_COPY = "DOCPAT08"

# Reimbursement history imported from Assurance maladie (DMP-7).
REIMBURSEMENT = ("REMB", "60")

ALL_TYPES: dict[str, tuple[str, str]] = {
    **PROFESSIONAL_TYPES,
    **PATIENT_TYPES,
    REIMBURSEMENT[0]: ("Données de remboursement", REIMBURSEMENT[1]),
}

# Accepted files (DMP-2): MIME type -> (extension, JDV_J60 formatCode). J60
# has no PNG code: PNG files are kept with an empty formatCode.
FORMATS: dict[str, tuple[str, str]] = {
    "application/pdf": (".pdf", "urn:ihe:iti:xds-sd:pdf:2008"),
    "image/jpeg": (".jpg", "urn:ihe:iti-fr:xds-sd:jpeg:2010"),
    "image/png": (".png", ""),
    "image/tiff": (".tiff", "urn:ihe:iti-fr:xds-sd:tiff:2010"),
    "application/rtf": (".rtf", "urn:ihe:iti-fr:xds-sd:rtf:2010"),
    "text/plain": (".txt", "urn:ihe:iti:xds-sd:text:2008"),
}
# Shown inline (A5.5); the others are downloaded.
PREVIEWABLE = {"application/pdf", "image/jpeg", "image/png", "text/plain"}


def type_label(type_code: str) -> str:
    return ALL_TYPES.get(type_code, (type_code, ""))[0]


def class_of(type_code: str) -> str:
    return ALL_TYPES[type_code][1]
