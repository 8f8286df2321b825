"""Organisation pages: sign in, people, the audit log, the organisation's own names."""

from django.contrib.auth.views import LoginView


class SignInView(LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True
