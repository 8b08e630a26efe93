"""warcio's br and zstd decoders fixed in every Python process of the environment.

warcio 1.8 registers a ``br`` decoder on import (``warcio/bufferedreaders.py``,
``try_brotli_init``) written for brotlipy, the retired brotli binding: it sets ``unused_data`` on
``brotli.Decompressor()`` and calls its ``decompress()`` and ``flush()``. Scrapy requires
Google's ``brotli`` on CPython, whose Decompressor is a C type with ``process()`` and no
attribute slots, so the first ``Content-Encoding: br`` record crashes warcio with
``'brotli.Decompressor' object has no attribute 'unused_data'``: ``warcio check``,
``warcio extract``, cdxj-indexer and ``wacz validate`` alike. brotlicffi, which has brotlipy's
API, cannot help: warcio imports only the module named ``brotli``, and that is Google's.

``newsvault-warcio-codecs.pth``, installed beside the packages, runs ``install()`` when Python
starts: a finder that waits for ``warcio.bufferedreaders`` to be imported, then gives its
decoder table the br and zstd decoders of pipeline.warc.content_encoding. Nothing else is
imported until warcio is, so other programs start as before.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType

TARGET = "warcio.bufferedreaders"


class _PatchingLoader(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        _patch()


class WarcioCodecsFinder(importlib.abc.MetaPathFinder):
    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != TARGET:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec: importlib.machinery.ModuleSpec | None = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _PatchingLoader(spec.loader)
                return spec
        return None


def _patch() -> None:
    # content_encoding registers its decoders in warcio's table when it is imported.
    from pipeline.warc import content_encoding

    content_encoding.install_in_warcio()


def install() -> None:
    """Fix warcio's decoders now if it is loaded, else as soon as it is."""
    if TARGET in sys.modules:
        _patch()
    elif not any(isinstance(finder, WarcioCodecsFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, WarcioCodecsFinder())
