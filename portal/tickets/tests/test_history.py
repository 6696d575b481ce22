"""History rows store codes for coded fields; the timeline reads them as labels."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from portal.catalog.models import Priority
from portal.tickets import history, services
from portal.tickets.models import Status, TicketEvent

pytestmark = pytest.mark.django_db


def _last(ticket, kind):
    return TicketEvent.objects.filter(ticket=ticket, kind=kind).last()


@pytest.fixture
def changed(ticket, personas):
    """The ticket put on hold, then made urgent, by the lead."""
    services.ticket_change_status(actor=personas.lead, ticket=ticket, status=Status.ON_HOLD)
    ticket.refresh_from_db()
    services.ticket_update(
        actor=personas.lead,
        ticket=ticket,
        priority=Priority.URGENT,
        expected_version=ticket.version,
    )
    return ticket


def test_status_and_priority_changes_store_codes_not_labels(changed):
    ticket = changed
    status = _last(ticket, TicketEvent.Kind.STATUS)
    assert (status.old_value, status.new_value) == ("new", "on_hold")
    priority = _last(ticket, TicketEvent.Kind.EDITED)
    assert (priority.field, priority.new_value) == ("priority", "urgent")


def test_the_timeline_reads_codes_as_labels(changed, personas, client_for):
    ticket = changed
    page = client_for(personas.lead).get(f"/tickets/{ticket.number}").content.decode()
    assert "changed the status from New to On hold" in page
    assert "changed the priority from “Medium” to “Urgent”" in page
    timeline = page.split('id="history-heading"')[1].split("</ol>")[0]
    assert "on_hold" not in timeline and "urgent" not in timeline


def test_each_kind_of_event_reads_as_one_sentence():
    def event(kind, field="", old="", new=""):
        return TicketEvent(kind=kind, field=field, old_value=old, new_value=new)

    Kind = TicketEvent.Kind
    assert history.sentence(event(Kind.CREATED)) == "raised the ticket"
    assert history.sentence(event(Kind.ROUTED, new="Team A")) == "routed it to Team A"
    assert history.sentence(event(Kind.ASSIGNED, new="Ann", old="Bob")) == (
        "assigned it to Ann (was Bob)"
    )
    assert history.sentence(event(Kind.ASSIGNED)) == "assigned it to nobody"
    assert history.sentence(event(Kind.TEAM, new="Team B")) == "moved it from no team to Team B"
    assert history.sentence(event(Kind.STATUS, "status", "resolved", "in_progress")) == (
        "changed the status from Resolved to In progress"
    )
    assert history.sentence(event(Kind.EDITED, "description", "a", "b")) == (
        "edited the description"
    )
    assert history.sentence(event(Kind.ATTACHED, "attachments", new="a.pdf")) == "attached a.pdf"
    long = "x" * 200
    assert history.sentence(event(Kind.EDITED, "title", "Old", long)) == (
        f"changed the title from “Old” to “{'x' * 119}…”"
    )
    # A code the choices no longer know still reads as something.
    assert history.sentence(event(Kind.STATUS, "status", "new", "archived")) == (
        "changed the status from New to archived"
    )


@pytest.mark.django_db(transaction=True)
def test_the_migration_turns_stored_labels_into_codes(ticket, personas):
    before = [("tickets", "0011_analytics_indexes_in_model_state")]
    after = [("tickets", "0012_history_stores_status_and_priority_codes")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        Event = executor.loader.project_state(before).apps.get_model("tickets", "TicketEvent")
        rows = [
            ("status", "status", "Resolved", "In progress"),
            ("edited", "priority", "Medium", "Urgent"),
            ("edited", "title", "Resolved", "New"),  # free text keeps its words
        ]
        ids = [
            Event.objects.create(
                ticket_id=ticket.pk, kind=kind, field=field, old_value=old, new_value=new
            ).pk
            for kind, field, old, new in rows
        ]
        executor = MigrationExecutor(connection)
        executor.migrate(after)
    finally:
        MigrationExecutor(connection).migrate(
            MigrationExecutor(connection).loader.graph.leaf_nodes()
        )
    stored = {e.pk: (e.old_value, e.new_value) for e in TicketEvent.objects.filter(pk__in=ids)}
    assert [stored[pk] for pk in ids] == [
        ("resolved", "in_progress"),
        ("medium", "urgent"),
        ("Resolved", "New"),
    ]
