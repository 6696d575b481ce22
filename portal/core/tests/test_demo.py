import pytest
from django.core.management import CommandError, call_command

from portal.accounts.models import User
from portal.core.demo import DEMO_PASSWORD, DEMO_USERS

pytestmark = pytest.mark.django_db


def test_demo_data_loads_twice_without_duplicates(settings):
    settings.DEBUG = True
    call_command("load_demo")
    first = User.objects.count()
    call_command("load_demo")
    assert User.objects.count() == first
    assert set(User.objects.values_list("email", flat=True)) >= {e for e, _, _ in DEMO_USERS}
    admin = User.objects.get(email="admin@example.com")
    assert admin.is_staff and admin.check_password(DEMO_PASSWORD)


def test_demo_data_refuses_to_load_in_production(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="development only"):
        call_command("load_demo")
    assert not User.objects.exists()


def test_demo_opens_without_a_flood_of_notifications(settings):
    from portal.core.demo import DEMO_UNREAD_PER_USER
    from portal.notifications.models import Notification

    settings.DEBUG = True
    call_command("load_demo")
    employee = User.objects.get(email="employee@example.com")
    assert Notification.objects.filter(recipient=employee).count() > DEMO_UNREAD_PER_USER
    assert 0 < Notification.objects.filter(recipient=employee, read_at__isnull=True).count()
    assert (
        Notification.objects.filter(recipient=employee, read_at__isnull=True).count()
        <= DEMO_UNREAD_PER_USER
    )


def test_the_demo_history_queues_no_email(settings):
    """The replayed weeks of history notify in-app only: no email row and no delivery
    task for the worker to chew through (a first start used to queue about 1,400)."""
    from django_tasks_db.models import DBTaskResult

    from portal.notifications.models import EmailDelivery, Notification

    settings.DEBUG = True
    call_command("load_demo")
    assert Notification.objects.exists()
    assert not EmailDelivery.objects.exists()
    assert not DBTaskResult.objects.filter(task_path__contains="deliver_emails").exists()
