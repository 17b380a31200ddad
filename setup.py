"""Packaging glue (the metadata is in pyproject.toml): the wheel carries the example report as it is in this
repository, content/enteromix/ and bib/enteromix.bib, for `report init --example`. One copy in the repository,
copied into generator/example/ only when a wheel is built."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

EXAMPLE = {"content/enteromix": "content/enteromix", "bib/enteromix.bib": "bib/enteromix.bib"}


class BuildWithExample(build_py):
    def run(self) -> None:
        super().run()
        here = Path(__file__).resolve().parent
        target = Path(self.build_lib) / "generator" / "example"
        for source, destination in EXAMPLE.items():
            path, out = here / source, target / destination
            if path.is_dir():
                shutil.copytree(path, out, dirs_exist_ok=True)
            elif path.is_file():
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, out)


setup(cmdclass={"build_py": BuildWithExample})
