"""Training recipes derived from the Amos optimizer: decay schedules, a geometric toy model, an Amos-like PyTorch
optimizer, the official Amos update transcribed for reading, and slot-variable memory accounting.

torch is imported at the top: this module trains networks. ``import kexue`` does not import it.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray

from kexue.validate import choice, integer, real

SCHEDULES = ("const", "inv_time", "inv_square")
"""Learning-rate schedules of AmosLike: constant, 1/(2 a t + 1) and 1/(a t + 1)²."""

__all__ = ["SCHEDULES", "AmosLike", "amos_reference_step", "amos_schedule", "decay_inverse_square",
           "decay_inverse_time", "discrete_S", "eps0_norm", "half_life_coefficient", "slot_memory", "toy_geometry",
           "ScaledMLP", "train_digits", "OPTIMIZERS",
           "explorer_figure", "readme_cnn", "readme_shape_fn"]


def _times(t: ArrayLike) -> NDArray[np.float64] | float:
    """``t`` as non-negative finite floats (a float for a scalar), or a ValueError naming ``t``."""
    if isinstance(t, bool):
        raise TypeError("t must be a number or an array of numbers, got bool")
    try:
        arr = np.asarray(t, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"t must be a number or an array of numbers, got {type(t).__name__}") from None
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError("t must be finite and non-negative")
    return float(arr) if arr.ndim == 0 else arr


def decay_inverse_square(t: ArrayLike, alpha0_p: float) -> NDArray[np.float64] | float:
    """The constant-cosine schedule factor e^{-2S_t} = 1/(α₀ p t + 1)²."""
    a = real(alpha0_p, "alpha0_p", positive=True, allow_zero=True)
    return 1.0 / (a * _times(t) + 1.0) ** 2


def decay_inverse_time(t: ArrayLike, alpha0_p0: float) -> NDArray[np.float64] | float:
    """The slowing-convergence schedule factor e^{-2S_t} = 1/(2 α₀ p₀ t + 1)."""
    a = real(alpha0_p0, "alpha0_p0", positive=True, allow_zero=True)
    return 1.0 / (2.0 * a * _times(t) + 1.0)


def half_life_coefficient(T: float, kind: str = "inverse_square") -> float:
    """The α₀p (or α₀p₀) that halves the learning rate after T steps: (√2 − 1)/T or 1/(2T)."""
    T = real(T, "T", positive=True)
    kind = choice(kind, "kind", ("inverse_square", "inverse_time"))
    return (math.sqrt(2.0) - 1.0) / T if kind == "inverse_square" else 1.0 / (2.0 * T)


def discrete_S(alpha0_p: float, T: int, dynamic: bool = False) -> NDArray[np.float64]:
    """S_0..S_T of the exact recursion S_{t+1} = S_t + α₀p e^{-S_t} (dynamic: + α₀p₀ e^{-2S_t}), S_0 = 0."""
    a = real(alpha0_p, "alpha0_p", positive=True)
    T = integer(T, "T", minimum=0, maximum=10_000_000)
    if not isinstance(dynamic, bool):
        raise TypeError(f"dynamic must be a bool, got {type(dynamic).__name__}")
    power = 2.0 if dynamic else 1.0
    S = np.zeros(T + 1)
    s = 0.0
    for t in range(T):  # a plain loop: each step depends on the previous one
        s += a * math.exp(-power * s)
        S[t + 1] = s
    return S


def _shape(shape: Iterable[int] | int, name: str = "shape") -> tuple[int, ...]:
    """``shape`` as a tuple of positive ints, or an error naming ``name``."""
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (int(shape),)
    if not isinstance(shape, Iterable):
        raise TypeError(f"{name} must be a tuple of integers, got {type(shape).__name__}")
    return tuple(integer(n, name, minimum=1) for n in shape)


def eps0_norm(shape: Iterable[int] | int, sigma: float, kind: str = "kernel") -> float:
    """The expected distance to the optimum ‖ε₀‖: √(2k) σ for a random-init kernel, √k σ for a zero-init bias."""
    k = math.prod(_shape(shape))
    sigma = real(sigma, "sigma", positive=True)
    kind = choice(kind, "kind", ("kernel", "bias"))
    return math.sqrt(2 * k if kind == "kernel" else k) * sigma


def toy_geometry(k: int, sigma: float, alpha0: float, p: float, T: int, mode: str = "constant",
                 weight_decay: bool = True, q: float = 1.0, seed: int = 0) -> dict[str, NDArray[np.float64]]:
    """The geometric toy model: updates with a controlled cosine to the error; ratio ‖ε_t‖/‖ε₀‖ and q_t, t = 0..T.

    θ* and then θ₀ are drawn from N(0, σ² I); each step draws one standard normal vector, projects out the error
    direction and normalises it to n̂_t; u_t = c_t ε̂_t + √(1 − c_t²) n̂_t with c_t = p ("constant") or
    c_t = p ‖ε_t‖/‖ε₀‖ ("dynamic"); the step is α₀‖ε₀‖d_t u_t and the decay ρ_t = α₀² d_t/(2q) (if weight_decay),
    with d_t the matching schedule factor.
    """
    k = integer(k, "k", minimum=2, maximum=1_000_000)
    sigma = real(sigma, "sigma", positive=True)
    alpha0 = real(alpha0, "alpha0", positive=True, maximum=1e3)
    p = real(p, "p", positive=True)
    if p > 1:
        raise ValueError(f"p is a cosine and must be at most 1, got {p}")
    T = integer(T, "T", minimum=1, maximum=200_000)
    if k * T > 400_000_000:
        raise ValueError(f"k * T = {k * T} is too much work; keep it at most 4e8")
    mode = choice(mode, "mode", ("constant", "dynamic"))
    if not isinstance(weight_decay, bool):
        raise TypeError(f"weight_decay must be a bool, got {type(weight_decay).__name__}")
    q = real(q, "q", positive=True)
    seed = integer(seed, "seed", minimum=0)
    rng = np.random.default_rng(seed)
    theta_star = sigma * rng.standard_normal(k)
    theta = sigma * rng.standard_normal(k)
    eps0 = np.linalg.norm(theta - theta_star)
    ratio, qs = np.empty(T + 1), np.empty(T + 1)
    decay = decay_inverse_square if mode == "constant" else decay_inverse_time
    for t in range(T + 1):
        err = theta - theta_star
        norm = np.linalg.norm(err)
        ratio[t], qs[t] = norm / eps0, theta @ err / norm**2
        if t == T:
            break
        e_hat = err / norm
        c = p if mode == "constant" else p * ratio[t]  # the measured ratio, not its prediction
        n = rng.standard_normal(k)
        n -= (n @ e_hat) * e_hat
        u = c * e_hat + math.sqrt(1.0 - c * c) * n / np.linalg.norm(n)
        d = decay(t, alpha0 * p)
        rho = alpha0**2 * d / (2 * q) if weight_decay else 0.0
        theta = theta - alpha0 * eps0 * d * u - rho * theta
    return {"ratio": ratio, "q": qs}


def amos_reference_step(theta: NDArray[np.float64], grad: NDArray[np.float64], state: dict, xi: float, eta: float,
                        beta: float = 0.999, zeta: float = 0.25, axes: tuple[int, ...] | None = None,
                        finetune: float = 1.0, epsilon: float = 2.0**-125) -> NDArray[np.float64]:
    """One step of the official Amos update (jestimator/amos.py), rewritten in NumPy for reading; returns θ_t.

    ``state`` (start with ``{}``) keeps the step count, v (running mean of g², averaged over ``axes``) and the decay
    accumulator b; ``xi`` is the global learning rate, ``eta`` the model-oriented scale of this tensor.
    """
    xi = real(xi, "xi", positive=True)
    eta = real(eta, "eta", positive=True)
    beta = real(beta, "beta", minimum=0.0)
    if beta >= 1:
        raise ValueError(f"beta must be below 1, got {beta}")
    zeta = real(zeta, "zeta", positive=True, allow_zero=True)
    finetune = real(finetune, "finetune", positive=True)
    if not isinstance(state, dict):
        raise TypeError(f"state must be a dict, got {type(state).__name__}")
    theta, grad = np.asarray(theta, dtype=float), np.asarray(grad, dtype=float)
    if theta.shape != grad.shape:
        raise ValueError(f"grad must have the shape of theta {theta.shape}, got {grad.shape}")
    if not np.all(np.isfinite(grad)):
        raise ValueError("grad contains non-finite values")
    g2 = np.mean(grad**2, axis=axes, keepdims=True) if axes is not None else grad**2
    t = state.get("count", 0) + 1
    v = beta * state.get("v", np.zeros_like(g2)) + (1 - beta) * g2
    b = state.get("b", np.zeros_like(g2))
    r = (1 - beta**t) / np.maximum(v, epsilon)  # 1 / bias-corrected v
    c = 1.0 / np.sqrt(1.0 + zeta * math.sqrt(xi) * b)
    d = 1.0 / (1.0 + zeta * math.sqrt(xi * eta) * b)
    gamma = math.sqrt(finetune) * c * xi**2 * r * g2
    delta = finetune * d * (-xi * eta * np.sqrt(r) * grad - 0.5 * gamma * theta)
    state.update(count=t, v=v, b=b + gamma * (finetune + b))
    return theta + delta


def amos_schedule(xi: float, eta: float, T: int, zeta: float = 0.25) -> dict[str, NDArray[np.float64]]:
    """Amos' b_t, learning-rate factor d_t and decay rate ½γ_t d_t for t = 1..T when r_t·mean(g²) ≡ 1 (steady state)."""
    xi = real(xi, "xi", positive=True, maximum=1e3)
    eta = real(eta, "eta", positive=True)
    T = integer(T, "T", minimum=1, maximum=10_000_000)
    zeta = real(zeta, "zeta", positive=True, allow_zero=True)
    b_out, d_out, decay_out = np.empty(T), np.empty(T), np.empty(T)
    b, cx, cd = 0.0, zeta * math.sqrt(xi), zeta * math.sqrt(xi * eta)
    for i in range(T):  # the same recursion as amos_reference_step, on one scalar
        gamma = xi**2 / math.sqrt(1.0 + cx * b)
        d = 1.0 / (1.0 + cd * b)
        d_out[i], decay_out[i] = d, 0.5 * gamma * d
        b += gamma * (1.0 + b)
        b_out[i] = b
    return {"t": np.arange(1, T + 1, dtype=float), "b": b_out, "d": d_out, "decay": decay_out}


