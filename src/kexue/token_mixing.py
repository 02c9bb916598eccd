"""Token mixers beyond attention (chapter 05): each one is O = A V W with a different mixing matrix A.

Every mixer maps ``(B, n, d)`` to ``(B, n, d)``. Attention computes A from the input; Synthesizer (Random), the
MLP-Mixer token MLP, ResMLP's affine token mixing and gMLP's spatial gating learn A as a parameter; FNet fixes A to the
real part of the DFT; External Attention normalises the scores against two small learned memories.
"""
from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from torch import nn
from torch.nn import functional as F

from kexue import nn as knn
from kexue import validate

if TYPE_CHECKING:
    import matplotlib.pyplot as plt

MAX_N = 4096
"""Longest sequence a mixer accepts: MLP-Mixer's token MLP has 4 n² weights (268 MB at n = 4096)."""


def _check_nd(n: int, d: int) -> tuple[int, int]:
    """Validated sequence length and width."""
    return validate.integer(n, "n", minimum=1, maximum=MAX_N), validate.integer(d, "d", minimum=1, maximum=4096)


def _check_input(x: torch.Tensor, n: int | None, d: int) -> None:
    """Refuse an input that is not ``(B, n, d)`` (``n`` None: any length)."""
    if not torch.is_tensor(x):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim != 3 or x.shape[-1] != d or (n is not None and x.shape[1] != n):
        want = f"(batch, {n if n is not None else 'n'}, {d})"
        raise ValueError(f"x must have shape {want}, got {tuple(x.shape)}")


class Attention(nn.Module):
    """Multi-head softmax attention, A = softmax(QKᵀ/√d_h), computed from the input; any length."""

    def __init__(self, n: int, d: int, heads: int = 4) -> None:
        super().__init__()
        self.n, self.d = _check_nd(n, d)
        self.heads = validate.integer(heads, "heads", minimum=1)
        if d % self.heads:
            raise ValueError(f"d must be divisible by heads, got d = {d} and heads = {self.heads}")
        self.qkv, self.out = nn.Linear(d, 3 * d), nn.Linear(d, d)

    def _split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Queries, keys and values as ``(B, heads, n, d / heads)``."""
        B, n, _ = x.shape
        q, k, v = self.qkv(x).view(B, n, 3, self.heads, self.d // self.heads).permute(2, 0, 3, 1, 4)
        return q, k, v

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """O = softmax(QKᵀ/√d_h) V W_O, with the fused kernel."""
        _check_input(x, None, self.d)
        y = F.scaled_dot_product_attention(*self._split(x))
        return self.out(y.transpose(1, 2).reshape(x.shape))

    @torch.no_grad()
    def mixing_matrix(self, x: torch.Tensor) -> torch.Tensor:
        """The attention matrix of the first example, averaged over heads: ``(n, n)``."""
        q, k, _ = self._split(x[:1])
        scores = q @ k.transpose(-1, -2) / (q.shape[-1] ** 0.5)
        return scores.softmax(-1).mean(1)[0]


class SynthesizerRandom(nn.Module):
    """Synthesizer (Random): A = softmax(R) with R ∈ ℝ^{n×n} a parameter, the same for every input."""

    def __init__(self, n: int, d: int) -> None:
        super().__init__()
        self.n, self.d = _check_nd(n, d)
        self.R = nn.Parameter(torch.randn(n, n) / n**0.5)
        self.value, self.out = nn.Linear(d, d), nn.Linear(d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """O = softmax(R) V W_O."""
        _check_input(x, self.n, self.d)
        return self.out(self.R.softmax(-1) @ self.value(x))

    @torch.no_grad()
    def mixing_matrix(self, x: torch.Tensor | None = None) -> torch.Tensor:
        """softmax(R)."""
        return self.R.softmax(-1)


class TokenMLP(nn.Module):
    """MLP-Mixer's token-mixing MLP: Y[:, c] = W₂ GELU(W₁ X[:, c] + b₁) + b₂ for every channel c (hidden 2n)."""

    def __init__(self, n: int, d: int, hidden: int | None = None) -> None:
        super().__init__()
        self.n, self.d = _check_nd(n, d)
        hidden = 2 * n if hidden is None else validate.integer(hidden, "hidden", minimum=1, maximum=2 * MAX_N)
        self.up, self.down = nn.Linear(n, hidden), nn.Linear(hidden, n)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The MLP along the token axis, shared by all channels."""
        _check_input(x, self.n, self.d)
        return self.down(F.gelu(self.up(x.transpose(1, 2)))).transpose(1, 2)

    @torch.no_grad()
    def mixing_matrix(self, x: torch.Tensor | None = None) -> torch.Tensor:
        """The linearisation W₂W₁ (GELU replaced by the identity)."""
        return self.down.weight @ self.up.weight


class AffineTokenMix(nn.Module):
    """ResMLP's token mixing: Aff(A · Aff(X)) with one linear n×n map A and per-channel affines Aff(x) = α⊙x + β."""

    def __init__(self, n: int, d: int) -> None:
        super().__init__()
        self.n, self.d = _check_nd(n, d)
        self.alpha_in, self.beta_in = nn.Parameter(torch.ones(d)), nn.Parameter(torch.zeros(d))
        self.alpha_out, self.beta_out = nn.Parameter(torch.ones(d)), nn.Parameter(torch.zeros(d))
        self.token = nn.Linear(n, n)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """O = Aff(A Aff(X) + b): A = B in O = AV, without a softmax."""
        _check_input(x, self.n, self.d)
        z = self.alpha_in * x + self.beta_in
        z = self.token(z.transpose(1, 2)).transpose(1, 2)
        return self.alpha_out * z + self.beta_out

    @torch.no_grad()
    def mixing_matrix(self, x: torch.Tensor | None = None) -> torch.Tensor:
        """The learned n×n matrix A."""
        return self.token.weight.clone()


