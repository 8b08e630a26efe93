"""Extraction: clean article text and metadata from the bytes of one captured document.

The entry point is ``pipeline.extract.document.extract_document``. This package's own module
imports nothing, so that processes which only need its data types (``model``) do not load the
HTML extractor.
"""
