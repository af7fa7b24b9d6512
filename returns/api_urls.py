"""This app's endpoints under /api/v1/."""

from django.urls import path

from returns import api

urlpatterns = [
    path("returns/", api.ReturnListCreate.as_view(), name="api-returns"),
    path("returns/<int:pk>/", api.ReturnDetail.as_view(), name="api-return"),
    path("returns/<int:pk>/approve/", api.ReturnApprove.as_view(), name="api-return-approve"),
    path("returns/<int:pk>/reject/", api.ReturnReject.as_view(), name="api-return-reject"),
    path("returns/<int:pk>/cancel/", api.ReturnCancel.as_view(), name="api-return-cancel"),
    path("returns/<int:pk>/receive/", api.ReturnReceive.as_view(), name="api-return-receive"),
    path("returns/<int:pk>/close/", api.ReturnClose.as_view(), name="api-return-close"),
    path("returns/<int:pk>/slip.pdf", api.ReturnSlip.as_view(), name="api-return-slip"),
    path("refunds/", api.RefundList.as_view(), name="api-refunds"),
    path("refunds/<int:pk>/", api.RefundDetail.as_view(), name="api-refund"),
    path("refunds/<int:pk>/settle/", api.RefundSettle.as_view(), name="api-refund-settle"),
    path("return-policy/", api.ReturnPolicy.as_view(), name="api-return-policy"),
    path("return-reasons/", api.ReasonListCreate.as_view(), name="api-return-reasons"),
    path("return-reasons/<slug:code>/", api.ReasonDetail.as_view(), name="api-return-reason"),
]
