"""Request forms for the benchmark's data (issue 22): fields on every category and on the
first subcategory of each, and the answers tickets carry.

Every category asks its group's questions (IT: asset tag, cost centre, needed by, business
critical; HR: employee number, month, amount, the person concerned; Finance: cost centre,
amount, invoice reference; Facilities: building, room, floor), and the first subcategory
of each category adds a several-choice question. The busiest category, where the
benchmarks raise their tickets, asks the same questions as optional ones (the side-by-side
harness posts no answers). Tickets raised in the last year answer their classification's
form (required fields always, optional ones about half the time), older ones were raised
before the forms existed and carry none; the showcase tickets answer every question.
Values are what `portal/catalog/request_forms.py` stores (codes for choices, `YYYY-MM-DD`
dates, numbers, booleans, user ids), so the ticket page, the search vector (a generated
column over the answers) and the list filters meet them as they would real ones. `check`
validates a sample with the portal's own validator before the load goes on.
"""

import datetime as dt
import json
import random

DAY = 86_400.0
ANSWERED_SINCE_DAYS = 365  # tickets older than this were raised before the forms existed
OPTIONAL_SHARE = 0.5

COST_CENTRES = [("cc-1100", "1100 Operations"), ("cc-1200", "1200 Sales"),
                ("cc-2100", "2100 Engineering"), ("cc-2200", "2200 Support"),
                ("cc-3100", "3100 Finance"), ("cc-3200", "3200 People"),
                ("cc-4100", "4100 Facilities"), ("cc-5100", "5100 Executive")]  # fmt: skip
BUILDINGS = [("hq", "Headquarters"), ("north", "North campus"), ("south", "South campus"),
             ("depot", "Depot"), ("lab", "Laboratory")]  # fmt: skip
SYSTEMS = [("email", "Email"), ("vpn", "VPN"), ("erp", "ERP"), ("crm", "CRM"),
           ("files", "File shares"), ("phone", "Phone")]  # fmt: skip


def _options(pairs):
    return [{"code": code, "label": label} for code, label in pairs]


# (key, label, type, required, extra: options / (min, max))
GROUP_FIELDS = {
    "IT": [
        ("asset_tag", "Asset tag", "text", True, None),
        ("cost_centre", "Cost centre", "choice", True, COST_CENTRES),
        ("needed_by", "Needed by", "date", False, None),
        ("business_critical", "Business critical", "yes_no", False, None),
    ],
    "HR": [
        ("employee_number", "Employee number", "text", True, None),
        ("month", "Month concerned", "date", True, None),
        ("amount", "Amount", "number", False, (0, 100_000)),
        ("person", "Person concerned", "user", False, None),
    ],
    "FIN": [
        ("cost_centre", "Cost centre", "choice", True, COST_CENTRES),
        ("amount", "Amount", "number", True, (0, 1_000_000)),
        ("invoice_ref", "Invoice reference", "text", False, None),
    ],
    "FAC": [
        ("building", "Building", "choice", True, BUILDINGS),
        ("room", "Room", "text", True, None),
        ("floor", "Floor", "number", False, (-2, 30)),
    ],
}
SUB_FIELD = ("systems", "Systems affected", "multi_choice", False, SYSTEMS)
FIELD_COLUMNS = ["id", "category_id", "subcategory_id", "key", "label", "help_text",
                 "field_type", "required", "position", "options", "min_value", "max_value",
                 "is_active", "created_at", "updated_at"]  # fmt: skip


