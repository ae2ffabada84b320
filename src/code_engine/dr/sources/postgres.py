"""PostgreSQL through `pg_dump -Fc` and `pg_restore`: works against any server, managed too.

A restore creates a new database and fills it; in place, the live database is renamed aside
and the restored one takes its name, so the swap is two catalog renames.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from code_engine.dr.errors import DrError, IntegrityError, TargetExistsError
from code_engine.dr.sources.base import (
    CheckReport,
    Readable,
    Writable,
    copy_overlapped,
    widen_pipe,
)

if TYPE_CHECKING:
    import psycopg


def libpq_url(url: str) -> str:
    """`postgresql+psycopg://...` (SQLAlchemy) or a libpq URL, as a libpq URL."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme.startswith("postgresql+"):
        return f"postgresql://{rest}"
    return url


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise DrError(f"{name} not found on PATH: install the PostgreSQL client tools")
    return found


class PostgresSource:
    """psycopg is imported when the source is first used, not when the configuration that
    names it is read (a backup of another source never loads it)."""

    kind = "postgres"
    # gzip level 1 inside the archive: an uncompressed custom archive holds one block per row,
    # which `pg_restore` hands to the server one by one (measured 0.4 s slower per GB to
    # restore); zstd then compresses what gzip left. Archives of either kind restore.
    archive_compression = "-Z1"

    def __init__(self, name: str, url: str) -> None:
        self.name = name
        self.url = url

    @cached_property
    def params(self) -> dict[str, str]:
        import psycopg
        from psycopg.conninfo import conninfo_to_dict

        try:
            return {k: str(v) for k, v in conninfo_to_dict(libpq_url(self.url)).items()}
        except psycopg.ProgrammingError as exc:
            raise DrError(f"source {self.name}: not a PostgreSQL URL ({exc})") from None

    @property
    def database(self) -> str:
        return self.params.get("dbname", "postgres")

    def conninfo(self, database: str) -> str:
        from psycopg.conninfo import make_conninfo

        return make_conninfo(**{**self.params, "dbname": database})

    def _env(self, database: str) -> dict[str, str]:
        # libpq's environment variables by parameter; values come from the source's URL (the
        # "password" entry names a variable, it holds no password)
        names = {
            "host": "PGHOST",
            "port": "PGPORT",
            "user": "PGUSER",
            "password": "PGPASSWORD",  # nosec B105
        }
        env = dict(os.environ)
        env.update({var: self.params[key] for key, var in names.items() if key in self.params})
        env["PGDATABASE"] = database
        return env

    def describe(self) -> str:
        host = self.params.get("host", "localhost")
        return f"postgresql://{host}:{self.params.get('port', '5432')}/{self.database}"

    def versions(self) -> tuple[str, dict[str, str]]:
        import psycopg

        try:
            with psycopg.connect(self.conninfo(self.database), connect_timeout=10) as conn:
                row = conn.execute("SHOW server_version").fetchone()
        except Exception as exc:  # noqa: BLE001 - any failure to connect is the same fault here
            raise DrError(f"{self.describe()}: cannot connect ({str(exc).strip()})") from None
        server = str(row[0]) if row else "unknown"
        tools = {}
        for tool in ("pg_dump", "pg_restore"):
            done = subprocess.run(  # noqa: S603 - fixed argv
                [_tool(tool), "--version"], capture_output=True, text=True
            )
            tools[tool] = done.stdout.strip()
        return f"PostgreSQL {server}", tools

    def dump(self, out: Writable, scratch: Path) -> dict[str, Any]:
        errors = scratch / f"{self.name}.pg_dump.err"
        with errors.open("wb") as err:
            proc = subprocess.Popen(  # noqa: S603 - fixed argv, the URL goes by environment
                [_tool("pg_dump"), "-Fc", self.archive_compression, "--no-password"],
                stdout=subprocess.PIPE,
                stderr=err,
                env=self._env(self.database),
            )
            stdout = proc.stdout
            if stdout is None:  # pragma: no cover - PIPE always gives one
                raise DrError("pg_dump gave no output stream")
            widen_pipe(stdout)
            try:
                size = copy_overlapped(stdout, out)
            finally:
                stdout.close()
                code = proc.wait()
        message = errors.read_text(errors="replace").strip()
        errors.unlink(missing_ok=True)
        if code != 0:
            raise DrError(f"pg_dump of {self.describe()} failed: {message or f'exit {code}'}")
        return {"database": self.database, "archive_bytes": size}

    def beside(self, snapshot_id: str) -> str:
        suffix = snapshot_id.replace("-", "_").lower()
        return f"{self.database[: 63 - len(suffix) - 10]}_restored_{suffix}"

    def live(self) -> str:
        return self.database

    def _admin(self) -> psycopg.Connection[Any]:
        import psycopg

        return psycopg.connect(self.conninfo("postgres"), autocommit=True, connect_timeout=10)

    def _exists(self, admin: psycopg.Connection[Any], database: str) -> bool:
        row = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        return row is not None

    def restore(self, data: Readable, target: str, scratch: Path) -> None:
        """Create `target` and stream the archive into `pg_restore`; dropped again on failure.

        The archive was written to a pipe, so it has no data offsets: parallel jobs would
        each scan it, and one `pg_restore` reading the stream as it is decrypted is faster.
        """
        from psycopg import sql

        with self._admin() as admin:
            if self._exists(admin, target):
                raise TargetExistsError(f"database {target} exists; give another --target")
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target)))
        errors = scratch / f"{self.name}.pg_restore.err"
        try:
            code = self._feed_restore(data, target, errors)
            message = errors.read_text(errors="replace").strip()[-500:]
        except BaseException:
            self.discard(target)
            raise
        finally:
            errors.unlink(missing_ok=True)
        if code != 0:
            self.discard(target)
            raise DrError(f"pg_restore into {target} failed: {message or f'exit {code}'}")

    def _feed_restore(self, data: Readable, target: str, errors: Path) -> int:
        with errors.open("wb") as err:
            proc = subprocess.Popen(  # noqa: S603 - fixed argv, a name we chose
                [_tool("pg_restore"), "--no-owner", "--exit-on-error", "--no-password", "-d",
                 target],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err,
                env=self._env(target),
            )  # fmt: skip
            stdin = proc.stdin
            if stdin is None:  # pragma: no cover - PIPE always gives one
                raise DrError("pg_restore gave no input stream")
            widen_pipe(stdin)
            try:
                copy_overlapped(data, stdin)
                stdin.close()
            except BrokenPipeError:
                pass  # pg_restore stopped early: its exit code and message say why
            except BaseException:
                proc.kill()
                proc.wait()
                raise
            return proc.wait()

    def check(self, target: str, smoke: tuple[str, ...]) -> CheckReport:
        import psycopg

        checks: dict[str, Any] = {}
        try:
            with psycopg.connect(self.conninfo(target), connect_timeout=10) as conn:
                checks["select_1"] = conn.execute("SELECT 1").fetchone()[0]  # type: ignore[index]
                tables = conn.execute(
                    "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN "
                    "('pg_catalog', 'information_schema')"
                ).fetchone()
                checks["tables"] = tables[0] if tables else 0
                for query in smoke:
                    try:
                        checks[query] = [list(r) for r in conn.execute(query).fetchall()[:5]]
                    except psycopg.Error as exc:  # noqa: PERF203 - one query, one message
                        raise IntegrityError(
                            f"{target}: smoke query {query!r} failed: {exc}"
                        ) from None
        except psycopg.OperationalError as exc:
            raise IntegrityError(f"database {target} does not answer: {exc}") from None
        return CheckReport(f"database {target}", checks)

    def replace_live(self, target: str, snapshot_id: str) -> str:
        from psycopg import sql

        old = self.beside(snapshot_id).replace("_restored_", "_before_")
        with self._admin() as admin:
            for name in (self.database, target):
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()",
                    (name,),
                )
            rename = sql.SQL("ALTER DATABASE {} RENAME TO {}")
            admin.execute(rename.format(sql.Identifier(self.database), sql.Identifier(old)))
            admin.execute(rename.format(sql.Identifier(target), sql.Identifier(self.database)))
        return f"database {old}"

    def discard(self, target: str) -> None:
        from psycopg import sql

        with self._admin() as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(target))
            )
