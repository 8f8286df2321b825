from django.urls import path

from . import edit_views, views, wizard

app_name = "network"

urlpatterns = [
    path("", views.network_list, name="list"),
    path("services/new/", wizard.establish_step, name="establish"),
    path("services/new/<slug:step>/", wizard.establish_step, name="establish_step"),
    path("services/lookup/", views.service_lookup, name="lookup"),
    path("services/<slug:slug>/", views.service_page, name="service"),
    path("services/<slug:slug>/consumers/", views.service_consumers, name="consumers"),
    path("services/<slug:slug>/compare/", views.compare_versions, name="compare"),
    path("services/<slug:slug>/draft/", edit_views.open_draft, name="open_draft"),
    path("services/<slug:slug>/alter/", edit_views.alter_contract, name="alter"),
    path("services/<slug:slug>/manager/", edit_views.appoint_manager, name="appoint"),
    path("services/<slug:slug>/team/", edit_views.add_team_member, name="team_add"),
    path("services/<slug:slug>/team/<int:membership_id>/remove/", edit_views.remove_team_member, name="team_remove"),
    path("services/<slug:slug>/decommission-flag/", edit_views.flag_for_decommissioning, name="decommission_flag"),
    path("services/<slug:slug>/decommission-flag/clear/", edit_views.clear_decommission_flag,
         name="decommission_flag_clear"),
    path("services/<slug:slug>/dependencies/", edit_views.add_dependency, name="dependency_add"),
    path("services/<slug:slug>/dependencies/<slug:provider_slug>/remove/", edit_views.remove_dependency, name="dependency_remove"),
    path("services/<slug:slug>/versions/<int:number>/", views.version_page, name="version"),
    path("services/<slug:slug>/versions/<int:number>/edit/", edit_views.edit_draft, name="edit_draft"),
    path("services/<slug:slug>/versions/<int:number>/submit/", edit_views.submit_version, name="submit"),
    path("services/<slug:slug>/versions/<int:number>/approve/", edit_views.approve_version, name="approve"),
    path("services/<slug:slug>/versions/<int:number>/return/", edit_views.return_version, name="return"),
    path("services/<slug:slug>/versions/<int:number>/discard/", edit_views.discard_version, name="discard"),
]
