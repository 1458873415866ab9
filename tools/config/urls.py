"""Database URLs: read from an environment variable or a config value, checked against the
kind of database they are for, and shown to people only with every secret redacted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tools.core.errors import ConfigError
from tools.dialects import (
    ScriptDialect,
    driver_hint,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import URL


def parse_url(raw: str, kind: ScriptDialect, what: str, wrong_kind: str) -> URL:
    """A URL for ``kind``, its driver filled in. ``what`` names it in an error, which never
    shows the URL itself (it may hold a password); ``wrong_kind`` is the message for a URL of
    another kind of database, with ``{backend}`` for the one it names."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        url = make_url(raw)
        url.port  # noqa: B018 - a port that is not a number fails here, not later
    except (ArgumentError, ValueError):
        raise ConfigError(
            f"{what} is not a valid SQLAlchemy URL; expected something like {kind.example_url}"
        ) from None
    if "@" in (url.host or ""):
        # An '@' left unencoded in a password splits it: part of it would show as the host.
        # (A '/' parses as it is; encoded, it decodes to the same password.)
        raise ConfigError(
            f"{what} has an unencoded '@' in its password; percent-encode the password: "
            "%40 for @, %25 for %"
        )
    if not kind.accepts(url):
        raise ConfigError(wrong_kind.replace("{backend}", url.get_backend_name()))
    url = kind.complete(url)
    try:
        url.get_dialect().import_dbapi()
    except ImportError as err:
        raise ConfigError(
            f"{what} names the driver {url.get_driver_name()}, which is not installed; use "
            f"{driver_hint()}"
        ) from err
    except NoSuchModuleError as err:
        raise ConfigError(
            f"{what} names the driver {url.get_driver_name()}, which SQLAlchemy does not know; "
            f"use {driver_hint()}"
        ) from err
    return url


def scratch_variable(kind: ScriptDialect) -> str:
    """The environment variable naming the scratch server of a kind of database."""
    return f"SCHEMACTL_SCRATCH_{kind.name.upper()}_URL"


def redact(url: URL) -> str:
    """The URL as it may be shown to a person: never with its password, and without
    SQLAlchemy's driver (postgresql://, as psql and libpq take it, not postgresql+psycopg://)."""
    query = {
        key: "redacted" if key.lower() in _SECRET_PARAMETERS else value
        for key, value in url.query.items()
    }
    shown = url.set(drivername=url.get_backend_name(), query=query)
    return shown.render_as_string(hide_password=True)


# Connection parameters that carry a secret (libpq's and the drivers' names for them).
_SECRET_PARAMETERS = frozenset(
    {"password", "passwd", "pass", "sslpassword", "passfile", "sslkey", "token", "secret"}
)
