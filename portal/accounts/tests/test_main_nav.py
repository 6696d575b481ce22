"""The main navigation is rendered once per key ({% main_nav %}): what each page shows must
be what rendering it afresh shows, whichever page, person or count filled the cache before."""

import itertools

from django.template import Context, engines
from django.test import RequestFactory
from django.urls import resolve, set_script_prefix

from portal.accounts.roles import Roles
from portal.accounts.templatetags import navigation

ROLES = {
    "requester": Roles(),
    "agent": Roles(agent_team_ids=frozenset({1})),
    "spoc": Roles(spoc_group_ids=frozenset({1})),
    "admin": Roles(is_admin=True),
}
PATHS = [
    "/dashboard",
    "/tickets",
    "/approvals",
    "/masters/teams",
    "/sla",
    "/help",
    "/teams",
    "/mailboxes",
]


def _contexts():
    """Every combination of what the navigation reads, with the page it would be on."""
    factory = RequestFactory()
    for prefix, path, role, pending in itertools.product(
        ["/", "/portal/"], PATHS, ROLES, [0, 1, 7]
    ):
        request = factory.get(path)
        request.resolver_match = resolve(path)
        context = Context({"request": request, "roles": ROLES[role], "pending_approvals": pending})
        yield prefix, context, (prefix, path, role, pending)


def _fresh(context) -> str:
    nav = engines["django"].engine.get_template(navigation.MAIN_NAV)
    return nav.render(context)


def test_every_page_person_and_count_gets_its_own_navigation():
    tag = engines["django"].engine.from_string("{% load navigation %}{% main_nav %}")
    navigation._rendered.clear()
    try:
        for prefix, context, combination in _contexts():
            set_script_prefix(prefix)
            cached = tag.render(context)
            # Were one of these variables left out of the key, the HTML of the combination
            # before (another page, person, count or prefix) would be served here.
            assert cached == _fresh(context), combination
        # Agents and SPOCs see the same links: one key for both.
        assert len(navigation._rendered) == 2 * len(PATHS) * 3 * (len(ROLES) - 1)
    finally:
        set_script_prefix("/")


def test_the_navigation_shows_the_current_page_and_what_the_person_may_use(personas, client_for):
    admin = client_for(personas.admin).get("/tickets").content.decode()
    requester = client_for(personas.requester).get("/tickets").content.decode()
    dashboard = client_for(personas.requester).get("/dashboard").content.decode()
    assert "Administration" in admin and "Administration" not in requester
    assert '<a href="/tickets" aria-current="page">Tickets</a>' in requester
    assert '<a href="/dashboard" aria-current="page">Dashboard</a>' in dashboard
    assert '<a href="/tickets">Tickets</a>' in dashboard
