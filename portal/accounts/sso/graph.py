"""Entra ID's groups overage: past 200 groups the ID token carries no `groups` claim, so
the portal asks Microsoft Graph which of the *mapped* groups the person is in
(`checkMemberGroups`, with the sign-in's access token; at most 20 ids a call, the
OIDC_TIMEOUT bound on each). Needs the delegated Graph permission GroupMember.Read.All.
"""

import requests
from django.conf import settings

BATCH = 20  # checkMemberGroups takes at most 20 group ids


def member_groups(access_token: str, candidates: set[str]) -> frozenset[str] | None:
    """Which of `candidates` the signed-in person belongs to; None when Graph could not
    say (the roles are then left as they are)."""
    if not access_token:
        return None
    url = settings.OIDC_ENTRA_GRAPH_URL.rstrip("/") + "/v1.0/me/checkMemberGroups"
    ids = sorted(candidates)
    found: set[str] = set()
    try:
        for start in range(0, len(ids), BATCH):
            response = requests.post(
                url,
                json={"groupIds": ids[start : start + BATCH]},
                headers={"Authorization": f"Bearer {access_token}"},
                timeout=settings.OIDC_TIMEOUT,
            )
            response.raise_for_status()
            found.update(str(v) for v in response.json().get("value", []))
    except (requests.RequestException, ValueError, AttributeError):
        return None
    return frozenset(found)
