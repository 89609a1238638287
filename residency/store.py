"""Keep inventories in a database, with their history: SQLite by default, or PostgreSQL.

Every import that changes an organisation's content adds a numbered **snapshot** of it;
importing the same content again adds none. An import is one transaction: if it fails or
its process dies, the snapshots stored before are all there is. The store owns its tables
(its own SQLAlchemy metadata) and records its schema version; an older store is upgraded
with the Alembic migrations shipped in ``residency/migrations`` when it is opened.

>>> from residency.inventory import read_inventory
>>> store = Store("sqlite://")              # in memory
>>> store.import_inventory(read_inventory()).snapshot
1
>>> store.load_inventory("Quillmoor Creative Ltd@1").organisation.country
'GB'
>>> [s.number for s in store.history("Quillmoor Creative Ltd")]
[1]
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    create_engine,
    event,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import NullPool, StaticPool

from residency._errors import StoreError
from residency.model import AssessmentRecord, Client, Inventory, Organisation, Staff, System

DB_ENV = "RESIDENCY_DB"
BUSY_SECONDS = 60  # how long an import waits for another one to finish with the store
MIGRATIONS = Path(__file__).parent / "migrations"
# The schema versions this code knows, oldest first; the last one is what it writes.
SCHEMA_VERSIONS = ("0001", "0002", "0003")
SCHEMA_VERSION = SCHEMA_VERSIONS[-1]
_PG_MIGRATION_LOCK = 0x7265736964  # pg_advisory_xact_lock key: one migration at a time

metadata = MetaData()

inventory_table = Table(
    "inventory",  # one row per organisation name, with what its latest snapshot says
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String, nullable=False),
    Column("country", String, nullable=False),
    Column("content_hash", String, nullable=False),
    Column("source", String),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    Column("organisation", JSON, nullable=False),
    Column("origins", JSON, nullable=False),
    Index("ix_inventory_name", "name", unique=True),
)

snapshot_table = Table(
    "snapshot",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("inventory_id", Integer, ForeignKey("inventory.id"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    Column("imported_by", String),
    Column("content_hash", String, nullable=False),
    Column("source", String),
    Column("organisation", JSON, nullable=False),
    Column("origins", JSON, nullable=False),
    Column("staff", Integer, nullable=False),
    Column("clients", Integer, nullable=False),
    Column("systems", Integer, nullable=False),
    UniqueConstraint("inventory_id", "number", name="uq_snapshot_number"),
    Index("ix_snapshot_inventory_id", "inventory_id", "imported_at"),
)


def _entity(name: str, *columns: Column[Any]) -> Table:
    return Table(
        name,
        metadata,
        Column("pk", Integer, primary_key=True),
        Column("inventory_id", Integer, ForeignKey("inventory.id"), nullable=False, index=True),
        *columns,
        Column(
            "snapshot_id",
            Integer,
            ForeignKey("snapshot.id", name=f"fk_{name}_snapshot"),
            nullable=False,
            index=True,
        ),
    )


staff_table = _entity(
    "staff",
    Column("position", Integer, nullable=False),
    Column("id", String, nullable=False, index=True),
    Column("country", String, nullable=False, index=True),
    Column("type", String, nullable=False),
    Column("spec", JSON, nullable=False),
)
client_table = _entity(
    "client",
    Column("position", Integer, nullable=False),
    Column("id", String, nullable=False, index=True),
    Column("name", String),
    Column("country", String, nullable=False, index=True),
    Column("spec", JSON, nullable=False),
)
system_table = _entity(
    "system",
    Column("position", Integer, nullable=False),
    Column("id", String, nullable=False, index=True),
    Column("vendor", String, nullable=False),
    Column("vendor_country", String, nullable=False),
    Column("spec", JSON, nullable=False),
)
# The transfer impact assessments recorded (the inventory's optional `assessments:`).
assessment_table = _entity(
    "assessment",
    Column("position", Integer, nullable=False),
    Column("id", String, nullable=False, index=True),
    Column("destination", String, nullable=False, index=True),
    Column("spec", JSON, nullable=False),
)
# Where a system keeps or sends data (hosting, sub-processors): for SQL queries.
location_table = _entity(
    "system_location",
    Column("system_id", String, nullable=False, index=True),
    Column("kind", String, nullable=False),  # hosting | subprocessor
    Column("recipient", String, nullable=False),
    Column("country", String, nullable=False, index=True),
)


@dataclass(frozen=True)
class ImportResult:
    """What an import did: ``changed`` is False when the latest snapshot had this content."""

    name: str
    content_hash: str
    changed: bool
    counts: dict[str, int]
    snapshot: int  # the new snapshot's number, or the latest one's when unchanged


@dataclass(frozen=True)
class Snapshot:
    """One stored import of an organisation."""

    name: str
    number: int
    imported_at: datetime
    imported_by: str | None
    content_hash: str
    source: str | None
    counts: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        """Return the snapshot as JSON-ready values (``imported_at`` in ISO 8601, UTC)."""
        out = asdict(self)
        out["imported_at"] = self.imported_at.isoformat()
        return out


@dataclass(frozen=True)
class StoredInventory:
    """An organisation kept in the store, as its latest snapshot describes it."""

    name: str
    country: str
    imported_at: datetime
    content_hash: str
    source: str | None
    snapshots: int


def default_db() -> Path:
    """Return the default store file: ``residency.db`` in the user's data directory."""
    from platformdirs import user_data_path

    return user_data_path("residency", appauthor=False) / "residency.db"


