from django.urls import path

from portal.tickets import (
    attachment_views,
    form_views,
    kb_views,
    list_views,
    merge_views,
    views,
)

urlpatterns = [
    path("tickets", list_views.ticket_list, name="ticket-list"),
    path("tickets/new", views.ticket_create, name="ticket-create"),
    path("tickets/new/fields", form_views.new_ticket_fields, name="ticket-form-fields"),
    path("tickets/export.csv", list_views.ticket_export, name="ticket-export"),
    path("tickets/bulk", list_views.ticket_bulk, name="ticket-bulk"),
    path("tickets/<str:number>", views.ticket_detail, name="ticket-detail"),
    path("tickets/<str:number>/edit", views.ticket_edit, name="ticket-edit"),
    path("tickets/<str:number>/take", views.ticket_take, name="ticket-take"),
    path("tickets/<str:number>/status", views.ticket_status, name="ticket-status"),
    path("tickets/<str:number>/assign", views.ticket_assign, name="ticket-assign"),
    path("tickets/<str:number>/team", views.ticket_move_team, name="ticket-move-team"),
    path("tickets/<str:number>/comments", views.comment_add, name="ticket-comment"),
    path(
        "tickets/<str:number>/comments/<int:pk>/article",
        kb_views.comment_to_article,
        name="ticket-comment-article",
    ),
    path(
        "tickets/<str:number>/help-articles", kb_views.article_picker, name="ticket-article-picker"
    ),
    path(
        "tickets/<str:number>/help-articles/<slug:slug>/insert",
        kb_views.article_insert,
        name="ticket-article-insert",
    ),
    path("tickets/<str:number>/files", views.ticket_files, name="ticket-files"),
    path("tickets/<str:number>/watch", views.ticket_watch, name="ticket-watch"),
    path("tickets/<str:number>/merge", merge_views.ticket_merge, name="ticket-merge"),
    path("tickets/<str:number>/parent", merge_views.ticket_parent, name="ticket-parent"),
    path(
        "tickets/<str:number>/merge-targets",
        merge_views.merge_targets,
        name="ticket-merge-targets",
    ),
    path(
        "attachments/<int:pk>/download",
        attachment_views.attachment_download,
        name="attachment-download",
    ),
]
