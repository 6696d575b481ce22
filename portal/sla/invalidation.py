"""Cached reads of SLA definitions go stale when they change (portal/lib/cache_versions.py).

"sla": the policy and calendar a classification is held to (`selectors.policy_for`), cached
for every ticket raised. Every save and delete of a calendar, its hours and holidays, or a
policy bumps it through Django's model signals (services, the admin, tests' fixtures
alike). A bulk write sends no model signal: holidays imported (`holidays_import`:
bulk_create and bulk_update only) are seen only because the service calls
`signals.announce_change`, which bumps it too and is called for every change that moves a
due time. (Working hours replaced in bulk come with the calendar's own save, whose signal
already bumps it.)
"""

from django.db.models.signals import post_delete, post_save

from portal.lib.cache_versions import bump

SLA_VERSION = "sla"


def definitions_changed() -> None:
    bump(SLA_VERSION)


def _changed(sender, **kwargs) -> None:
    definitions_changed()


def connect() -> None:
    from portal.sla import models

    for model in (models.BusinessCalendar, models.WorkingHours, models.Holiday, models.SlaPolicy):
        post_save.connect(_changed, sender=model, dispatch_uid=f"sla-cache-{model.__name__}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"sla-cache-d{model.__name__}")
