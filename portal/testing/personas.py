"""The named users every test suite shares (see CONTRIBUTING.md).

- requester: raises tickets (employee@example.com in the demo)
- agent: member of team A
- lead: lead of team A
- spoc: SPOC of business unit group X
- admin: staff flag
- outsider: signed-in employee with no relation to anything under test

Apps further up the chain give them roles in their own fixtures (the master-data
fixtures put agent and lead in team A and make spoc the SPOC of group X).
"""

from dataclasses import dataclass

from portal.accounts.models import User

PASSWORD = "correct horse battery staple"


@dataclass
class Personas:
    requester: User
    agent: User
    lead: User
    spoc: User
    admin: User
    outsider: User

    def all(self) -> dict[str, User]:
        return dict(vars(self))


def make_personas() -> Personas:
    def user(name: str, **extra) -> User:
        return User.objects.create_user(
            f"{name}@example.com", PASSWORD, full_name=f"{name.title()} Persona", **extra
        )

    return Personas(
        requester=user("requester"),
        agent=user("agent"),
        lead=user("lead"),
        spoc=user("spoc"),
        admin=user("admin", is_staff=True, is_superuser=True),
        outsider=user("outsider"),
    )
