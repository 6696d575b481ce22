"""An account by its id, read with the statement compiled once per process.

A signed-in request reads its user (`ModelBackend.get_user`: `User.objects.get(pk=…)`) when
the session store could not read it with the session (`session_user.py`: a session with no
`UserSession` row), and the ORM built and compiled that query each time: 360–390 µs of CPU,
about a quarter of what a page cost before its own work (docs/benchmarks.md, issue 26). The
read is the ORM's own statement of every column, compiled once per model class and database
alias (`portal.lib.compiled`, which also converts the values as the ORM does); the instance
is made as the ORM's iterator makes it (`Model.from_db`), so the account is the one
`QuerySet.get` returns. Nothing is kept but the statement: every read goes to the database.
"""

from django.db import router
from django.db.models import Model

from portal.lib import compiled


def get_by_id(model: type[Model], pk: int, using: str | None = None):
    """`model._default_manager.get(pk=pk)`; raises `model.DoesNotExist` as it does."""
    using = using or router.db_for_read(model)
    names = [field.attname for field in model._meta.concrete_fields]
    # Table and columns name the statement: a data migration's historical model, with the
    # columns of its time, gets its own.
    name = f"account by id: {model._meta.db_table} ({', '.join(names)})"
    found = compiled.rows(
        name,
        lambda pk: model._default_manager.filter(pk=pk).values_list(*names),
        [pk],
        using=using,
        one_plan=True,
    )
    if not found:
        missing = f"{model._meta.object_name} matching query does not exist."
        raise model.DoesNotExist(missing)  # type: ignore[attr-defined]
    return model.from_db(using, names, found[0])
