"""CPU work for one capture: extraction plus the fingerprints duplicate detection needs.

Runs in worker processes (top-level functions, picklable arguments and results).
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.dedup.digests import digest_of_normalised, normalise_text
from pipeline.dedup.fingerprints import Analysis
from pipeline.dedup.minhash import (
    EmptyTextError,
    lsh_bands,
    signature_of_normalised,
    signature_to_bytes,
)
from pipeline.dedup.stories import story_features, story_keys
from pipeline.dedup.story_vectors import StoryVector
from pipeline.extract.model import ExtractedDocument, ExtractionError
from pipeline.index.credits import credited_outlets
from pipeline.index.derived import DerivedContext, prepare_derived_records
from pipeline.warc.records import PreparedRecord


@dataclass(frozen=True)
class AnalysisResult:
    document: ExtractedDocument | None
    analysis: Analysis | None
    error: str | None
    # The item's conversion and metadata records, built and compressed (extract_for_archive).
    prepared: tuple[PreparedRecord, ...] = ()


def analyse(document: ExtractedDocument) -> Analysis:
    # One normalisation serves the exact-text digest and the MinHash shingles.
    normalised = normalise_text(document.text)
    sig = signature_of_normalised(normalised)
    features = story_features(document.title, document.text)
    return Analysis(
        text_digest=digest_of_normalised(normalised),
        signature=signature_to_bytes(sig),
        bands=tuple(lsh_bands(sig)),
        story_features_json=features.to_json(),
        story_keys=tuple(story_keys(features)),
        story_vector=StoryVector.of(features).to_bytes(),
        credits=credited_outlets(document.text),
    )


def extract_and_analyse(
    body: bytes, url: str, filename: str | None, content_type: str | None
) -> AnalysisResult:
    # Imported here: the index writer process unpickles Analysis and needs no HTML extractor.
    from pipeline.extract.document import extract_document

    try:
        document = extract_document(body, url=url, filename=filename, content_type=content_type)
        analysis = analyse(document)
        document.word_count  # noqa: B018 (counted here, off the reactor thread; see the model)
    except ExtractionError as error:
        return AnalysisResult(None, None, str(error))
    except EmptyTextError:
        return AnalysisResult(None, None, "no words in the article text")
    except Exception as error:  # a parser bug on one page must not stop the crawl
        return AnalysisResult(None, None, f"extraction failed: {type(error).__name__}: {error}")
    return AnalysisResult(document, analysis, None)


def extract_for_archive(
    body: bytes,
    url: str,
    filename: str | None,
    content_type: str | None,
    context: DerivedContext | None,
) -> AnalysisResult:
    """extract_and_analyse, and the item's derived WARC records built here (in the worker)
    rather than on the crawl's reactor thread, which then only appends them to its file.

    Records that cannot be built are left to the crawl, which builds them (and reports what is
    wrong) as it does for any item.
    """
    result = extract_and_analyse(body, url, filename, content_type)
    if context is None or result.document is None or result.analysis is None:
        return result
    try:
        prepared = prepare_derived_records(context, result.document, result.analysis.text_digest)
    except (ValueError, TypeError):
        return result
    return AnalysisResult(result.document, result.analysis, None, prepared)
