"""The shared preview and download routes (DMP-3, G-S15 Content-Disposition)."""

from __future__ import annotations

import io
import uuid

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from dmp.services import document_deposit
from espace.models import Beneficiary, User
from tests.files import pdf_bytes
from tests.http import page_body
from tests.personas import verified_client


def _document(actor: User, patient: Beneficiary, name: str = "Résultat « final ».pdf"):  # type: ignore[no-untyped-def]
    return document_deposit(
        actor=actor,
        patient=patient,
        stream=io.BytesIO(pdf_bytes()),
        file_name=name,
        title="Résultats",
        type_code="11502-2" if actor.role == "professional" else "DOCPAT05",
    )


@pytest.mark.django_db
class DocumentFileTestCase:
    def test_dmp3_the_patient_previews_and_downloads_streamed_and_safe(
        self, alice: User, alice_dmp: Beneficiary, charlie_in_care: User
    ) -> None:
        document = _document(charlie_in_care, alice_dmp)
        client = verified_client(alice)
        preview = client.get(reverse("dmp:document-preview", args=[document.pk]))
        assert preview.status_code == 200
        assert b"".join(preview.streaming_content) == pdf_bytes()
        assert preview["Content-Type"] == "application/pdf"
        assert preview["Content-Disposition"].startswith("inline; ")
        assert (
            "filename*=UTF-8''R%C3%A9sultat%20%C2%AB%20final%20%C2%BB.pdf"
            in (preview["Content-Disposition"])
        )
        assert preview["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in preview["Content-Security-Policy"]
        download = client.get(reverse("dmp:document-download", args=[document.pk]))
        assert download["Content-Disposition"].startswith("attachment; ")
        assert (
            AuditEvent.objects.filter(
                code="dmp.document.download:self", target_id=str(document.pk)
            ).count()
            == 2
        )

    def test_refused_and_missing_are_the_same_404(
        self, alice_dmp: Beneficiary, charlie_in_care: User, victor: User, eve: User
    ) -> None:
        document = _document(charlie_in_care, alice_dmp)
        missing = reverse("dmp:document-download", args=[uuid.uuid4()])
        forbidden = reverse("dmp:document-download", args=[document.pk])
        for user in (victor, eve):
            client = verified_client(user)
            one, other = client.get(missing), client.get(forbidden)
            assert one.status_code == other.status_code == 404
            assert page_body(one.content) == page_body(other.content)
        assert (
            AuditEvent.objects.filter(
                code="dmp.document.download:refused.not_in_care"
            ).count()
            == 1
        )
