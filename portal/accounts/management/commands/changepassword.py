"""`manage.py changepassword` that, like every other way of changing a password, ends the
user's sessions and revokes their API tokens (Django's own command only saves the hash).

`portal.accounts` is listed before `django.contrib.auth` in INSTALLED_APPS so that this
command replaces Django's of the same name."""

import getpass

from django.contrib.auth.management.commands import changepassword

from portal.accounts import services


class Command(changepassword.Command):
    help = changepassword.Command.help + " Ends the user's sessions and revokes their API tokens."

    def handle(self, *args, **options):
        message = super().handle(*args, **options)
        # Django's command has just found the user and saved the new hash; find them again
        # the same way (their username, or the operating-system user's).
        username = options["username"] or getpass.getuser()
        user = changepassword.UserModel._default_manager.using(options["database"]).get(
            **{changepassword.UserModel.USERNAME_FIELD: username}
        )
        revoked = services.user_password_replaced(user=user, via="changepassword")
        return f"{message}. Sessions ended; {revoked} API token(s) revoked."
