"""This app's endpoints under /api/v1/."""

from django.urls import path

from fulfillment import api
from fulfillment import api_fulfillments as work

urlpatterns = [
    path("routing/policy/", api.RoutingPolicyView.as_view(), name="api-routing-policy"),
    path("routing/policy/versions/", api.RoutingPolicyVersions.as_view(), name="api-routing-policy-versions"),
    path("routing/dry-run/", api.RoutingDryRun.as_view(), name="api-routing-dry-run"),
    path("fulfillments/", work.FulfillmentList.as_view(), name="api-fulfillments"),
    path("fulfillments/<int:pk>/", work.FulfillmentDetail.as_view(), name="api-fulfillment"),
    path("fulfillments/<int:pk>/accept/", work.FulfillmentAccept.as_view(), name="api-fulfillment-accept"),
    path("fulfillments/<int:pk>/pick/", work.FulfillmentPick.as_view(), name="api-fulfillment-pick"),
    path("fulfillments/<int:pk>/pack/", work.FulfillmentPack.as_view(), name="api-fulfillment-pack"),
    path("fulfillments/<int:pk>/ship/", work.FulfillmentShip.as_view(), name="api-fulfillment-ship"),
    path("fulfillments/<int:pk>/reject/", work.FulfillmentReject.as_view(), name="api-fulfillment-reject"),
    path("fulfillments/<int:pk>/ready/", work.FulfillmentReady.as_view(), name="api-fulfillment-ready"),
    path("fulfillments/<int:pk>/collect/", work.FulfillmentCollect.as_view(), name="api-fulfillment-collect"),
    path("fulfillments/<int:pk>/unlock/", work.FulfillmentUnlock.as_view(), name="api-fulfillment-unlock"),
    path("shipments/", work.ShipmentList.as_view(), name="api-shipments"),
    path("shipments/<int:pk>/", work.ShipmentDetail.as_view(), name="api-shipment"),
    path("shipments/<int:pk>/events/", work.ShipmentEvents.as_view(), name="api-shipment-events"),
    path("orders/<int:pk>/reroute/", work.OrderReroute.as_view(), name="api-order-reroute"),
    path("routing/simulations/", api.RoutingSimulations.as_view(), name="api-routing-simulations"),
    path("routing/simulations/<int:pk>/", api.RoutingSimulationDetail.as_view(), name="api-routing-simulation"),
]