def database_url(db: str | Path | None = None) -> str:
    """Turn ``--db`` (a file path or a URL) into a database URL.

    With none, ``$RESIDENCY_DB``, else a SQLite file in the user's data directory.
    ``postgresql://`` (or ``postgres://``) URLs use the psycopg 3 driver.
    """
    value = db if db is not None else os.environ.get(DB_ENV) or None
    if value is None:
        value = default_db()
    text_ = str(value)
    if "://" in text_:
        for scheme in ("postgresql://", "postgres://"):
            if text_.startswith(scheme):
                return "postgresql+psycopg://" + text_.removeprefix(scheme)
        return text_
    path = Path(text_).expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
        reason = f"{blocker} is a file, not a folder" if blocker else exc.strerror or str(exc)
        msg = f"cannot create the store's folder {path.parent}: {reason}"
        raise StoreError(msg) from None
    if path.is_dir():
        msg = f"the store {path} is a folder: expected a database file (--db DIR/residency.db)"
        raise StoreError(msg)
    return f"sqlite:///{path}"


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?)?")


def parse_ref(ref: str) -> tuple[str, int | datetime | None]:
    """Split ``NAME``, ``NAME@N``, ``NAME@DATE`` or ``NAME@latest`` into name and selector.

    A date selects the snapshot current at the end of that day (UTC); a date and time,
    the one current then. A name that itself ends in ``@3`` is written ``NAME@3@latest``.

    >>> parse_ref("Tiny Agency@2")
    ('Tiny Agency', 2)
    >>> parse_ref("ops@example.com")
    ('ops@example.com', None)
    >>> parse_ref("Tiny Agency@2026-01-31")[1].isoformat()
    '2026-02-01T00:00:00+00:00'
    """
    name, sep, tail = ref.rpartition("@")
    if not sep or not name:
        return ref, None
    if tail == "latest":
        return name, None
    if tail.isdigit():
        return name, int(tail)
    if _DATE.fullmatch(tail):
        try:
            if len(tail) == 10:
                return name, datetime.combine(date.fromisoformat(tail), time(), UTC) + timedelta(
                    days=1
                )
            moment = datetime.fromisoformat(tail)
        except ValueError:
            msg = f"{ref!r}: {tail!r} is not a valid date (expected YYYY-MM-DD)"
            raise StoreError(msg) from None
        return name, moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return ref, None


def _short(exc: BaseException) -> str:
    """Answer the first line of a database error (without SQLAlchemy's background link)."""
    text_ = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return (text_[0] if text_ else type(exc).__name__)[:300]


