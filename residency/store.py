"""Keep inventories in a database (SQLModel): SQLite by default, any SQLAlchemy URL.

An import is one transaction: it replaces the stored inventory of the same
organisation name, or changes nothing if it fails. Importing the same content
again is a no-op.

>>> from residency.inventory import read_inventory
>>> store = Store("sqlite://")              # in memory
>>> store.import_inventory(read_inventory()).changed
True
>>> store.load_inventory("Quillmoor Creative Ltd").organisation.country
'GB'
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Column, delete, event, insert
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import StaticPool
from sqlmodel import Field, Session, SQLModel, create_engine, select

from residency._errors import StoreError
from residency.model import Client, Inventory, Organisation, Staff, System

DEFAULT_DB = Path(".residency") / "residency.db"
DB_ENV = "RESIDENCY_DB"
BUSY_SECONDS = 60  # how long an import waits for another one to finish with the store


class InventoryRecord(SQLModel, table=True):
    """One imported inventory, identified by the organisation's name."""

    __tablename__ = "inventory"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True)
    country: str
    content_hash: str
    source: str | None = None
    imported_at: datetime
    organisation: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    origins: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))


class StaffRecord(SQLModel, table=True):
    """A staff member; ``spec`` holds the full inventory entry."""

    __tablename__ = "staff"
    pk: int | None = Field(default=None, primary_key=True)
    inventory_id: int = Field(foreign_key="inventory.id", index=True)
    position: int
    id: str = Field(index=True)
    country: str = Field(index=True)
    type: str
    spec: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class ClientRecord(SQLModel, table=True):
    """A client; ``spec`` holds the full inventory entry."""

    __tablename__ = "client"
    pk: int | None = Field(default=None, primary_key=True)
    inventory_id: int = Field(foreign_key="inventory.id", index=True)
    position: int
    id: str = Field(index=True)
    name: str | None = None
    country: str = Field(index=True)
    spec: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class SystemRecord(SQLModel, table=True):
    """A system; ``spec`` holds the full entry, hosting and sub-processors included."""

    __tablename__ = "system"
    pk: int | None = Field(default=None, primary_key=True)
    inventory_id: int = Field(foreign_key="inventory.id", index=True)
    position: int
    id: str = Field(index=True)
    vendor: str
    vendor_country: str
    spec: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class LocationRecord(SQLModel, table=True):
    """Where a system keeps or sends data (hosting, sub-processors): for SQL queries."""

    __tablename__ = "system_location"
    pk: int | None = Field(default=None, primary_key=True)
    inventory_id: int = Field(foreign_key="inventory.id", index=True)
    system_id: str = Field(index=True)
    kind: str  # hosting | subprocessor
    recipient: str
    country: str = Field(index=True)


_ENTITY_TABLES: list[type[SQLModel]] = [StaffRecord, ClientRecord, SystemRecord, LocationRecord]


@dataclass(frozen=True)
class ImportResult:
    """What an import did: ``changed`` is False when the same content was already stored."""

    name: str
    content_hash: str
    changed: bool
    counts: dict[str, int]


def database_url(db: str | Path | None = None) -> str:
    """Turn ``--db`` (a file path or a URL) into a database URL; default ``./.residency/``."""
    value = db if db is not None else os.environ.get(DB_ENV)
    if value is None:
        value = DEFAULT_DB
    text = str(value)
    if "://" in text:
        return text
    path = Path(text)
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


def _short(exc: BaseException) -> str:
    """Answer the first line of a database error (without SQLAlchemy's background link)."""
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


