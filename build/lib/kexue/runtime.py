"""Run-time settings shared by the chapters: seeding, thread count, and the memory a kernel has used."""
from __future__ import annotations

import os
import random
import resource
import sys

import numpy as np


def seed_everything(seed: int = 0) -> np.random.Generator:
    """Seed Python, NumPy and (if it is imported) PyTorch; return a fresh NumPy Generator with that seed."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    # Importing torch only to seed it would make every chapter pay for it; chapters that use torch import it first.
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)
    return np.random.default_rng(seed)


def set_threads(n: int = 1) -> int:
    """Use ``n`` threads in PyTorch (imported here); tiny models on two cores run fastest with one. Returns ``n``."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    import torch

    torch.set_num_threads(n)
    os.environ["OMP_NUM_THREADS"] = str(n)  # for any subprocess the chapter starts
    return n


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
