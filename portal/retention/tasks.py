from django.tasks import task

from portal.retention import services


@task()
def run_retention() -> dict[str, int]:
    """Daily (PERIODIC_TASKS): delete what has outlived its retention period."""
    return services.retention_run().counts


@task()
def erase_person(request_id: int) -> dict:
    """Work through an erasure request (erasure_services); when the slice of batches one
    run may take is used up, queue the rest as a new task so the queue keeps moving."""
    from portal.lib.tasks import enqueue_with_data
    from portal.retention import erasure_services

    summary = erasure_services.erasure_run(request_id=request_id)
    if summary["state"] == erasure_services.State.RUNNING:
        enqueue_with_data(erase_person, request_id)
    return summary


@task()
def resume_stalled_erasures() -> int:
    """Every few minutes (PERIODIC_TASKS): an erasure whose task was lost is queued again,
    so a request never stays "running" with nobody working on it."""
    from portal.retention import erasure_services

    return erasure_services.erasures_resume_stalled()
