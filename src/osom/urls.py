from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.urls import include, path

from osom.api.root import api
from osom.core import views as core_views

urlpatterns = [
    path("accounts/login/", core_views.SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", lambda request: HttpResponse("ok", content_type="text/plain"), name="healthz"),
    path("api/v1/", api.urls),
    path("", include("osom.core.urls")),
    path("", include("osom.network.urls")),
    path("", include("osom.lifecycle.urls")),
    path("", include("osom.governance.urls")),
    path("", include("osom.learning.urls")),
    path("", include("osom.fitness.urls")),
    path("", include("osom.maps.urls")),
    path("", include("osom.interop.urls")),
    path("", include("osom.search.urls")),
]
