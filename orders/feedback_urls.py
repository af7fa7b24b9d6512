"""The public page a customer rates an order on, reached from the signed link the shop sent them."""

from django.urls import path

from orders import views_feedback

urlpatterns = [
    path("<str:token>/", views_feedback.feedback_page, name="feedback-page"),
]
