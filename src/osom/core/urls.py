from django.urls import path

from . import views

app_name = "core"

urlpatterns = [
    path("people/", views.people, name="people"),
    path("people/<int:pk>/", views.person_page, name="person"),
    path("people/<int:pk>/tokens/", views.issue_token, name="token_issue"),
    path("people/<int:pk>/tokens/<int:token_id>/revoke/", views.revoke_token, name="token_revoke"),
    path("audit/", views.audit_log, name="audit"),
    path("organisation/", views.organisation, name="organisation"),
]
