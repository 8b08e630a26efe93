"""An archive of short documents written straight into a fresh index, for query-command tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipeline.db import queries as q
from pipeline.db.migrate import upgrade_to_head
from pipeline.db.session import make_engine, make_session_factory

FIRST_SEEN = datetime(2024, 5, 1, tzinfo=UTC)


def write_text_archive(archive: Path, texts: Sequence[str]) -> None:
    """Document n: ``texts[n]``, titled "Report n", first seen n days after 2024-05-01."""
    url = f"sqlite:///{archive / 'index.sqlite'}"
    upgrade_to_head(url)
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session, session.begin():
            for n, body in enumerate(texts):
                q.add_document(
                    session,
                    url=f"https://news.example.org/{n}",
                    title=f"Report {n}",
                    source_kind="text",
                    text=body,
                    text_digest=f"sha256:{n:064d}",
                    first_seen=FIRST_SEEN + timedelta(days=n),
                )
    finally:
        engine.dispose()
