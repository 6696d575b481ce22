"""What a delivery's body looks like: the Standard Webhooks JSON, or a chat message.

The Standard body is `{"type", "timestamp", "data"}` with codes, never labels (a program
reads it). Teams and Slack bodies are a readable line and a link to the ticket, in the
shape each product's incoming webhooks accept: an Adaptive Card in a message for Teams
(Workflows' "when a webhook request is received"), `text` + `blocks` for Slack.
"""

import json

from portal.catalog.models import Priority
from portal.tickets.models import Status
from portal.webhooks.models import Event, Format

STATUS_LABELS = dict(Status.choices)
PRIORITY_LABELS = dict(Priority.choices)


def render(fmt: str, *, event: str, timestamp: str, data: dict) -> str:
    if fmt == Format.TEAMS:
        return json.dumps(teams_message(event, data))
    if fmt == Format.SLACK:
        return json.dumps(slack_message(event, data))
    return json.dumps({"type": event, "timestamp": timestamp, "data": data}, sort_keys=True)


def summary(event: str, data: dict) -> str:
    """One line a person reads in a channel: what happened to which ticket."""
    ticket = data["ticket"]
    head = f"{ticket['number']} {ticket['title']}"
    match event:
        case Event.TICKET_CREATED:
            return f"New ticket {head} ({PRIORITY_LABELS.get(ticket['priority'], '')} priority)"
        case Event.TICKET_ASSIGNED:
            return f"{head} assigned to {ticket['assignee'] or 'nobody'}"
        case Event.TICKET_STATUS_CHANGED:
            change = data["change"]
            old = STATUS_LABELS.get(change["from"], change["from"])
            new = STATUS_LABELS.get(change["to"], change["to"])
            return f"{head}: {old} → {new}"
        case Event.TICKET_COMMENTED:
            comment = data["comment"]
            note = "Internal note" if comment["internal"] else "Comment"
            return f"{note} by {comment['author']} on {head}"
        case Event.SLA_AT_RISK | Event.SLA_BREACHED:
            sla = data["sla"]
            state = "breached" if event == Event.SLA_BREACHED else "at risk"
            return f"{head}: {sla['target']} target {state}"
    return head


def _excerpt(data: dict) -> str:
    comment = data.get("comment")
    return (comment["body"][:500] if comment else "").strip()


def teams_message(event: str, data: dict) -> dict:
    ticket = data["ticket"]
    body = [{"type": "TextBlock", "text": summary(event, data), "wrap": True, "weight": "Bolder"}]
    if excerpt := _excerpt(data):
        body.append({"type": "TextBlock", "text": excerpt, "wrap": True})
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
        "actions": [
            {"type": "Action.OpenUrl", "title": f"Open {ticket['number']}", "url": ticket["url"]}
        ],
    }
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
        ],
    }


def _slack_escape(text: str) -> str:
    """Slack's mrkdwn treats &, < and > as markup; a title must not make a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(event: str, data: dict) -> dict:
    ticket = data["ticket"]
    line = summary(event, data)
    text = f"<{ticket['url']}|{ticket['number']}> {_slack_escape(line)}"
    if excerpt := _excerpt(data):
        text += "\n>" + _slack_escape(excerpt).replace("\n", "\n>")
    return {
        "text": line,  # notifications and clients without blocks show this
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
    }