def slot_memory(module: torch.nn.Module, optimizer: str = "adamw",
                shape_fn: Callable[[str, tuple[int, ...]], tuple[int, ...]] | None = None,
                momentum: bool = False) -> int:
    """Number of slot-variable entries an optimizer keeps for ``module``'s parameters.

    "adamw": m and v, each of the parameter's shape. "adafactor": factored second moment (row + column vectors over
    the last two axes, full for vectors), no momentum. "amos": v and b of the shape ``shape_fn(name, shape)`` gives
    (default: the full shape), plus a full-size momentum if ``momentum``.
    """
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    optimizer = choice(optimizer, "optimizer", ("adamw", "adafactor", "amos"))
    if shape_fn is not None and not callable(shape_fn):
        raise TypeError("shape_fn must be callable (name, shape) -> reduced shape")
    if not isinstance(momentum, bool):
        raise TypeError(f"momentum must be a bool, got {type(momentum).__name__}")
    total = 0
    for name, param in module.named_parameters():
        shape = tuple(param.shape)
        n = math.prod(shape)
        if optimizer == "adamw":
            total += 2 * n
        elif optimizer == "adafactor":
            total += math.prod(shape[:-2]) * (shape[-2] + shape[-1]) if len(shape) >= 2 else n
        else:
            reduced = shape if shape_fn is None else _shape(shape_fn(name, shape), "shape_fn's result")
            total += 2 * math.prod(reduced) + (n if momentum else 0)
    return total


