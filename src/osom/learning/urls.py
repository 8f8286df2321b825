"""The learning loop's pages: the doctrine and its self-assessments, Corrections of
Error and their reviews, the learning figures, communities of practice and open roles."""

from django.urls import path

from . import coe_views, community_views, doctrine_views

app_name = "learning"

urlpatterns = [
    # the doctrine and self-assessments
    path("doctrine/", doctrine_views.doctrine, name="doctrine"),
    path("doctrine/patterns/<slug:slug>/edit/", doctrine_views.pattern_edit, name="pattern_edit"),
    path("doctrine/rounds/", doctrine_views.rounds, name="rounds"),
    path("doctrine/rounds/new/", doctrine_views.round_new, name="round_new"),
    path("services/<slug:slug>/doctrine/new/", doctrine_views.service_round_new, name="service_round_new"),
    path("doctrine/rounds/<int:pk>/", doctrine_views.round_page, name="round"),
    path("doctrine/rounds/<int:pk>/rate/", doctrine_views.round_rate, name="round_rate"),
    path("doctrine/rounds/<int:pk>/close/", doctrine_views.round_close, name="round_close"),
    path("doctrine/heat-map/", doctrine_views.heat_map, name="heat_map"),
    # Corrections of Error and their reviews
    path("coes/", coe_views.library, name="coes"),
    path("services/<slug:slug>/coes/new/", coe_views.coe_new, name="coe_new"),
    path("coes/<int:pk>/", coe_views.coe_page, name="coe"),
    path("coes/<int:pk>/edit/", coe_views.coe_edit, name="coe_edit"),
    path("coes/<int:pk>/publish/", coe_views.coe_publish, name="coe_publish"),
    path("coes/<int:pk>/discard/", coe_views.coe_discard, name="coe_discard"),
    path("coes/<int:pk>/guidance/", coe_views.coe_guidance, name="coe_guidance"),
    path("coes/<int:pk>/actions/new/", coe_views.action_add, name="action_add"),
    path("corrective-actions/<int:pk>/update/", coe_views.action_update, name="action_update"),
    path("corrective-actions/<int:pk>/verify/", coe_views.action_verify, name="action_verify"),
    path("coe-reviews/", coe_views.reviews, name="reviews"),
    path("coe-reviews/new/", coe_views.review_new, name="review_new"),
    path("coe-reviews/<int:pk>/", coe_views.review_page, name="review"),
    path("coe-reviews/<int:pk>/hold/", coe_views.review_hold, name="review_hold"),
    path("learning/figures/", coe_views.figures, name="figures"),
    # communities of practice and open roles
    path("communities/", community_views.communities, name="communities"),
    path("communities/new/", community_views.community_new, name="community_new"),
    path("communities/coverage/", community_views.coverage, name="coverage"),
    path("communities/<int:pk>/", community_views.community_page, name="community"),
    path("communities/<int:pk>/edit/", community_views.community_edit, name="community_edit"),
    path("communities/<int:pk>/join/", community_views.community_join, name="community_join"),
    path("communities/<int:pk>/leave/", community_views.community_leave, name="community_leave"),
    path("communities/<int:pk>/endorse/", community_views.community_endorse, name="community_endorse"),
    path("communities/<int:pk>/withdraw-endorsement/", community_views.community_unendorse, name="community_unendorse"),
    path("communities/<int:pk>/guidance/new/", community_views.guidance_new, name="community_guidance_new"),
    path("communities/guidance/<int:pk>/withdraw/", community_views.guidance_withdraw, name="community_guidance_withdraw"),
    path("communities/<int:pk>/escalate/", community_views.escalate, name="community_escalate"),
    path("open-roles/", community_views.open_roles, name="open_roles"),
    path("services/<slug:slug>/open-roles/new/", community_views.open_role_new, name="open_role_new"),
    path("open-roles/<int:pk>/close/", community_views.open_role_close, name="open_role_close"),
]
