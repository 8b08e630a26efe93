"""What every extraction worker needs before its first page, imported once per crawl by the
workers' fork server (pipeline.workers.ExtractionPool), so that each worker forked from it starts
ready: the extraction and fingerprinting code (~0.45 s of imports in a process of its own) and the
language model (~0.6 s to load, otherwise paid by each worker at its first page without a
declared language)."""

import gc

from pipeline import analysis  # noqa: F401
from pipeline.extract.language import load_language_model

load_language_model()

# Workers are forked from the server: what it has loaded is theirs too, and lives as long.
# Frozen, the cyclic collector never walks it in a worker, where walking it would also copy
# every page it touches out of the memory the workers share with the server.
gc.freeze()
