"""Loaders for the pretrained models that PyPI packages ship (nothing is downloaded); chapters 07–11."""
from kexue.pretrained.smollm2 import load_smollm2

__all__ = ["load_smollm2"]
