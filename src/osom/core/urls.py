from django.http import HttpResponse
from django.urls import path

app_name = "core"


def _todo(request, *args, **kwargs):
    return HttpResponse("Not yet built", status=501)


urlpatterns = [
    path("people/", _todo, name="people"),
    path("people/<int:pk>/", _todo, name="person"),
    path("audit/", _todo, name="audit"),
    path("organisation/", _todo, name="organisation"),
]
