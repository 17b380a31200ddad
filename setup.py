"""Packaging glue (the metadata is in pyproject.toml): the wheel carries the example report as it is in this
repository, content/enteromix/ and bib/enteromix.bib, for `report init --example`. One copy in the repository,
copied into generator/example/ only when a wheel is built. The gettext catalogues (generator/locales/*/report.po)
are compiled to report.mo at the same time, so an installed package reads them without parsing."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

EXAMPLE = {"content/enteromix": "content/enteromix", "bib/enteromix.bib": "bib/enteromix.bib"}


def compile_catalogues(build_lib: Path) -> None:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in sorted((build_lib / "generator" / "locales").glob("*/LC_MESSAGES/*.po")):
        with po.open("rb") as handle:
            catalog = read_po(handle, ignore_obsolete=True)
        with po.with_suffix(".mo").open("wb") as handle:
            write_mo(handle, catalog, use_fuzzy=False)


class BuildWithExample(build_py):
    def run(self) -> None:
        super().run()
        compile_catalogues(Path(self.build_lib))
        here = Path(__file__).resolve().parent
        target = Path(self.build_lib) / "generator" / "example"
        for source, destination in EXAMPLE.items():
            path, out = here / source, target / destination
            if path.is_dir():
                shutil.copytree(path, out, dirs_exist_ok=True)
            elif path.is_file():
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, out)


if __name__ == "__main__":  # setuptools runs this file as __main__; tests import compile_catalogues alone
    setup(cmdclass={"build_py": BuildWithExample})
