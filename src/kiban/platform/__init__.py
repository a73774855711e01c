"""Shared infrastructure: settings, database, migrations, audit log, outbox and events, i18n."""
