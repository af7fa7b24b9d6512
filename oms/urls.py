from django.contrib import admin
from django.urls import include, path, re_path
from django.views.i18n import JavaScriptCatalog

from oms import health, views, views_invitations
from oms.api.problems import api_not_found

admin.site.site_header = "OMS"
admin.site.site_title = "OMS"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/v1/", include("oms.api.urls")),
    re_path(r"^api/", api_not_found),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("admin/", admin.site.urls),
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", views.SignOutView.as_view(), name="logout"),
    path("tenant/switch/", views.switch_tenant, name="switch-tenant"),
    path("audit/", views.audit_log_page, name="audit-log"),
    path("audit/export.csv", views.audit_log_export, name="audit-log-export"),
    path("settings/api-keys/", views.api_keys, name="api-keys"),
    path("settings/webhooks/", views.webhook_list, name="webhooks"),
    path("settings/invitations/", views_invitations.invitation_list, name="invitations"),
    path("settings/invitations/<int:pk>/resend/", views_invitations.resend_invitation, name="invitation-resend"),
    path("settings/invitations/<int:pk>/revoke/", views_invitations.revoke_invitation, name="invitation-revoke"),
    path("invitations/<slug:token>/", views_invitations.accept_invitation, name="invitation-accept"),
    path("feedback/", include("orders.feedback_urls")),
    path("demo/", include("oms.demo.urls")),
    path("inventory/", include("inventory.urls")),
    path("channels/", include("channels.urls")),
    path("orders/", include("orders.urls")),
    path("fulfillment/", include("fulfillment.urls")),
    path("store/", include("fulfillment.store_urls")),
    path("returns/", include("returns.urls")),
    path("reports/", include("reporting.urls")),
    path("", views.home, name="home"),
]

handler404 = "oms.views.not_found"
handler403 = "oms.views.forbidden"
handler500 = "oms.views.server_error"
