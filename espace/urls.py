from __future__ import annotations

from django.urls import path

from espace import views

app_name = "espace"

login_urls = [
    path("connexion/", views.login, name="login"),
    path("connexion/code/", views.login_code, name="login-code"),
    path("connexion/code/email/", views.login_code_email, name="login-code-email"),
    path(
        "connexion/code/email/saisie/",
        views.login_code_email_entry,
        name="login-code-email-entry",
    ),
    path("connexion/application/", views.totp_enrol, name="totp-enrol"),
    path("deconnexion/", views.logout, name="logout"),
]

password_urls = [
    path(
        "mot-de-passe/oubli/", views.PasswordResetView.as_view(), name="password-reset"
    ),
    path(
        "mot-de-passe/oubli/envoye/",
        views.PasswordResetDoneView.as_view(),
        name="password-reset-done",
    ),
    path(
        "mot-de-passe/nouveau/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path(
        "mot-de-passe/modifie/",
        views.PasswordResetCompleteView.as_view(),
        name="password-reset-complete",
    ),
]

journey_urls = [
    path("activer/", views.activation, name="activation"),
    path("activer/compte/", views.activation_account, name="activation-account"),
    path("opposition/", views.opposition, name="opposition"),
    path("opposition/confirmer/", views.opposition_confirm, name="opposition-confirm"),
    path("opposition/confirmee/", views.opposition_done, name="opposition-done"),
    path(
        "opposition/attestation.pdf",
        views.opposition_receipt,
        name="opposition-receipt",
    ),
    path("nouveau-code/", views.new_code, name="new-code"),
    path("mon-espace/fermer/", views.space_close, name="space-close"),
    path("espace-ferme/", views.space_closed_info, name="space-closed-info"),
    path("mon-espace/rouvrir/", views.space_reopen, name="space-reopen"),
]

home_urls = [
    path("", views.landing, name="home"),
    path("mon-espace/", views.patient_home, name="patient-home"),
    path("mon-espace/notifications/", views.inbox, name="inbox"),
    path("mon-espace/profil/<int:pk>/", views.profile_switch, name="profile-switch"),
    path(
        "mon-espace/profil/<int:pk>/partage/", views.profile_share, name="profile-share"
    ),
    path(
        "mon-espace/invitations/<int:pk>/accepter/",
        views.invitation_accept,
        name="invitation-accept",
    ),
    path(
        "mon-espace/invitations/<int:pk>/refuser/",
        views.invitation_refuse,
        name="invitation-refuse",
    ),
    path("pro/", views.pro_home, name="pro-home"),
]

urlpatterns = login_urls + password_urls + journey_urls + home_urls