class AmosLike(torch.optim.Optimizer):
    """The post's recipe: θ ← θ − α_t u_t − ρ_t θ, α_t = α₀‖ε₀‖d_t/‖u_t‖, ρ_t = α₀² d_t/(2q), per tensor.

    u_t is Adam's direction without momentum, g/(√v̂ + eps) (0 where v̂ = 0); ‖ε₀‖ = √(2k)·std(θ₀) for tensors with
    two or more axes and √k·sigma_bias for vectors; d_t is the schedule factor ("const", "inv_time", "inv_square")
    with coefficient ``alpha0_p``. eps = 0 keeps the invariance to rescaling a parameter exact. Non-finite or
    negative hyper-parameters raise a ValueError naming them.
    """

    def __init__(self, params: Iterable[torch.Tensor], alpha0: float = 0.01, schedule: str = "inv_time",
                 alpha0_p: float = 1e-3, q: float = 1.0, beta2: float = 0.999, sigma_bias: float = 0.5,
                 eps: float = 0.0, weight_decay: bool = True) -> None:
        if isinstance(params, torch.Tensor) or not isinstance(params, Iterable):
            raise TypeError(f"params must be an iterable of tensors or parameter groups, got {type(params).__name__}")
        params = list(params)
        if not params:
            raise ValueError("params must not be empty")
        alpha0 = real(alpha0, "alpha0", positive=True, maximum=1e3)
        schedule = choice(schedule, "schedule", SCHEDULES)
        alpha0_p = real(alpha0_p, "alpha0_p", positive=True, allow_zero=True, maximum=1e3)
        q = real(q, "q", positive=True)
        beta2 = real(beta2, "beta2", positive=True, allow_zero=True)
        if beta2 >= 1:
            raise ValueError(f"beta2 must be below 1, got {beta2}")
        sigma_bias = real(sigma_bias, "sigma_bias", positive=True)
        eps = real(eps, "eps", positive=True, allow_zero=True)
        if not isinstance(weight_decay, bool):
            raise TypeError(f"weight_decay must be a bool, got {type(weight_decay).__name__}")
        defaults = dict(alpha0=alpha0, schedule=schedule, alpha0_p=alpha0_p, q=q, beta2=beta2,
                        sigma_bias=sigma_bias, eps=eps, weight_decay=weight_decay)
        super().__init__(params, defaults)

    @staticmethod
    def factor(schedule: str, t: int, alpha0_p: float) -> float:
        """The schedule factor d_t."""
        if schedule == "const":
            return 1.0
        if schedule == "inv_time":
            return float(decay_inverse_time(t, alpha0_p))
        return float(decay_inverse_square(t, alpha0_p))

    def _init_state(self, p: torch.Tensor, group: dict) -> dict:
        """Step count, second moment and ‖ε₀‖ of a parameter, set at its first step."""
        state = self.state[p]
        k = p.numel()
        if p.dim() >= 2:
            sigma = float(p.std())
            # a constant-initialised matrix has no spread to read off; fall back to the vector prior
            state["eps0"] = eps0_norm(k, sigma, "kernel") if sigma > 0 else eps0_norm(k, group["sigma_bias"], "bias")
        else:
            state["eps0"] = eps0_norm(k, group["sigma_bias"], "bias")
        state["t"] = 0
        state["v"] = torch.zeros_like(p)
        return state

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> torch.Tensor | None:
        """One update of every parameter that has a gradient."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                if not torch.isfinite(g).all():
                    raise ValueError("a gradient contains non-finite values; check the loss or lower alpha0")
                state = self.state[p] or self._init_state(p, group)
                t, beta2 = state["t"], group["beta2"]
                v = state["v"].mul_(beta2).addcmul_(g, g, value=1 - beta2)
                denom = (v / (1 - beta2 ** (t + 1))).sqrt_().add_(group["eps"])
                safe = torch.where(denom > 0, denom, torch.ones_like(denom))
                u = torch.where(denom > 0, g / safe, torch.zeros_like(g))  # 0/0 -> 0: inputs that are always zero
                d = self.factor(group["schedule"], t, group["alpha0_p"])
                if group["weight_decay"]:
                    p.mul_(1 - group["alpha0"] ** 2 * d / (2 * group["q"]))
                u_norm = float(u.norm())
                if u_norm > 0:
                    p.add_(u, alpha=-group["alpha0"] * state["eps0"] * d / u_norm)
                state["t"] = t + 1
        return loss


OPTIMIZERS = ("adam", "adamw", "adamw_cosine", "amos")
"""Optimizers of the digits experiments: Adam (lr 1e-3), AdamW (lr 1e-3, wd 0.01), AdamW with a cosine schedule,
and AmosLike (inverse-time schedule)."""


class ScaledMLP(torch.nn.Module):
    """A 64→hidden→10 ReLU network whose weight matrices are W = c·V with V trainable (V₀ = W₀/c, same function)."""

    def __init__(self, c: float = 1.0, hidden: int = 128) -> None:
        super().__init__()
        self.c = real(c, "c", positive=True, maximum=1e3)
        hidden = integer(hidden, "hidden", minimum=1, maximum=4096)
        first, second = torch.nn.Linear(64, hidden), torch.nn.Linear(hidden, 10)
        self.V1 = torch.nn.Parameter(first.weight.detach() / self.c)
        self.b1 = torch.nn.Parameter(first.bias.detach().clone())
        self.V2 = torch.nn.Parameter(second.weight.detach() / self.c)
        self.b2 = torch.nn.Parameter(second.bias.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of a batch of flattened 8×8 images."""
        h = torch.relu(x @ (self.c * self.V1).T + self.b1)
        return h @ (self.c * self.V2).T + self.b2


