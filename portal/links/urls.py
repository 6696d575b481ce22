from django.urls import path

from portal.links import views

urlpatterns = [
    path("tickets/<str:number>/links", views.link_add, name="ticket-link-add"),
    path(
        "tickets/<str:number>/links/<int:pk>/delete", views.link_remove, name="ticket-link-remove"
    ),
]
