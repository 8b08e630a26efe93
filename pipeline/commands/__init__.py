"""`scrapy <verb>` query commands: one module per verb, shared error handling in base."""
