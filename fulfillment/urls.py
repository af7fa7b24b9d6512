"""This app's pages."""

from django.urls import path

from fulfillment import views, views_promise

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
    path("promise/", views_promise.delivery_promise, name="delivery-promise"),
    path("promise/transit/", views_promise.transit_time_save, name="transit-time-save"),
    path("promise/transit/delete/", views_promise.transit_time_delete, name="transit-time-delete"),
    path("promise/closures/", views_promise.closure_add, name="closure-add"),
    path("promise/closures/<int:pk>/delete/", views_promise.closure_delete, name="closure-delete"),
    path("routing/simulations/<int:pk>/progress/", views.simulation_progress, name="routing-simulation-progress"),
]
