from django.urls import path

from shopfront import views
from shopfront.views import excluded, sync_cart

urlpatterns = [
    path("cart/", views.cart),  # expect: AG206
    path("excluded/", excluded),
    path("sync/", sync_cart),
    path("class/", views.CartView.as_view()),
    path("plain/", views.PlainView.as_view()),
]
