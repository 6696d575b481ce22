from portal.tickets.tests.conftest import (  # noqa: F401 - fixtures shared with the tickets tests
    group_y_ticket,
    other_ticket,
    raise_ticket,
    ticket,
)
