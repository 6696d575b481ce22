"""PostgreSQL's one-statement version of the analytics counts and percentiles.

The scoped tickets are read once into a materialised CTE. One `GROUP BY GROUPING SETS`
pass computes every count, breakdown, trend and workload (a UNION ALL of 20 branches
would read the CTE 20 times), `percentile_cont` computes the four percentiles over the
same CTE, and the display names are joined to the few hundred aggregated rows rather than
to every ticket. The result is reshaped into the (kind, key, label, count) rows that
`figures._fill_counts` reads on either database.
"""

from portal.accounts.models import User
from portal.catalog.models import BusinessUnitGroup, Category, Subcategory, Team
from portal.lib.replica import read_connection as connection  # replica when usable

# Seven grouping sets, each wide enough to answer several figures (every extra set is one
# more hash table per row, the dominant cost): (flag, columns…) → (figure, key column)
# pairs summed from its rows. Rows where the flag is false are other figures' tickets.
SETS = [
    (("created", "created_day"), [("created", None), ("created_day", "created_day")]),
    (("resolved", "resolved_day"), [("resolved", None), ("resolved_day", "resolved_day")]),
    (
        ("created", "status", "priority", "team_id"),
        [("status", "status"), ("priority", "priority"), ("team", "team_id")],
    ),
    (
        ("created", "group_id", "category_id", "subcategory_id"),
        [("group", "group_id"), ("category", "category_id"), ("subcategory", "subcategory_id")],
    ),
    (("open", "age"), [("age", "age")]),
    (
        ("open", "team_id", "unassigned", "assignee_id"),
        [("team_open", "team_id"), ("team_unassigned", "team_id"), ("agent_open", "assignee_id")],
    ),
    (
        ("resolved", "team_id", "assignee_id"),
        [("team_resolved", "team_id"), ("agent_resolved", "assignee_id")],
    ),
]  # fmt: skip
GROUPED = [
    "created", "resolved", "open", "unassigned", "age", "status", "priority", "group_id",
    "category_id", "subcategory_id", "team_id", "assignee_id", "created_day", "resolved_day",
]  # fmt: skip
# Key column → (table, label expression) joined after aggregation.
NAMES = {
    "group_id": (BusinessUnitGroup, "{t}.name"),
    "category_id": (Category, "{t}.name"),
    "subcategory_id": (Subcategory, "{t}.name"),
    "team_id": (Team, "{t}.name"),
    "assignee_id": (User, "COALESCE(NULLIF({t}.full_name, ''), {t}.email)"),
}
PERCENTILES = [("first_response", "frt", 0.5), ("first_response", "frt", 0.9),
               ("resolution", "ttr", 0.5), ("resolution", "ttr", 0.9)]  # fmt: skip


def tune_for_analytics() -> None:
    """Planner settings for this transaction only (`set_config(…, true)` = SET LOCAL).

    - work_mem: the grouping-set hash tables need a few MB; under the 4 MB default the
      planner switches to sorting the rows to disk, several times slower.
    - jit: these statements cost enough to trigger JIT compilation, which takes longer
      (hundreds of ms) than the query it would speed up.
    - plan_cache_mode: with prepared statements (DB_PREPARED_STATEMENTS) a statement run
      five times may get one plan for any period; a week's and two years' tickets need
      different plans, and planning is a small part of these statements' cost.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('work_mem', '32MB', true), set_config('jit', 'off', true),"
            " set_config('plan_cache_mode', 'force_custom_plan', true)"
        )


def _mask(grouped: tuple[str, ...]) -> int:
    """GROUPING(...) of a row of this set: a 1 bit (leftmost first) per column not grouped."""
    mask = 0
    for column in GROUPED:
        mask = (mask << 1) | (column not in grouped)
    return mask


MASKS = {_mask(grouped): (grouped[0], figures) for grouped, figures in SETS}


def _statement(base_sql: str, columns: list[str]) -> str:
    q = connection.ops.quote_name
    sets = ", ".join("(" + ", ".join(grouped) + ")" for grouped, _ in SETS)
    joins, labels = [], []
    for index, (key, (model, label)) in enumerate(NAMES.items()):
        alias = f"n{index}"
        joins.append(f"LEFT JOIN {q(model._meta.db_table)} {alias} ON {alias}.id = agg.{key}")
        labels.append(label.format(t=alias))
    pct = ", ".join(
        f"PERCENTILE_CONT({fraction!r}) WITHIN GROUP (ORDER BY {column})"
        for _, column, fraction in PERCENTILES
    )
    return (
        f"WITH t ({', '.join(columns)}) AS MATERIALIZED ({base_sql}), "  # noqa: S608 - names are constants of this module
        f"agg AS (SELECT GROUPING({', '.join(GROUPED)}) AS g, {', '.join(GROUPED)}, "
        f"COUNT(*) AS n FROM t GROUP BY GROUPING SETS ({sets})), "
        f"pct AS (SELECT {pct} FROM t) "
        f"SELECT agg.*, {', '.join(labels)}, pct.* FROM agg CROSS JOIN pct {' '.join(joins)}"
    )


def counts_and_percentiles(base_sql: str, params, columns: list[str]):
    """([(kind, key, label, count)], {(figure name, fraction): seconds or None})."""
    with connection.cursor() as cursor:
        cursor.execute(_statement(base_sql, columns), params)
        result = cursor.fetchall()
    width = 2 + len(GROUPED)
    label_of = dict(zip(NAMES, range(width, width + len(NAMES)), strict=True))
    percentiles = {(name, fraction): None for name, _, fraction in PERCENTILES}
    totals: dict[tuple[str, str], list] = {}
    for row in result:
        values = dict(zip(GROUPED, row[1 : width - 1], strict=True))
        count = row[width - 1]
        for (name, _, fraction), value in zip(PERCENTILES, row[-len(PERCENTILES) :], strict=True):
            percentiles[(name, fraction)] = value
        flag, figures = MASKS[row[0]]
        if not values[flag]:
            continue  # tickets outside this set's figures (e.g. not created in the period)
        for kind, key in figures:
            if kind == "team_unassigned" and not values["unassigned"]:
                continue
            raw = values[key] if key else None
            text = "" if raw is None else raw.isoformat() if hasattr(raw, "isoformat") else str(raw)
            label = (row[label_of[key]] if key in label_of else text) if key else ""
            entry = totals.setdefault((kind, text), [label or "", 0])
            entry[1] += count
    rows = [(kind, key, label, n) for (kind, key), (label, n) in totals.items()]
    return rows, percentiles
