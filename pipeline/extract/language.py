"""The language of article text, for documents whose source declares none (plain text, HTML
without a lang attribute), identified by py3langid (langid.py's model: 97 languages, offline,
BSD-3-Clause).

Below MIN_CHARS of text, or when the model is not confident, the language stays unknown: a
headline and a line or two are too little to tell Dutch from Afrikaans, and a wrong language
would pick the wrong stemming for search.
"""

from __future__ import annotations

from functools import cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

MIN_CHARS = 200  # letters and spaces of article text; two short lines are below it
MIN_CONFIDENCE = 0.9  # the model's probability, normalised over its languages
# Enough text to be sure of; the model's cost grows with the length read.
READ_CHARS = 3000


@cache
def _identifier() -> LanguageIdentifier:
    # Loaded once per process (~0.6 s), only when a document needs it.
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def load_language_model() -> None:
    """Load the model now rather than at the first document that needs it."""
    _identifier()


def identify_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language, or None when too short or uncertain."""
    sample = text[:READ_CHARS]
    if sum(1 for char in sample if char.isalpha() or char == " ") < MIN_CHARS:
        return None
    language, confidence = _identifier().classify(sample)
    if confidence < MIN_CONFIDENCE:
        return None
    return str(language)
