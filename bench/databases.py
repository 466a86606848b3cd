"""Databases the benchmarks make and drop: a SQLite file in their work folder, or a database on
the PostgreSQL server devtools.with_server started."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url


def new_database(kind: str, workdir: Path, name: str, admin_url: str | None, bench: str) -> str:
    """A new empty database of this kind named `name` (one left by a stopped run is dropped)."""
    if kind == "sqlite":
        path = workdir / f"{name}.db"
        path.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    if not admin_url:
        raise SystemExit(
            "PostgreSQL needs a server: python -m devtools.with_server postgres -- "
            f"python -m {bench} …  (or --postgres-admin-url)"
        )
    import psycopg

    database = f"blogapi_{name}".replace("-", "_")
    with psycopg.connect(admin_url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')
    return admin_url.rsplit("/", 1)[0] + f"/{database}"


def drop_database(url: str, admin_url: str | None) -> None:
    """Remove a bench database."""
    if url.startswith("sqlite"):
        Path(make_url(url).database or "").unlink(missing_ok=True)
        return
    import psycopg

    name = make_url(url).database
    with psycopg.connect((admin_url or "").replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
