"""The governance pages. Demand management, the duplication finder and the deviations
register (``governance:proposal`` among them) come from ``demand_urls``, included here
inside the same namespace."""

from django.urls import include, path

from . import views

app_name = "governance"

urlpatterns = [
    path("", include("osom.governance.demand_urls")),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("notifications/", views.notifications, name="notifications"),
    # mandates
    path("mandates/", views.mandate_list, name="mandates"),
    path("mandates/new/", views.mandate_new, name="mandate_new"),
    path("mandates/<int:pk>/", views.mandate_page, name="mandate"),
    path("mandates/<int:pk>/edit/", views.mandate_edit, name="mandate_edit"),
    path("mandates/<int:pk>/issue/", views.mandate_issue, name="mandate_issue"),
    path("mandates/<int:pk>/remind/", views.mandate_remind, name="mandate_remind"),
    path("mandates/<int:pk>/close/", views.mandate_close, name="mandate_close"),
    path("mandates/<int:pk>/services/<int:target_pk>/acknowledge/", views.target_acknowledge, name="target_acknowledge"),
    path("mandates/<int:pk>/services/<int:target_pk>/progress/", views.target_progress, name="target_progress"),
    # guidance
    path("guidance/", views.guidance_list, name="guidance_list"),
    path("guidance/new/", views.guidance_new, name="guidance_new"),
    path("guidance/<int:pk>/", views.guidance_page, name="guidance"),
    path("guidance/<int:pk>/edit/", views.guidance_edit, name="guidance_edit"),
    path("guidance/<int:pk>/publish/", views.guidance_publish, name="guidance_publish"),
    path("guidance/<int:pk>/withdraw/", views.guidance_withdraw, name="guidance_withdraw"),
    path("guidance/<int:pk>/services/<slug:slug>/decide/", views.guidance_decide, name="guidance_decide"),
    # disputes
    path("disputes/", views.dispute_list, name="disputes"),
    path("disputes/new/evaluation/", views.dispute_raise_evaluation, name="dispute_raise_evaluation"),
    path("services/<slug:slug>/disputes/new/", views.dispute_raise, name="dispute_raise"),
    path("disputes/<int:pk>/", views.dispute_page, name="dispute"),
    path("disputes/<int:pk>/resolve/", views.dispute_resolve, name="dispute_resolve"),
    path("disputes/<int:pk>/withdraw/", views.dispute_withdraw, name="dispute_withdraw"),
]
