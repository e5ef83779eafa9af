"""What the catalog announces to whoever derives data from it (the search index).

Single-row ORM saves are announced by Django's own `post_save`/`post_delete`; writes that
bypass them (bulk_create, queryset.update) must send `products_changed` themselves.
Receivers only enqueue work; the search sweeper catches anything an announcement missed.
"""

from django.dispatch import Signal

# kwargs: product_ids: list[int]
products_changed = Signal()
