"""Search-as-you-type at 100k products (issue 17): the suggestions' GIN indexes without a
pending list (fastupdate off: queued words were read in full by every prefix until the next
vacuum), the prefix index split like them into products and the rest, and no plain index on
the product column (one_product_suggestion serves lookups by product; the plain one lured the
planner into testing every brand and category row).

The plain index is dropped by name: Django's AlterField to db_index=False would also drop
one_product_suggestion, the unique index on the same column."""

import django.contrib.postgres.indexes
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0003_sku_without_slash"),
        ("search", "0011_model_adaptation"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="suggestion", name="suggestion_terms_other"),
        migrations.RemoveIndex(model_name="suggestion", name="suggestion_terms_products"),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS search_suggestion_product_id_7bdc4d17",
                    reverse_sql="CREATE INDEX IF NOT EXISTS search_suggestion_product_id_7bdc4d17"
                    " ON search_suggestion (product_id)",
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="suggestion",
                    name="product",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="catalog.product",
                    ),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="suggestion",
            index=django.contrib.postgres.indexes.GinIndex(
                condition=models.Q(("product", None)),
                fastupdate=False,
                fields=["terms"],
                name="suggestion_terms_other",
            ),
        ),
        migrations.AddIndex(
            model_name="suggestion",
            index=django.contrib.postgres.indexes.GinIndex(
                condition=models.Q(("product", None), _negated=True),
                fastupdate=False,
                fields=["terms"],
                name="suggestion_terms_products",
            ),
        ),
        migrations.RemoveIndex(model_name="suggestion", name="suggestion_prefix"),
        migrations.AddIndex(
            model_name="suggestion",
            index=models.Index(
                condition=models.Q(("product", None), _negated=True),
                fields=["text"],
                name="suggestion_prefix_products",
                opclasses=["text_pattern_ops"],
            ),
        ),
        migrations.AddIndex(
            model_name="suggestion",
            index=models.Index(
                condition=models.Q(("product", None)),
                fields=["text"],
                name="suggestion_prefix_other",
                opclasses=["text_pattern_ops"],
            ),
        ),
    ]