class Forms:
    """The fields of every classification, and the answers one ticket gives."""

    def __init__(self, org, now: float):
        # Seeded from the organisation's shape, not drawn from the ticket generator's
        # stream: a seed's tickets, comments and events stay what they were without forms.
        self.rng = random.Random(f"forms:{len(org.users)}:{len(org.categories)}")
        self.now = now
        self.since = now - ANSWERED_SINCE_DAYS * DAY
        self.people = org.requester_ids
        self.rows = []  # FormField rows, FIELD_COLUMNS order minus the timestamps
        self.by_category = {}  # category id → [(key, type, required, extra)]
        self.by_subcategory = {}  # subcategory id → [(key, type, required, extra)]
        self.category_of = {}
        for cid, _, _, _, code in org.categories:
            own = self.by_category[cid] = []
            for position, (key, label, kind, required, extra) in enumerate(GROUP_FIELDS[code]):
                # The busiest category is where the benchmarks raise tickets, the side-by-side
                # harness too, which posts no answers: its questions are all optional.
                required = required and cid != org.top_category
                self._field(cid, None, key, label, kind, required, extra, position)
                own.append((key, kind, required, extra))
            first_sub = org.subs_of[cid][0]
            key, label, kind, required, extra = SUB_FIELD
            self._field(None, first_sub, key, label, kind, required, extra, 10)
            self.by_subcategory[first_sub] = [(key, kind, required, extra)]
            self.category_of[first_sub] = cid
        self.answered = 0

    def _field(self, cid, sid, key, label, kind, required, extra, position) -> None:
        options = _options(extra) if kind in ("choice", "multi_choice") else []
        low, high = extra if kind == "number" else (None, None)
        self.rows.append((len(self.rows) + 1, cid, sid, key, label, "", kind, required, position,
                          json.dumps(options), low, high, True))  # fmt: skip

    def load(self, cursor, table, stamp_now: str) -> None:
        from portal.catalog.models import FormField

        table(FormField, FIELD_COLUMNS).copy(
            cursor, (row + (stamp_now, stamp_now) for row in self.rows)
        )

    def values(self, cid: int, sid: int | None, created: float, *, always: bool = False):
        """The JSON text of one ticket's answers ("{}" for a ticket raised before forms)."""
        if not always and created < self.since:
            return "{}"
        rng = self.rng
        answers = {}
        for key, kind, required, extra in self.by_category[cid] + self.by_subcategory.get(sid, []):
            if not (required or always) and rng.random() >= OPTIONAL_SHARE:
                continue
            answers[key] = self._value(rng, key, kind, extra, created)
        self.answered += 1
        return json.dumps(answers)

    def _value(self, rng, key, kind, extra, created):
        if kind == "text":
            prefix = {"asset_tag": "AT-", "employee_number": "E", "invoice_ref": "INV-",
                      "room": "R"}.get(key, "")  # fmt: skip
            return f"{prefix}{rng.randrange(10_000, 1_000_000)}"
        if kind == "choice":
            return extra[int(rng.random() * len(extra))][0]
        if kind == "multi_choice":
            return [code for code, _ in rng.sample(extra, rng.randint(1, 3))]
        if kind == "number":
            low, high = extra
            if high > 1000:  # money: two decimals
                return round(low + rng.random() * (high - low), 2)
            return rng.randint(low, high)
        if kind == "date":
            day = dt.datetime.fromtimestamp(created, dt.UTC).date()
            day += dt.timedelta(days=rng.randint(-40, 30))
            return day.isoformat()
        if kind == "yes_no":
            return rng.random() < 0.3
        if kind == "user":
            return self.people[int(rng.random() * len(self.people))]
        raise ValueError(kind)


def check(forms: Forms, samples: int = 300) -> int:
    """Validates `samples` generated answers with the portal's validator (the fields built
    in memory from the rows loaded; a person answered must exist, one query then)."""
    from decimal import Decimal

    from portal.catalog import request_forms
    from portal.catalog.models import FormField

    built = {}
    for row in forms.rows:
        fid, cid, sid, key, label, _, kind, required, position, options, low, high, _ = row
        built.setdefault(("c", cid) if cid else ("s", sid), []).append(
            FormField(id=fid, category_id=cid, subcategory_id=sid, key=key, label=label,
                      field_type=kind, required=required, position=position,
                      options=json.loads(options),
                      min_value=None if low is None else Decimal(low),
                      max_value=None if high is None else Decimal(high))
        )  # fmt: skip
    probe = Forms.__new__(Forms)
    probe.__dict__.update(forms.__dict__)
    probe.rng = random.Random("forms-check")
    pairs = [(cid, None) for cid in forms.by_category]
    pairs += [(forms.category_of[sid], sid) for sid in forms.by_subcategory]
    checked = 0
    for index in range(samples):
        cid, sid = pairs[index % len(pairs)]
        fields = built[("c", cid)] + (built.get(("s", sid), []) if sid else [])
        values = json.loads(probe.values(cid, sid, forms.now, always=True))
        form = request_forms.RequestForm(fields=tuple(fields))
        if form.validate(values) != values:
            raise SystemExit(f"request form answers {values} are not what the portal stores")
        checked += 1
    return checked


def page_inputs(category_id: int) -> dict:
    """The new-ticket page's inputs answering every question of the category's form but
    people (`form-<code>` → text, as a browser posts them), for the benchmarks' creates.
    One query; an older database without forms gives {}."""
    from portal.catalog import request_forms

    samples = {"text": "AT-100200", "number": "42", "date": "2026-01-31", "yes_no": "yes"}
    inputs = {}
    for field in request_forms.form_for(category_id).fields:
        kind = field.field_type
        if kind in ("choice", "multi_choice"):
            inputs[f"form-{field.key}"] = field.options[0]["code"]
        elif kind in samples:
            inputs[f"form-{field.key}"] = samples[kind]
    return inputs
