from django.urls import path

from portal.mailin import views

urlpatterns = [
    path("mailboxes", views.health_page, name="mailbox-health"),
    path("mailboxes/triage", views.triage_page, name="mailbox-triage"),
    path("mailboxes/triage/<int:pk>/classify", views.triage_classify, name="triage-classify"),
    path("mailboxes/triage/<int:pk>/dismiss", views.triage_dismiss, name="triage-dismiss"),
    path("mail/<int:pk>/raw", views.raw_mail, name="raw-mail"),
]
