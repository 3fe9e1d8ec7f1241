#!/bin/sh
# The database (pg_dump, custom format: `pg_restore` brings it back) and the recordings folder, into
# BACKUP_DIR, one folder per day, the last 14 kept. Needs DATABASE_URL (PostgreSQL) and RECORDINGS_DIR.
set -eu
umask 077  # the dump holds every call, number and PIN hash: readable by this user only
: "${BACKUP_DIR:=/var/backups/astreinte}"
: "${RECORDINGS_DIR:=/var/lib/astreinte/instance/recordings}"
day=$(date +%Y-%m-%d)
target="$BACKUP_DIR/$day"
mkdir -p "$target"
chmod 700 "$BACKUP_DIR" "$target"
# pg_dump takes libpq URLs: drop SQLAlchemy's "+psycopg" driver suffix.
pg_dump --format=custom --file="$target/astreinte.dump" "$(printf '%s' "$DATABASE_URL" | sed 's/^postgresql+psycopg:/postgresql:/')"
if [ -d "$RECORDINGS_DIR" ]; then
    tar -C "$RECORDINGS_DIR" -czf "$target/recordings.tar.gz" .
fi
find "$BACKUP_DIR" -mindepth 1 -maxdepth 1 -type d -mtime +14 -exec rm -rf {} +
echo "backup written to $target"
