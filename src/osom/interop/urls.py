"""The executive's webhook pages."""

from django.urls import path

from . import schema_views
from . import webhook_views as views

app_name = "interop"

urlpatterns = [
    path("schema/contract.json", schema_views.contract_schema, name="contract_schema"),
    path("webhooks/", views.webhook_list, name="webhooks"),
    path("webhooks/add/", views.webhook_add, name="webhook_add"),
    path("webhooks/<int:pk>/", views.webhook_detail, name="webhook"),
    path("webhooks/<int:pk>/edit/", views.webhook_edit, name="webhook_edit"),
    path("webhooks/<int:pk>/remove/", views.webhook_remove, name="webhook_remove"),
    path("webhooks/deliveries/<int:pk>/redeliver/", views.delivery_redeliver, name="delivery_redeliver"),
]
