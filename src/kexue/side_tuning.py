"""Ladder Side-Tuning and the other ways to fine-tune a frozen encoder: adapters, LoRA, BitFit, full fine-tuning.

What is measured here is where training memory goes: the bytes autograd keeps for the backward pass
(:func:`saved_activation_bytes`, exact), the peak resident memory of one training step (:func:`peak_memory_bytes`,
measured by the kernel), and the bookkeeping formula 4P + 12P_t + A (:func:`training_memory_bytes`). The methods work
on any BERT-style ``transformers`` encoder (``encoder.layer[i].attention.self.query`` ...): a pretrained one in the
chapter, a small random one in the tests.

torch is imported at the top: this module trains networks. ``import kexue`` does not import it; transformers is
imported only where a pretrained encoder is run.
"""
from __future__ import annotations

import ctypes
import gc
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from kexue import validate
from kexue.data import Provenance

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "Adapter", "CLUE_TASKS", "EncoderClassifier", "LST_CLUE", "LST_CLUE_PROVENANCE", "LadderClassifier",
    "LadderSideNetwork", "LoRALinear", "METHODS", "SuSideNetwork", "adapt", "add_adapters", "add_lora", "bitfit",
    "count_parameters", "count_su_side_params", "domain_task", "evaluate", "freeze", "hidden_states",
    "lst_clue_table", "make_batches", "measure_method", "memory_figure", "memory_table", "peak_memory_bytes",
    "saved_activation_bytes", "train_classifier", "training_memory_bytes", "truncated_normal_std_correction",
]

METHODS: tuple[str, ...] = ("full", "adapters", "lora", "bitfit", "lst")
"""The five ways to fine-tune compared in chapter 11 (``"su"``, the article's own side network, is a sixth)."""


# ------------------------------------------------------------------------------------------------ memory, measured
def _tensors(params: Iterable[torch.Tensor], name: str) -> list[torch.Tensor]:
    """``params`` as a list of tensors (a module gives its parameters), or a TypeError naming ``name``."""
    if isinstance(params, nn.Module):
        return list(params.parameters())
    if isinstance(params, (str, bytes, torch.Tensor)) or not isinstance(params, Iterable):
        raise TypeError(f"{name} must be an iterable of tensors (or a module), got {type(params).__name__}")
    out = list(params)
    if not all(isinstance(p, torch.Tensor) for p in out):
        raise TypeError(f"{name} must hold tensors only")
    return out


def saved_activation_bytes(loss_fn: Callable[[], torch.Tensor], params: Iterable[torch.Tensor] = ()) -> int:
    """Bytes of the distinct non-parameter storages autograd saves while ``loss_fn()`` runs; then back-propagates."""
    loss_fn = validate.function(loss_fn, "loss_fn")
    # Parameters are in memory whether or not we train: the 4P of the budget. Views of them share their storage.
    excluded = {p.untyped_storage().data_ptr() for p in _tensors(params, "params")}
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        if storage.data_ptr() not in excluded:
            seen[storage.data_ptr()] = storage.nbytes()  # the graph keeps t alive, so no address is reused
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = loss_fn()
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        raise TypeError(f"loss_fn must return a scalar tensor, got {type(loss).__name__}")
    if not loss.requires_grad:
        raise ValueError("loss_fn returned a loss that needs no gradient: nothing is trainable")
    if not bool(torch.isfinite(loss.detach())):
        raise ValueError("loss_fn returned a non-finite loss")
    loss.backward()
    seen.pop(0, None)  # empty storages have no address and no bytes
    return int(sum(seen.values()))


OPTIMIZER_SLOTS = {"adam": 2, "momentum": 1, "sgd": 0}
"""Full-size state tensors per trainable parameter (Adam keeps m and v)."""


def training_memory_bytes(n_params: int, n_trainable: int, act_bytes: int, bytes_per_param: int = 4,
                          optimizer: str = "adam") -> int:
    """The training budget: weights P, gradients and optimizer slots of the P_t trainable ones, plus activations A."""
    n_params = validate.integer(n_params, "n_params", 1, 10**13)
    n_trainable = validate.integer(n_trainable, "n_trainable", 0, n_params)
    act_bytes = validate.integer(act_bytes, "act_bytes", 0, 10**15)
    bytes_per_param = validate.integer(bytes_per_param, "bytes_per_param", 1, 8)
    slots = OPTIMIZER_SLOTS[validate.choice(optimizer, "optimizer", tuple(OPTIMIZER_SLOTS))]
    return bytes_per_param * (n_params + (1 + slots) * n_trainable) + act_bytes


def _status_kb(field: str) -> int:
    """A memory field of /proc/self/status in KiB (VmRSS, VmHWM)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(f"{field} not in /proc/self/status")


def _libc() -> ctypes.CDLL | None:
    """glibc, or None on another C library."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim  # noqa: B018 (glibc only)
        return libc
    except (OSError, AttributeError):
        return None


