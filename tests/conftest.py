"""The suite's fixtures live in the plugin ``tests/support/plugin.py`` (apps on SQLite and, when
SAMSKAB_TEST_DATABASE_URL is set, PostgreSQL; the client; ``auth``; ``smtp``) and the route
table's ``world`` in ``tests/support/routes.py``."""

pytest_plugins = ["support.plugin", "support.routes"]
