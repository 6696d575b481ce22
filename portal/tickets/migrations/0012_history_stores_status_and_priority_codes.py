"""History rows of status and priority changes store codes (`in_progress`), not labels.

Figures count status events (resolutions, reopens); matching on labels meant renaming a
label would silently change them. The labels are fixed here, as they were when the rows
were written, not read from the current choices. The analytics rollup needs no rebuild:
it counted the same events under their labels.
"""

from django.db import migrations

STATUS = {
    "New": "new", "In progress": "in_progress", "On hold": "on_hold",
    "Resolved": "resolved", "Closed": "closed", "Cancelled": "cancelled",
}  # fmt: skip
PRIORITY = {"Low": "low", "Medium": "medium", "High": "high", "Urgent": "urgent"}


def _rewrite(apps, mapping_for):
    TicketEvent = apps.get_model("tickets", "TicketEvent")
    for (kind, field), mapping in mapping_for.items():
        rows = TicketEvent.objects.filter(kind=kind, field=field)
        for old, new in mapping.items():
            rows.filter(old_value=old).update(old_value=new)
            rows.filter(new_value=old).update(new_value=new)


def to_codes(apps, schema_editor):
    _rewrite(apps, {("status", "status"): STATUS, ("edited", "priority"): PRIORITY})


def to_labels(apps, schema_editor):
    _rewrite(
        apps,
        {
            ("status", "status"): {v: k for k, v in STATUS.items()},
            ("edited", "priority"): {v: k for k, v in PRIORITY.items()},
        },
    )


class Migration(migrations.Migration):
    dependencies = [("tickets", "0011_analytics_indexes_in_model_state")]

    operations = [migrations.RunPython(to_codes, to_labels, elidable=True)]
