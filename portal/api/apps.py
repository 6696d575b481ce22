from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The REST API under /api/v1/ and the personal access tokens that open it."""

    name = "portal.api"
    label = "api"

    def ready(self) -> None:
        from portal.accounts.services import register_credential_revoker
        from portal.api.tokens import tokens_revoke_on_password_change

        # A new password (own change, reset link, admin) revokes every token of the user.
        register_credential_revoker(tokens_revoke_on_password_change)
