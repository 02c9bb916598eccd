"""Small transformer pieces shared by the sequence-model chapters: embeddings, pre-LN blocks, FFN, masks, training.

Everything here works with any *token mixer*: a module mapping a batch of sequences ``(B, n, d)`` to ``(B, n, d)``.
"""
from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from kexue import validate

IGNORE = -100
"""Target value of positions that carry no label (cross-entropy skips them)."""

Batch = Callable[[int, np.random.Generator], tuple[torch.Tensor, torch.Tensor]]
"""A task: ``task(batch_size, rng) -> (tokens, targets)``, both ``(B, n)`` int64; IGNORE marks unlabelled targets."""


class Embedding(nn.Module):
    """Token embedding plus a learned position embedding, both N(0, std²) at initialisation."""

    def __init__(self, vocab: int, n: int, d: int, pos_std: float = 1.0) -> None:
        super().__init__()
        vocab = validate.integer(vocab, "vocab", minimum=1)
        self.n = validate.integer(n, "n", minimum=1)
        d = validate.integer(d, "d", minimum=1)
        pos_std = validate.real(pos_std, "pos_std", positive=True, allow_zero=True)
        self.tokens = nn.Embedding(vocab, d)  # N(0, 1) by default
        self.positions = nn.Parameter(pos_std * torch.randn(n, d))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """``(B, n)`` token ids to ``(B, n, d)`` vectors."""
        if tokens.ndim != 2 or tokens.shape[1] != self.n:
            raise ValueError(f"tokens must have shape (batch, {self.n}), got {tuple(tokens.shape)}")
        return self.tokens(tokens) + self.positions


class FFN(nn.Module):
    """The per-token feed-forward network d → hidden → d with GELU (hidden = 2d by default)."""

    def __init__(self, d: int, hidden: int | None = None) -> None:
        super().__init__()
        d = validate.integer(d, "d", minimum=1)
        hidden = 2 * d if hidden is None else validate.integer(hidden, "hidden", minimum=1)
        self.up, self.down = nn.Linear(d, hidden), nn.Linear(hidden, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the same two-layer MLP to every token."""
        return self.down(F.gelu(self.up(x)))


class Block(nn.Module):
    """Pre-LN residual block: ``x + mixer(LN(x))`` then ``x + FFN(LN(x))``."""

    def __init__(self, mixer: nn.Module, d: int, hidden: int | None = None) -> None:
        super().__init__()
        if not isinstance(mixer, nn.Module):
            raise TypeError(f"mixer must be a torch.nn.Module, got {type(mixer).__name__}")
        d = validate.integer(d, "d", minimum=1)
        self.mixer, self.ffn = mixer, FFN(d, hidden)
        self.norm1, self.norm2 = nn.LayerNorm(d), nn.LayerNorm(d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Mix tokens, then transform each token, each step with a residual connection."""
        x = x + self.mixer(self.norm1(x))
        return x + self.ffn(self.norm2(x))


def causal_mask(n: int) -> torch.Tensor:
    """``(n, n)`` boolean mask, True where query i may look at key j (j ≤ i)."""
    n = validate.integer(n, "n", minimum=1)
    return torch.ones(n, n, dtype=torch.bool).tril()


def set_seed(seed: int) -> torch.Generator:
    """Seed torch's global generator (initialisations) and return a generator with that seed."""
    seed = validate.integer(seed, "seed", minimum=0)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def loss_fn(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the labelled positions (targets ≠ IGNORE)."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=IGNORE)


def train(model: nn.Module, task: Batch, steps: int, seed: int = 0, batch: int = 64, lr: float = 3e-3,
          progress: bool = True, desc: str = "training") -> list[float]:
    """Train ``model`` on fresh batches of ``task`` with AdamW; return the loss of every step.

    The batches come from ``np.random.default_rng(seed)``; seed the model's initialisation before building it
    (``set_seed``). A non-finite loss stops training with a FloatingPointError.
    """
    from tqdm.auto import tqdm

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not callable(task):
        raise TypeError(f"task must be callable, got {type(task).__name__}")
    steps = validate.integer(steps, "steps", minimum=1)
    batch = validate.integer(batch, "batch", minimum=1, maximum=65536)
    lr = validate.real(lr, "lr", positive=True)
    rng = np.random.default_rng(validate.integer(seed, "seed", minimum=0))
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    losses = []
    for step in tqdm(range(steps), desc=desc, disable=not progress, leave=False):
        x, y = task(batch, rng)
        loss = loss_fn(model(x), y)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"the loss became {loss.item()} at step {step}")
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    return losses


@torch.no_grad()
def accuracy(model: nn.Module, task: Batch, examples: int = 1000, seed: int = 12345) -> float:
    """Fraction of labelled positions predicted right on ``examples`` fresh examples of ``task``."""
    examples = validate.integer(examples, "examples", minimum=1, maximum=1_000_000)
    model.eval()
    x, y = task(examples, np.random.default_rng(validate.integer(seed, "seed", minimum=0)))
    pred = model(x).argmax(-1)
    labelled = y != IGNORE
    return float((pred[labelled] == y[labelled]).float().mean())


def cpu_seconds() -> float:
    """CPU time of this process so far (all threads), the fair clock on a shared machine."""
    return time.process_time()


def finite(x: torch.Tensor, name: str) -> torch.Tensor:
    """``x`` if every entry is finite, else a ValueError naming it."""
    if not torch.is_tensor(x):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.is_floating_point() and not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} contains inf or NaN")
    return x


__all__ = [
    "FFN",
    "IGNORE",
    "Block",
    "Embedding",
    "accuracy",
    "causal_mask",
    "cpu_seconds",
    "finite",
    "loss_fn",
    "set_seed",
    "train",
]
