"""The password backend: Django's, taking the user read with the session.

`auth.get_user` asks the session's backend for its user on every signed-in request; the
session store has already read that user's row with the session (`session_user.py`), so
`get_user` takes it when it is the account asked for, and reads it as Django does
otherwise. Acceptance stays Django's: an account that cannot authenticate (deactivated)
is no user, and `auth.get_user` still checks the session hash.
"""

from django.contrib.auth.backends import ModelBackend

from portal.accounts import session_user


class PasswordBackend(ModelBackend):
    def get_user(self, user_id):
        user = session_user.take(user_id)
        if user is None:
            return super().get_user(user_id)
        return user if self.user_can_authenticate(user) else None
