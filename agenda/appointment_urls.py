"""Pages of the personal agenda (AG-2, AG-3), under /mon-espace/agenda/rendez-vous/."""

from __future__ import annotations

from django.urls import path

from agenda import appointment_views as views

app_name = "rendezvous"

appointment_urls = [
    path("", views.appointment_list, name="list"),
    path("mois/", views.appointment_month, name="month"),
    path("nouveau/", views.appointment_create, name="create"),
    path("<uuid:pk>/", views.appointment_detail, name="detail"),
    path("<uuid:pk>/modifier/", views.appointment_edit, name="edit"),
    path("<uuid:pk>/annuler/", views.appointment_cancel, name="cancel"),
    path("professionnels/", views.professional_search, name="professional-search"),
]

reminder_urls = [
    path("rappels/", views.reminder_preferences, name="preferences"),
    path("rappels/examens/", views.item_reminder_create, name="item-reminder"),
    path(
        "rappels/examens/<uuid:pk>/supprimer/",
        views.item_reminder_delete,
        name="item-reminder-delete",
    ),
]

calendar_urls = [
    path("export.ics", views.ics_download, name="ics-download"),
    path("abonnement/", views.feed_settings, name="feed"),
    # public: the token is the key (AG-3)
    path("flux/<str:token>.ics", views.feed_ics, name="feed-ics"),
]

urlpatterns = appointment_urls + reminder_urls + calendar_urls
