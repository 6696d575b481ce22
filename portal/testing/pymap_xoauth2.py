"""pymap with XOAUTH2 turned on, for the Microsoft 365 tests: run as a script, with the
one bearer token it accepts in PYMAP_XOAUTH2_TOKEN.

pymap offers PLAIN and LOGIN only, and its dict backend cannot verify a bearer token
(pysasl hands XOAUTH2 over as "external" credentials for the application to check). Here
XOAUTH2 is added to the mechanisms pymap announces, and a bearer token is accepted when it
is exactly the expected one for the demo user: a real IMAP server parsing the client's
real AUTHENTICATE XOAUTH2 exchange (user=…^Aauth=Bearer …^A^A), checking a token the way
Exchange Online would (is it the one the identity platform issued?).
"""

import os
import sys

from pymap.backend.dict import Identity, Login
from pymap.exceptions import InvalidAuth
from pymap.main import main
from pysasl import SASLAuth
from pysasl.creds.external import ExternalCredentials

EXPECTED = os.environ["PYMAP_XOAUTH2_TOKEN"]
USER = os.environ["PYMAP_XOAUTH2_USER"]


def _with_xoauth2(cls):
    return cls.named([b"PLAIN", b"LOGIN", b"XOAUTH2"])


_password_authenticate = Login.authenticate


async def _authenticate(self, credentials):
    if isinstance(credentials, ExternalCredentials):
        token = getattr(credentials, "_token", None)
        if credentials.authzid == USER and token == EXPECTED:
            return Identity(USER, self, None, frozenset())
        raise InvalidAuth()
    return await _password_authenticate(self, credentials)


if __name__ == "__main__":
    SASLAuth.defaults = classmethod(_with_xoauth2)  # type: ignore[method-assign, assignment]
    Login.authenticate = _authenticate  # type: ignore[method-assign]
    sys.argv[0] = "pymap"
    sys.exit(main())
