"""Covering indexes for the analytics page's direct reads (docs/analytics.md).

The analytics rollup (portal/analytics/rollup.py) answers the counts; what cannot be
rolled up exactly is read from tickets, bounded by the period, as index-only scans:

- ticket_created_cover: tickets raised in a period — first-response percentiles and the
  open-ticket age boundaries;
- ticket_resolved_cover: tickets whose current resolution is in a period — resolution
  percentiles, and SLA resolution targets met in the period;
- ticket_sla_response_met / _response_open / _resolution_open: SLA compliance (only
  tickets under an SLA are in them): response targets met in a period, and open tickets
  whose response or resolution target falls due in it.

Every index ends with the columns the analytics scope and filters test (group, category,
team, assignee, priority), so no heap row is read. Plain SQL valid on PostgreSQL and
SQLite; migration 0011 records the same indexes in the model state (Ticket.Meta lists
them). Only analytics reads them.
"""

from django.db import migrations

SCOPE = "group_id, category_id, team_id, assignee_id, priority"
OPEN = "status IN ('new', 'in_progress', 'on_hold')"
INDEXES = {
    "ticket_created_cover": f"(created_at, first_response_at, status, {SCOPE})",
    "ticket_resolved_cover": (
        f"(resolved_at, created_at, sla_resolution_due_at, sla_policy_name, {SCOPE}) "
        "WHERE resolved_at IS NOT NULL"
    ),
    "ticket_sla_response_met": (
        f"(first_response_at, sla_response_due_at, {SCOPE}) "
        "WHERE sla_policy_name > '' AND first_response_at IS NOT NULL"
    ),
    "ticket_sla_response_open": (
        f"(sla_response_due_at, {SCOPE}) WHERE sla_policy_name > '' AND {OPEN} "
        "AND first_response_at IS NULL AND sla_response_due_at IS NOT NULL"
    ),
    "ticket_sla_resolution_open": (
        f"(sla_resolution_due_at, {SCOPE}) WHERE sla_policy_name > '' AND {OPEN} "
        "AND resolved_at IS NULL AND sla_resolution_due_at IS NOT NULL"
    ),
}


class Migration(migrations.Migration):
    dependencies = [("tickets", "0009_sla_due_sort_column")]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX {name} ON tickets_ticket {definition}",
            f"DROP INDEX {name}",
        )
        for name, definition in INDEXES.items()
    ]
