"""The index: deciding what an item is, its rows, derived records, reindex, verify, export."""
