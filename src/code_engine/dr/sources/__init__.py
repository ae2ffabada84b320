"""What is backed up: one small `Source` protocol, with SQLite, PostgreSQL and directories."""

from __future__ import annotations

from code_engine.dr.sources.base import CheckReport, Source
from code_engine.dr.sources.directory import DirectorySource
from code_engine.dr.sources.postgres import PostgresSource
from code_engine.dr.sources.sqlite import SqliteSource

__all__ = ["CheckReport", "DirectorySource", "PostgresSource", "Source", "SqliteSource"]
