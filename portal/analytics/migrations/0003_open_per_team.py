"""The rollup's open rows summed per team (measure "t"), derived from the open rows
("o") already there, which hold the same tickets by more dimensions: exact at once, no
rebuild from the tickets needed. The table is locked against the services' upserts
meanwhile on PostgreSQL, as `rollup.rebuild` locks it."""

from django.db import migrations, models

FILL = """
INSERT INTO analytics_ticketcount
    (measure, day, group_id, category_id, subcategory_id, team_id, assignee_id, priority,
     status, n)
SELECT 't', day, 0, 0, 0, team_id, CASE WHEN assignee_id = 0 THEN 0 ELSE -1 END, priority,
       status, SUM(n)
FROM analytics_ticketcount WHERE measure = 'o'
GROUP BY day, team_id, CASE WHEN assignee_id = 0 THEN 0 ELSE -1 END, priority, status
HAVING SUM(n) <> 0
"""


def fill(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("LOCK TABLE analytics_ticketcount IN EXCLUSIVE MODE")
    schema_editor.execute("DELETE FROM analytics_ticketcount WHERE measure = 't'")
    schema_editor.execute(FILL)


def empty(apps, schema_editor):
    schema_editor.execute("DELETE FROM analytics_ticketcount WHERE measure = 't'")


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0002_ticket_count_rollup"),
    ]

    operations = [
        migrations.AlterField(
            model_name="ticketcount",
            name="measure",
            field=models.CharField(
                choices=[
                    ("c", "Created (day raised; current status)"),
                    ("r", "Resolved (day of the current resolution)"),
                    ("o", "Open now (no day; current status)"),
                    ("a", "Open now (day raised, for the age buckets)"),
                    ("t", "Open now per team (no day; assigned or not, priority, status)"),
                    ("s", "Status changes to Resolved (day of the change)"),
                    ("x", "Status changes from Resolved/Closed back to open (day of the change)"),
                ],
                max_length=1,
            ),
        ),
        migrations.RunPython(fill, empty, elidable=False),
    ]
