import django.db.models.deletion
from django.db import migrations, models

# SQLite: an FTS5 table over the documents' folded words, kept in step by triggers, so a
# write through any path (a bulk delete, a cascade) reaches the full-text index too.
# Note: a later migration that makes Django rebuild search_searchdocument on SQLite drops
# these triggers; it must create them again.
SQLITE = [
    """CREATE VIRTUAL TABLE search_fts USING fts5(
        title_terms, body_terms, content='search_searchdocument', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2', prefix='2 3')""",
    """CREATE TRIGGER search_fts_insert AFTER INSERT ON search_searchdocument BEGIN
        INSERT INTO search_fts(rowid, title_terms, body_terms) VALUES (new.id, new.title_terms, new.body_terms);
    END""",
    """CREATE TRIGGER search_fts_delete AFTER DELETE ON search_searchdocument BEGIN
        INSERT INTO search_fts(search_fts, rowid, title_terms, body_terms)
        VALUES ('delete', old.id, old.title_terms, old.body_terms);
    END""",
    """CREATE TRIGGER search_fts_update AFTER UPDATE ON search_searchdocument BEGIN
        INSERT INTO search_fts(search_fts, rowid, title_terms, body_terms)
        VALUES ('delete', old.id, old.title_terms, old.body_terms);
        INSERT INTO search_fts(rowid, title_terms, body_terms) VALUES (new.id, new.title_terms, new.body_terms);
    END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS search_fts_update",
    "DROP TRIGGER IF EXISTS search_fts_delete",
    "DROP TRIGGER IF EXISTS search_fts_insert",
    "DROP TABLE IF EXISTS search_fts",
]

# PostgreSQL: a tsvector of the same folded words, computed by the database on every
# write. The words are already final, so they become lexemes as they are
# (array_to_tsvector: no parser, no dictionary, like the 'simple' configuration without
# its tokeniser's guesses about e-mail addresses, hosts and numbers).
POSTGRESQL = [
    """ALTER TABLE search_searchdocument ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        array_to_tsvector(array_remove(string_to_array(title_terms || ' ' || body_terms, ' '), ''))
    ) STORED""",
    "CREATE INDEX search_document_vector ON search_searchdocument USING gin (search_vector)",
]
POSTGRESQL_REVERSE = [
    "DROP INDEX IF EXISTS search_document_vector",
    "ALTER TABLE search_searchdocument DROP COLUMN IF EXISTS search_vector",
]


def _run(statements):
    def run(apps, schema_editor):
        chosen = statements.get(schema_editor.connection.vendor, [])
        for sql in chosen:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("network", "0004_review_fixes"),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchDocument",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(choices=[("service", "Service"), ("need", "User need"), ("guidance", "Guidance"),
                                                   ("coe", "Correction of Error")], max_length=10)),
                ("kind_order", models.PositiveSmallIntegerField()),
                ("object_id", models.BigIntegerField()),
                ("key", models.CharField(help_text="What the object's address is made from: a slug or an id", max_length=200)),
                ("title", models.TextField()),
                ("excerpt", models.CharField(blank=True, max_length=300)),
                ("title_terms", models.TextField()),
                ("body_terms", models.TextField(blank=True)),
                ("service", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE,
                                              related_name="+", to="network.service")),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("kind", "object_id"), name="one_document_per_object")],
            },
        ),
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRESQL}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRESQL_REVERSE}),
        ),
    ]
