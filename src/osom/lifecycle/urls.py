from django.urls import path

from . import views

app_name = "lifecycle"

urlpatterns = [
    path("assessments/", views.reports, name="reports"),
    path("assessments/due/", views.due, name="due"),
    path("assessments/criteria/", views.criteria, name="criteria"),
    path("assessments/criteria/new/", views.criterion_add, name="criterion_add"),
    path("assessments/criteria/<slug:slug>/", views.criterion_page, name="criterion"),
    path("assessments/criteria/<slug:slug>/edit/", views.criterion_edit, name="criterion_edit"),
    path("assessments/<int:pk>/", views.assessment_page, name="assessment"),
    path("assessments/<int:pk>/edit/", views.assessment_edit, name="assessment_edit"),
    path("assessments/<int:pk>/agenda/publish/", views.publish_agenda, name="publish_agenda"),
    path("assessments/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("assessments/<int:pk>/decisions/", views.record_decisions, name="decisions"),
    path("assessments/<int:pk>/publish/", views.publish_report, name="publish_report"),
    path("assessments/<int:pk>/report/", views.report_page, name="report"),
    path("assessments/<int:pk>/report.md", views.report_markdown, name="report_md"),
    path("assessments/<int:pk>/addenda/", views.add_addendum, name="addendum"),
    path("services/<slug:slug>/assessments/new/", views.schedule, name="schedule"),
    path("services/<slug:slug>/budget/", views.budget, name="budget"),
    path("services/<slug:slug>/budget/allocate/", views.allocate, name="allocate"),
    path("services/<slug:slug>/budget/spend/", views.record_spend, name="spend"),
    path("services/<slug:slug>/budget/reinvest/", views.reinvest, name="reinvest"),
    path("services/<slug:slug>/budget/request/", views.request_funding, name="request_funding"),
    path("services/<slug:slug>/budget/requests/<int:request_id>/decide/", views.decide_request, name="decide_request"),
    path("services/<slug:slug>/budget/cadence/", views.service_cadence, name="cadence"),
    path("budgets/", views.budgets, name="budgets"),
]
