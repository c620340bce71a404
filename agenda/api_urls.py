"""/api/v1/agenda/items/… (AG-1, AG-2). The appointments API adds its own
`appointments/…` module under the same prefix."""

from __future__ import annotations

from django.urls import path

from agenda import apis

app_name = "agenda-api"

urlpatterns = [
    path("items/", apis.CalendarItemListApi.as_view(), name="item-list"),
    path("items/<str:key>/done/", apis.CalendarItemDoneApi.as_view(), name="item-done"),
    path("items/<str:key>/undo/", apis.CalendarItemUndoApi.as_view(), name="item-undo"),
]
