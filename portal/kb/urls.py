from django.urls import path

from portal.kb import export_views, views

urlpatterns = [
    path("help", views.help_home, name="kb-home"),
    path("help/new", views.article_create, name="kb-article-create"),
    path("help/export.csv", export_views.article_export, name="kb-export"),
    path("help/suggestions", views.suggestions, name="kb-suggestions"),
    path("help/articles/<slug:slug>", views.article_detail, name="kb-article"),
    path("help/articles/<slug:slug>/edit", views.article_edit, name="kb-article-edit"),
    path("help/articles/<slug:slug>/publish", views.article_publish, name="kb-article-publish"),
    path(
        "help/articles/<slug:slug>/unpublish", views.article_unpublish, name="kb-article-unpublish"
    ),
    path("help/articles/<slug:slug>/images", views.article_image_upload, name="kb-article-images"),
    path("help/images/<int:pk>", views.article_image, name="kb-image"),
    path("help/images/<int:pk>/remove", views.article_image_remove, name="kb-image-remove"),
    path("help/articles/<slug:slug>/feedback", views.article_feedback, name="kb-article-feedback"),
]
