"""no PIN in clear in the stored organisation file: each client's `pin` becomes its `pin_hash`

Earlier versions kept the loaded document whole in `organisation.config`, PINs included (and so did
every dump). The client rows already hold each PIN's hash: the stored document takes it instead.

Revision ID: 0007_pins_out_of_stored_org
Revises: 0006_page_tests
"""

from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa
from alembic import op

revision = "0007_pins_out_of_stored_org"
down_revision = "0006_page_tests"
branch_labels = None
depends_on = None

_organisation = sa.table(
    "organisation", sa.column("id", sa.Integer), sa.column("config", sa.JSON), sa.column("checksum", sa.String)
)
_client = sa.table("client", sa.column("account", sa.String), sa.column("pin_hash", sa.String))


def upgrade() -> None:
    bind = op.get_bind()
    hashes = dict(bind.execute(sa.select(_client.c.account, _client.c.pin_hash)).all())
    for row_id, config in bind.execute(sa.select(_organisation.c.id, _organisation.c.config)).all():
        if not isinstance(config, dict) or not any(
            isinstance(c, dict) and "pin" in c for c in config.get("clients") or []
        ):
            continue
        clients = []
        for c in config.get("clients") or []:
            if isinstance(c, dict) and "pin" in c:
                c = {k: v for k, v in c.items() if k != "pin"}
                c["pin_hash"] = hashes.get(str(c.get("account"))) or c.get("pin_hash") or ""
            clients.append(c)
        config = {**config, "clients": clients}
        checksum = hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()
        bind.execute(
            sa.update(_organisation).where(_organisation.c.id == row_id).values(config=config, checksum=checksum)
        )


def downgrade() -> None:
    pass  # a PIN cannot be brought back from its hash; the hashes work as they are