def _utc(moment: datetime) -> datetime:
    # SQLite keeps no time zone: every stored time is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Store:
    """A database of inventories and their snapshots."""

    def __init__(self, db: str | Path | None = None) -> None:
        self.url = database_url(db)
        kwargs: dict[str, Any] = {}
        if self.url in ("sqlite://", "sqlite:///:memory:"):
            kwargs = {"connect_args": {"check_same_thread": False}, "poolclass": StaticPool}
        elif self.url.startswith("sqlite"):
            kwargs = {"connect_args": {"timeout": BUSY_SECONDS}}
        else:
            # A server connection per operation: a Store is cheap to make and to drop, and
            # no pooled connection outlives it unclosed.
            kwargs = {"poolclass": NullPool}
        try:
            self.engine = create_engine(self.url, **kwargs)
            if self.engine.dialect.name == "sqlite":
                _serialise_sqlite_writers(self.engine)
            with self.engine.connect() as conn:
                current = _schema_version(conn)
            if current != SCHEMA_VERSION:
                _check_known(current, self.shown_url)
                with self._writer().begin() as conn:
                    _migrate(conn, self.shown_url)
        except ImportError as exc:
            msg = (
                f"cannot open the store at {_redacted(self.url)}: its database driver is not "
                f"installed ({exc.name or exc}): pip install 'residency[postgres]' for "
                "PostgreSQL, or use a SQLite file"
            )
            raise StoreError(msg) from None
        except SQLAlchemyError as exc:
            msg = f"cannot open the store at {_redacted(self.url)}: {_busy_or_short(exc)}"
            raise StoreError(msg) from None

    @property
    def shown_url(self) -> str:
        """Return the store's URL without its password: safe to show."""
        return _redacted(self.url)

    def _writer(self) -> Any:
        # Immediate on SQLite: two writers take turns from the start, not halfway through.
        return self.engine.execution_options(residency_write=True)

    def names(self) -> list[StoredInventory]:
        """Return the stored organisations, by name, each as its latest snapshot says."""
        counts = (
            select(snapshot_table.c.inventory_id, func.count().label("n"))
            .group_by(snapshot_table.c.inventory_id)
            .subquery()
        )
        t = inventory_table.c
        query = (
            select(t.name, t.country, t.imported_at, t.content_hash, t.source, counts.c.n)
            .join(counts, counts.c.inventory_id == t.id)
            .order_by(t.name)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            StoredInventory(r.name, r.country, _utc(r.imported_at), r.content_hash, r.source, r.n)
            for r in rows
        ]

    def import_inventory(
        self, inventory: Inventory, *, source: str | None = None, by: str | None = None
    ) -> ImportResult:
        """Store a validated inventory as a new snapshot of its organisation, in one
        transaction; the same content as the latest snapshot adds none."""
        name = inventory.organisation.name
        source, by = _text(source), _text(by)
        digest = inventory.content_hash()
        counts = {
            "staff": len(inventory.staff),
            "clients": len(inventory.clients),
            "systems": len(inventory.systems),
        }
        failed = f"import into {self.shown_url} failed, nothing was changed"
        for attempt in range(3):
            try:
                changed, number = self._import_once(inventory, source, by, digest, counts)
            except IntegrityError as exc:
                # Another import of the same organisation committed first: look again.
                if attempt < 2:
                    continue
                msg = f"{failed}: {_short(exc)}"
                raise StoreError(msg) from None
            except OperationalError as exc:
                msg = f"{failed}: {_busy_or_short(exc)}"
                raise StoreError(msg) from None
            except SQLAlchemyError as exc:
                msg = f"{failed}: {_short(exc)}"
                raise StoreError(msg) from None
            return ImportResult(name, digest, changed, counts, number)
        raise AssertionError  # pragma: no cover - the loop returns or raises

    def _import_once(
        self,
        inventory: Inventory,
        source: str | None,
        by: str | None,
        digest: str,
        counts: dict[str, int],
    ) -> tuple[bool, int]:
        """Add a snapshot in one transaction; ``(False, latest)`` if the content is unchanged."""
        now = datetime.now(UTC)
        org = inventory.organisation
        latest = {
            "country": org.country,
            "content_hash": digest,
            "source": source,
            "imported_at": now,
            "organisation": org.model_dump(mode="json"),
            "origins": dict(inventory.origins),
        }
        t = inventory_table.c
        with self._writer().begin() as conn:
            # FOR UPDATE: on PostgreSQL a second import of this organisation waits here.
            row = conn.execute(
                select(t.id, t.content_hash).where(t.name == org.name).with_for_update()
            ).first()
            if row is None:
                inventory_id = conn.execute(
                    insert(inventory_table).values(name=org.name, **latest).returning(t.id)
                ).scalar_one()
                number = 1
            else:
                inventory_id = row.id
                last = conn.execute(
                    select(func.max(snapshot_table.c.number)).where(
                        snapshot_table.c.inventory_id == inventory_id
                    )
                ).scalar_one()
                if row.content_hash == digest:
                    return False, last
                number = last + 1
                conn.execute(update(inventory_table).where(t.id == inventory_id).values(**latest))
            snapshot_id = conn.execute(
                insert(snapshot_table)
                .values(
                    inventory_id=inventory_id,
                    number=number,
                    imported_by=by,
                    **{k: v for k, v in latest.items() if k != "country"},
                    **counts,
                )
                .returning(snapshot_table.c.id)
            ).scalar_one()
            _insert_rows(conn, inventory_id, snapshot_id, inventory)
        return True, number

    def history(self, name: str) -> list[Snapshot]:
        """Return an organisation's snapshots, oldest first."""
        with self.engine.connect() as conn:
            inventory_id, name = self._organisation(conn, name)
            rows = conn.execute(
                _snapshot_query().where(snapshot_table.c.inventory_id == inventory_id)
            ).all()
        return [_snapshot(name, r) for r in rows]

    def snapshot(self, ref: str | None = None) -> Snapshot:
        """Return the snapshot ``NAME``, ``NAME@N`` or ``NAME@DATE`` names (see
        :func:`parse_ref`); the latest by default, and with no name the only organisation."""
        with self.engine.connect() as conn:
            name, row = self._find(conn, ref)
        return _snapshot(name, row)

    def load_inventory(self, ref: str | None = None) -> Inventory:
        """Read a stored snapshot back (``NAME``, ``NAME@N``, ``NAME@DATE``; default the
        latest, and with no name the only organisation stored)."""
        with self.engine.connect() as conn:
            _name, row = self._find(conn, ref)
            inventory = Inventory.model_construct(
                organisation=Organisation.model_validate(row.organisation),
                staff=_specs(conn, staff_table, row.id, Staff),
                clients=_specs(conn, client_table, row.id, Client),
                systems=_specs(conn, system_table, row.id, System),
                assessments=_specs(conn, assessment_table, row.id, AssessmentRecord),
            )
        inventory.origins.update(row.origins)
        return inventory

    def _find(self, conn: Connection, ref: str | None) -> tuple[str, Any]:
        name, selector = parse_ref(ref) if ref is not None else (None, None)
        inventory_id, name = self._organisation(conn, name)
        s = snapshot_table.c
        query = _snapshot_query(s.organisation, s.origins).where(s.inventory_id == inventory_id)
        if isinstance(selector, int):
            query = query.where(s.number == selector)
        elif isinstance(selector, datetime):
            query = query.where(s.imported_at < selector.astimezone(UTC))
        row = conn.execute(query.order_by(None).order_by(s.number.desc()).limit(1)).first()
        if row is not None:
            return name, row
        last = conn.execute(
            select(func.max(s.number)).where(s.inventory_id == inventory_id)
        ).scalar_one()
        if isinstance(selector, int):
            msg = f"{name!r} has no snapshot {selector}: it has 1 to {last} (residency history)"
        else:
            msg = f"{name!r} had no snapshot yet at {ref!r} (residency history lists them)"
        raise StoreError(msg)

    def _organisation(self, conn: Connection, name: str | None) -> tuple[int, str]:
        t = inventory_table.c
        if name is not None:
            row = conn.execute(select(t.id, t.name).where(t.name == name)).first()
        else:
            rows = conn.execute(select(t.id, t.name).limit(2)).all()
            row = rows[0] if len(rows) == 1 else None
        if row is not None:
            return row.id, row.name
        shown = conn.execute(select(t.name).order_by(t.name).limit(21)).scalars().all()
        stored = ", ".join(repr(n) for n in shown[:20]) or "none"
        if len(shown) > 20:
            stored += ", ... (residency stored lists them all)"
        wanted = "which one? give its name" if name is None else f"no inventory named {name!r}"
        msg = f"{wanted} (stored in {self.shown_url}: {stored})"
        raise StoreError(msg)


