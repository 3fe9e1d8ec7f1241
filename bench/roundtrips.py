"""Round trips to PostgreSQL, counted exactly: libpq's own trace of every connection of an engine.

Each message the client sends that waits for the server's "ready for query" (a simple Query, or the
Sync that ends an extended-protocol exchange) is one round trip: a BEGIN, each statement, the Parse of
a statement being prepared, a pre-ping's SELECT 1, the COMMIT, a ROLLBACK when a connection goes back
to the pool. SQLite has no round trips: nothing is counted there.
"""

from __future__ import annotations

import os
import tempfile
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


class RoundTrips:
    """`with counter.counting(): ...` then `counter.last`: the round trips of the block, every
    connection of the engine together (and `statements`, `prepared`: how many ran prepared)."""

    def __init__(self, engine: Engine) -> None:
        self.enabled = engine.dialect.name == "postgresql"
        self.conns: weakref.WeakSet[Any] = weakref.WeakSet()
        self.files: dict[int, Any] = {}
        self.last = 0
        self.statements = 0  # executed with parameters (extended protocol)
        self.prepared = 0  # of which on a statement PostgreSQL had prepared (psycopg's prepare_threshold)
        if self.enabled:
            event.listen(engine, "connect", lambda dbapi_conn, _rec: self.conns.add(dbapi_conn))
            engine.dispose()  # the connections made before are not traced: new ones

    def start(self) -> None:
        for conn in list(self.conns):
            f = tempfile.TemporaryFile()
            self.files[id(conn)] = f
            conn.pgconn.trace(f.fileno())

    def stop(self) -> int:
        total = statements = prepared = 0
        for conn in list(self.conns):
            f = self.files.pop(id(conn), None)
            if f is None:
                continue
            conn.pgconn.untrace()  # flushes libpq's buffer into the file
            f.seek(0)
            sent = [line for line in f.read().decode(errors="replace").splitlines() if "\tF\t" in line]
            total += sum(1 for line in sent if line.endswith("\tSync") or "\tQuery\t" in line)
            binds = [line for line in sent if "\tBind\t" in line]
            statements += len(binds)
            prepared += sum(1 for line in binds if '\tBind\t "" "_pg' in line)  # a named statement
            f.close()
        self.last, self.statements, self.prepared = total, statements, prepared
        return total

    @contextmanager
    def counting(self) -> Iterator[RoundTrips]:
        if self.enabled:
            self.start()
        try:
            yield self
        finally:
            if self.enabled:
                self.stop()


def _self_check() -> None:
    """`python bench/roundtrips.py`: three statements in a transaction are five round trips."""
    from sqlalchemy import create_engine, text  # noqa: PLC0415

    engine = create_engine(os.environ["DATABASE_URL"])
    counter = RoundTrips(engine)
    with engine.connect() as conn:
        with counter.counting():
            for i in range(3):
                conn.execute(text("select :i"), {"i": i})
            conn.commit()
    print(counter.last)


if __name__ == "__main__":
    _self_check()
