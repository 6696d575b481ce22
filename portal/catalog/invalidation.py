"""Cached reads of master data go stale when it changes (see portal/lib/cache_versions.py).

- "roles": what `accounts.roles` caches per user (SPOC groups, team memberships and leads);
- "masters": anything built from the catalogue and cached for everyone (the ticket list's
  filter options, master rows by id, classification mappings, request forms and which
  classifications need approval);
- "people": lists of people by name: each group's active SPOCs (`selectors.active_spocs`:
  read on every ticket raised) and each team's active members (`selectors.
  team_member_choices`: the ticket page's "assign to" list). Besides the catalogue's
  changes (memberships among them), a person's account changing what those lists hold
  (active or not, name, address) bumps it.

Every save, delete and SPOC change of a catalogue model bumps them through Django's model
signals (services, the admin, tests' fixtures alike); the Excel import's bulk writes send
no signals, so `services.catalog_bulk_save` bumps them itself.
"""

from django.db.models.signals import m2m_changed, post_delete, post_save

from portal.accounts.roles import ROLES_VERSION as ROLES
from portal.lib.cache_versions import bump

MASTERS = "masters"
PEOPLE = "people"
# What the lists keep of a person (`User.__str__` is full name, else address; a change to
# it must extend this set): a save that may change one of these (every save that does not
# name its fields) makes the cached lists stale.
LISTED_PERSON_FIELDS = frozenset({"id", "full_name", "email", "is_active"})


def master_data_changed() -> None:
    bump(MASTERS, ROLES, PEOPLE)


def _account_changed(sender, created=False, update_fields=None, **kwargs) -> None:
    # A new account is in no list yet (memberships and SPOC rows bump with their own
    # signals), and signing in writes only `last_login`: no reason to drop every list.
    if created:
        return
    if update_fields is None or LISTED_PERSON_FIELDS.intersection(update_fields):
        bump(PEOPLE)


def _changed(sender, **kwargs) -> None:
    master_data_changed()


def _spocs_changed(sender, action: str, **kwargs) -> None:
    if action.startswith("post_"):
        master_data_changed()


def connect() -> None:
    from portal.catalog import models

    for model in (
        models.BusinessUnitGroup,
        models.Category,
        models.Subcategory,
        models.Team,
        models.TeamMember,
        models.ClassificationMapping,
        models.FormField,
        models.ApprovalRule,
    ):
        post_save.connect(_changed, sender=model, dispatch_uid=f"catalog-cache-{model.__name__}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"catalog-cache-d{model.__name__}")
    from portal.accounts.models import User

    post_save.connect(_account_changed, sender=User, dispatch_uid="catalog-cache-account")
    post_delete.connect(_account_changed, sender=User, dispatch_uid="catalog-cache-d-account")
    m2m_changed.connect(
        _spocs_changed,
        sender=models.BusinessUnitGroup.spocs.through,
        dispatch_uid="catalog-cache-spocs",
    )
