"""The demo's help articles: thirty, across the groups, loaded once."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from portal.kb.models import Article

pytestmark = pytest.mark.django_db


def test_demo_articles_load_once_across_every_group(settings):
    settings.DEBUG = True
    call_command("load_demo")
    titles = list(Article.objects.values_list("title", flat=True))
    call_command("load_demo")
    assert sorted(Article.objects.values_list("title", flat=True)) == sorted(titles)
    assert len(titles) == 30
    assert set(Article.objects.values_list("group__name", flat=True)) == {
        "IT", "Human Resources", "Finance", "Facilities",
    }  # fmt: skip
    assert Article.objects.filter(status="draft").count() == 1
    assert Article.objects.filter(audience="workers").count() == 3
    assert Article.objects.filter(review_by__lt=timezone.localdate()).count() == 2
