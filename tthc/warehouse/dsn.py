"""Connection settings for the warehouse, parsed once and handed to every tool.

psycopg takes a conninfo string, dbt reads environment variables (see dbt/profiles.yml),
Great Expectations takes a SQLAlchemy URL: one value object renders all three.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import quote, unquote, urlparse


@dataclass(frozen=True)
class Dsn:
    host: str
    port: int
    user: str
    password: str
    dbname: str

    @classmethod
    def parse(cls, url: str) -> Dsn:
        """Parse a `postgresql://user:password@host:port/dbname` URL."""
        parts = urlparse(url)
        if parts.scheme not in ("postgresql", "postgres"):
            raise ValueError("WAREHOUSE_DSN must be a postgresql://user:password@host:port/dbname URL")
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            dbname=(parts.path or "/").lstrip("/") or "postgres",
        )

    def with_database(self, dbname: str) -> Dsn:
        return replace(self, dbname=dbname)

    def with_user(self, user: str, password: str) -> Dsn:
        return replace(self, user=user, password=password)

    def url(self) -> str:
        return (
            f"postgresql://{quote(self.user, safe='')}:{quote(self.password, safe='')}"
            f"@{self.host}:{self.port}/{self.dbname}"
        )

    def sqlalchemy_url(self) -> str:
        return self.url().replace("postgresql://", "postgresql+psycopg2://", 1)

    def conninfo(self) -> str:
        return self.url()

    def dbt_env(self) -> dict[str, str]:
        """The variables dbt/profiles.yml reads."""
        return {
            "TTHC_PG_HOST": self.host,
            "TTHC_PG_PORT": str(self.port),
            "TTHC_PG_USER": self.user,
            "TTHC_PG_PASSWORD": self.password,
            "TTHC_PG_DBNAME": self.dbname,
        }

    def __repr__(self) -> str:  # never print the password
        return f"Dsn({self.user}@{self.host}:{self.port}/{self.dbname})"

    __str__ = __repr__
