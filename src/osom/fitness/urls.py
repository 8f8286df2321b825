"""The fitness pages: the network's fitness and standard measures, the executive's figures,
capital flow, and each service's own fitness data and the ways it arrives."""

from django.urls import path

from . import capital_views, figure_views, views

app_name = "fitness"

urlpatterns = [
    # the network
    path("fitness/", figure_views.overview, name="overview"),
    path("fitness/standard-measures/", figure_views.standard_measures, name="standard_measures"),
    # the executive's figures
    path("fitness/figures/", figure_views.figures, name="figures"),
    path("fitness/figures/new/", figure_views.figure_new, name="figure_new"),
    path("fitness/figures/check/", figure_views.check_expression, name="check_expression"),
    path("fitness/figures/<slug:slug>/", figure_views.figure_page, name="figure"),
    path("fitness/figures/<slug:slug>/edit/", figure_views.figure_edit, name="figure_edit"),
    path("fitness/figures/<slug:slug>/retire/", figure_views.figure_retire, name="figure_retire"),
    # capital flow (a budget period may be written with a slash, e.g. 2026/27)
    path("fitness/capital-flow/", capital_views.capital_flow, name="capital"),
    path("fitness/capital-flow/<path:period>/<slug:slug>/", capital_views.capital_service, name="capital_service"),
    path("services/<slug:slug>/capital-flow/shares/", capital_views.record_shares, name="shares"),
    path("services/<slug:slug>/capital-flow/transactions/", capital_views.record_transactions, name="transactions"),
    # a service's fitness data
    path("services/<slug:slug>/fitness/", views.service_fitness, name="service"),
    path("services/<slug:slug>/fitness/measurements.csv", views.export_measurements, name="export"),
    path("services/<slug:slug>/fitness/record/", views.record_measurement, name="record"),
    path("services/<slug:slug>/fitness/upload/", views.upload_measurements, name="upload"),
    path("services/<slug:slug>/fitness/standard-measures/", views.add_standard_measure, name="add_standard"),
    path("services/<slug:slug>/fitness/tokens/", views.ingest_tokens, name="tokens"),
    path("services/<slug:slug>/fitness/tokens/<int:token_id>/revoke/", views.revoke_token, name="token_revoke"),
    path("services/<slug:slug>/fitness/metrics/<slug:key>/", views.metric_page, name="metric"),
    path("services/<slug:slug>/fitness/metrics/<slug:key>/cadence/", views.set_cadence, name="cadence"),
]
