"""Pools for tests."""

from kehu.pool.models import Pool


def make_pool(name="默认公海", is_default=True, **rules) -> Pool:
    return Pool.objects.create(name=name, is_default=is_default, **rules)
