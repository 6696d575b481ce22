"""Master rows read by an id someone typed (forms, the API) come from the shared cache."""

import pytest

from portal.catalog.models import Category
from portal.catalog.selectors import master_row

pytestmark = pytest.mark.django_db


def test_a_made_up_id_adds_nothing_to_the_cache(django_assert_num_queries):
    # Were "no such row" kept, anyone could fill the cache with ids of their choosing.
    for _ in range(2):
        with django_assert_num_queries(1):
            assert master_row("category", 987_654_321) is None


def test_a_real_row_is_read_once(django_assert_num_queries, org):
    category = Category.objects.order_by("pk").first()
    with django_assert_num_queries(1):
        assert master_row("category", category.pk) == category
    with django_assert_num_queries(0):
        assert master_row("category", category.pk) == category
