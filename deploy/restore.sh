#!/usr/bin/env bash
# Restore kiban from a backup made by deploy/backup.sh, into an EMPTY database and a data
# directory without keys, then check both logs.
#
#   KIBAN_DATABASE_URL=postgresql+psycopg://kiban@db/kiban KIBAN_DATA_DIR=/var/lib/kiban \
#     deploy/restore.sh /backups/kiban-2026-12-07
#
# Stop every kiban process first (serve, relay, work). PG_BIN as in backup.sh; KIBAN names the
# kiban command (default: kiban on PATH).
set -euo pipefail
src="${1:?usage: restore.sh BACKUP_DIR}"
: "${KIBAN_DATABASE_URL:?KIBAN_DATABASE_URL must name the (empty) PostgreSQL database}"
: "${KIBAN_DATA_DIR:?KIBAN_DATA_DIR must name the data directory to restore keys/ into}"
url="${KIBAN_DATABASE_URL/postgresql+psycopg:/postgresql:}"
pg_restore="${PG_BIN:+$PG_BIN/}pg_restore"
kiban="${KIBAN:-kiban}"
(cd "$src" && sha256sum --check --quiet SHA256SUMS)
if [ -e "$KIBAN_DATA_DIR/keys" ]; then
  echo "restore.sh: $KIBAN_DATA_DIR/keys exists; refusing to overwrite keys" >&2
  exit 2
fi
mkdir -p "$KIBAN_DATA_DIR"
"$pg_restore" --dbname="$url" --no-owner --exit-on-error --single-transaction "$src/kiban.dump"
umask 077
tar -C "$KIBAN_DATA_DIR" -xzf "$src/keys.tar.gz"
"$kiban" audit verify
"$kiban" mesh verify
echo "restored from $src"