def _digits_tensors() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """scikit-learn digits, stratified 70/30 split (random_state 0), pixels divided by 16."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X / 16.0, y, test_size=0.3, stratify=y, random_state=0)
    f = torch.float32
    return (torch.tensor(Xtr, dtype=f), torch.tensor(ytr), torch.tensor(Xte, dtype=f), torch.tensor(yte))


def _make_optimizer(name: str, params: list[torch.Tensor], steps: int, alpha0: float,
                    alpha0_p: float) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler | None]:
    """The optimizer (and scheduler) called ``name`` in OPTIMIZERS."""
    if name == "adam":
        return torch.optim.Adam(params, lr=1e-3), None
    if name in ("adamw", "adamw_cosine"):
        opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps) if name == "adamw_cosine" else None
        return opt, sched
    return AmosLike(params, alpha0=alpha0, schedule="inv_time", alpha0_p=alpha0_p), None


def train_digits(optimizer: str = "amos", c: float = 1.0, seed: int = 0, steps: int = 2000, batch: int = 64,
                 alpha0: float = 0.03, alpha0_p: float = 1e-3) -> dict[str, float]:
    """Train ScaledMLP(c) on the digits with one optimizer; final test accuracy and training loss."""
    optimizer = choice(optimizer, "optimizer", OPTIMIZERS)
    seed = integer(seed, "seed", minimum=0, maximum=2**63 - 1)
    steps = integer(steps, "steps", minimum=1, maximum=100_000)
    batch = integer(batch, "batch", minimum=1, maximum=1024)
    Xtr, ytr, Xte, yte = _digits_tensors()
    torch.manual_seed(seed)
    model = ScaledMLP(c)
    opt, sched = _make_optimizer(optimizer, list(model.parameters()), steps, alpha0, alpha0_p)
    gen = torch.Generator().manual_seed(seed)
    loss_fn = torch.nn.functional.cross_entropy
    for _ in range(steps):
        idx = torch.randint(len(Xtr), (batch,), generator=gen)
        loss = loss_fn(model(Xtr[idx]), ytr[idx])
        if not torch.isfinite(loss):
            raise ValueError("the training loss became non-finite")
        opt.zero_grad()
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
    with torch.no_grad():
        acc = float((model(Xte).argmax(1) == yte).float().mean())
        train_loss = float(loss_fn(model(Xtr), ytr))
    return {"test_acc": acc, "train_loss": train_loss}


def readme_cnn() -> torch.nn.Module:
    """The MNIST CNN of the Amos README, layer shapes only: conv 3×3×1×32, conv 3×3×32×64, dense 3136×256, 256×10."""
    nn = torch.nn
    return nn.Sequential(nn.Conv2d(1, 32, 3), nn.Conv2d(32, 64, 3), nn.Linear(3136, 256), nn.Linear(256, 10))


def readme_shape_fn(name: str, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The README's reduced slot shapes for readme_cnn: conv kernels per output channel, Dense_0 per output, else 1."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a parameter name (a string), got {type(name).__name__}")
    if not isinstance(shape, (tuple, list)) or not shape or not all(isinstance(n, int) for n in shape):
        raise TypeError(f"shape must be a non-empty tuple of integers, got {shape!r}")
    if name in ("0.weight", "1.weight"):
        return (shape[0], 1, 1, 1)
    return (shape[0], 1) if name == "2.weight" else (1,)


def explorer_figure(alpha0: float = 0.01, p: float = 0.1, schedule: str = "inverse time", steps: int = 3000,
                    k: int = 1024) -> matplotlib.figure.Figure:  # noqa: F821
    """The explorer's figure: the schedule factors (and a cosine) and the toy model's ratio against its prediction."""
    import matplotlib.pyplot as plt

    alpha0 = real(alpha0, "alpha0", positive=True)
    p = real(p, "p", positive=True)
    schedule = choice(schedule, "schedule", ("inverse time", "inverse square"))
    steps = integer(steps, "steps", minimum=10, maximum=20_000)
    tt = np.arange(steps + 1)
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 3.6))
    ax.plot(tt, decay_inverse_square(tt, alpha0 * p), label="1/(α₀pt+1)²")
    ax.plot(tt, decay_inverse_time(tt, alpha0 * p), label="1/(2α₀pt+1)")
    ax.plot(tt, 0.5 * (1 + np.cos(np.pi * tt / steps)), "--", color="grey", label="cosine")
    ax.set(xlabel="step t", ylabel="schedule factor", title="learning-rate factor")
    ax.legend()
    mode = "dynamic" if schedule == "inverse time" else "constant"
    out = toy_geometry(k, 0.05, alpha0, p, steps, mode)
    pred = np.sqrt(decay_inverse_time(tt, alpha0 * p)) if mode == "dynamic" else 1 / (alpha0 * p * tt + 1)
    bx.plot(tt, out["ratio"], label="toy model")
    bx.plot(tt, pred, "--", label="first-order prediction")
    bx.set(xlabel="step t", ylabel="‖ε_t‖/‖ε₀‖", yscale="log", title=f"toy model, {schedule}")
    bx.legend()
    return fig
