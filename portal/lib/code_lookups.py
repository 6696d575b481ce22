"""`IN` over a field's own codes, written into the SQL rather than sent as parameters.

A plan PostgreSQL makes before it knows a statement's values (the one plan a prepared
statement may keep, `portal.lib.plans`) can use a partial index such as
`WHERE status IN ('new', 'in_progress', 'on_hold')` only when the condition's codes are in
the SQL. Sent as parameters, routing's count of each member's open tickets could not use
the index of open tickets and read every ticket each member was ever given: 13.5 ms
against 0.5 ms for a team of 22 at 100,000 tickets (docs/benchmarks.md).

Only the field's choices are written, each checked against them and against a plain
shape (letters, digits, underscores), so nothing a person typed reaches the SQL text; any
other value list goes as parameters, as Django sends it.
"""

import re

from django.core.exceptions import EmptyResultSet
from django.db.models.lookups import In

_PLAIN_CODE = re.compile(r"[a-z0-9_]+")


class ChoicesIn(In):
    """`field__in=[codes]`, the codes written into the SQL when all are the field's
    choices (register it on the field: `Model._meta.get_field(name).register_lookup`)."""

    def process_rhs(self, compiler, connection):
        if not self.rhs_is_direct_value():
            return super().process_rhs(compiler, connection)
        codes = list(dict.fromkeys(value for value in self.rhs if value is not None))
        choices = {str(value) for value, _label in self.lhs.output_field.flatchoices}
        if not all(
            isinstance(code, str) and code in choices and _PLAIN_CODE.fullmatch(code)
            for code in codes
        ):
            return super().process_rhs(compiler, connection)
        if not codes:
            raise EmptyResultSet
        return "(" + ", ".join(f"'{str(code)}'" for code in codes) + ")", ()
