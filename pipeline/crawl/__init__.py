"""The crawl process's Scrapy components and what they share.

Downloading with the bytes as they crossed the wire (``wire``, ``capture``), the item pipelines
that hand pages to the extraction pool (``pipeline/workers.py``) and to the index writer
(``pipelines``, ``runtime``), the scheduler and the shared Redis frontier, robots.txt, resuming a
killed job, and the crawl's own terminal lines. The stages they drive live beside this package
and never import it: ``extract``, ``dedup``, ``warc``, ``index`` and ``db``.
"""
