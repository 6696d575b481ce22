from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """Master data: business unit groups, categories, teams, SPOCs, classification mapping."""

    name = "portal.catalog"
    label = "catalog"

    def ready(self) -> None:
        from portal.accounts.roles import register_role_provider
        from portal.catalog.roles import catalog_roles

        register_role_provider(catalog_roles)