def _set_mmap_threshold(nbytes: int) -> None:
    """glibc's threshold above which a block is mapped on its own (and returned to the system when freed)."""
    libc = _libc()
    if libc is not None:
        libc.mallopt(-3, nbytes)  # M_MMAP_THRESHOLD


def _trim() -> None:
    """Collect garbage and hand free heap pages back to the system, so that RSS is the live memory."""
    gc.collect()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS counter of this process (Linux ≥ 4.0); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_memory_bytes(step_fn: Callable[[], object]) -> int:
    """Measured peak resident memory that ``step_fn()`` adds to the process (kernel peak counter, or 1 ms sampling)."""
    step_fn = validate.function(step_fn, "step_fn")
    _trim()
    if sys.platform.startswith("linux") and _reset_peak():
        base = _status_kb("VmRSS")
        # While measuring, blocks of 64 KiB and more are mapped and unmapped one by one, so that RSS follows the
        # live tensors; afterwards a high threshold lets the heap reuse memory again (fast, but RSS then lags).
        _set_mmap_threshold(64 * 1024)
        try:
            step_fn()
        finally:
            _set_mmap_threshold(32 * 2**20)
        return max(0, _status_kb("VmHWM") - base) * 1024
    import psutil  # elsewhere: sample the resident set in a thread

    process = psutil.Process(os.getpid())
    base = peak = process.memory_info().rss
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, process.memory_info().rss)
            time.sleep(1e-3)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    try:
        step_fn()
    finally:
        done.set()
        watcher.join()
    return max(0, peak - base)


# ------------------------------------------------------------------------------------------------ the methods
def _encoder_layers(bert: nn.Module, name: str = "bert") -> nn.ModuleList:
    """The transformer layers of a BERT-style encoder (``bert.encoder.layer``), or a TypeError naming ``name``."""
    if not isinstance(bert, nn.Module):
        raise TypeError(f"{name} must be a BERT-style torch module, got {type(bert).__name__}")
    layers = getattr(getattr(bert, "encoder", None), "layer", None)
    if not isinstance(layers, nn.ModuleList) or len(layers) == 0:
        raise TypeError(f"{name} must be a BERT-style encoder with encoder.layer (a transformers BertModel)")
    return layers


def _width(bert: nn.Module, name: str = "bert") -> int:
    """The hidden width of a BERT-style encoder."""
    return int(_encoder_layers(bert, name)[0].output.LayerNorm.normalized_shape[0])  # adapters may wrap dense


def freeze(model: nn.Module) -> nn.Module:
    """Switch off the gradients of every parameter of ``model``; return it."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch module, got {type(model).__name__}")
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def count_parameters(model: nn.Module, trainable: bool = False) -> int:
    """The number of parameters of ``model`` (only those that require a gradient if ``trainable``)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch module, got {type(model).__name__}")
    trainable = validate.boolean(trainable, "trainable")
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable)


class Adapter(nn.Module):
    """Houlsby's bottleneck x + W_up gelu(W_down x), with W_up = 0 at start so that it begins as the identity."""

    def __init__(self, d: int, r: int) -> None:
        super().__init__()
        d, r = validate.integer(d, "d", 1, 2**16), validate.integer(r, "r", 1, 2**16)
        self.down, self.up = nn.Linear(d, r), nn.Linear(r, d)
        nn.init.zeros_(self.up.weight)
        nn.init.zeros_(self.up.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.up(nn.functional.gelu(self.down(x)))


def add_adapters(bert: nn.Module, r: int) -> nn.Module:
    """Freeze ``bert`` and put a trainable bottleneck adapter of width ``r`` after each layer's feed-forward output."""
    layers = _encoder_layers(bert)
    r = validate.integer(r, "r", 1, _width(bert))
    freeze(bert)
    for layer in layers:
        dense = layer.output.dense  # the adapter acts before the residual sum and LayerNorm, as in Houlsby et al.
        layer.output.dense = nn.Sequential(dense, Adapter(dense.out_features, r))
    return bert


class LoRALinear(nn.Module):
    """A frozen linear map plus a trainable low-rank update: W x + b + (alpha/r) B A x, with B = 0 at start."""

    def __init__(self, base: nn.Linear, r: int, alpha: float | None = None) -> None:
        super().__init__()
        if not isinstance(base, nn.Linear):
            raise TypeError(f"base must be a torch.nn.Linear, got {type(base).__name__}")
        r = validate.integer(r, "r", 1, min(base.in_features, base.out_features))
        alpha = float(r) if alpha is None else validate.real(alpha, "alpha", positive=True)
        self.base, self.r, self.scale = freeze(base), r, alpha / r
        self.lora_a = nn.Parameter(torch.empty(r, base.in_features))
        self.lora_b = nn.Parameter(torch.zeros(base.out_features, r))
        nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))  # the initialisation of the LoRA reference code

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + self.scale * (x @ self.lora_a.T) @ self.lora_b.T


