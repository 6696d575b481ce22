"""Shared reads of accounts."""

from django.db.models import QuerySet

from portal.accounts.models import User

# What `User.__str__` reads: a page that only names people needs no more of their rows.
NAME_FIELDS = ("id", "full_name", "email")


def active_user_by_email(address: str) -> User | None:
    """The active account of an address (in any case), or None. Mail is never taken from,
    nor answered to, a deactivated account, and a request form's person field never names
    one."""
    return User.objects.filter(email__iexact=address, is_active=True).first()


def naming(queryset: QuerySet, relation: str) -> QuerySet:
    """`queryset` with the person at `relation` joined as what naming them needs (the
    rows' own columns in full): whole account rows were most of the columns a page of
    comments, history or files selected and built. Reading another attribute of that
    person later costs a query per row, which the pages' pinned counts would show."""
    own = [field.name for field in queryset.model._meta.concrete_fields]
    person = [f"{relation}__{name}" for name in NAME_FIELDS]
    return queryset.select_related(relation).only(*own, *person)
