"""Credit lines that name where a copy was first published ("This article originally appeared
on The Conversation", "Zuerst erschienen bei ...", "Publié initialement dans ...").

A syndicated copy often says whose article it is; the canonical choice (index/canonical.py)
counts such a credit for the group member it names, matched by site name or URL host. Pure
functions over the stored text: reindex finds the same credits. No Scrapy imports.
"""

from __future__ import annotations

import re
import unicodedata

from pipeline.urls import url_host

# "<verb phrase> <preposition>" then the credited outlet, per language of the dev set's pages.
# Wire tags such as "(Reuters)" are left out: they name an agency, not a copy in the group.
_CREDIT_PHRASES = (
    # English: originally/first published|appeared|ran|posted on|in|by|at; republished from
    r"(?:originally|first)\s+(?:published|appeared|ran|posted)\s+(?:online\s+)?(?:on|in|by|at)",
    r"(?:republished|reprinted|reproduced)\s+(?:with\s+(?:kind\s+)?permission\s+)?from",
    # German: zuerst/ursprünglich erschienen|veröffentlicht bei|in|auf|im; erschien zuerst ...
    r"(?:zuerst|ursprünglich|erstmals)\s+(?:erschienen|veröffentlicht|publiziert)\s+"
    r"(?:bei|in|auf|im|von)",
    r"erschien\s+(?:zuerst|ursprünglich|erstmals)\s+(?:bei|in|auf|im)",
    # ... and with the verb last: "ist zuerst bei X erschienen" (cut at the verb below)
    r"(?:zuerst|ursprünglich|erstmals)\s+(?:bei|in|auf|im)"
    r"(?=[^\n]{2,80}?\s(?:erschienen|veröffentlicht))",
    # French: publié initialement/d'abord/à l'origine par|dans|sur
    r"(?:initialement|d'abord|originellement|à\s+l'origine)\s+publié(?:e)?\s+(?:par|dans|sur)",
    r"publié(?:e)?\s+(?:initialement|d'abord|originellement|à\s+l'origine)\s+(?:par|dans|sur)",
    # Spanish and Portuguese: publicado originalmente en|por|em|no|na
    r"publicad[oa]\s+originalmente\s+(?:en|por|em|no|na|pelo|pela)",
    r"originalmente\s+publicad[oa]\s+(?:en|por|em|no|na|pelo|pela)",
    # Italian: pubblicato originariamente/originalmente su|da|in
    r"pubblicat[oa]\s+(?:originariamente|originalmente|inizialmente)\s+(?:su|da|in)",
    r"(?:originariamente|originalmente|inizialmente)\s+pubblicat[oa]\s+(?:su|da|in)",
)
_CREDIT = re.compile(
    r"\b(?:" + "|".join(_CREDIT_PHRASES) + r")\s+(?P<outlet>[^\n]{2,80})",
    re.IGNORECASE,
)
# Leading words that are not part of an outlet's name ("on the website of The Guardian").
_FILLER = re.compile(
    r"^(?:(?:the|le|la|der|die|das|el|il|o)\s+)?(?:web\s?site|site|sitio|seite|pages?|blog)\s+"
    r"(?:of|von|de|du|des|di|del|do|da)\s+",
    re.IGNORECASE,
)
# Where the outlet's name ends: a clause after it, or a German verb-last phrase's verb.
_AFTER_NAME = re.compile(r"\s*(?:[,;:(|\u2013\u2014]|\s-\s|\s(?:erschienen|veröffentlicht)\b).*$")
_URL_START = re.compile(r"^(?:https?://)?(?:www\.)?", re.IGNORECASE)
_ARTICLE_WORD = re.compile(r"^(?:the|der|die|das|le|la|les|el|il|lo|o|a)\s+", re.IGNORECASE)
_HOST_PREFIXES = ("m.", "amp.", "mobile.")  # url_host drops "www."
# A credit line holds one of these (lower case): most texts hold none, and a substring test
# is ~100x cheaper than the pattern, which runs only on the lines that do.
_KEYWORDS = (
    "originally",
    "first publish",
    "first appear",
    "first ran",
    "first posted",
    "republish",
    "reprint",
    "reproduced",
    "zuerst",
    "ursprünglich",
    "erstmals",
    "initialement",
    "d'abord",
    "originellement",
    "l'origine",
    "originalmente",
    "originariamente",
    "inizialmente",
)


def _has_keyword(lowered: str) -> bool:
    # Most texts have none, and the test runs for every document: a substring test per keyword
    # took 43 us on a dev-set article, one regex alternation of them all 104 us.
    return any(keyword in lowered for keyword in _KEYWORDS)


def fold(text: str) -> str:
    """Lower case, accents and everything but letters and digits removed: how names compare."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if ch.isalnum())


def credited_outlets(text: str) -> tuple[str, ...]:
    """What the text's credit lines name as the first publisher, folded, in text order."""
    found: list[str] = []
    text = text.replace("\u2019", "'")  # "d’abord", "l’origine" as typeset
    lowered = text.lower()
    if not _has_keyword(lowered):
        return ()
    lines = [line for line in text.splitlines() if _has_keyword(line.lower())]
    for match in (m for line in lines for m in _CREDIT.finditer(line)):
        outlet = _FILLER.sub("", _AFTER_NAME.sub("", match["outlet"].strip()))
        outlet = _URL_START.sub("", _ARTICLE_WORD.sub("", outlet))
        folded = fold(outlet)
        if folded and folded not in found:
            found.append(folded)
    return tuple(found)


def stored_credits(credits: tuple[str, ...]) -> str:
    """``credits`` as ``documents.credits`` holds them: folded names hold letters and digits
    only, so a space separates them; "" when the text credits no one."""
    return " ".join(credits)


def read_credits(stored: str | None, text: str | None) -> tuple[str, ...]:
    """A document's credits from its stored column, or from its text where the column is None
    (rows indexed before migration 0013)."""
    if stored is not None:
        return tuple(stored.split())
    return credited_outlets(text or "")


def outlet_names(site: str | None, url: str) -> tuple[str, ...]:
    """The folded names a credit may use for a document's outlet: its site name (without a
    leading "The") and its host without www. and without the top-level domain."""
    names: list[str] = []
    if site:
        names.append(fold(_ARTICLE_WORD.sub("", site.strip())))
    host = url_host(url).lower()  # "" for a URL that does not parse
    for prefix in _HOST_PREFIXES:
        host = host.removeprefix(prefix)
    if "." in host:
        names.append(fold(host))  # "theconversation.com" as printed
        names.append(fold(host.rsplit(".", 1)[0]))  # "theconversation"
    return tuple(name for name in names if len(name) >= 3)


def credits_outlet(credits: tuple[str, ...], names: tuple[str, ...]) -> bool:
    """Whether one of ``credits`` names the outlet: the credit starts with one of its names (a
    credit line goes on after the name: "The Conversation, a nonprofit ...")."""
    return any(credit.startswith(name) for credit in credits for name in names)
