"""Organisation pages: sign in, people, the audit log, the organisation's own names."""

from django.contrib.auth.views import LoginView


class SignInView(LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


def forbidden(request, message: str):
    """A 403 page saying, in a sentence, why the person may not do this."""
    from django.shortcuts import render

    return render(request, "core/403.html", {"message": message}, status=403)
