from django.http import HttpResponse
from django.urls import path

app_name = "governance"


def _todo(request, *args, **kwargs):
    return HttpResponse("Not yet built", status=501)


urlpatterns = [
    path("mandates/<int:pk>/", _todo, name="mandate"),
    path("guidance/<int:pk>/", _todo, name="guidance"),
    path("disputes/<int:pk>/", _todo, name="dispute"),
    path("proposals/<int:pk>/", _todo, name="proposal"),
]
