from django.tasks import task

from portal.retention import services


@task()
def run_retention() -> dict[str, int]:
    """Daily (PERIODIC_TASKS): delete what has outlived its retention period."""
    return services.retention_run().counts
