"""Loading the course's datasets offline, each with its provenance (where it comes from, under which licence).

Nothing here downloads. Two image sets are available:

- scikit-learn's bundled 8×8 handwritten digits (always installed with the course);
- Fashion-MNIST from the Debian package ``dataset-fashion-mnist`` (``make setup`` installs it; Binder's ``apt.txt``
  lists it). Its gzipped IDX files live in :data:`FASHION_MNIST_DIR`.
"""
from __future__ import annotations

import gzip
import numbers
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "DIGITS_PROVENANCE", "FASHION_MNIST_CLASSES", "FASHION_MNIST_DIR", "FASHION_MNIST_PROVENANCE", "Dataset",
    "Provenance", "digits_split", "downsample", "fashion_mnist_available", "load_digits", "load_fashion_mnist",
    "read_idx", "write_idx",
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


def write_idx(path: str | Path, array: Any) -> Path:
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


def downsample(images: Any, factor: int = 2) -> np.ndarray:
    """Average-pool images (..., h, w) by ``factor`` in both directions (h and w must be divisible by it)."""
    if isinstance(factor, bool) or not isinstance(factor, numbers.Integral) or factor < 1:
        raise ValueError(f"factor must be a positive integer, got {factor!r}")
    images = np.asarray(images, dtype=np.float64)
    if images.ndim < 2:
        raise ValueError(f"images must have at least 2 dimensions (h, w), got shape {images.shape}")
    h, w = images.shape[-2:]
    if h % factor or w % factor:
        raise ValueError(f"factor {factor} must divide the image size {h}×{w}")
    blocks = images.reshape(*images.shape[:-2], h // factor, factor, w // factor, factor)
    return blocks.mean(axis=(-3, -1))


def fashion_mnist_available(root: str | Path = FASHION_MNIST_DIR) -> bool:
    """Whether the four Fashion-MNIST files are present under ``root``."""
    root = Path(root)
    return all((root / f"{s}-{kind}-ubyte.gz").is_file()
               for s in ("train", "t10k") for kind in ("images-idx3", "labels-idx1"))


def load_fashion_mnist(split: str = "train", root: str | Path = FASHION_MNIST_DIR,
                       limit: int | None = None) -> Dataset:
    """Fashion-MNIST images (n, 28, 28) uint8 and labels (n,) from the Debian package's files; no download."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, numbers.Integral) or limit < 1):
        raise ValueError(f"limit must be a positive integer or None, got {limit!r}")
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

    if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real) or not 0 < test_size < 1:
        raise ValueError(f"test_size must be a number strictly between 0 and 1, got {test_size!r}")
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral) or random_state < 0:
        raise ValueError(f"random_state must be a non-negative integer, got {random_state!r}")
    full = load_digits()
    index = np.arange(len(full))
    train, test = train_test_split(index, test_size=test_size, stratify=full.labels, random_state=int(random_state))
    return tuple(Dataset(full.images[i], full.labels[i], full.classes, full.provenance,
                         {"split": name, "index": i}) for name, i in (("train", train), ("test", test)))