def _text(value: str | None) -> str | None:
    # A path with undecodable bytes cannot be stored as text.
    if value is None:
        return None
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _snapshot_query(*extra: Any) -> Any:
    s = snapshot_table.c
    columns = (s.id, s.number, s.imported_at, s.imported_by, s.content_hash, s.source)
    return select(*columns, s.staff, s.clients, s.systems, *extra).order_by(s.number)


def _snapshot(name: str, row: Any) -> Snapshot:
    counts = {"staff": row.staff, "clients": row.clients, "systems": row.systems}
    return Snapshot(
        name, row.number, _utc(row.imported_at), row.imported_by, row.content_hash, row.source,
        counts,
    )  # fmt: skip


def _schema_version(conn: Connection) -> str | None:
    """Return the store's schema version: None for an empty database, and ``0001`` for a
    store made before versions were recorded."""
    tables = set(inspect(conn).get_table_names())
    if "alembic_version" in tables:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return "0001" if "inventory" in tables else None


def _check_known(version: str | None, where: str) -> None:
    if version is None or version in SCHEMA_VERSIONS:
        return
    msg = (
        f"the store at {where} has schema version {version}, newer than this residency "
        f"knows (up to {SCHEMA_VERSION}): it was written by a newer residency. Upgrade this "
        "one (pip install --upgrade residency), or use another store (--db)"
    )
    raise StoreError(msg)


