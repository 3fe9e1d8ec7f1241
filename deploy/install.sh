#!/bin/sh
# Install astreinte on a Debian/Ubuntu host from a checkout of the release (docs/deploy.md), wherever
# PREFIX says. Run as root from the checkout: `sudo deploy/install.sh` or `sudo PREFIX=/srv/astreinte
# deploy/install.sh`. Idempotent: a second run upgrades the code and the units, and keeps the
# configuration (the environment file and the organisation file are written only when absent).
#
#   PREFIX      the code and its virtualenv            (default /opt/astreinte)
#   STATE_DIR   the working folder, instance, recordings (default /var/lib/astreinte)
#   CONFIG_DIR  astreinte.env and org.yaml              (default /etc/astreinte)
#   BACKUP_DIR  the nightly backups                     (default /var/backups/astreinte)
#   UNIT_DIR    where the systemd units go              (default /etc/systemd/system)
#   SERVICE_USER the account the units run as           (default astreinte)
#   PYTHON      the interpreter of the virtualenv       (default python3)
#   DESTDIR     a staging root (packaging, tests): every path above is written under it; with it,
#               no account is created, nothing is installed with pip, systemd is not told.
set -eu

: "${PREFIX:=/opt/astreinte}"
: "${STATE_DIR:=/var/lib/astreinte}"
: "${CONFIG_DIR:=/etc/astreinte}"
: "${BACKUP_DIR:=/var/backups/astreinte}"
: "${UNIT_DIR:=/etc/systemd/system}"
: "${SERVICE_USER:=astreinte}"
: "${PYTHON:=python3}"
: "${DESTDIR:=}"

SRC=$(cd "$(dirname "$0")/.." && pwd)
staged=${DESTDIR:+yes}

say() { printf '%s\n' "astreinte install: $*"; }

if [ -z "$staged" ]; then
    if ! id "$SERVICE_USER" >/dev/null 2>&1; then
        adduser --system --group --home "$STATE_DIR" "$SERVICE_USER"
    fi
    owner="-o $SERVICE_USER -g $SERVICE_USER"
    group="-g $SERVICE_USER"
else
    owner="" group=""
fi

# The code: a virtualenv with the exact versions the suite passed with, and what the units and the
# operator read beside it (deploy/, docs/, examples/).
install -d "$DESTDIR$PREFIX"
if [ -z "$staged" ]; then
    [ -x "$PREFIX/venv/bin/python" ] || "$PYTHON" -m venv "$PREFIX/venv"
    "$PREFIX/venv/bin/pip" install --quiet --upgrade pip
    "$PREFIX/venv/bin/pip" install --quiet -c "$SRC/requirements.lock" "$SRC[postgresql]"
fi
for folder in deploy docs examples; do
    rm -rf "$DESTDIR$PREFIX/$folder"
    cp -r "$SRC/$folder" "$DESTDIR$PREFIX/$folder"
done

# The folders: state and backups owned by the service, the configuration readable by its group only.
# shellcheck disable=SC2086 # $owner and $group are lists of options, or nothing
install -d -m 0750 $owner "$DESTDIR$STATE_DIR" "$DESTDIR$BACKUP_DIR"
# shellcheck disable=SC2086
install -d -m 0750 $group "$DESTDIR$CONFIG_DIR"
if [ ! -e "$DESTDIR$CONFIG_DIR/astreinte.env" ]; then
    # shellcheck disable=SC2086
    install -m 0640 $group "$SRC/deploy/astreinte.env.example" "$DESTDIR$CONFIG_DIR/astreinte.env"
    say "wrote $CONFIG_DIR/astreinte.env from the example: set the database, Redis, PUBLIC_BASE_URL, secrets"
fi
if [ ! -e "$DESTDIR$CONFIG_DIR/org.yaml" ]; then
    # shellcheck disable=SC2086
    install -m 0640 $group "$SRC/examples/org.yaml" "$DESTDIR$CONFIG_DIR/org.yaml"
    say "wrote $CONFIG_DIR/org.yaml from examples/org.yaml: make it your organisation's"
fi

# The units, with this host's paths in place of the defaults they are written with.
install -d "$DESTDIR$UNIT_DIR"
for unit in "$SRC"/deploy/systemd/*; do
    sed -e "s|/opt/astreinte|$PREFIX|g" \
        -e "s|/var/lib/astreinte|$STATE_DIR|g" \
        -e "s|/etc/astreinte|$CONFIG_DIR|g" \
        -e "s|/var/backups/astreinte|$BACKUP_DIR|g" \
        -e "s|^User=astreinte$|User=$SERVICE_USER|" \
        -e "s|^Group=astreinte$|Group=$SERVICE_USER|" \
        "$unit" >"$DESTDIR$UNIT_DIR/$(basename "$unit")"
    chmod 0644 "$DESTDIR$UNIT_DIR/$(basename "$unit")"
done

if [ -z "$staged" ] && command -v systemctl >/dev/null 2>&1; then
    systemctl daemon-reload || say "systemctl daemon-reload failed: run it once systemd runs"
fi

say "installed in $PREFIX (units in $UNIT_DIR). Next, as docs/deploy.md says:"
say "  sudoedit $CONFIG_DIR/astreinte.env $CONFIG_DIR/org.yaml"
say "  sudo -u $SERVICE_USER sh -c 'set -a; . $CONFIG_DIR/astreinte.env; cd $STATE_DIR; $PREFIX/venv/bin/astreinte db upgrade && $PREFIX/venv/bin/astreinte load $CONFIG_DIR/org.yaml'"
say "  sudo systemctl enable --now astreinte.target astreinte-backup.timer"
