from django.conf import settings
from django.tasks import task


@task()
def remind_approvers() -> dict[str, int]:
    """Remind approvers of steps pending longer than APPROVAL_REMINDER_HOURS, once per
    step even when two workers run it at once (services.remind_due). PERIODIC_TASKS: 15 min."""
    from portal.approvals import services

    return {"reminded": services.remind_due(hours=settings.APPROVAL_REMINDER_HOURS)}
