"""What DR acts on, built once from the settings and (optionally) a `code.yaml`.

The embedded default needs nothing: CODE's database and data directory are the sources, the
store is `data_dir/backups`, and in dev a key file is created in the data directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from code_engine import __version__
from code_engine.dr.domain import Objectives
from code_engine.dr.errors import DrError
from code_engine.dr.keys import BackupKey, generate_key_file, load_key
from code_engine.dr.pitr import PitrSetup, S3Repository
from code_engine.dr.retention import RetentionPolicy
from code_engine.dr.sources import DirectorySource, PostgresSource, Source, SqliteSource
from code_engine.dr.sources.config import ConfigSource
from code_engine.errors import UserError
from code_engine.settings import Settings, sqlite_database
from code_engine.spec import Backup, BackupSource, load_spec

DATABASE_SOURCE = "code-database"
DATA_SOURCE = "code-data"
CONFIG_SOURCE = "service-config"
DEFAULT_STORE = "backups"
DEV_KEY_FILE = "dr-backup.key"
DATABASE_SMOKE = ("SELECT count(*) FROM alembic_version",)


@dataclass(frozen=True)
class DrConfig:
    store: str
    replica: str | None
    sources: tuple[Source, ...]
    objectives: Objectives
    retention: RetentionPolicy
    schedule: str
    drill_schedule: str
    smoke: dict[str, tuple[str, ...]]
    scratch: Path
    release: str = __version__
    key_env: str = field(default="", repr=False)
    key_file: Path | None = None
    dev_key: bool = False
    pitr: dict[str, PitrSetup] = field(default_factory=dict)

    def key(self) -> BackupKey:
        """The backup key; in dev a missing key file is created once (outside every snapshot)."""
        if self.dev_key and not self.key_env and self.key_file and not self.key_file.exists():
            try:
                return generate_key_file(self.key_file)
            except FileExistsError:
                pass
        return load_key(self.key_env, self.key_file)

    def source(self, name: str) -> Source:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources)
        raise UserError(f"no source named {name!r}; known: {known}")

    def chosen(self, name: str | None) -> tuple[Source, ...]:
        return self.sources if name is None else (self.source(name),)


def _own_sources(settings: Settings, store: str, key_file: Path | None) -> list[Source]:
    database = sqlite_database(settings.resolved_database_url)
    sources: list[Source] = []
    # releases (virtualenvs), run state and logs are rebuilt or transient, not state to restore
    excluded = ["code.db", "code.db-wal", "code.db-shm", "code.db.*", "logs", "dr-scratch"]
    excluded += ["releases", "run", "demo"]
    if database is not None:
        path = Path(database)
        sources.append(SqliteSource(DATABASE_SOURCE, path))
        if path.parent == settings.data_dir:
            excluded += [path.name, f"{path.name}-wal", f"{path.name}-shm", f"{path.stem}.*"]
    else:
        sources.append(PostgresSource(DATABASE_SOURCE, settings.resolved_database_url))
    for inside in (Path(store), key_file):
        if inside is not None and "://" not in str(inside):
            try:
                excluded.append(
                    inside.resolve().relative_to(settings.data_dir.resolve()).as_posix()
                )
            except ValueError:
                pass
    excluded.append("*.restored-*")
    sources.append(DirectorySource(DATA_SOURCE, settings.data_dir, tuple(excluded)))
    return sources


def _service_source(spec: BackupSource, base: Path) -> Source:
    if spec.kind == "postgres":
        url = os.environ.get(spec.url_env or "", "")
        if not url:
            raise DrError(f"source {spec.name}: environment variable {spec.url_env} is not set")
        return PostgresSource(spec.name, url)
    path = Path(spec.path or "")
    path = path if path.is_absolute() else base / path
    if spec.kind == "sqlite":
        return SqliteSource(spec.name, path)
    return DirectorySource(spec.name, path)


def _pitr_setup(
    spec: BackupSource, source: Source, store: str, base: Path, data_dir: Path
) -> PitrSetup:
    """The stanza of a pitr source: its repository beside the snapshots (a directory, or
    `pgbackrest/<source>` under the S3 store's prefix, its configuration in the data dir)."""
    s3: S3Repository | None = None
    if store.startswith("s3://"):
        s3 = S3Repository.from_url(
            f"{store.rstrip('/')}/pgbackrest/{spec.name}",
            os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL", ""),
            os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION", ""),
            os.environ.get("AWS_CA_BUNDLE", ""),
        )
        repository = data_dir / "pgbackrest" / spec.name
    elif "://" in store and not store.startswith("file://"):
        raise DrError(f"source {spec.name}: pitr keeps its repository in a directory or on S3")
    else:
        repository = Path(store.removeprefix("file://")) / "pgbackrest" / spec.name
    params = source.params if isinstance(source, PostgresSource) else {}
    host = params.get("host", "")
    pg_data = Path(spec.pg_data or "")
    return PitrSetup(
        stanza=spec.name,
        pg_data=pg_data if pg_data.is_absolute() else base / pg_data,
        pg_port=int(params.get("port", "5432")),
        repository=repository,
        socket_dir=Path(host) if host.startswith("/") else Path("/var/run/postgresql"),
        s3=s3,
    )


def load_config(settings: Settings) -> DrConfig:
    """The DR configuration of this engine."""
    backup: Backup | None = None
    base = Path.cwd()
    if settings.dr_spec is not None:
        backup = load_spec(settings.dr_spec).backup
        base = settings.dr_spec.parent
    store = settings.dr_store or (backup.store if backup else "")
    store = store or str(settings.data_dir / DEFAULT_STORE)
    replica = settings.dr_replica_store or (backup.replica if backup else None) or None
    key_file = settings.dr_key_file
    dev_key = False
    if key_file is None and settings.env == "dev":
        key_file, dev_key = settings.data_dir / DEV_KEY_FILE, True
    sources = _own_sources(settings, store, key_file)
    smoke: dict[str, tuple[str, ...]] = {DATABASE_SOURCE: DATABASE_SMOKE}
    pitr: dict[str, PitrSetup] = {}
    if settings.dr_spec is not None:  # the service's code.yaml and env, as written
        sources.append(ConfigSource(CONFIG_SOURCE, settings.dr_spec))
        smoke[CONFIG_SOURCE] = ()
    for spec in backup.sources if backup else []:
        sources.append(_service_source(spec, base))
        smoke[spec.name] = tuple(spec.smoke)
        if spec.pitr:
            pitr[spec.name] = _pitr_setup(spec, sources[-1], store, base, settings.data_dir)
    retention = RetentionPolicy()
    if backup:
        r = backup.retention
        retention = RetentionPolicy(r.keep_daily, r.keep_weekly, r.keep_monthly, r.max_age)
    return DrConfig(
        store=store,
        replica=replica,
        sources=tuple(sources),
        objectives=Objectives(
            rpo=backup.rpo if backup else timedelta(hours=1),
            rto=backup.rto if backup else timedelta(hours=4),
        ),
        retention=retention,
        schedule=backup.schedule if backup else "0 * * * *",
        drill_schedule=backup.drill_schedule if backup else "0 4 1 * *",
        smoke=smoke,
        scratch=settings.dr_scratch_dir or settings.data_dir / "dr-scratch",
        key_env=settings.dr_key.get_secret_value(),
        key_file=key_file,
        dev_key=dev_key,
        pitr=pitr,
    )
