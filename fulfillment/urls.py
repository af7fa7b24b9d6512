"""This app's pages."""

from django.urls import path

from fulfillment import views

urlpatterns = [
    path("routing/", views.routing_policy, name="routing-policy"),
    path("board/", views.fulfillment_board, name="fulfillment-board"),
    path("board/pick-list/", views.batch_pick_list, name="fulfillment-batch-pick-list"),
    path("<int:pk>/", views.fulfillment_detail, name="fulfillment-detail"),
    path("<int:pk>/pick-list/", views.pick_list, name="fulfillment-pick-list"),
    path("<int:pk>/packing-slip/", views.packing_slip, name="fulfillment-packing-slip"),
    path("<int:pk>/<str:step>/", views.fulfillment_step, name="fulfillment-step"),
    path("shipments/", views.shipment_list, name="shipment-list"),
    path("shipments/<int:pk>/", views.shipment_detail, name="shipment-detail"),
    path("orders/<int:pk>/reroute/", views.order_reroute, name="order-reroute"),
    path("routing/simulations/", views.simulation_start, name="routing-simulation-start"),
    path("routing/simulations/<int:pk>/", views.simulation_page, name="routing-simulation"),
    path("routing/simulations/<int:pk>/progress/", views.simulation_progress, name="routing-simulation-progress"),
]
