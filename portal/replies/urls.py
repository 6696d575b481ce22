from django.urls import path

from portal.replies import views

urlpatterns = [
    path("replies", views.reply_list, name="reply-list"),
    path("replies/new", views.reply_create, name="reply-create"),
    path("replies/<int:pk>/edit", views.reply_edit, name="reply-edit"),
    path("replies/<int:pk>/delete", views.reply_delete, name="reply-delete"),
    path("tickets/<str:number>/canned-replies", views.reply_picker, name="reply-picker"),
    path(
        "tickets/<str:number>/canned-replies/<int:pk>/insert",
        views.reply_insert,
        name="reply-insert",
    ),
]
