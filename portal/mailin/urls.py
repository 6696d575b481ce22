from django.urls import path

from portal.mailin import views, webhook

urlpatterns = [
    path("mailboxes", views.health_page, name="mailbox-health"),
    path("mailboxes/triage", views.triage_page, name="mailbox-triage"),
    path("mailboxes/triage/<int:pk>/classify", views.triage_classify, name="triage-classify"),
    path("mailboxes/triage/<int:pk>/dismiss", views.triage_dismiss, name="triage-dismiss"),
    path("mail/<int:pk>/raw", views.raw_mail, name="raw-mail"),
    # Inbound webhooks (off unless configured): Mailgun's parsed and raw-MIME forms.
    path("mail/inbound/mailgun/", webhook.mailgun_inbound, name="mailgun-inbound"),
    path("mail/inbound/mailgun/mime/", webhook.mailgun_inbound, name="mailgun-inbound-mime"),
    path("mail/inbound/postmark/", webhook.postmark_inbound, name="postmark-inbound"),
]
