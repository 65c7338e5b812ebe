"""VelocityCMDB ``assets.db``: SQLAlchemy models of the tables we read, and the device query.

The database is opened read-only (SQLite ``mode=ro``): VelocityCMDB owns it and keeps
triggers on it, and a collector has no business writing there.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import ForeignKey, Integer, String, create_engine, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, aliased, mapped_column
from sqlalchemy.pool import NullPool

from vcollector.errors import InventoryError
from vcollector.inventory.filters import DeviceFilterSpec
from vcollector.inventory.records import DeviceRecord, address_of, device_slug, netmiko_platform, port_of


class Base(DeclarativeBase):
    """Declarative base of the assets.db tables (read-only mapping)."""


class Vendor(Base):
    """``vendors``."""

    __tablename__ = "vendors"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String)
    short_name: Mapped[str | None] = mapped_column(String)


class Site(Base):
    """``sites``, keyed by code."""

    __tablename__ = "sites"
    code: Mapped[str] = mapped_column(String, primary_key=True)
    name: Mapped[str | None] = mapped_column(String)


class DeviceRole(Base):
    """``device_roles``."""

    __tablename__ = "device_roles"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String)


class DeviceType(Base):
    """``device_types``: the Netmiko driver and default port."""

    __tablename__ = "device_types"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String)
    netmiko_driver: Mapped[str | None] = mapped_column(String)
    default_port: Mapped[int | None] = mapped_column(Integer)
    requires_enable: Mapped[bool | None] = mapped_column(Integer)


class Device(Base):
    """``devices``: one row per network device."""

    __tablename__ = "devices"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String)
    normalized_name: Mapped[str | None] = mapped_column(String)
    site_code: Mapped[str | None] = mapped_column(ForeignKey("sites.code"))
    vendor_id: Mapped[int | None] = mapped_column(ForeignKey("vendors.id"))
    device_type_id: Mapped[int | None] = mapped_column(ForeignKey("device_types.id"))
    role_id: Mapped[int | None] = mapped_column(ForeignKey("device_roles.id"))
    model: Mapped[str | None] = mapped_column(String)
    ipv4_address: Mapped[str | None] = mapped_column(String)
    management_ip: Mapped[str | None] = mapped_column(String)


def read_only_engine(db_path: Path, *, immutable: bool = False) -> Engine:
    """An engine that opens ``db_path`` read-only; refuses a missing path up front.

    (SQLite would otherwise create an empty database where the file was expected.)
    ``immutable`` reads the file without SQLite's locking files (see :func:`load_devices`).
    """
    if not db_path.exists():
        raise InventoryError(f"assets.db not found: {db_path}")
    if not db_path.is_file():
        raise InventoryError(f"assets.db is not a file: {db_path}")
    uri = f"file:{quote(str(db_path.resolve()))}?mode=ro{'&immutable=1' if immutable else ''}"

    def connect() -> sqlite3.Connection:
        connection = sqlite3.connect(uri, uri=True, timeout=10, check_same_thread=False)
        # One row with bytes that are not UTF-8 (an importer's typo in devices.model) would
        # otherwise fail the whole query, and with it every job.
        connection.text_factory = lambda raw: raw.decode("utf-8", errors="replace")
        return connection

    return create_engine("sqlite+pysqlite://", creator=connect, poolclass=NullPool)


def load_devices(db_path: str | Path, device_filter: DeviceFilterSpec | None = None) -> list[DeviceRecord]:
    """Every device of ``db_path`` that passes ``device_filter``, ordered by name then id."""
    path = Path(db_path).expanduser()
    spec = device_filter or DeviceFilterSpec()
    vendor, site, role, dtype = aliased(Vendor), aliased(Site), aliased(DeviceRole), aliased(DeviceType)
    query = (
        select(
            Device.id,
            Device.name,
            Device.normalized_name,
            Device.management_ip,
            Device.ipv4_address,
            Device.model,
            Device.site_code,
            vendor.name,
            vendor.short_name,
            role.name,
            dtype.netmiko_driver,
            dtype.default_port,
            dtype.requires_enable,
        )
        .outerjoin(vendor, Device.vendor_id == vendor.id)
        .outerjoin(site, Device.site_code == site.code)
        .outerjoin(role, Device.role_id == role.id)
        .outerjoin(dtype, Device.device_type_id == dtype.id)
    )
    try:
        rows = _rows(path, query)
    except OperationalError as exc:
        if not _needs_immutable(path, exc):
            raise InventoryError(_explain(path, exc)) from exc
        # A WAL-mode database in a directory we may not write: SQLite cannot create its
        # shared-memory file to read it. With no WAL content pending (VelocityCMDB is not
        # running, so everything is in the main file) reading it as immutable is exact.
        try:
            rows = _rows(path, query, immutable=True)
        except (OperationalError, DatabaseError) as retry:
            raise InventoryError(_explain(path, retry)) from retry
    except DatabaseError as exc:
        raise InventoryError(_explain(path, exc)) from exc
    except SQLAlchemyError as exc:
        raise InventoryError(f"cannot read assets.db {path}: {exc}") from exc
    selected = [device for device in map(_record, rows) if spec.matches(device)]
    selected.sort(key=lambda device: (device.name.casefold(), device.name, device.id))
    return selected


def _rows(path: Path, query: Any, *, immutable: bool = False) -> Sequence[Any]:
    engine = read_only_engine(path, immutable=immutable)
    try:
        with engine.connect() as conn:
            return conn.execute(query).all()
    finally:
        engine.dispose()


def _needs_immutable(path: Path, exc: Exception) -> bool:
    text = str(getattr(exc, "orig", exc))
    if "unable to open" not in text and "readonly" not in text:
        return False
    wal = path.with_name(path.name + "-wal")
    try:
        return not wal.exists() or wal.stat().st_size == 0
    except OSError:
        return False


def _record(row: Sequence[Any]) -> DeviceRecord:
    (
        dev_id,
        name,
        normalized,
        mgmt,
        ipv4,
        model,
        site_code,
        vendor,
        vendor_short,
        role,
        driver,
        port,
        enable,
    ) = row
    name = str(name or "").strip() or f"device-{dev_id}"
    normalized_text = str(normalized or "").strip()
    port_number, port_problem = port_of(port)
    return DeviceRecord(
        id=int(dev_id),
        name=name,
        normalized_name=normalized_text or device_slug(name),
        address=address_of(mgmt, ipv4),
        port=port_number,
        platform=netmiko_platform(driver, vendor, vendor_short),
        site=site_code,
        vendor=vendor,
        vendor_short_name=vendor_short,
        role=role,
        model=model,
        requires_enable=bool(enable),
        invalid=port_problem,
    )


def _explain(path: Path, exc: Exception) -> str:
    text = str(getattr(exc, "orig", exc))
    if "no such table" in text or "no such column" in text:
        return f"{path} is not a VelocityCMDB assets.db ({text})"
    if "not a database" in text or "malformed" in text:
        return f"{path} is not a readable SQLite database ({text})"
    if "locked" in text:
        return f"assets.db is locked by another program: {path}"
    return f"cannot read assets.db {path}: {text}"
