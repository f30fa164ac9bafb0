"""PostgreSQL: an index that answers 1- and 2-character searches (pg_trgm needs 3): every single
character and every pair of adjacent characters of the search text, without spaces, in a GIN
array index. A word of one or two characters is in the text exactly when it is in that array."""

from django.db import migrations

CREATE = [
    """
    CREATE OR REPLACE FUNCTION kehu_search_grams(body text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
      SELECT coalesce(array_agg(DISTINCT g), '{}') FROM (
        SELECT substr(body, i, 1) AS g FROM generate_series(1, length(body)) AS i
        UNION ALL
        SELECT substr(body, i, 2) FROM generate_series(1, length(body) - 1) AS i
      ) AS grams WHERE position(' ' IN g) = 0
    $$
    """,
    "CREATE INDEX IF NOT EXISTS customer_search_grams ON customers_customer "
    "USING gin (kehu_search_grams(search_text)) WHERE deleted_at IS NULL",
]
DROP = ["DROP INDEX IF EXISTS customer_search_grams", "DROP FUNCTION IF EXISTS kehu_search_grams(text)"]


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in CREATE:
            schema_editor.execute(sql)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in DROP:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("customers", "0013_customer_channel_level")]
    operations = [migrations.RunPython(create, drop)]
