"""Constants of search results shared by both engines."""

from __future__ import annotations

SNIPPET_OPEN = "["
SNIPPET_CLOSE = "]"
SNIPPET_ELLIPSIS = "…"
SNIPPET_TOKENS = 24
# Title matches weigh more than body matches.
TITLE_WEIGHT = 10.0
# Both engines index the first this many characters of a text (search_words; PostgreSQL's
# tsvector holds at most 1 MB), and snippets come from that part.
PG_TEXT_CHARS = 300_000
# Ranking reads at most this many matches, the newest (highest id) first: a query with common
# words stays as fast as one with rare words. With fewer matches, every match is ranked.
RANK_CANDIDATES = 1_000
# SQLite's bm25() counts every document holding each term of its query (the IDF) on every
# search, a scan of most of the index for a common word. A term is rare when one of its words
# is in fewer documents than this (counted up to this number per search); prefixes never are
# (FTS5 merges their words first). Only rare terms are scored; common ones match but add no
# score (their IDF is low). With no rare term, the newest matches come first.
SCORED_TERM_MAX_DOCUMENTS = 10_000
# Counting matches stops here; beyond it the count says "more than".
COUNT_LIMIT = 5_000
# PostgreSQL counts a query of common words by testing rows newest first, in ranges of ids that
# grow from this size; it stops after COUNT_SECONDS and says how far it got ("at least N").
# Testing a phrase reads each row's whole tsvector: counting one of common words up to
# COUNT_LIMIT took seconds on a million documents.
COUNT_FIRST_IDS = 5_000
COUNT_SECONDS = 0.5
