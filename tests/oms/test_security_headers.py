"""The browser-facing protections: the Content-Security-Policy on pages, API answers and the API docs; secure
cookies, HSTS and the HTTPS redirect in production (OMS_PRODUCTION) and not in the demo; the health endpoints
answer over plain HTTP."""

import json

import pytest
from django.test import Client

from oms.actors import Actor
from oms.services import create_api_key, set_membership
from tests import factories
from tests.oms.test_deployment import UNUSED_DATABASE, clean_env, manage
from tests.signin import sign_in

pytestmark = pytest.mark.django_db

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'self'",
    "object-src": "'none'",
}


def directives(response) -> dict:
    header = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


def test_a_page_carries_the_policy_with_exactly_its_directives(user_client):
    response = user_client("admin").get("/")

    assert response.status_code == 200
    assert directives(response) == POLICY


def test_the_sign_in_page_and_an_api_answer_carry_it_too(client, api):
    assert directives(client.get("/login/")) == POLICY
    answer = api.get("/api/v1/orders/")
    assert answer.status_code == 200 and directives(answer) == POLICY
    refused = Client().get("/api/v1/orders/")
    assert refused.status_code == 401 and directives(refused) == POLICY


def test_the_api_docs_run_under_the_same_policy_with_their_script_served_apart(client):
    page = client.get("/api/v1/docs/")
    script = client.get("/api/v1/docs/?script=")

    assert page.status_code == 200 and directives(page) == POLICY
    html = page.content.decode()
    assert "<style" not in html and "<script>" not in html and 'src="/api/v1/docs/?script="' in html
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in script.content.decode()


def test_the_pages_hold_no_inline_script_handler_or_style(user_client, tenant):
    """What the browser test checks page by page, checked here on the pages that used to have them."""
    factories.WebhookSubscriptionFactory(tenant=tenant)
    create_api_key(tenant=tenant, label="shop", actor=Actor.system("tests"))
    client = user_client("admin")

    for url in ("/", "/settings/api-keys/", "/settings/webhooks/", "/fulfillment/board/"):
        html = client.get(url).content.decode()
        assert " onsubmit=" not in html and " onchange=" not in html and " onclick=" not in html, url
        assert "<style" not in html and " style=" not in html, url
    keys = client.get("/settings/api-keys/").content.decode()
    assert 'data-confirm="Revoke this key? Integrations using it stop working at once."' in keys


def effective_settings(**env) -> dict:
    """The security settings as a process started with `env` computes them."""
    names = [
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "CSRF_COOKIE_HTTPONLY",
        "SESSION_COOKIE_SAMESITE",
        "SESSION_COOKIE_AGE",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SECURE_PROXY_SSL_HEADER",
        "CONTENT_SECURITY_POLICY",
    ]
    code = (
        f"import json; from django.conf import settings as s; print(json.dumps({{n: getattr(s, n) for n in {names}}}))"
    )
    result = manage("shell", "-c", code, env=clean_env(DATABASE_URL=UNUSED_DATABASE, **env))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_turns_on_https_secure_cookies_and_a_year_of_hsts():
    production = effective_settings(OMS_PRODUCTION="1")

    assert production["SECURE_SSL_REDIRECT"] is True
    assert production["SESSION_COOKIE_SECURE"] is True and production["CSRF_COOKIE_SECURE"] is True
    assert production["SECURE_HSTS_SECONDS"] == 31_536_000
    # Subdomains and the preload list reach beyond this server: the operator opts in.
    assert production["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False and production["SECURE_HSTS_PRELOAD"] is False
    assert production["SESSION_COOKIE_HTTPONLY"] is True and production["CSRF_COOKIE_HTTPONLY"] is True
    assert production["SESSION_COOKIE_SAMESITE"] == "Lax" and production["SESSION_COOKIE_AGE"] == 12 * 3600
    assert production["SECURE_PROXY_SSL_HEADER"] is None
    assert "report-uri" not in production["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]


def test_the_demo_and_the_tests_stay_on_plain_http():
    demo = effective_settings(DEBUG="1", OMS_DEMO="1")

    assert demo["SECURE_SSL_REDIRECT"] is False and demo["SECURE_HSTS_SECONDS"] == 0
    assert demo["SESSION_COOKIE_SECURE"] is False and demo["CSRF_COOKIE_SECURE"] is False


def test_each_production_default_can_be_changed_from_the_environment():
    tuned = effective_settings(
        OMS_PRODUCTION="1",
        SECURE_SSL_REDIRECT="0",
        SECURE_HSTS_SECONDS="600",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="1",
        SECURE_HSTS_PRELOAD="1",
        OMS_BEHIND_PROXY="1",
        OMS_SESSION_HOURS="8",
        OMS_CSP_REPORT_URI="https://csp.example.com/report",
    )

    assert tuned["SECURE_SSL_REDIRECT"] is False and tuned["SESSION_COOKIE_SECURE"] is True
    assert tuned["SECURE_HSTS_SECONDS"] == 600
    assert tuned["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True and tuned["SECURE_HSTS_PRELOAD"] is True
    assert tuned["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert tuned["SESSION_COOKIE_AGE"] == 8 * 3600
    assert tuned["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["report-uri"] == ["https://csp.example.com/report"]


def test_the_report_uri_reaches_the_header(settings, client):
    settings.CONTENT_SECURITY_POLICY = {
        "DIRECTIVES": {**settings.CONTENT_SECURITY_POLICY["DIRECTIVES"], "report-uri": ["/csp-reports"]}
    }

    assert directives(client.get("/login/")) == {**POLICY, "report-uri": "/csp-reports"}


def test_with_the_https_redirect_only_the_health_endpoints_answer_over_http(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    client = Client()  # built after the settings change: SecurityMiddleware reads them when it starts

    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code in (200, 503)
    redirected = client.get("/login/")
    assert redirected.status_code == 301 and redirected["Location"] == "https://testserver/login/"
    secure = client.get("/login/", secure=True)
    assert secure.status_code == 200 and secure["Strict-Transport-Security"] == "max-age=31536000"


def test_the_session_and_csrf_cookies_are_secure_httponly_and_lax_in_production(settings, tenant):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    user = factories.UserFactory(email="ada@acme.test")
    set_membership(tenant=tenant, user=user, role="admin", actor=Actor.system("tests"))
    client = Client()
    client.get("/login/")
    assert sign_in(client, "ada@acme.test", "correct-horse-battery")

    session, csrf = client.cookies["sessionid"], client.cookies["csrftoken"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"
    assert session["max-age"] == 12 * 3600
    assert csrf["secure"] and csrf["httponly"] and csrf["samesite"] == "Lax"
