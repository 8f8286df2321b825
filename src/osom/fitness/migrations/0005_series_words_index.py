"""The full-text index of each series' words, in a transaction of its own once they are
filled, built as the search index is (osom.search): an FTS5 table kept in step by
triggers on SQLite, a tsvector of the same words with a GIN index on PostgreSQL.

Note: a later migration that makes Django rebuild fitness_metricseries on SQLite drops
these triggers; it must create them again."""

from django.db import migrations

SQLITE = [
    """CREATE VIRTUAL TABLE series_fts USING fts5(
        terms, content='fitness_metricseries', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2', prefix='2 3')""",
    "INSERT INTO series_fts(series_fts) VALUES ('rebuild')",
    """CREATE TRIGGER series_fts_insert AFTER INSERT ON fitness_metricseries BEGIN
        INSERT INTO series_fts(rowid, terms) VALUES (new.id, new.terms);
    END""",
    """CREATE TRIGGER series_fts_delete AFTER DELETE ON fitness_metricseries BEGIN
        INSERT INTO series_fts(series_fts, rowid, terms) VALUES ('delete', old.id, old.terms);
    END""",
    # only a change of the words touches the index: a new value of a series does not
    """CREATE TRIGGER series_fts_update AFTER UPDATE OF terms ON fitness_metricseries BEGIN
        INSERT INTO series_fts(series_fts, rowid, terms) VALUES ('delete', old.id, old.terms);
        INSERT INTO series_fts(rowid, terms) VALUES (new.id, new.terms);
    END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS series_fts_update",
    "DROP TRIGGER IF EXISTS series_fts_delete",
    "DROP TRIGGER IF EXISTS series_fts_insert",
    "DROP TABLE IF EXISTS series_fts",
]
POSTGRESQL = [
    """ALTER TABLE fitness_metricseries ADD COLUMN terms_vector tsvector GENERATED ALWAYS AS (
        array_to_tsvector(array_remove(string_to_array(terms, ' '), ''))
    ) STORED""",
    "CREATE INDEX series_terms_vector ON fitness_metricseries USING gin (terms_vector)",
]
POSTGRESQL_REVERSE = [
    "DROP INDEX IF EXISTS series_terms_vector",
    "ALTER TABLE fitness_metricseries DROP COLUMN IF EXISTS terms_vector",
]


def _run(statements):
    def run(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ("fitness", "0004_series_terms"),
    ]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRESQL}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRESQL_REVERSE}),
        ),
    ]
