"""SCIM 2.0 provisioning of users from the organisation's identity provider (Entra ID,
Okta): create people, keep their name, and deactivate leavers, which ends their sessions
and revokes their API tokens at once. Off unless SCIM_TOKEN is set. See docs/sso.md."""
