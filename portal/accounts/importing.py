"""Importing users from the original system's CSV export.

Columns (header row required, case-insensitive): email, full name, password hash, active,
and optionally manager email (the person who approves their requests that need their
manager's approval: someone in the file or already in the portal; blank for none; without
the column, managers are left as they are).
The hash is the seed's bcrypt hash (`$2a$10$…`) or blank (the user gets no usable password
until an admin sets one). Every row is checked first; any error means nothing is written.
"""

import csv
import io
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from portal.accounts.emails import normalize_email, validate_login_email
from portal.accounts.hashers import legacy_bcrypt_to_django
from portal.accounts.models import User
from portal.accounts.services import user_create, user_set_password_hash, user_update

COLUMNS = {
    "email": "email",
    "full name": "full_name",
    "password hash": "hash",
    "active": "active",
    "manager email": "manager",
}
REQUIRED = {"email", "full name"}
TRUE_WORDS = {"1", "true", "yes", "y", "active", ""}
FALSE_WORDS = {"0", "false", "no", "n", "inactive"}


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class _Row:
    line: int
    email: str
    full_name: str
    password: str | None
    active: bool
    manager: str | None = None  # None: the file has no manager column


def import_users_csv(text: str, *, actor: User | None = None) -> ImportResult:
    """Check every row, then create or update each user through the user services (all
    or nothing). `actor` is the admin running it (None from the command line)."""
    result = ImportResult()
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        result.errors.append("The file is empty: expected a header row.")
        return result
    names = [h.strip().lower() for h in header]
    missing = REQUIRED - set(names)
    if missing:
        result.errors.append(f"Line 1: missing column(s): {', '.join(sorted(missing))}.")
        return result
    index = {COLUMNS[n]: i for i, n in enumerate(names) if n in COLUMNS}

    rows: list[_Row] = []
    seen: dict[str, int] = {}
    for line, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        row = _parse_row(line, values, index, result.errors)
        if row is None:
            continue
        if row.email in seen:
            result.errors.append(
                f"Line {line}: {row.email} already appears on line {seen[row.email]}."
            )
            continue
        seen[row.email] = line
        rows.append(row)
    if result.errors:
        return result

    existing = {u.email: u for u in User.objects.filter(email__in=seen)}
    try:
        _write(rows, existing, actor, result)
    except _RowRefused as refused:
        # A service refused a row (e.g. deactivating the last admin on triage duty while a
        # ticket could reach nobody else): the whole import was rolled back.
        result.created = result.updated = 0
        result.errors.append(f"Line {refused.line}: {' '.join(refused.error.messages)}")
    return result


class _RowRefused(Exception):
    def __init__(self, line: int, error: ValidationError):
        super().__init__(line, error)
        self.line, self.error = line, error


def _write(rows: list[_Row], existing: dict[str, User], actor: User | None, result) -> None:
    """Through the user services, so an import changes users exactly as an admin would: a
    deactivation ends sessions and is logged, a new hash ends sessions too. One
    transaction: a refused row undoes every row."""
    with transaction.atomic():
        for row in rows:
            try:
                _write_row(row, existing.get(row.email), actor, result)
            except ValidationError as error:
                raise _RowRefused(row.line, error) from error
        # Managers once everyone exists: a row may name someone further down the file.
        users = {u.email: u for u in User.objects.filter(email__in=[r.email for r in rows])}
        for row in rows:
            if row.manager is None:
                continue
            try:
                user_update(
                    user=users[row.email], actor=actor, full_name=row.full_name,
                    manager_email=row.manager,
                )  # fmt: skip
            except ValidationError as error:
                raise _RowRefused(row.line, error) from error


def _write_row(row: _Row, user: User | None, actor: User | None, result) -> None:
    if user is None:
        user_create(
            email=row.email,
            full_name=row.full_name,
            password=None,
            password_hash=row.password,
            is_active=row.active,
            actor=actor,
        )
        result.created += 1
        return
    user_update(user=user, actor=actor, full_name=row.full_name, is_active=row.active)
    if row.password is not None:
        user_set_password_hash(user=user, password_hash=row.password, actor=actor)
    result.updated += 1


def _parse_row(
    line: int, values: list[str], index: dict[str, int], errors: list[str]
) -> _Row | None:
    def cell(key: str) -> str:
        i = index.get(key)
        return values[i].strip() if i is not None and i < len(values) else ""

    problems = []
    email = normalize_email(cell("email"))
    try:
        validate_login_email(email)
    except ValidationError as exc:
        problems.append(f"email {email!r}: {' '.join(exc.messages)}")
    full_name = cell("full_name")
    if not full_name:
        problems.append("full name is blank")
    elif len(full_name) > 150:
        problems.append("full name is longer than 150 characters")
    password = None
    if cell("hash"):
        try:
            password = legacy_bcrypt_to_django(cell("hash"))
        except ValueError as exc:
            problems.append(f"password hash: {exc}")
    active_word = cell("active").lower()
    if active_word not in TRUE_WORDS | FALSE_WORDS:
        problems.append(f"active must be yes or no, not {cell('active')!r}")
    if problems:
        errors.append(f"Line {line}: " + "; ".join(problems) + ".")
        return None
    manager = normalize_email(cell("manager")) if "manager" in index else None
    return _Row(line, email, full_name, password, active_word in TRUE_WORDS, manager)