def add_lora(bert: nn.Module, r: int, targets: Sequence[str] = ("query", "value"),
             alpha: float | None = None) -> nn.Module:
    """Freeze ``bert`` and give the linear maps whose names end with one of ``targets`` a rank-``r`` LoRA update."""
    layers = _encoder_layers(bert)
    if isinstance(targets, str) or not isinstance(targets, Sequence) or not targets \
            or not all(isinstance(t, str) and t for t in targets):
        raise TypeError("targets must be a non-empty sequence of module names such as ('query', 'value')")
    r = validate.integer(r, "r", 1, _width(bert))
    if alpha is not None:
        alpha = validate.real(alpha, "alpha", positive=True)
    linears = {name: m for name, m in layers.named_modules() if isinstance(m, nn.Linear)}
    chosen = {t: [n for n in linears if n == t or n.endswith("." + t)] for t in targets}
    unknown = [t for t, names in chosen.items() if not names]
    if unknown:
        known = sorted({n.split(".", 1)[1] for n in linears})
        raise ValueError(f"targets {unknown} match no linear map of the encoder layers; known: {', '.join(known)}")
    freeze(bert)
    for name in sorted({n for names in chosen.values() for n in names}):
        parent_name, _, child = name.rpartition(".")
        parent = layers.get_submodule(parent_name)
        setattr(parent, child, LoRALinear(getattr(parent, child), r, alpha))
    return bert


def bitfit(bert: nn.Module) -> nn.Module:
    """Freeze ``bert`` except its bias vectors (those of the linear maps and of the LayerNorms)."""
    _encoder_layers(bert)
    for name, p in bert.named_parameters():
        p.requires_grad_(name.endswith("bias"))
    return bert


# ------------------------------------------------------------------------------------------------ side networks
def truncated_normal_std_correction(a: float = 2.0) -> float:
    """1/std of a standard normal truncated to [-a, a]: the factor that restores unit spread after truncation."""
    a = validate.real(a, "a", minimum=0.01, maximum=40.0)  # below 0.01 the variance cancels to noise
    mass = math.erf(a / math.sqrt(2.0))  # P(|z| < a)
    density = math.exp(-a * a / 2.0) / math.sqrt(2.0 * math.pi)
    return 1.0 / math.sqrt(1.0 - 2.0 * a * density / mass)


def _side_block(width: int, heads: int, ffn: int) -> nn.TransformerEncoderLayer:
    """A post-LayerNorm Transformer block (self-attention + GELU feed-forward), without dropout."""
    return nn.TransformerEncoderLayer(width, heads, ffn, dropout=0.0, activation="gelu", batch_first=True)


def _check_states(hidden_states: Sequence[torch.Tensor], n: int, d: int) -> Sequence[torch.Tensor]:
    """The backbone's n hidden states (embeddings first), each (batch, length, d), or an error."""
    if isinstance(hidden_states, torch.Tensor) or not isinstance(hidden_states, Sequence):
        raise TypeError("hidden_states must be a sequence of tensors (the embeddings and every layer's output)")
    if len(hidden_states) != n:
        raise ValueError(f"hidden_states must hold {n} tensors (embeddings and {n - 1} layers), "
                         f"got {len(hidden_states)}")
    for h in hidden_states:
        if not isinstance(h, torch.Tensor) or h.dim() != 3 or h.shape[-1] != d:
            raise ValueError(f"hidden_states must be tensors of shape (batch, length, {d})")
    return hidden_states


def _padding(attention_mask: torch.Tensor | None) -> torch.Tensor | None:
    """The key-padding mask of torch's attention (True = ignore) from a transformers attention mask (1 = token)."""
    if attention_mask is None:
        return None
    if not isinstance(attention_mask, torch.Tensor) or attention_mask.dim() != 2:
        raise TypeError("attention_mask must be a (batch, length) tensor of 0 and 1")
    return attention_mask == 0


