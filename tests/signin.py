"""Signing in as a person does: the sign-in page's form (django-axes watches it, so Django's test `login()`, which
has no request, cannot be used)."""

from django.contrib.auth import get_user_model


def sign_in(client, email: str, password: str) -> bool:
    """True when the form signed this very user in."""
    response = client.post("/login/", {"username": email, "password": password})
    user = get_user_model().objects.filter(email=email.strip().lower()).first()
    return response.status_code == 302 and user is not None and client.session.get("_auth_user_id") == str(user.pk)
