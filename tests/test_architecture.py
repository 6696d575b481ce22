"""The architecture's rules, as tests (CONTRIBUTING.md names the allow-lists below).

1. Tickets and what hangs off them are read through the access layer: `Ticket`,
   `Comment`, `TicketEvent` and `Attachment` managers are used directly only by the access
   layer, the services that write them, and the named system jobs; everywhere else only
   the verbs `visible_to(...)` and `public()` (or `access.*` functions) may be called.
2. ORM writes (`.objects….create/update/delete/bulk_*`) happen in services and the few
   system modules listed, never in views, API endpoints, forms or templates' helpers.
3. The import direction between apps is checked by `lint-imports` (pyproject.toml).
4. One way to do each small thing: the helpers in `ONE_HOME` are defined once, in their
   home module, and nowhere else under any of the names they had as copies; forms are
   bound with `posted_data(request)`, never `request.POST or None`; a ValidationError's
   parts (`error_dict`, `message_dict`) are read only where it becomes form errors
   (`add_service_errors`) or a problem (`portal/api/problems.py`).
5. Services refuse with one of three kinds of error (CONTRIBUTING.md, "Errors"): every
   exception class a service or errors module defines is a `ValidationError` (bad input,
   `Conflict` included), a `PermissionDenied` or an `Http404`, or is a named outage.
"""

import ast
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
TICKET_MODELS = {"Ticket", "Comment", "TicketEvent", "Attachment"}
ACCESS_VERBS = {"visible_to", "public"}
WRITES = {"create", "bulk_create", "update", "delete", "bulk_update", "get_or_create",
          "update_or_create"}  # fmt: skip

# Module → why it may use the ticket models' managers directly.
TICKET_READERS = {
    "portal/tickets/access.py": "the access layer itself",
    "portal/tickets/services.py": "the ticket services (lock and re-read the row they change)",
    "portal/tickets/attachment_services.py": "the file services (store, then commit rows)",
    "portal/tickets/rerouting.py": "the re-routing service (locks the tickets it moves)",
    "portal/tickets/sla_jobs.py": "SLA escalation writes due times in bulk",
    "portal/tickets/demo.py": "the demo loader",
    "portal/links/services.py": "the link services write the linked ticket's history row",
    "portal/tickets/merge_services.py": "merge and parent/child (lock both tickets they change)",
}
# Module → why it may write through the ORM outside a services module.
WRITERS = {
    "portal/accounts/password_reset.py": "password-reset requests (accounts' own service)",
    "portal/accounts/security_log.py": "the security logger's handler stores each event",
    "portal/accounts/sessions.py": "the user → session table",
    "portal/accounts/signals.py": "session bookkeeping on sign-in and sign-out",
    "portal/accounts/throttle.py": "sign-in attempt counters (conditional UPDATEs)",
    "portal/api/ratelimit.py": "API rate-limit windows",
    "portal/api/tokens.py": "API token service",
    "portal/attachments/cleanup.py": "the orphaned-object ledger and sweep",
    "portal/core/management/commands/run_worker.py": "the worker's heartbeat",
    "portal/core/periodic.py": "once-per-period job claims",
    "portal/core/worker.py": "requeueing tasks a dead worker left running",
    "portal/notifications/delivery.py": "the email outbox claims and results",
    "portal/tickets/demo.py": "the demo loader",
    "portal/tickets/sla_jobs.py": "SLA escalation writes due times in bulk",
    "portal/webhooks/delivery.py": "the webhook outbox claims and results",
}

# Helper → the only module that defines it. A second definition (say a local
# `admin_required` in some views module) is a copy that will drift: import the one here.
ONE_HOME = {
    "admin_required": "portal/accounts/decorators.py",
    "works_tickets_required": "portal/accounts/decorators.py",
    "require_admin": "portal/api/guards.py",
    "require_ticket_worker": "portal/api/guards.py",
    "parse_id": "portal/lib/http.py",
    "posted_data": "portal/lib/http.py",
    "posted_files": "portal/lib/http.py",
    "add_service_errors": "portal/lib/forms.py",
    "neutralise": "portal/lib/spreadsheet_cells.py",
    "period_from_query": "portal/lib/periods.py",
    "BadLink": "portal/lib/signed_links.py",
}
# Names the copies had: none may come back.
RETIRED = {
    "ticket_worker_required",
    "_admin",
    "_admin_only",
    "_raw_id",
    "_apply_validation_error",
    "_period",
}


