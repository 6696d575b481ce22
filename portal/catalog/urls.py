from django.urls import path

from portal.catalog.views import coverage, masters, options, teams, transfer

urlpatterns = [
    path("masters", masters.masters_index, name="masters"),
    path("masters/coverage", coverage.coverage_report, name="coverage"),
    path("masters/coverage/add", coverage.coverage_add, name="coverage-add"),
    path("masters/import", transfer.import_upload, name="catalog-import"),
    path("masters/import/apply", transfer.import_apply, name="catalog-import-apply"),
    path("masters/export", transfer.export_download, name="catalog-export"),
    path("masters/<slug:kind>", masters.master_list, name="master-list"),
    path("masters/<slug:kind>/new", masters.master_create, name="master-create"),
    path("masters/<slug:kind>/<int:pk>", masters.master_edit, name="master-edit"),
    path(
        "masters/<slug:kind>/<int:pk>/<slug:action>",
        masters.master_action,
        name="master-action",
    ),
    path("teams", teams.team_list, name="team-list"),
    path("teams/<int:pk>", teams.team_detail, name="team-detail"),
    path("teams/<int:pk>/members", teams.team_member_add, name="team-member-add"),
    path(
        "teams/<int:pk>/members/<int:member_id>/remove",
        teams.team_member_remove,
        name="team-member-remove",
    ),
    path("catalog/options/categories", options.category_options, name="category-options"),
    path("catalog/options/subcategories", options.subcategory_options, name="subcategory-options"),
]
