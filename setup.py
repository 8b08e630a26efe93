"""Installs newsvault-warcio-codecs.pth beside the packages (why: pipeline/warc/warcio_hook.py).

Everything else is declared in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.editable_wheel import editable_wheel

PTH = "newsvault-warcio-codecs.pth"
HERE = Path(__file__).parent


class BuildPyWithPth(build_py):
    """Wheels and plain installs: the .pth goes to the root of the built library."""

    def run(self) -> None:
        super().run()
        self.copy_file(str(HERE / PTH), str(Path(self.build_lib) / PTH))

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        return [*super().get_outputs(include_bytecode), str(Path(self.build_lib) / PTH)]


class EditableWheelWithPth(editable_wheel):
    """Editable installs (pip install -e): the .pth goes into the editable wheel as well."""

    def _install_namespaces(self, installation_dir: Any, pth_prefix: Any) -> None:
        super()._install_namespaces(installation_dir, pth_prefix)
        shutil.copy(HERE / PTH, Path(installation_dir) / PTH)


setup(cmdclass={"build_py": BuildPyWithPth, "editable_wheel": EditableWheelWithPth})
