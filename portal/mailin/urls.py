from django.urls import path

from portal.mailin import views

urlpatterns = [
    path("mailboxes", views.health_page, name="mailbox-health"),
    path("mail/<int:pk>/raw", views.raw_mail, name="raw-mail"),
]