class LadderSideNetwork(nn.Module):
    """The paper's side network: s_i = g_i(μ_i s_{i-1} + (1 − μ_i) D_i h_i), μ_i = σ(α_i/T), width d/reduction."""

    def __init__(self, d_backbone: int, n_layers: int, reduction: int = 8, heads: int = 4, gate_T: float = 0.1,
                 tap_layers: Sequence[int] | None = None, gated: bool = True) -> None:
        super().__init__()
        d = validate.integer(d_backbone, "d_backbone", 1, 2**16)
        self.n_layers = validate.integer(n_layers, "n_layers", 1, 256)
        reduction = validate.integer(reduction, "reduction", 1, d)
        heads = validate.integer(heads, "heads", 1, 256)
        self.gate_T = validate.real(gate_T, "gate_T", positive=True, maximum=1e3)
        self.gated = validate.boolean(gated, "gated")
        if d % reduction:
            raise ValueError(f"reduction must divide d_backbone = {d}, got {reduction}")
        self.width = d // reduction
        if self.width % heads:
            raise ValueError(f"heads must divide the side width d_backbone/reduction = {self.width}, got {heads}")
        if tap_layers is None:
            tap_layers = range(1, self.n_layers + 1)
        if isinstance(tap_layers, str) or not isinstance(tap_layers, Sequence | range) or not tap_layers:
            raise TypeError("tap_layers must be a non-empty sequence of layer numbers (1 = first layer) or None")
        taps = [validate.integer(t, "tap_layers", 1, self.n_layers) for t in tap_layers]
        if taps != sorted(set(taps)):
            raise ValueError("tap_layers must be increasing without repeats")
        self.d_backbone, self.taps = d, tuple(taps)
        self.downs = nn.ModuleList(nn.Linear(d, self.width) for _ in range(len(taps) + 1))  # D_0 for embeddings
        self.blocks = nn.ModuleList(_side_block(self.width, heads, 4 * self.width) for _ in taps)
        # α_i = 0 gives μ_i = 1/2, the paper's initialisation; no gate parameters when ungated (plain sum).
        self.alpha = nn.Parameter(torch.zeros(len(taps))) if self.gated else None

    def gates(self) -> torch.Tensor:
        """μ_i = σ(α_i / T), one per side block (1/2 everywhere for an ungated network)."""
        if self.alpha is None:
            return torch.full((len(self.taps),), 0.5)
        return torch.sigmoid(self.alpha / self.gate_T)

    def forward(self, hidden_states: Sequence[torch.Tensor], attention_mask: torch.Tensor | None = None
                ) -> torch.Tensor:
        hs = _check_states(hidden_states, self.n_layers + 1, self.d_backbone)
        pad = _padding(attention_mask)
        s = self.downs[0](hs[0])
        mu = self.gates()
        for i, (layer, block) in enumerate(zip(self.taps, self.blocks)):
            ladder = self.downs[i + 1](hs[layer])
            x = mu[i] * s + (1 - mu[i]) * ladder if self.gated else s + ladder
            s = block(x, src_key_padding_mask=pad)
        return s


class SuSideNetwork(nn.Module):
    """The article's side network: a small BERT without embeddings; s_i = Block_i(s_{i-1}) + P_i h_{(i+1)k}."""

    def __init__(self, d_backbone: int, n_backbone_layers: int, hidden: int = 128, layers: int = 4, heads: int = 4,
                 ffn: int = 512, deepnorm_init: bool = True) -> None:
        super().__init__()
        d = validate.integer(d_backbone, "d_backbone", 1, 2**16)
        self.n_layers = validate.integer(n_backbone_layers, "n_backbone_layers", 1, 256)
        self.width = validate.integer(hidden, "hidden", 1, 2**14)
        n_side = validate.integer(layers, "layers", 1, self.n_layers)
        heads = validate.integer(heads, "heads", 1, 256)
        ffn = validate.integer(ffn, "ffn", 1, 2**16)
        if self.n_layers % n_side:
            raise ValueError(f"layers must divide n_backbone_layers = {self.n_layers}, got {n_side}")
        if self.width % heads:
            raise ValueError(f"heads must divide hidden = {self.width}, got {heads}")
        self.d_backbone, self.skip = d, self.n_layers // n_side
        # Ladders without bias: one for the embeddings, one after each side block (taps k, 2k, ..., L).
        self.downs = nn.ModuleList(nn.Linear(d, self.width, bias=False) for _ in range(n_side + 1))
        self.blocks = nn.ModuleList(_side_block(self.width, heads, ffn) for _ in range(n_side))
        if validate.boolean(deepnorm_init, "deepnorm_init"):
            self._deepnorm_init(n_side)

    def _deepnorm_init(self, n_side: int) -> None:
        """Truncated normal (±2σ) with σ = c/√fan_in/√N, c = 1/std of the truncated normal (the article's code)."""
        c = truncated_normal_std_correction(2.0)
        for name, p in self.blocks.named_parameters():
            if p.dim() == 2:
                std = c / math.sqrt(p.shape[1]) / math.sqrt(n_side)
                nn.init.trunc_normal_(p, std=std, a=-2 * std, b=2 * std)
            elif name.endswith("bias") and "norm" not in name:
                nn.init.zeros_(p)

    def forward(self, hidden_states: Sequence[torch.Tensor], attention_mask: torch.Tensor | None = None
                ) -> torch.Tensor:
        hs = _check_states(hidden_states, self.n_layers + 1, self.d_backbone)
        pad = _padding(attention_mask)
        s = self.downs[0](hs[0])
        for i, block in enumerate(self.blocks):
            s = block(s, src_key_padding_mask=pad) + self.downs[i + 1](hs[(i + 1) * self.skip])
        return s


