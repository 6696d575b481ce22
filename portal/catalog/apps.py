from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """Master data: business unit groups, categories, teams, SPOCs, classification mapping."""

    name = "portal.catalog"
    label = "catalog"

    def ready(self) -> None:
        from portal.accounts.roles import register_role_provider
        from portal.accounts.triage import register_gap_check
        from portal.catalog import invalidation
        from portal.catalog.coverage import first_gap
        from portal.catalog.roles import catalog_roles

        register_role_provider(catalog_roles)
        invalidation.connect()
        # Triage duty cannot be emptied while tickets could reach nobody else.
        register_gap_check(first_gap)