class Store:
    """A database of inventories."""

    def __init__(self, db: str | Path | None = None) -> None:
        self.url = database_url(db)
        kwargs: dict[str, Any] = {}
        if self.url in ("sqlite://", "sqlite:///:memory:"):
            kwargs = {"connect_args": {"check_same_thread": False}, "poolclass": StaticPool}
        elif self.url.startswith("sqlite"):
            kwargs = {"connect_args": {"timeout": BUSY_SECONDS}}
        try:
            self.engine = create_engine(self.url, **kwargs)
            if self.engine.dialect.name == "sqlite":
                _serialise_sqlite_writers(self.engine)
            # Immediate: two processes creating a new store at once take turns.
            with self.engine.execution_options(residency_write=True).begin() as conn:
                SQLModel.metadata.create_all(conn)
        except ImportError as exc:
            msg = (
                f"cannot open the store at {_redacted(self.url)}: its database driver is not "
                f"installed ({exc.name or exc}): install it, or use a SQLite file"
            )
            raise StoreError(msg) from None
        except SQLAlchemyError as exc:
            msg = f"cannot open the store at {_redacted(self.url)}: {_busy_or_short(exc)}"
            raise StoreError(msg) from None

    @property
    def shown_url(self) -> str:
        """Return the store's URL without its password: safe to show."""
        return _redacted(self.url)

    def names(self) -> list[InventoryRecord]:
        """Return the stored inventories, by name."""
        with Session(self.engine) as session:
            return list(session.exec(select(InventoryRecord).order_by(InventoryRecord.name)))

    def import_inventory(self, inventory: Inventory, *, source: str | None = None) -> ImportResult:
        """Store a validated inventory in one transaction, replacing one of the same name."""
        name = inventory.organisation.name
        if source is not None:  # a path with undecodable bytes cannot be stored as text
            source = source.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        digest = inventory.content_hash()
        counts = {
            "staff": len(inventory.staff),
            "clients": len(inventory.clients),
            "systems": len(inventory.systems),
        }
        for attempt in range(2):
            try:
                changed = self._import_once(inventory, source, name, digest)
            except IntegrityError as exc:
                # Another import of the same new organisation committed first: look again.
                if attempt == 0:
                    continue
                msg = (
                    f"import into {_redacted(self.url)} failed, nothing was changed: {_short(exc)}"
                )
                raise StoreError(msg) from None
            except OperationalError as exc:
                text = _busy_or_short(exc)
                msg = f"import into {_redacted(self.url)} failed, nothing was changed: {text}"
                raise StoreError(msg) from None
            except SQLAlchemyError as exc:
                msg = (
                    f"import into {_redacted(self.url)} failed, nothing was changed: {_short(exc)}"
                )
                raise StoreError(msg) from None
            return ImportResult(name, digest, changed, counts)
        raise AssertionError  # pragma: no cover - the loop returns or raises

    def _import_once(
        self, inventory: Inventory, source: str | None, name: str, digest: str
    ) -> bool:
        """Replace the stored inventory named ``name`` in one transaction; False if unchanged."""
        writer = self.engine.execution_options(residency_write=True)
        with Session(writer) as session:
            existing = session.exec(
                select(InventoryRecord).where(InventoryRecord.name == name)
            ).first()
            if existing is not None and existing.content_hash == digest:
                return False
            try:
                if existing is not None:
                    _delete_rows(session, existing.id)
                    session.delete(existing)
                    session.flush()
                record = InventoryRecord(
                    name=name,
                    country=inventory.organisation.country,
                    content_hash=digest,
                    source=source,
                    imported_at=datetime.now(UTC),
                    organisation=inventory.organisation.model_dump(mode="json"),
                    origins=dict(inventory.origins),
                )
                session.add(record)
                session.flush()
                assert record.id is not None
                _insert_rows(session, record.id, inventory)
                session.commit()
            except SQLAlchemyError:
                session.rollback()
                raise
        return True

    def load_inventory(self, name: str | None = None) -> Inventory:
        """Read a stored inventory back; with no name, the only one stored."""
        with Session(self.engine) as session:
            record = self._record(session, name)
            inventory = Inventory.model_construct(
                organisation=Organisation.model_validate(record.organisation),
                staff=_specs(session, StaffRecord, record.id, Staff),
                clients=_specs(session, ClientRecord, record.id, Client),
                systems=_specs(session, SystemRecord, record.id, System),
            )
            inventory.origins.update(record.origins)
            return inventory

    def _record(self, session: Session, name: str | None) -> InventoryRecord:
        records = list(session.exec(select(InventoryRecord)))
        if name is None and len(records) == 1:
            return records[0]
        found = [r for r in records if r.name == name]
        if found:
            return found[0]
        stored = ", ".join(repr(r.name) for r in records) or "none"
        wanted = "which one? give its name" if name is None else f"no inventory named {name!r}"
        msg = f"{wanted} (stored in {self.url}: {stored})"
        raise StoreError(msg)


def _busy_or_short(exc: BaseException) -> str:
    text = _short(exc)
    if isinstance(exc, OperationalError) and ("locked" in text or "busy" in text):
        return f"the store is busy: another process held it for over {BUSY_SECONDS} s; try again"
    return text


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


def _delete_rows(session: Session, inventory_id: int | None) -> None:
    for table in _ENTITY_TABLES:
        session.exec(delete(table).where(table.inventory_id == inventory_id))  # type: ignore[attr-defined]


def _insert_rows(session: Session, inventory_id: int, inventory: Inventory) -> None:
    staff = [
        {
            "inventory_id": inventory_id,
            "position": i,
            "id": p.id,
            "country": p.country,
            "type": p.type,
            "spec": p.model_dump(mode="json"),
        }
        for i, p in enumerate(inventory.staff)
    ]
    clients = [
        {
            "inventory_id": inventory_id,
            "position": i,
            "id": c.id,
            "name": c.name,
            "country": c.country,
            "spec": c.model_dump(mode="json"),
        }
        for i, c in enumerate(inventory.clients)
    ]
    systems = [
        {
            "inventory_id": inventory_id,
            "position": i,
            "id": s.id,
            "vendor": s.vendor,
            "vendor_country": s.vendor_country,
            "spec": s.model_dump(mode="json"),
        }
        for i, s in enumerate(inventory.systems)
    ]
    locations = [
        {
            "inventory_id": inventory_id,
            "system_id": s.id,
            "kind": "hosting",
            "recipient": h.provider or s.vendor,
            "country": h.country,
        }
        for s in inventory.systems
        for h in s.hosting
    ]
    locations += [
        {
            "inventory_id": inventory_id,
            "system_id": s.id,
            "kind": "subprocessor",
            "recipient": sub.name,
            "country": code,
        }
        for s in inventory.systems
        for sub in s.subprocessors
        for code in sub.countries
    ]
    for table, rows in (
        (StaffRecord, staff),
        (ClientRecord, clients),
        (SystemRecord, systems),
        (LocationRecord, locations),
    ):
        if rows:
            session.execute(insert(table), rows)


def _specs(session: Session, table: Any, inventory_id: int | None, model: Any) -> list[Any]:
    rows = session.exec(
        select(table.spec).where(table.inventory_id == inventory_id).order_by(table.position)
    )
    return [model.model_validate(spec) for spec in rows]