def count_su_side_params(d_backbone: int, layers: int = 4, hidden: int = 128, ffn: int = 512,
                         n_classes: int = 2) -> int:
    """Trainable parameters of the article's side network with a classifier on its [CLS] state (a formula)."""
    d = validate.integer(d_backbone, "d_backbone", 1, 2**16)
    n = validate.integer(layers, "layers", 1, 256)
    h = validate.integer(hidden, "hidden", 1, 2**14)
    f = validate.integer(ffn, "ffn", 1, 2**16)
    c = validate.integer(n_classes, "n_classes", 1, 2**16)
    block = 4 * (h * h + h) + 2 * 2 * h + (h * f + f) + (f * h + h)  # attention, two LayerNorms, feed-forward
    return n * block + (n + 1) * d * h + (h * c + c)


# ------------------------------------------------------------------------------------------------ classifiers
def hidden_states(backbone: nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor
                  ) -> tuple[torch.Tensor, ...]:
    """The frozen backbone's embeddings and layer outputs, computed forward only, in eval mode (no dropout)."""
    _encoder_layers(backbone, "backbone")
    input_ids, attention_mask = _batch(input_ids, attention_mask)
    was_training = backbone.training
    backbone.eval()
    with torch.no_grad():
        out = backbone(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True)
    backbone.train(was_training)
    return tuple(out.hidden_states)


