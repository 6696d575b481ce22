from django.urls import path

from portal.approvals import figures_views, views

urlpatterns = [
    path("approvals", views.pending, name="approvals"),
    path("approvals/delegations", views.delegations, name="approval-delegations"),
    path(
        "approvals/delegations/<str:delegation_id>/end",
        views.delegation_end,
        name="approval-delegation-end",
    ),
    path("approvals/link/<str:token>", views.link, name="approval-link"),
    path("approvals/<str:step_id>", views.detail, name="approval-detail"),
    path("analytics/approvals", figures_views.figures, name="approval-figures"),
    path(
        "analytics/approvals.csv",
        figures_views.figures,
        {"fmt": "csv"},
        name="approval-figures-csv",
    ),
]
