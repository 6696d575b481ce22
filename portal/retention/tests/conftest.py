from portal.tickets.tests.conftest import raise_ticket  # noqa: F401  (the fixture)
