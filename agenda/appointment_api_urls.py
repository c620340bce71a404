from __future__ import annotations

from django.urls import path

from agenda import appointment_apis as apis

app_name = "rendezvous-api"

appointment_urls = [
    path(
        "appointments/",
        apis.AppointmentCollectionApi.as_view(),
        name="appointment-list",
    ),
    path(
        "appointments/<uuid:pk>/",
        apis.AppointmentDetailApi.as_view(),
        name="appointment-detail",
    ),
    path(
        "appointments/<uuid:pk>/cancel",
        apis.AppointmentCancelApi.as_view(),
        name="appointment-cancel",
    ),
]

reminder_urls = [
    path(
        "reminder-preferences/",
        apis.ReminderPreferenceApi.as_view(),
        name="reminder-preferences",
    ),
    path(
        "item-reminders/",
        apis.ItemReminderCollectionApi.as_view(),
        name="item-reminder-list",
    ),
    path(
        "item-reminders/<uuid:pk>/",
        apis.ItemReminderDeleteApi.as_view(),
        name="item-reminder-delete",
    ),
]

urlpatterns = appointment_urls + reminder_urls
