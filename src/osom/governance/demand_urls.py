"""Demand management, the duplication finder, the adaptation register and the acts the
executive keeps to itself. Included inside the ``governance`` namespace (no app_name)."""

from django.urls import path

from . import demand_views as views

urlpatterns = [
    path("proposals/", views.proposal_list, name="proposals"),
    path("proposals/new/", views.propose, name="propose"),
    path("proposals/<int:pk>/", views.proposal_page, name="proposal"),
    path("proposals/<int:pk>/fold/", views.fold, name="proposal_fold"),
    path("proposals/<int:pk>/decline/", views.decline, name="proposal_decline"),
    path("proposals/<int:pk>/establish/", views.establish, name="proposal_establish"),
    path("proposals/<int:pk>/wizard/", views.refine_in_wizard, name="proposal_wizard"),
    path("duplicates/", views.duplicates, name="duplicates"),
    path("deviations/", views.deviation_list, name="deviations"),
    path("deviations/new/", views.deviation_new, name="deviation_new"),
    path("deviations/<int:pk>/", views.deviation_page, name="deviation"),
    path("deviations/<int:pk>/retire/", views.deviation_retire, name="deviation_retire"),
    path("organisation/reserved-acts/", views.reserved_acts, name="reserved_acts"),
]