def _modules():
    for path in sorted((ROOT / "portal").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if any(part in relative for part in ("/tests/", "/migrations/", "portal/testing/")):
            continue
        yield relative, ast.parse(path.read_text(), filename=relative)


def _through_objects(node) -> bool:
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        if isinstance(node, ast.Attribute) and node.attr == "objects":
            return True
        node = node.func if isinstance(node, ast.Call) else node.value
    return False


def _is_service_module(relative: str) -> bool:
    return relative.endswith("/services.py") or relative.endswith("_services.py")


def test_ticket_models_are_read_only_through_the_access_layer():
    offenders = []
    for relative, tree in _modules():
        if relative in TICKET_READERS:
            continue
        for node in ast.walk(tree):
            manager = getattr(node, "value", None)
            if (
                isinstance(node, ast.Attribute)
                and isinstance(manager, ast.Attribute)
                and manager.attr == "objects"
                and isinstance(manager.value, ast.Name)
                and manager.value.id in TICKET_MODELS
                and node.attr not in ACCESS_VERBS
            ):
                offenders.append(f"{relative}:{node.lineno} {manager.value.id}.objects.{node.attr}")
    assert offenders == [], (
        "Read tickets through portal/tickets/access.py (visible_to, access.system_read for "
        "the portal's own jobs), or add the module to TICKET_READERS with a reason:\n"
        + "\n".join(offenders)
    )


def test_orm_writes_happen_in_services_and_the_listed_system_modules():
    offenders = []
    for relative, tree in _modules():
        if _is_service_module(relative) or relative in WRITERS:
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in WRITES
                and _through_objects(node.func.value)
            ):
                offenders.append(f"{relative}:{node.lineno} .{node.func.attr}(…)")
    assert offenders == [], (
        "Write through a service function, or add the module to WRITERS with a reason:\n"
        + "\n".join(offenders)
    )


def test_the_allow_lists_name_modules_that_exist():
    for relative in {**TICKET_READERS, **WRITERS}:
        assert (ROOT / relative).is_file(), relative


def test_imports_point_one_way_between_apps():
    result = subprocess.run(
        [str(pathlib.Path(sys.executable).parent / "lint-imports")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:]


def _definitions(tree) -> set[str]:
    """Names a module defines: functions, classes and module-level assignments."""
    names = {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    }
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        names |= {target.id for target in targets if isinstance(target, ast.Name)}
    return names


def test_each_small_helper_is_defined_once_in_its_home():
    found: dict[str, list[str]] = {name: [] for name in ONE_HOME}
    retired = []
    for relative, tree in _modules():
        defined = _definitions(tree)
        for name in defined & ONE_HOME.keys():
            found[name].append(relative)
        retired += [f"{relative}: {name}" for name in sorted(defined & RETIRED)]
    assert found == {name: [home] for name, home in ONE_HOME.items()}, (
        "Import the helper from its home module instead of defining another copy."
    )
    assert retired == [], "A retired copy came back:\n" + "\n".join(retired)


def test_forms_are_bound_with_posted_data_never_post_or_none():
    # `request.POST or None` takes an empty POST for "not submitted": the form is not
    # validated and the page answers without saying what is missing.
    offenders = []
    for relative, tree in _modules():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.BoolOp)
                and isinstance(node.op, ast.Or)
                and isinstance(node.values[0], ast.Attribute)
                and node.values[0].attr in {"POST", "FILES"}
                and isinstance(node.values[-1], ast.Constant)
                and node.values[-1].value is None
            ):
                offenders.append(f"{relative}:{node.lineno}")
    assert offenders == [], (
        "Bind with posted_data(request) / posted_files(request) from portal.lib.http:\n"
        + "\n".join(offenders)
    )


def test_validation_errors_become_form_errors_or_problems_in_one_place_each():
    homes = {"portal/lib/forms.py", "portal/api/problems.py"}
    offenders = [
        f"{relative}:{node.lineno}"
        for relative, tree in _modules()
        if relative not in homes
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in {"error_dict", "message_dict"}
    ]
    assert offenders == [], (
        "Put a service's ValidationError on a form with portal.lib.forms.add_service_errors:\n"
        + "\n".join(offenders)
    )


# Exception classes of service modules that are not refusals, and why.
NOT_REFUSALS = {
    "portal.tickets.errors.TicketError": "the ticket refusals' base; each subclass is one kind",
    "portal.tickets.attachment_services.AttachmentStorageFailed": "an outage (503), not a no",
    "portal.accounts.importing._RowRefused": "private: rolls the import back, never escapes",
    "portal.tickets.services._AlreadySent": "private: rolls a resent form back, never escapes",
    "portal.notifications.notice_services.NoticeNotDelivered": "a worker task failing, no refusal",
}


def test_services_refuse_with_the_three_kinds_of_error():
    import importlib
    import inspect

    from django.core.exceptions import PermissionDenied, ValidationError
    from django.http import Http404

    kinds = (ValidationError, PermissionDenied, Http404)
    offenders = []
    for relative, _tree in _modules():
        name = pathlib.PurePosixPath(relative).name
        if not (_is_service_module(relative) or name in {"errors.py", "tokens.py", "importing.py"}):
            continue
        module = importlib.import_module(relative.removesuffix(".py").replace("/", "."))
        for cls in vars(module).values():
            if not (inspect.isclass(cls) and issubclass(cls, Exception)):
                continue
            qualified = f"{cls.__module__}.{cls.__qualname__}"
            if cls.__module__ != module.__name__ or qualified in NOT_REFUSALS:
                continue
            if not issubclass(cls, kinds):
                offenders.append(qualified)
    assert offenders == [], (
        "Derive the refusal from ValidationError, portal.lib.errors.Conflict or "
        "PermissionDenied (or name it in NOT_REFUSALS with a reason):\n" + "\n".join(offenders)
    )
