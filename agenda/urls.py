"""The preventive calendar under /mon-espace/agenda/ (AG-1, AG-2). The
appointments (agenda.appointment_*) live under /mon-espace/agenda/rendez-vous/."""

from __future__ import annotations

from django.urls import path

from agenda import views

app_name = "agenda"

urlpatterns = [
    path("", views.calendar, name="calendar"),
    path("vaccinations/", views.vaccinations, name="vaccinations"),
    path("recommandations/<str:key>/fait/", views.item_done, name="item-done"),
    path("recommandations/<str:key>/annuler/", views.item_undo, name="item-undo"),
]
