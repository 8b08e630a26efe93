"""`scrapy search WORDS`: ranked full-text search over the archive."""

from __future__ import annotations

import argparse
import json
from itertools import groupby

from pipeline.cli.command_support import ArchiveCommand, CommandError, day_range, positive_int
from pipeline.db.queries_stats import outlet_of
from pipeline.db.search import MatchCount, SearchHit, count_matches, search_documents
from pipeline.db.search_settings import RANK_CANDIDATES
from pipeline.json_output import iso_time, iso_time_or_none


def hit_json(hit: SearchHit) -> dict[str, object]:
    return {
        "id": hit.document_id,
        "url": hit.url,
        "title": hit.title,
        "site": hit.site,
        "published": iso_time_or_none(hit.published),
        "first_seen": iso_time(hit.first_seen),
        "score": round(hit.score, 4),
        "snippet": hit.snippet,
        "duplicate_of": hit.duplicate_of,
        "story_id": hit.story_id,
    }


def hit_lines(rank: int, hit: SearchHit) -> list[str]:
    when = (hit.published or hit.first_seen).date().isoformat()
    source = outlet_of(hit.site, hit.url)
    copy = f"  (near-duplicate of {hit.duplicate_of})" if hit.duplicate_of else ""
    return [
        f"{rank:>3}. [{hit.document_id}] {hit.title or '(untitled)'}{copy}",
        f"     {source} | {when} | {hit.url}",
        f"     {' '.join(hit.snippet.split())}",
    ]


def match_line(query: str, counted: MatchCount, shown: int, *, scored: bool = True) -> str:
    """ "5 document(s) match 'kim', the best 2 shown:", honest when counting stopped early.

    ``scored``: False when no result has a score (a query of common words or prefixes only),
    so they are the newest matches, not the best.
    """
    if counted.exact and counted.documents <= shown:
        return f"{counted.documents:,} document(s) match {query!r}:"
    if counted.stopped:
        # Counting ran out of time; the results shown match too.
        how_many = f"at least {max(counted.documents, shown):,}"
    elif counted.exact:
        how_many = f"{counted.documents:,}"
    else:
        how_many = f"more than {counted.documents:,}"
    if not scored:
        return f"{how_many} document(s) match {query!r}, the newest {shown} shown:"
    ranked = (
        ""
        if counted.exact and counted.documents <= RANK_CANDIDATES
        else (f" of the {RANK_CANDIDATES:,} most recently archived")
    )
    return f"{how_many} document(s) match {query!r}, the best {shown}{ranked} shown:"


class Command(ArchiveCommand):
    takes_arguments = True
    arguments_are_words = True

    def syntax(self) -> str:
        return "[options] WORDS..."

    def short_desc(self) -> str:
        return "Search the archive (ranked, with snippets)"

    def long_desc(self) -> str:
        return (
            "Search the archive. WORDS: all must match (stemmed, case and accents ignored); "
            'a OR b: either; -word or NOT word: excluded; "exact phrase"; prefix*.'
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--site", help="only documents from this site name or host")
        parser.add_argument("--since", help="published or first seen on/after YYYY-MM-DD")
        parser.add_argument("--until", help="published or first seen on/before YYYY-MM-DD")
        parser.add_argument("--limit", type=positive_int, default=20, help="at most N results")
        parser.add_argument("--json", action="store_true", help="JSON Lines output")
        parser.add_argument("--all", action="store_true", help="show near-duplicate copies too")
        parser.add_argument("--stories", action="store_true", help="group results by story")

    def execute(self, args: list[str], opts: argparse.Namespace) -> None:
        query = " ".join(args)
        if not query.strip():
            raise CommandError("empty search query: give one or more words")
        since, until = day_range(opts.since, opts.until)
        collapse = not opts.all
        with self.session() as session:
            hits = search_documents(
                session,
                query,
                site=opts.site,
                since=since,
                until=until,
                limit=opts.limit,
                collapse_duplicates=collapse,
            )
            if opts.json:
                for hit in hits:
                    print(json.dumps(hit_json(hit), ensure_ascii=False))
                return
            if not hits:
                print(f"no documents match {query!r}")
                return
            counted = count_matches(
                session,
                query,
                site=opts.site,
                since=since,
                until=until,
                collapse_duplicates=collapse,
            )
        scored = any(hit.score for hit in hits)
        print(match_line(query, counted, len(hits), scored=scored))
        if opts.stories:
            self.print_by_story(hits)
            return
        for rank, hit in enumerate(hits, 1):
            print("\n".join(hit_lines(rank, hit)))

    def print_by_story(self, hits: list[SearchHit]) -> None:
        ordered = sorted(hits, key=lambda h: (h.story_id is None, h.story_id or 0))
        rank = 0
        for story_id, members in groupby(ordered, key=lambda h: h.story_id):
            print(f"story {story_id}:" if story_id is not None else "no story:")
            for hit in members:
                rank += 1
                print("\n".join("  " + line for line in hit_lines(rank, hit)))
