"""WARC files: the record of truth. Building records, writing them, reading them back, WACZ."""
