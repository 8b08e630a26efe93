"""newsvault: news ingestion and archival pipeline."""

__version__ = "0.1.0"