def _batch(input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids and attention mask as (batch, length) integer tensors of the same shape, or an error."""
    for value, name in ((input_ids, "input_ids"), (attention_mask, "attention_mask")):
        if not isinstance(value, torch.Tensor) or value.dim() != 2 or value.is_floating_point():
            raise TypeError(f"{name} must be a (batch, length) integer tensor")
    if input_ids.shape != attention_mask.shape or input_ids.numel() == 0:
        raise ValueError("input_ids and attention_mask must have the same non-empty shape")
    return input_ids, attention_mask


class EncoderClassifier(nn.Module):
    """A linear head on the [CLS] state of an encoder trained end to end (full, adapters, LoRA, BitFit)."""

    def __init__(self, backbone: nn.Module, n_classes: int = 2) -> None:
        super().__init__()
        d = _width(backbone, "backbone")
        self.backbone, self.head = backbone, nn.Linear(d, validate.integer(n_classes, "n_classes", 2, 2**16))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        input_ids, attention_mask = _batch(input_ids, attention_mask)
        out = self.backbone(input_ids=input_ids, attention_mask=attention_mask)
        return self.head(out.last_hidden_state[:, 0])


class LadderClassifier(nn.Module):
    """A frozen backbone run forward only, a side network on its hidden states, and a head on the side's [CLS]."""

    def __init__(self, backbone: nn.Module, side: nn.Module, n_classes: int = 2) -> None:
        super().__init__()
        _encoder_layers(backbone, "backbone")
        if not isinstance(side, (LadderSideNetwork, SuSideNetwork)):
            raise TypeError(f"side must be a LadderSideNetwork or SuSideNetwork, got {type(side).__name__}")
        self.backbone, self.side = freeze(backbone), side
        self.head = nn.Linear(side.width, validate.integer(n_classes, "n_classes", 2, 2**16))

    def forward_hidden(self, states: Sequence[torch.Tensor], attention_mask: torch.Tensor) -> torch.Tensor:
        """Logits from the backbone's hidden states (computed now or read from a cache)."""
        return self.head(self.side(states, attention_mask)[:, 0])

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.forward_hidden(hidden_states(self.backbone, input_ids, attention_mask), attention_mask)


def adapt(backbone: nn.Module, method: str, n_classes: int = 2, rank: int = 8, bottleneck: int = 48,
          reduction: int = 8, seed: int = 0) -> nn.Module:
    """A classifier that fine-tunes ``backbone`` (modified in place) by ``method``: full, adapters, lora, bitfit,
    lst (the paper's gated ladder) or su (the article's side network)."""
    layers = _encoder_layers(backbone, "backbone")
    method = validate.choice(method, "method", (*METHODS, "su"))
    rank, bottleneck = validate.integer(rank, "rank", 1, 4096), validate.integer(bottleneck, "bottleneck", 1, 4096)
    reduction = validate.integer(reduction, "reduction", 1, 4096)
    torch.manual_seed(validate.integer(seed, "seed", 0, 2**32 - 1))
    d = _width(backbone, "backbone")
    if method in ("lst", "su"):
        side = (LadderSideNetwork(d, len(layers), reduction=reduction) if method == "lst"
                else SuSideNetwork(d, len(layers), layers=math.gcd(4, len(layers))))
        return LadderClassifier(backbone, side, n_classes)
    if method == "full":
        for p in backbone.parameters():
            p.requires_grad_(True)
    else:
        {"adapters": lambda: add_adapters(backbone, bottleneck), "lora": lambda: add_lora(backbone, rank),
         "bitfit": lambda: bitfit(backbone)}[method]()
    return EncoderClassifier(backbone, n_classes)


# ------------------------------------------------------------------------------------------------ training
Batches = Sequence[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]  # (input_ids, attention_mask, labels)


def _batches(batches: Batches, name: str = "batches") -> Batches:
    """A non-empty sequence of (input_ids, attention_mask, labels) triples, or an error naming ``name``."""
    if isinstance(batches, (str, bytes)) or not isinstance(batches, Sequence) or not batches:
        raise TypeError(f"{name} must be a non-empty list of (input_ids, attention_mask, labels) triples")
    for b in batches:
        if not isinstance(b, (tuple, list)) or len(b) != 3 or not all(isinstance(t, torch.Tensor) for t in b):
            raise TypeError(f"{name} must hold (input_ids, attention_mask, labels) tensor triples")
    return batches


def train_classifier(model: nn.Module, batches: Batches, epochs: int = 2, lr: float = 1e-3,
                     cache: bool = False, seed: int = 0) -> dict[str, object]:
    """Train the trainable parameters of ``model`` with Adam; with ``cache`` an LST model reads its backbone's
    hidden states computed once. Returns the losses and the seconds per epoch (the cache's own time apart)."""
    if not isinstance(model, (EncoderClassifier, LadderClassifier)):
        raise TypeError(f"model must be an EncoderClassifier or LadderClassifier, got {type(model).__name__}")
    batches = _batches(batches)
    epochs = validate.integer(epochs, "epochs", 1, 1000)
    lr = validate.real(lr, "lr", positive=True, maximum=1.0)
    cache = validate.boolean(cache, "cache")
    if cache and not isinstance(model, LadderClassifier):
        raise ValueError("cache works only for a LadderClassifier (the backbone must be frozen and outside the graph)")
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("model has no trainable parameter")
    gen = torch.Generator().manual_seed(validate.integer(seed, "seed", 0, 2**32 - 1))
    optimizer = torch.optim.Adam(params, lr=lr)
    model.eval()  # dropout off everywhere: the convention of the memory measurements too
    start = time.perf_counter()
    states = [hidden_states(model.backbone, ids, mask) for ids, mask, _ in batches] if cache else None
    cache_seconds = time.perf_counter() - start
    losses, epoch_seconds = [], []
    for _ in range(epochs):
        start = time.perf_counter()
        for i in torch.randperm(len(batches), generator=gen).tolist():
            ids, mask, labels = batches[i]
            logits = model.forward_hidden(states[i], mask) if cache else model(ids, mask)
            loss = nn.functional.cross_entropy(logits, labels)
            if not bool(torch.isfinite(loss.detach())):
                raise ValueError("training diverged: the loss is not finite (lower lr)")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
        epoch_seconds.append(time.perf_counter() - start)
    return {"losses": np.array(losses), "epoch_seconds": epoch_seconds, "cache_seconds": cache_seconds,
            "steps": len(losses)}


def evaluate(model: nn.Module, batches: Batches) -> float:
    """Accuracy of ``model`` on the (input_ids, attention_mask, labels) batches."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch module, got {type(model).__name__}")
    batches = _batches(batches)
    model.eval()
    right = total = 0
    with torch.no_grad():
        for ids, mask, labels in batches:
            right += int((model(ids, mask).argmax(-1) == labels).sum())
            total += len(labels)
    return right / total


def memory_table(measured: dict[str, dict[str, int]]) -> pd.DataFrame:
    """One row per method from ``measure_method`` results: trainable share, saved activations, the bill
    4P + 12P_t + A and the measured step peak (MiB), each also as a ratio to the ``"full"`` row."""
    import pandas as pd

    if not isinstance(measured, dict) or "full" not in measured:
        raise TypeError("measured must map method names, 'full' among them, to measure_method results")
    keys = {"n_params", "n_trainable", "saved", "peak"}
    if not all(isinstance(m, dict) and keys <= set(m) for m in measured.values()):
        raise ValueError(f"measured must hold {sorted(keys)} for every method")
    mib = 2.0**20
    table = pd.DataFrame(measured).T[sorted(keys)].astype("int64")
    table["trainable (% of full)"] = 100 * table["n_trainable"] / table.loc["full", "n_trainable"]
    table["saved activations (MiB)"] = table["saved"] / mib
    table["budget 4P+12Pt+A (MiB)"] = [training_memory_bytes(int(r.n_params), int(r.n_trainable), int(r.saved)) / mib
                                       for r in table.itertuples()]
    table["measured step peak (MiB)"] = table["peak"] / mib
    for column, ratio in (("saved", "saved / full"), ("budget 4P+12Pt+A (MiB)", "budget / full"),
                          ("peak", "peak / full")):
        table[ratio] = table[column] / table.loc["full", column]
    return table


# ------------------------------------------------------------------------------------------------ data
def domain_task(domains: Sequence[str] = ("auto-insurance", "home-insurance"), n_train: int = 160,
                n_test: int = 160, seed: int = 0, language: str = "en") -> dict[str, list]:
    """A balanced question-classification task from InsuranceQA (``kexue.data.load_insuranceqa``): which domain a
    question belongs to. Training questions come from its validation split, test questions from its test split
    (the two small files; the training split also holds ~500 negative answers per question)."""
    if isinstance(domains, str) or not isinstance(domains, Sequence) or len(set(domains)) < 2 \
            or not all(isinstance(d, str) for d in domains):
        raise TypeError("domains must be a sequence of at least two distinct InsuranceQA domain names")
    n_train = validate.integer(n_train, "n_train", len(domains), 1500)
    n_test = validate.integer(n_test, "n_test", len(domains), 1500)
    language = validate.choice(language, "language", ("en", "zh"))
    rng = np.random.default_rng(validate.integer(seed, "seed", 0, 2**32 - 1))
    from kexue.data import load_insuranceqa

    out: dict[str, list] = {}
    for split, source, n in (("train", "valid", n_train), ("test", "test", n_test)):
        questions = load_insuranceqa(source)
        by_domain = {dom: [q for q in questions if q.domain == dom] for dom in domains}
        empty = [dom for dom, qs in by_domain.items() if not qs]
        if empty:
            raise ValueError(f"domains {empty} are not InsuranceQA domains")
        texts, labels = [], []
        per = n // len(domains)
        for label, dom in enumerate(domains):
            if len(by_domain[dom]) < per:
                raise ValueError(f"n_{split} is too large: domain {dom!r} has {len(by_domain[dom])} questions there")
            for k in rng.choice(len(by_domain[dom]), size=per, replace=False):
                text = getattr(by_domain[dom][k], language)
                texts.append(" ".join(text.split()))  # the English text has double spaces
                labels.append(label)
        order = rng.permutation(len(texts))
        out[f"{split}_texts"] = [texts[i] for i in order]
        out[f"{split}_labels"] = [labels[i] for i in order]
    return out


def make_batches(tokenize: Callable[[list[str]], Mapping[str, torch.Tensor]], texts: Sequence[str],
                 labels: Sequence[int], batch_size: int = 16, pad_to: int | None = None) -> Batches:
    """(input_ids, attention_mask, labels) batches; ``tokenize(list_of_texts)`` gives ``input_ids`` and
    ``attention_mask`` padded to the longest text, and ``pad_to`` pads further with zeros to a fixed length."""
    tokenize = validate.function(tokenize, "tokenize")
    if isinstance(texts, str) or not isinstance(texts, Sequence) or not texts \
            or not all(isinstance(t, str) for t in texts):
        raise TypeError("texts must be a non-empty sequence of strings")
    labels = validate.integers(labels, "labels", minimum=0, ndim=1)
    if len(labels) != len(texts):
        raise ValueError(f"labels must have one entry per text: {len(labels)} labels, {len(texts)} texts")
    batch_size = validate.integer(batch_size, "batch_size", 1, 4096)
    if pad_to is not None:
        pad_to = validate.integer(pad_to, "pad_to", 1, 4096)
    out = []
    for i in range(0, len(texts), batch_size):
        enc = tokenize(list(texts[i:i + batch_size]))
        if not isinstance(enc, Mapping) or not all(isinstance(enc.get(k), torch.Tensor)
                                                   for k in ("input_ids", "attention_mask")):
            raise TypeError("tokenize must return a mapping with the tensors input_ids and attention_mask")
        ids, mask = enc["input_ids"], enc["attention_mask"]
        if pad_to is not None:
            if ids.shape[1] > pad_to:
                raise ValueError(f"pad_to must be at least the longest tokenized text ({ids.shape[1]} tokens)")
            extra = pad_to - ids.shape[1]
            ids, mask = nn.functional.pad(ids, (0, extra)), nn.functional.pad(mask, (0, extra))
        out.append((ids, mask, torch.as_tensor(labels[i:i + batch_size])))
    return out


def measure_method(model: nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                   labels: torch.Tensor) -> dict[str, int]:
    """Parameters (all, trainable), saved-activation bytes of one forward/backward, and the measured peak memory
    that one Adam step adds (learning rate 0: the slots and gradients are allocated, the weights do not move)."""
    if not isinstance(model, (EncoderClassifier, LadderClassifier)):
        raise TypeError(f"model must be an EncoderClassifier or LadderClassifier, got {type(model).__name__}")
    input_ids, attention_mask = _batch(input_ids, attention_mask)
    if not isinstance(labels, torch.Tensor) or labels.shape != input_ids.shape[:1]:
        raise TypeError("labels must be a tensor with one class index per row of input_ids")
    model.eval()  # dropout off: the convention of every number here
    params = list(model.parameters())
    trainable = [p for p in params if p.requires_grad]

    def loss() -> torch.Tensor:
        return nn.functional.cross_entropy(model(input_ids, attention_mask), labels)

    saved = saved_activation_bytes(loss, params)  # also a warm-up: first-call allocations are not counted below
    model.zero_grad(set_to_none=True)

    def step() -> None:
        optimizer = torch.optim.Adam(trainable, lr=0.0)
        loss().backward()
        optimizer.step()

    peak = peak_memory_bytes(step)
    model.zero_grad(set_to_none=True)
    return {"n_params": sum(p.numel() for p in params), "n_trainable": sum(p.numel() for p in trainable),
            "saved": saved, "peak": peak}


# ------------------------------------------------------------------------------------------------ the article's table
CLUE_TASKS: tuple[str, ...] = ("iflytek", "tnews", "afqmc", "cmnli", "ocnli", "wsc", "csl", "cmrc2018", "c3", "chid",
                               "cluener")
"""The eleven CLUE tasks of the article's table, in its order."""

LST_CLUE: dict[str, tuple[float, ...]] = {
    "BERT base": (60.06, 56.80, 72.41, 79.56, 73.93, 78.62, 83.93, 56.17, 60.54, 85.69, 79.45),
    "RoBERTa base": (60.64, 58.06, 74.05, 81.24, 76.00, 87.50, 84.50, 56.54, 67.66, 86.71, 79.47),
    "RoBERTa base + LST": (59.29, 56.82, 70.37, 76.27, 71.02, 68.09, 82.63, 42.50, 56.97, 69.35, 78.30),
    "RoBERTa large + LST": (60.41, 57.12, 72.36, 75.80, 72.07, 75.00, 84.23, 39.98, 60.19, 72.55, 77.80),
}
"""Validation scores on CLUE: full fine-tuning baselines (first two rows) and the article's LST runs."""

LST_CLUE_PROVENANCE = Provenance(
    name="LST on CLUE (validation sets, single runs)",
    source="the results table of Su Jianlin, 'Ladder Side-Tuning: 预训练模型的“过墙梯”' (2022); the two baseline "
           "rows come from the author's CLUE baselines (github.com/bojone/CLUE-bert4keras)",
    licence="numbers quoted from a published article (facts, cited)",
    citation="Su Jianlin (2022), https://kexue.fm/archives/9138; code https://github.com/bojone/LST-CLUE",
    url="https://kexue.fm/archives/9138",
)


def lst_clue_table() -> pd.DataFrame:
    """The article's CLUE table as a DataFrame (rows: models, columns: tasks), with a 'mean' column."""
    import pandas as pd

    frame = pd.DataFrame(LST_CLUE, index=list(CLUE_TASKS)).T
    frame["mean"] = frame[list(CLUE_TASKS)].mean(axis=1)
    frame.attrs["provenance"] = str(LST_CLUE_PROVENANCE)
    return frame


# ------------------------------------------------------------------------------------------------ figures
def memory_figure(costs: dict[str, dict[str, float]], batch: int = 16, length: int = 32,
                  ax: Axes | None = None) -> Figure:
    """Stacked bars of the training budget per method at a batch size and length: weights, gradients, Adam slots
    and activations (MiB), from the measured per-token activation cost in ``costs[method]``
    (keys ``n_params``, ``n_trainable``, ``act_per_token``)."""
    import matplotlib.pyplot as plt

    if not isinstance(costs, dict) or not costs:
        raise TypeError("costs must map method names to {n_params, n_trainable, act_per_token}")
    batch = validate.integer(batch, "batch", 1, 4096)
    length = validate.integer(length, "length", 1, 4096)
    for method, c in costs.items():
        if not isinstance(c, dict) or not {"n_params", "n_trainable", "act_per_token"} <= set(c):
            raise ValueError(f"costs[{method!r}] must hold n_params, n_trainable and act_per_token")
    mib = 2.0**20
    names = list(costs)
    parts = {
        "weights": [4 * costs[m]["n_params"] / mib for m in names],
        "gradients": [4 * costs[m]["n_trainable"] / mib for m in names],
        "Adam slots": [8 * costs[m]["n_trainable"] / mib for m in names],
        "activations": [costs[m]["act_per_token"] * batch * length / mib for m in names],
    }
    if ax is not None and not hasattr(ax, "bar"):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 3.6))
    else:
        fig = ax.figure
    bottom = np.zeros(len(names))
    for label, values in parts.items():
        ax.bar(names, values, bottom=bottom, label=label)
        bottom += np.array(values)
    full = bottom[names.index("full")] if "full" in names else bottom.max()
    for x, total in enumerate(bottom):
        ax.text(x, total, f"{total / full:.2f}×", ha="center", va="bottom", fontsize=8)
    ax.set(ylabel="training memory (MiB)", title=f"batch {batch} × length {length} (ratio to full fine-tuning)")
    ax.legend(fontsize=8)
    return fig
