#!/usr/bin/env bash
# Back up kiban: the database (pg_dump, custom format) and the key directory, into DEST.
#
#   KIBAN_DATABASE_URL=postgresql+psycopg://kiban@db/kiban KIBAN_DATA_DIR=/var/lib/kiban \
#     deploy/backup.sh /backups/kiban-$(date +%F)
#
# The two belong together: the access-record checkpoints are signed with a key in
# $KIBAN_DATA_DIR/keys, and the keys there are encrypted with that directory's secret-key file.
# A database restored without its keys does not verify (docs/deploy.md, "Backup and restore").
# PG_BIN may name the directory of a pg_dump matching the server's major version.
set -euo pipefail
dest="${1:?usage: backup.sh DEST_DIR}"
: "${KIBAN_DATABASE_URL:?KIBAN_DATABASE_URL must name the PostgreSQL database}"
: "${KIBAN_DATA_DIR:?KIBAN_DATA_DIR must name the data directory that holds keys/}"
url="${KIBAN_DATABASE_URL/postgresql+psycopg:/postgresql:}"
pg_dump="${PG_BIN:+$PG_BIN/}pg_dump"
[ -d "$KIBAN_DATA_DIR/keys" ] || { echo "backup.sh: no $KIBAN_DATA_DIR/keys" >&2; exit 2; }
mkdir -p "$dest"
umask 077
# One consistent snapshot of the database (a single transaction, serializable, deferrable).
"$pg_dump" --dbname="$url" --format=custom --no-owner --serializable-deferrable \
  --file="$dest/kiban.dump"
tar -C "$KIBAN_DATA_DIR" -czf "$dest/keys.tar.gz" keys
(cd "$dest" && sha256sum kiban.dump keys.tar.gz > SHA256SUMS)
echo "backed up to $dest: $(du -sh "$dest" | cut -f1)"
