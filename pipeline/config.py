"""Typed view of the ARCHIVE_* settings, shared by the crawl components and the query commands."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

from scrapy.settings import BaseSettings

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
    archive_dir = Path(settings.get("ARCHIVE_DIR") or "archive").expanduser().resolve()
    db_url = settings.get("ARCHIVE_DB_URL") or default_db_url(archive_dir)
    return ArchiveConfig(
        archive_dir=archive_dir,
        db_url=db_url,
        warc_prefix=settings.get("ARCHIVE_WARC_PREFIX", "newsvault"),
        warc_max_size=settings.getint("ARCHIVE_WARC_MAX_SIZE", 1_000_000_000),
        operator=settings.get("ARCHIVE_OPERATOR", ""),
        user_agent=settings.get("USER_AGENT", "newsvault"),
        robots_obey=settings.getbool("ROBOTSTXT_OBEY"),
        max_file_size=settings.getint("ARCHIVE_MAX_FILE_SIZE", 20 * 1024 * 1024),
        extract_workers=settings.getint("ARCHIVE_EXTRACT_WORKERS", 0),
        near_dup_threshold=settings.getfloat("ARCHIVE_NEAR_DUP_THRESHOLD", 0.8),
        story_window_days=settings.getint("ARCHIVE_STORY_WINDOW_DAYS", 7),
    )
