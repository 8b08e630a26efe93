"""Making the archive whole at a crawl's start-up, after a crawl before it was killed.

WARC files a dead crawl left ``.open`` are closed (a torn last record moved aside into a
``.partial`` file), then every record of an unfinished file that the index lacks is indexed
through reindex's replay: what the killed crawl archived is never lost, and never indexed twice.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from pipeline.index.deciding import IndexPolicy
from pipeline.index.reindex import index_missing_records, unfinished_warc_files
from pipeline.warc.recovery import recover_stale_files

logger = logging.getLogger(__name__)


def recover_archive(
    factory: sessionmaker[Session], warc_dir: Path, crawl_id: int, policy: IndexPolicy
) -> Counter[str]:
    """Close stale ``.open`` files and index what they and other unfinished files hold."""
    counts: Counter[str] = Counter()
    recovered, failed = recover_stale_files(warc_dir)
    for result in recovered:
        counts["files closed"] += 1
        if result.partial_path is not None:
            counts["torn records"] += 1
            logger.warning(
                "archive: %s ended in a torn record: %d byte(s) moved to %s",
                result.final_path.name,
                result.partial_bytes,
                result.partial_path.name,
            )
    for error in failed:
        logger.error("archive: %s", error)
    with factory() as session:
        unfinished = unfinished_warc_files(session, warc_dir)
    if not unfinished:
        return counts
    state = index_missing_records(factory, unfinished, policy, crawl_id)
    counts["files caught up"] += len(unfinished)
    counts.update({f"recovered {outcome}": n for outcome, n in state.outcomes.items()})
    if state.outcomes:
        logger.warning(
            "archive: indexed %d item(s) a killed crawl had archived but not indexed (%s)",
            sum(state.outcomes.values()),
            ", ".join(f"{k} {v}" for k, v in sorted(state.outcomes.items())),
        )
    return counts


def recover_own_files(
    factory: sessionmaker[Session], paths: list[Path], crawl_id: int | None, policy: IndexPolicy
) -> Counter[str]:
    """Index what this crawl archived but could not index (the index failed under it)."""
    if crawl_id is None or not paths:
        return Counter()
    state = index_missing_records(factory, paths, policy, crawl_id)
    if state.outcomes:
        logger.warning(
            "archive: indexed %d item(s) at close that failed to index during the crawl",
            sum(state.outcomes.values()),
        )
    return Counter({f"recovered {outcome}": n for outcome, n in state.outcomes.items()})
