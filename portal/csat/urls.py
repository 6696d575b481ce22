from django.urls import path

from portal.csat import views

urlpatterns = [
    path("rate/<str:token>", views.rate, name="csat-rate"),
    path("tickets/<str:number>/rating", views.ticket_rate, name="csat-ticket-rate"),
    path("analytics/satisfaction", views.satisfaction, name="csat-figures"),
    path(
        "analytics/satisfaction.csv",
        views.satisfaction,
        {"fmt": "csv"},
        name="csat-figures-csv",
    ),
]
