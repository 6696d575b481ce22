"""`IN` over a field's own codes, written into the SQL rather than sent as parameters.

A plan PostgreSQL makes before it knows a statement's values (the one plan a prepared
statement may keep, `portal.lib.plans`) can use a partial index such as
`WHERE status IN ('new', 'in_progress', 'on_hold')` only when the condition's codes are in
the SQL. Sent as parameters, routing's count of each member's open tickets could not use
the index of open tickets and read every ticket each member was ever given: 13.5 ms
against 0.5 ms for a team of 22 at 100,000 tickets (docs/benchmarks.md, "Reads by a key
planned once").

Only the field's choices are written, each checked against them and against a plain
shape (letters, digits, underscores), in the choices' order (one statement for one set of
codes), so nothing a person typed reaches the SQL text; any other value list goes as
parameters, as Django sends it.
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
        given = {value for value in self.rhs if value is not None}  # each the field's text
        choices = [str(value) for value, _label in self.lhs.output_field.flatchoices]
        if not all(isinstance(code, str) and code in choices for code in given):
            return super().process_rhs(compiler, connection)
        # In the choices' order: the same codes are the same statement, however asked.
        codes = [code for code in choices if code in given and _PLAIN_CODE.fullmatch(code)]
        if len(codes) != len(given):
            return super().process_rhs(compiler, connection)
        if not codes:
            raise EmptyResultSet
        return "(" + ", ".join(f"'{code}'" for code in codes) + ")", ()
