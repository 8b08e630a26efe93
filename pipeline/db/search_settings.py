"""Constants of search results shared by both engines."""

from __future__ import annotations

SNIPPET_OPEN = "["
SNIPPET_CLOSE = "]"
SNIPPET_ELLIPSIS = "…"
SNIPPET_TOKENS = 24
# Title matches weigh more than body matches.
TITLE_WEIGHT = 10.0
# Must match PG_FTS_TEXT_CHARS of migrations 0001 and 0004: headlines come from the indexed part.
PG_TEXT_CHARS = 300_000
# Ranking reads at most this many matches, the newest (highest id) first: a query with common
# words stays as fast as one with rare words. With fewer matches, every match is ranked.
RANK_CANDIDATES = 1_000
# SQLite's bm25() counts every document holding a scored term (its IDF) on each search, a scan
# as long as the term is common. Terms whose every word is in more documents than this, and
# prefixes (whose words FTS5 merges first), are matched but not scored: their IDF is low, and
# scoring them would cost a scan of most of the index. With no term left to score, the
# newest matches come first.
SCORED_TERM_MAX_DOCUMENTS = 10_000
# Counting matches stops here; beyond it the count says "more than".
COUNT_LIMIT = 5_000
