"""Typed view of the ARCHIVE_* settings, shared by the crawl components and the query commands."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scrapy.settings import BaseSettings

from pipeline.archive_settings import typed
from pipeline.db.session import default_db_url


@dataclass(frozen=True)
class ArchiveConfig:
    archive_dir: Path
    db_url: str
    warc_prefix: str
    warc_max_size: int
    operator: str
    user_agent: str
    robots_obey: bool
    max_file_size: int
    extract_workers: int
    near_dup_threshold: float
    story_window_days: int

    @property
    def warc_dir(self) -> Path:
        return self.archive_dir / "warc"

    def warcinfo(self, is_part_of: str) -> dict[str, str]:
        return {
            "isPartOf": is_part_of,
            "robots": "obey" if self.robots_obey else "ignore",
            "http-header-user-agent": self.user_agent,
            "operator": self.operator
            or f"{os.environ.get('USER', 'newsvault')}@{socket.gethostname()}",
        }


def archive_config(settings: BaseSettings) -> ArchiveConfig:
    """Typed and checked (pipeline/archive_settings.py); raises SettingError."""

    def value(name: str) -> Any:
        return typed(name, settings.get(name))

    archive_dir = Path(value("ARCHIVE_DIR")).expanduser().resolve()
    return ArchiveConfig(
        archive_dir=archive_dir,
        db_url=value("ARCHIVE_DB_URL") or default_db_url(archive_dir),
        warc_prefix=value("ARCHIVE_WARC_PREFIX"),
        warc_max_size=value("ARCHIVE_WARC_MAX_SIZE"),
        operator=value("ARCHIVE_OPERATOR"),
        user_agent=settings.get("USER_AGENT", "newsvault"),
        robots_obey=settings.getbool("ROBOTSTXT_OBEY"),
        max_file_size=value("ARCHIVE_MAX_FILE_SIZE"),
        extract_workers=value("ARCHIVE_EXTRACT_WORKERS"),
        near_dup_threshold=value("ARCHIVE_NEAR_DUP_THRESHOLD"),
        story_window_days=value("ARCHIVE_STORY_WINDOW_DAYS"),
    )
