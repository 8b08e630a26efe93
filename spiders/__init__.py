"""Spiders: the local-file adapter and the HTTP spiders."""
