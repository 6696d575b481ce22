"""Every token expires: tokens minted with "never" get an expiry, then the column is
required.

A token keeps at most API_TOKEN_MAX_DAYS from its creation, but never less than
GRACE_DAYS from this migration, so a script using an old token is not cut off without
notice (its owner sees the date on /settings/tokens and makes a new one).
"""

import datetime as dt

from django.conf import settings
from django.db import migrations, models
from django.db.models import F
from django.utils import timezone

GRACE_DAYS = 30


def give_every_token_an_expiry(apps, schema_editor):
    ApiToken = apps.get_model("api", "ApiToken")
    now = timezone.now()
    most = dt.timedelta(days=getattr(settings, "API_TOKEN_MAX_DAYS", 365))
    grace_end = now + dt.timedelta(days=GRACE_DAYS)
    never = ApiToken.objects.filter(expires_at__isnull=True)
    # Young tokens: their full allowance from creation still ends after the grace period.
    never.filter(created_at__gt=grace_end - most).update(expires_at=F("created_at") + most)
    # Older ones: the grace period.
    never.update(expires_at=grace_end)


class Migration(migrations.Migration):
    dependencies = [("api", "0001_initial")]

    operations = [
        migrations.RunPython(give_every_token_an_expiry, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="apitoken", name="expires_at", field=models.DateTimeField()
        ),
    ]