class FNetMix(nn.Module):
    """FNet: Y = Re(F_n X F_dᵀ), the real part of the 2-D DFT over (sequence, hidden); no parameters, any length."""

    def __init__(self, n: int, d: int) -> None:
        super().__init__()
        self.n, self.d = _check_nd(n, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Re fft2 over the last two axes."""
        _check_input(x, None, self.d)
        return torch.fft.fft2(x, dim=(-2, -1)).real

    @torch.no_grad()
    def mixing_matrix(self, x: torch.Tensor | None = None) -> torch.Tensor:
        """Re F_n, the token-axis factor of the real part's first term."""
        return torch.from_numpy(dft_matrix(self.n).real)


class SpatialGatingUnit(nn.Module):
    """gMLP block: Z = GELU(X U) split into [Z₁, Z₂]; O = (Z₁ ⊙ (W LN(Z₂) + b)) V, W ∈ ℝ^{n×n}, hidden e·d per half."""

    def __init__(self, n: int, d: int, expansion: int = 2) -> None:
        super().__init__()
        self.n, self.d = _check_nd(n, d)
        e = validate.integer(expansion, "expansion", minimum=1, maximum=16)
        self.up, self.down = nn.Linear(d, 2 * e * d), nn.Linear(e * d, d)
        self.norm = nn.LayerNorm(e * d)
        # Near-identity start (paper): W ≈ 0 and b = 1, so the gate is 1 and the block begins as a per-token FFN.
        self.W = nn.Parameter(torch.empty(n, n).uniform_(-1e-3 / n, 1e-3 / n))
        self.b = nn.Parameter(torch.ones(n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Gate one half of the expanded channels by a learned token mixing of the other half."""
        _check_input(x, self.n, self.d)
        z1, z2 = F.gelu(self.up(x)).chunk(2, dim=-1)
        gate = self.W @ self.norm(z2) + self.b[:, None]
        return self.down(z1 * gate)

    @torch.no_grad()
    def mixing_matrix(self, x: torch.Tensor | None = None) -> torch.Tensor:
        """The learned spatial matrix W."""
        return self.W.clone()


class ExternalAttention(nn.Module):
    """External attention: A = Norm(X M_kᵀ), O = A M_v with S learned memory slots; any length.

    ``double_norm=True`` is the paper's: softmax over the token axis, then ℓ₁ over the S slots; ``False`` is a
    per-token softmax over the slots, which never lets one token see another.
    """

    def __init__(self, n: int, d: int, S: int = 32, double_norm: bool = True) -> None:
        super().__init__()
        self.n, self.d = _check_nd(n, d)
        self.S = validate.integer(S, "S", minimum=1, maximum=65536)
        if not isinstance(double_norm, bool):
            raise TypeError(f"double_norm must be a bool, got {type(double_norm).__name__}")
        self.double_norm = double_norm
        self.keys, self.values = nn.Linear(d, self.S, bias=False), nn.Linear(self.S, d, bias=False)

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        """The ``(B, n, S)`` attention of tokens on memory slots."""
        scores = self.keys(x)
        if not self.double_norm:
            return scores.softmax(-1)
        a = scores.softmax(1)  # over the tokens: couples every token with every other through S normalisers
        return a / (a.sum(-1, keepdim=True) + 1e-9)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """O = A M_v."""
        _check_input(x, None, self.d)
        return self.values(self.attention(x))

    @torch.no_grad()
    def mixing_matrix(self, x: torch.Tensor) -> torch.Tensor:
        """The first example's ``(n, S)`` attention on the memory (tokens × slots, not tokens × tokens)."""
        return self.attention(x[:1])[0]


MIXERS: dict[str, type[nn.Module]] = {
    "attention": Attention,
    "synthesizer": SynthesizerRandom,
    "mlp_mixer": TokenMLP,
    "resmlp": AffineTokenMix,
    "fnet": FNetMix,
    "gmlp": SpatialGatingUnit,
    "external": ExternalAttention,
}
"""The mixers by name; each is built as ``MIXERS[name](n, d, **options)``."""

LENGTH_FREE = ("attention", "fnet", "external")
"""Mixers whose parameters do not depend on n, so that they run at any length."""


def make_mixer(name: str, n: int, d: int = 64, **options: object) -> nn.Module:
    """The mixer ``name`` of ``MIXERS`` for length ``n`` and width ``d``."""
    return MIXERS[validate.choice(name, "mixer", list(MIXERS))](n, d, **options)


class MixerModel(nn.Module):
    """Embedding (learned positions) → ``layers`` pre-LN blocks [mixer, FFN d→2d→d] → a linear head per position."""

    def __init__(self, mixer: str, n: int, vocab: int, d: int = 64, layers: int = 2, n_out: int | None = None,
                 pos_std: float = 1.0, **options: object) -> None:
        super().__init__()
        n, d = _check_nd(n, d)
        layers = validate.integer(layers, "layers", minimum=1, maximum=64)
        n_out = vocab if n_out is None else validate.integer(n_out, "n_out", minimum=1)
        self.mixer_name = validate.choice(mixer, "mixer", list(MIXERS))
        self.embed = knn.Embedding(vocab, n, d, pos_std)
        self.blocks = nn.Sequential(*[knn.Block(make_mixer(mixer, n, d, **options), d) for _ in range(layers)])
        self.head = nn.Linear(d, n_out)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """``(B, n)`` token ids to ``(B, n, n_out)`` logits."""
        return self.head(self.blocks(self.embed(tokens)))


def param_count(module: nn.Module) -> int:
    """Number of trainable parameters of ``module``."""
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


# --- The DFT behind FNet --------------------------------------------------------------------------------------------
def dft_matrix(n: int) -> NDArray[np.complex128]:
    """F_n[j, k] = exp(−2πi jk / n), so that F_n x = numpy.fft.fft(x)."""
    n = validate.integer(n, "n", minimum=1, maximum=MAX_N)
    j = np.arange(n)
    return np.exp(-2j * np.pi * np.outer(j, j) / n)


def fnet_matrix_form(x: ArrayLike) -> NDArray[np.float64]:
    """Re(F_n X F_dᵀ) for a real ``(n, d)`` matrix X: FNet's mixing written with DFT matrices."""
    x = np.asarray(x)
    if x.ndim != 2 or not np.isrealobj(x) or x.dtype == object:
        raise ValueError(f"x must be a real 2-D array, got shape {x.shape} and dtype {x.dtype}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x contains inf or NaN")
    n, d = x.shape
    return (dft_matrix(n) @ x @ dft_matrix(d).T).real


def fnet_linear_map(n: int, d: int) -> NDArray[np.float64]:
    """The ``(nd, nd)`` matrix of X ↦ Re fft2(X) on row-major flattened inputs."""
    n = validate.integer(n, "n", minimum=1, maximum=64)
    d = validate.integer(d, "d", minimum=1, maximum=128)
    basis = np.eye(n * d).reshape(n * d, n, d)
    return np.fft.fft2(basis, axes=(1, 2)).real.reshape(n * d, n * d).T


def fnet_rank(n: int, d: int) -> int:
    """Rank of X ↦ Re fft2(X) on n×d inputs: (nd + #fixed points of (j,k) ↦ (−j, −k)) / 2."""
    return int(np.linalg.matrix_rank(fnet_linear_map(n, d)))


# --- Symmetries ------------------------------------------------------------------------------------------------------
def _as_double(mixer: nn.Module) -> nn.Module:
    """A float64 copy of ``mixer`` in eval mode."""
    if not isinstance(mixer, nn.Module):
        raise TypeError(f"mixer must be a torch.nn.Module, got {type(mixer).__name__}")
    return copy.deepcopy(mixer).double().eval()


@torch.no_grad()
def _equivariant(mixer: nn.Module, reorder: Callable[[torch.Tensor], torch.Tensor], seed: int, tol: float) -> bool:
    """Whether mixer(reorder(x)) = reorder(mixer(x)) on a random float64 input."""
    m = _as_double(mixer)
    g = torch.Generator().manual_seed(validate.integer(seed, "seed", minimum=0))
    x = torch.randn(2, m.n, m.d, generator=g, dtype=torch.float64)
    return bool(torch.allclose(m(reorder(x)), reorder(m(x)), atol=tol, rtol=0))


def is_permutation_equivariant(mixer: nn.Module, seed: int = 0, tol: float = 1e-10) -> bool:
    """Whether permuting the tokens of the input permutes the output the same way (random permutation)."""
    m = _as_double(mixer)
    g = torch.Generator().manual_seed(validate.integer(seed, "seed", minimum=0) + 1)
    perm = torch.randperm(m.n, generator=g)
    return _equivariant(m, lambda x: x[:, perm], seed, tol)


def is_shift_equivariant(mixer: nn.Module, shift: int = 1, seed: int = 0, tol: float = 1e-10) -> bool:
    """Whether a circular shift of the tokens of the input shifts the output the same way."""
    shift = validate.integer(shift, "shift")
    return _equivariant(mixer, lambda x: torch.roll(x, shift, dims=1), seed, tol)


# --- Tasks and training ---------------------------------------------------------------------------------------------
def task_reverse(B: int, rng: np.random.Generator, n: int = 16, V: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    """Random sequences of n tokens from V; the target at position i is the token at n − 1 − i."""
    B = validate.integer(B, "B", minimum=1, maximum=1_000_000)
    n, V = validate.integer(n, "n", minimum=1, maximum=MAX_N), validate.integer(V, "V", minimum=2)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator, got {type(rng).__name__}")
    x = torch.from_numpy(rng.integers(0, V, size=(B, n)))
    return x, x.flip(1)


KV_KEYS, KV_VALUES = 40, 20
KV_SEP, KV_QUERY = KV_KEYS + KV_VALUES, KV_KEYS + KV_VALUES + 1
KV_VOCAB = 64


def task_kv_recall(B: int, rng: np.random.Generator, pairs: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """"k v SEP" × pairs (distinct keys from 40, values from 20), then "Q k": predict k's value at the last position.

    Keys are tokens 0–39, values 40–59, SEP 60, Q 61 (vocabulary 64); only the last position is labelled.
    """
    B = validate.integer(B, "B", minimum=1, maximum=1_000_000)
    pairs = validate.integer(pairs, "pairs", minimum=1, maximum=KV_KEYS)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator, got {type(rng).__name__}")
    keys = np.argsort(rng.random((B, KV_KEYS)), axis=1)[:, :pairs]  # distinct keys per example
    values = KV_KEYS + rng.integers(0, KV_VALUES, size=(B, pairs))
    asked = rng.integers(0, pairs, size=B)
    rows = np.arange(B)
    x = np.empty((B, 3 * pairs + 2), dtype=np.int64)
    x[:, 0:3 * pairs:3], x[:, 1:3 * pairs:3], x[:, 2:3 * pairs:3] = keys, values, KV_SEP
    x[:, -2], x[:, -1] = KV_QUERY, keys[rows, asked]
    y = np.full_like(x, knn.IGNORE)
    y[:, -1] = values[rows, asked]
    return torch.from_numpy(x), torch.from_numpy(y)


TASKS: dict[str, tuple[Callable[..., tuple[torch.Tensor, torch.Tensor]], int, int]] = {
    "reverse": (task_reverse, 16, 16),
    "kv_recall": (task_kv_recall, 11, KV_VOCAB),
}
"""Task name → (generator, sequence length, vocabulary) at the default sizes."""


def train_and_eval(mixer: str, task: str, steps: int, seed: int = 0, pos_std: float = 1.0, batch: int = 64,
                   progress: bool = True, **options: object) -> tuple[float, float, int]:
    """Train a 2-block MixerModel (d = 64) on ``task``; return (accuracy on 1000 fresh examples, CPU s, params)."""
    task = validate.choice(task, "task", list(TASKS))
    mixer = validate.choice(mixer, "mixer", list(MIXERS))
    generate, n, vocab = TASKS[task]
    start = knn.cpu_seconds()
    knn.set_seed(seed)
    model = MixerModel(mixer, n, vocab, pos_std=pos_std, **options)
    knn.train(model, generate, steps, seed=seed, batch=batch, progress=progress, desc=f"{mixer} on {task}")
    acc = knn.accuracy(model, generate, 1000)
    return acc, knn.cpu_seconds() - start, param_count(model)


def benchmark(ns: Sequence[int], d: int = 64, batch: int = 4, reps: int = 3,
              mixers: Sequence[str] | None = None) -> dict[str, list[float]]:
    """CPU seconds (min over ``reps``) of one forward pass of each mixer for each length in ``ns``."""
    if isinstance(ns, (str, bytes)) or not isinstance(ns, Sequence) or not ns:
        raise TypeError("ns must be a non-empty sequence of integers")
    ns = [validate.integer(n, "ns", minimum=1, maximum=MAX_N) for n in ns]
    d = validate.integer(d, "d", minimum=4, maximum=1024)
    batch = validate.integer(batch, "batch", minimum=1, maximum=64)
    reps = validate.integer(reps, "reps", minimum=1, maximum=100)
    names = list(MIXERS) if mixers is None else [validate.choice(m, "mixers", list(MIXERS)) for m in mixers]
    out: dict[str, list[float]] = {name: [] for name in names}
    with torch.no_grad():
        for n in ns:
            x = torch.randn(batch, n, d)
            for name in names:
                mixer = make_mixer(name, n, d).eval()
                mixer(x)  # warm-up
                times = []
                for _ in range(reps):
                    start = time.process_time()
                    mixer(x)
                    times.append(time.process_time() - start)
                out[name].append(min(times))
    return out


LABELS = {"attention": "attention", "synthesizer": "Synthesizer (Random)", "mlp_mixer": "MLP-Mixer",
          "resmlp": "ResMLP", "fnet": "FNet", "gmlp": "gMLP (SGU)", "external": "External Attention"}
"""Display names of the mixers."""


def plot_mixer(mixer: str, n: int, ns: Sequence[int], seconds: dict[str, Sequence[float]], d: int = 64,
               seed: int = 0) -> plt.Figure:
    """Cost of every mixer against n (``mixer`` highlighted) beside ``mixer``'s mixing matrix at length ``n``."""
    import matplotlib.pyplot as plt

    mixer = validate.choice(mixer, "mixer", list(MIXERS))
    n = validate.integer(n, "n", minimum=1, maximum=1024)  # an n × n image; larger would only blur
    torch.manual_seed(validate.integer(seed, "seed", minimum=0))
    module = make_mixer(mixer, n, d)
    A = module.mixing_matrix(torch.randn(1, n, d)).numpy()
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 4))
    for name, ts in seconds.items():
        ax0.loglog(ns, np.asarray(ts) * 1e3, "-", lw=3 if name == mixer else 1, alpha=1 if name == mixer else 0.4,
                   label=LABELS.get(name, name))
    ax0.axvline(n, color="0.5", ls=":")
    ax0.set(xlabel="sequence length n", ylabel="CPU time per layer (ms)",
            title=f"{LABELS[mixer]}: {param_count(module):,} parameters at n = {n}")
    ax0.legend(fontsize="x-small")
    scale = float(np.abs(A).max()) or 1.0
    image = ax1.imshow(A, cmap="RdBu_r", vmin=-scale, vmax=scale, aspect="auto", interpolation="nearest")
    fig.colorbar(image, ax=ax1, label="mixing weight")
    ax1.set(xlabel="memory slot" if mixer == "external" else "input token j", ylabel="output token i",
            title=f"mixing matrix at initialisation, n = {n}")
    return fig