def _migrate(conn: Connection, where: str) -> None:
    """Bring the store to :data:`SCHEMA_VERSION` inside the caller's write transaction."""
    from alembic import command
    from alembic.config import Config

    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
    # Another process may have migrated while this one waited for the lock.
    tables = set(inspect(conn).get_table_names())
    current = _schema_version(conn)
    if current == SCHEMA_VERSION:
        return
    _check_known(current, where)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    if current is not None and "alembic_version" not in tables:
        command.stamp(config, current)
    command.upgrade(config, SCHEMA_VERSION)


def _busy_or_short(exc: BaseException) -> str:
    text_ = _short(exc)
    if isinstance(exc, OperationalError) and ("locked" in text_ or "busy" in text_):
        return f"the store is busy: another process held it for over {BUSY_SECONDS} s; try again"
    return text_


def _redacted(url: str) -> str:
    """Answer a database URL without its password."""
    head, sep, tail = url.partition("://")
    if sep and "@" in tail:
        user, _, host = tail.rpartition("@")
        return f"{head}://{user.split(':', 1)[0]}:***@{host}"
    return url


def _serialise_sqlite_writers(engine: Any) -> None:
    """Make SQLite writers take the lock when they begin, not halfway through.

    pysqlite otherwise begins lazily, so two imports could both read "not stored yet" and
    then collide; with BEGIN IMMEDIATE the second waits (``timeout``) and then sees the
    first one's result.
    """

    @event.listens_for(engine, "connect")
    def _no_implicit_transactions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get("residency_write")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _insert_rows(conn: Connection, inventory_id: int, snapshot_id: int, inv: Inventory) -> None:
    keys = {"inventory_id": inventory_id, "snapshot_id": snapshot_id}
    staff = [
        {**keys, "position": i, "id": p.id, "country": p.country, "type": p.type,
         "spec": p.model_dump(mode="json")}
        for i, p in enumerate(inv.staff)
    ]  # fmt: skip
    clients = [
        {**keys, "position": i, "id": c.id, "name": c.name, "country": c.country,
         "spec": c.model_dump(mode="json")}
        for i, c in enumerate(inv.clients)
    ]  # fmt: skip
    systems = [
        {**keys, "position": i, "id": s.id, "vendor": s.vendor,
         "vendor_country": s.vendor_country, "spec": s.model_dump(mode="json")}
        for i, s in enumerate(inv.systems)
    ]  # fmt: skip
    assessments = [
        {**keys, "position": i, "id": a.id, "destination": a.destination,
         "spec": a.model_dump(mode="json")}
        for i, a in enumerate(inv.assessments)
    ]  # fmt: skip
    locations = [
        {**keys, "system_id": s.id, "kind": "hosting", "recipient": h.provider or s.vendor,
         "country": h.country}
        for s in inv.systems
        for h in s.hosting
    ]  # fmt: skip
    locations += [
        {**keys, "system_id": s.id, "kind": "subprocessor", "recipient": sub.name,
         "country": code}
        for s in inv.systems
        for sub in s.subprocessors
        for code in sub.countries
    ]  # fmt: skip
    for table, rows in (
        (staff_table, staff),
        (client_table, clients),
        (system_table, systems),
        (assessment_table, assessments),
        (location_table, locations),
    ):
        if rows:
            conn.execute(insert(table), rows)


def _specs(conn: Connection, table: Table, snapshot_id: int, model: Any) -> list[Any]:
    rows = conn.execute(
        select(table.c.spec).where(table.c.snapshot_id == snapshot_id).order_by(table.c.position)
    ).scalars()
    return [model.model_validate(spec) for spec in rows]
