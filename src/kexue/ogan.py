"""O-GAN: a GAN whose discriminator is also an encoder.

Chapter source: Su Jianlin (苏剑林), 《O-GAN:简单修改,让GAN的判别器变成一个编码器!》 ("O-GAN: a simple change that
turns a GAN's discriminator into an encoder"), Scientific Spaces, 2019-03-06, https://kexue.fm/archives/6409; paper
arXiv:1903.01931; official Keras code github.com/bojone/o-gan.

The discriminator is a vector-valued network ``E: R^{n_x} -> R^{n_z}``; its score is the *mean* of ``E(x)``'s
coordinates (real images score low), and one extra loss term, the Pearson correlation between the noise ``z`` and
``E(G(z))``, makes it an encoder. Reconstructions are ``G(N(E(x)))`` with ``N`` the standardisation.

The loss is the official one (``o_gan_celeba.py``), a single objective whose stop-gradients route the terms:

- ``t1 = avg E(x) - avg E(sg[G(z)])`` and ``qp = t1**2 / mean_pixels((x - sg[G(z)])**2)`` reach only E;
- ``t2 = avg E(G(z)) - avg E(sg[G(z)])`` reaches only G (its two parts cancel for E);
- ``corr = rho(z, E(G(z)))`` reaches both;
- ``loss = mean(t1 + t2 - lam2 * corr) + lam1 * mean(qp)`` with ``lam1 = 0.25``, ``lam2 = 0.5``.

torch is imported at the top: this module is about training networks. ``import kexue`` does not import it.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from torch import nn

from kexue import runtime, validate

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from mpl_toolkits.mplot3d import Axes3D
    from sklearn.linear_model import LogisticRegression
from kexue.validate import choice as _check_choice
from kexue.validate import integer as _check_int
from kexue.validate import real as _check_real

__all__ = [
    "INVARIANCE_CASES", "OFFICIAL_PARAMS", "TrainLog", "batchnorm_statistics", "class_entropy",
    "code_correlation", "count_parameters", "decode", "decompose", "digit_classifier", "encode", "encoder_report",
    "gradient_norms", "image_rows",
    "information_bound", "interpolate", "linear_probe", "make_conv_ogan", "make_mlp_ogan", "nearest_mse",
    "official_architecture", "ogan_loss", "ogan_terms", "pearson", "plot_decomposition", "reconstruct", "sample",
    "standardize", "train_many", "train_ogan",
]

TensorLike = ArrayLike | torch.Tensor  # images or codes: a tensor, or anything NumPy reads as an array of reals

# Trainable parameters of the official 128-px CelebA model (o_gan_celeba.py), encoder and generator.
OFFICIAL_PARAMS: dict[str, int] = {"E": 19_515_904, "G": 19_531_267}
RECONS = ("corr", "mse")
OPTIMIZERS = ("rmsprop", "adam")


# --- Input checks ------------------------------------------------------------------------------------------------
def _check_module(value: Any, name: str) -> nn.Module:
    """Return ``value`` if it is a torch Module; else raise naming ``name``."""
    if not isinstance(value, nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {type(value).__name__}")
    return value


def _as_float_tensor(value: Any, name: str, min_dim: int = 1) -> torch.Tensor:
    """A finite float32 tensor from a tensor or array-like of reals, with at least ``min_dim`` dimensions."""
    return validate.tensor(value, name, min_ndim=min_dim)


def _check_dim(x: Any, dim: Any, name: str) -> int:
    """Validate a dimension index for ``x`` and the length (at least 2) along it."""
    dim = _check_int(dim, "dim")
    ndim = x.dim() if isinstance(x, torch.Tensor) else x.ndim
    if not -ndim <= dim < ndim:
        raise ValueError(f"dim must index one of the {ndim} dimensions of {name}, got {dim}")
    if x.shape[dim] < 2:
        raise ValueError(f"{name} needs at least 2 coordinates along dim {dim}, got {x.shape[dim]}")
    return dim


def _as_vectors(value: Any, name: str) -> np.ndarray | torch.Tensor:
    """A floating tensor unchanged (float64 if it held integers), or an array-like as a finite float64 array."""
    if isinstance(value, torch.Tensor):
        return validate.tensor(value, name, min_ndim=1, dtype=None if value.is_floating_point() else torch.float64)
    return validate.array(value, name, min_ndim=1, dtype=np.float64)


# --- The decomposition and the correlation -----------------------------------------------------------------------
def decompose(z: TensorLike, dim: int = -1) -> tuple[TensorLike, TensorLike, TensorLike]:
    """(avg, std, N) of z along ``dim`` (population std), so that z = avg + std * N; tensors stay tensors."""
    z = _as_vectors(z, "z")
    dim = _check_dim(z, dim, "z")
    avg = z.mean(dim, keepdims=True) if isinstance(z, np.ndarray) else z.mean(dim, keepdim=True)
    centred = z - avg
    std = (centred**2).mean(dim, keepdims=True) if isinstance(z, np.ndarray) else (centred**2).mean(dim, keepdim=True)
    std = std**0.5
    if bool((std == 0).any()):
        raise ValueError("z has a constant vector along dim: its standardisation is undefined")
    if not bool(np.isfinite(std).all() if isinstance(std, np.ndarray) else torch.isfinite(std).all()):
        raise ValueError("z is too large in magnitude: its standard deviation overflows")
    return avg, std, centred / std


def standardize(z: TensorLike, dim: int = -1) -> NDArray[np.float64] | torch.Tensor:
    """N(z) = (z - avg z) / std z along ``dim``, with the population std (divide by n, not n - 1)."""
    return decompose(z, dim)[2]


def pearson(z: TensorLike, zh: TensorLike, dim: int = -1) -> NDArray[np.float64] | torch.Tensor:
    """Pearson correlation of z and zh along ``dim`` (batched); equals cos(N(z), N(zh)). Tensors stay tensors."""
    z, zh = _as_vectors(z, "z"), _as_vectors(zh, "zh")
    if isinstance(z, torch.Tensor) != isinstance(zh, torch.Tensor):
        z, zh = (torch.as_tensor(v) if not isinstance(v, torch.Tensor) else v for v in (z, zh))
        zh = zh.to(z.dtype)
    dim = _check_dim(z, dim, "z")
    _check_dim(zh, dim, "zh")
    if z.shape[dim] != zh.shape[dim]:
        raise ValueError(f"z and zh must have the same length along dim {dim}, got {z.shape[dim]} and "
                         f"{zh.shape[dim]}")
    if isinstance(z, np.ndarray):
        a = z - z.mean(dim, keepdims=True)
        b = zh - zh.mean(dim, keepdims=True)
        norms = np.sqrt((a**2).sum(dim) * (b**2).sum(dim))
        if np.any(norms == 0):
            raise ValueError("z or zh has a constant vector along dim: the correlation is undefined")
        return (a * b).sum(dim) / norms
    # Torch: the official code's form, dot product of L2-normalised centred vectors (safe and differentiable).
    a = z - z.mean(dim, keepdim=True)
    b = zh - zh.mean(dim, keepdim=True)
    a = a / (a**2).sum(dim, keepdim=True).clamp_min(1e-12).sqrt()
    b = b / (b**2).sum(dim, keepdim=True).clamp_min(1e-12).sqrt()
    return (a * b).sum(dim)


# --- The loss ------------------------------------------------------------------------------------------------------
def _check_batch(E: Any, G: Any, x: Any, z: Any) -> tuple[nn.Module, nn.Module, torch.Tensor, torch.Tensor]:
    """Validate the networks and a batch of real images x and noise z."""
    E, G = _check_module(E, "E"), _check_module(G, "G")
    x, z = _as_float_tensor(x, "x", 2), _as_float_tensor(z, "z", 2)
    if z.dim() != 2:
        raise ValueError(f"z must have shape (batch, n_z), got {tuple(z.shape)}")
    if x.shape[0] != z.shape[0]:
        raise ValueError(f"x and z must have the same batch size, got {x.shape[0]} and {z.shape[0]}")
    if z.shape[1] < 2:
        raise ValueError(f"z needs at least 2 coordinates for a correlation, got {z.shape[1]}")
    return E, G, x, z


def ogan_terms(E: nn.Module, G: nn.Module, x: TensorLike, z: TensorLike) -> dict[str, torch.Tensor]:
    """The per-sample terms of the official loss: t1, t2, qp, corr (and mse, for the ablation), as tensors."""
    E, G, x, z = _check_batch(E, G, x, z)
    x_fake = G(z)
    if x_fake.shape != x.shape:
        raise ValueError(f"G(z) has shape {tuple(x_fake.shape)} but x has shape {tuple(x.shape)}")
    x_fake_sg = x_fake.detach()  # sg[G(z)]
    e_real, e_fake, e_fake_sg = E(x), E(x_fake), E(x_fake_sg)  # three calls, as in the official code
    if e_fake.shape != z.shape:
        raise ValueError(f"E(G(z)) has shape {tuple(e_fake.shape)} but z has shape {tuple(z.shape)}")
    t1 = e_real.mean(1) - e_fake_sg.mean(1)
    t2 = e_fake.mean(1) - e_fake_sg.mean(1)
    qp = t1**2 / ((x - x_fake_sg) ** 2).flatten(1).mean(1)
    return {"t1": t1, "t2": t2, "qp": qp, "corr": pearson(z, e_fake), "mse": ((z - e_fake) ** 2).mean(1)}


def _combine(terms: dict[str, torch.Tensor], lam1: float, lam2: float, recon: str) -> torch.Tensor:
    """The scalar loss from the per-sample terms."""
    recon_term = -lam2 * terms["corr"] if recon == "corr" else lam2 * terms["mse"]
    return (terms["t1"] + terms["t2"] + recon_term).mean() + lam1 * terms["qp"].mean()


def ogan_loss(E: nn.Module, G: nn.Module, x: TensorLike, z: TensorLike, lam1: float = 0.25,
              lam2: float = 0.5,
              recon: str = "corr") -> tuple[torch.Tensor, dict[str, float]]:
    """The official single O-GAN loss and its batch means; recon="mse" swaps -lam2*corr for lam2*mean((z-E(G(z)))^2)."""
    lam1, lam2 = _check_real(lam1, "lam1", 0.0), _check_real(lam2, "lam2", 0.0)
    recon = _check_choice(recon, "recon", RECONS)
    terms = ogan_terms(E, G, x, z)
    loss = _combine(terms, lam1, lam2, recon)
    stats = {name: float(value.detach().mean()) for name, value in terms.items()}
    stats["loss"] = float(loss.detach())
    return loss, stats


def gradient_norms(E: nn.Module, G: nn.Module, terms: dict[str, torch.Tensor]) -> dict[str, dict[str, float]]:
    """For each per-sample term, the norm of the gradient of its batch mean on all of E's and all of G's parameters."""
    E, G = _check_module(E, "E"), _check_module(G, "G")
    if not isinstance(terms, dict) or not terms or not all(isinstance(v, torch.Tensor) for v in terms.values()):
        raise TypeError("terms must be a non-empty dict of tensors, as ogan_terms returns")
    norms = {}
    for name, value in terms.items():
        norms[name] = {}
        for label, net in (("|grad| on E", E), ("|grad| on G", G)):
            params = list(net.parameters())
            grads = torch.autograd.grad(value.mean(), params, retain_graph=True, allow_unused=True) \
                if value.requires_grad else []
            norms[name][label] = math.sqrt(sum(float((g**2).sum()) for g in grads if g is not None))
    return norms


# --- Models ----------------------------------------------------------------------------------------------------
def make_mlp_ogan(n_x: int = 64, n_z: int = 16, hidden: int = 256) -> tuple[nn.Module, nn.Module]:
    """A small (E, G) pair of MLPs: E = n_x-h-h-n_z with LeakyReLU(0.2); G = n_z-h-h-n_x with BN, ReLU and tanh."""
    n_x, n_z, hidden = _check_int(n_x, "n_x", 1), _check_int(n_z, "n_z", 2), _check_int(hidden, "hidden", 1)
    validate.memory(2 * 4.0 * (n_x * hidden + hidden * hidden + hidden * n_z), "n_x, n_z or hidden",
                    "the two networks' weights")
    E = nn.Sequential(nn.Linear(n_x, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
                      nn.Linear(hidden, n_z))
    G = nn.Sequential(nn.Linear(n_z, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
                      nn.Linear(hidden, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
                      nn.Linear(hidden, n_x), nn.Tanh())
    return E, G


def make_conv_ogan(img_size: int = 28, channels: int = 1, n_z: int = 16,
                   width: int = 32) -> tuple[nn.Module, nn.Module]:
    """A small DCGAN-style (E, G) for (B, channels, img_size, img_size) images; img_size divisible by 4."""
    img_size, channels = _check_int(img_size, "img_size", 4), _check_int(channels, "channels", 1)
    n_z, width = _check_int(n_z, "n_z", 2), _check_int(width, "width", 1)
    if img_size % 4:
        raise ValueError(f"img_size must be divisible by 4, got {img_size}")
    s = img_size // 4
    weights = 2 * (2 * width * s * s * n_z) + 16 * width * (channels + 2 * width) + 2 * width * s * s
    validate.memory(4.0 * 2 * weights, "width, channels, img_size or n_z",
                    "the two networks' weights")
    E = nn.Sequential(nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2),
                      nn.Conv2d(width, 2 * width, 4, 2, 1), nn.BatchNorm2d(2 * width), nn.LeakyReLU(0.2),
                      nn.Flatten(), nn.Linear(2 * width * s * s, n_z))
    G = nn.Sequential(nn.Linear(n_z, 2 * width * s * s), nn.BatchNorm1d(2 * width * s * s), nn.ReLU(),
                      nn.Unflatten(1, (2 * width, s, s)),
                      nn.ConvTranspose2d(2 * width, width, 4, 2, 1), nn.BatchNorm2d(width), nn.ReLU(),
                      nn.ConvTranspose2d(width, channels, 4, 2, 1), nn.Tanh())
    return E, G


def official_architecture(img_dim: int = 128, z_dim: int = 128, device: str = "meta",
                          kernel_size: int = 5) -> tuple[nn.Module, nn.Module]:
    """A PyTorch transcription of the official o_gan_celeba.py encoder and generator (on the meta device: no memory).

    ``img_dim`` is the image side (a power of two; 128 in o_gan_celeba.py, 256 in the ``_256`` variant) and
    ``kernel_size`` the side of every conv kernel (5 officially, 4 in the ``sm_4x4`` variants).
    """
    img_dim, z_dim = _check_int(img_dim, "img_dim", 16, 1024), _check_int(z_dim, "z_dim", 2, 4096)
    kernel_size = _check_int(kernel_size, "kernel_size", 2, 9)
    if img_dim & (img_dim - 1):
        raise ValueError(f"img_dim must be a power of two, got {img_dim}")
    img_dim, z_dim = _check_int(img_dim, "img_dim", 16, 1024), _check_int(z_dim, "z_dim", 2, 4096)
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"device must be a str or torch.device, got {type(device).__name__}")
    try:
        device = torch.device(device)
    except RuntimeError as err:
        raise ValueError(f"device must name a torch device: {err}") from None
    if device.type != "meta":  # count the weights on the meta device first: refuse what would not fit
        shapes = official_architecture(img_dim, z_dim, "meta")
        weights = sum(p.numel() for net in shapes for p in net.parameters())
        validate.memory(3.0 * 4 * weights, "img_dim", "the networks' weights and their initialisation")
    num_layers = int(math.log2(img_dim)) - 3
    max_channels = img_dim * 8
    f_size = img_dim // 2 ** (num_layers + 1)

    # Keras defaults: BatchNormalization(momentum=0.99, epsilon=1e-3); 'same' k×k stride-2 convs halve or double.
    # 'same' padding in PyTorch terms: a stride-2 conv maps n to n/2, a stride-2 transposed conv n to 2n.
    k, pad = kernel_size, (kernel_size - 1) // 2
    out_pad = 2 - kernel_size + 2 * pad
    def bn(c: int) -> nn.Module:
        return nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)

    with torch.device(device):
        layers: list[nn.Module] = []
        in_ch = 3
        for i in range(num_layers + 1):
            out_ch = max_channels // 2 ** (num_layers - i)
            layers.append(nn.Conv2d(in_ch, out_ch, k, stride=2, padding=pad))
            if i > 0:
                layers.append(bn(out_ch))
            layers.append(nn.LeakyReLU(0.2))
            in_ch = out_ch
        layers += [nn.Flatten(), nn.Linear(f_size * f_size * max_channels, z_dim)]
        E = nn.Sequential(*layers)

        layers = [nn.Linear(z_dim, f_size * f_size * max_channels), nn.Unflatten(1, (max_channels, f_size, f_size)),
                  bn(max_channels), nn.ReLU()]
        in_ch = max_channels
        for i in range(num_layers):
            out_ch = max_channels // 2 ** (i + 1)
            layers += [nn.ConvTranspose2d(in_ch, out_ch, k, stride=2, padding=pad, output_padding=out_pad),
                       bn(out_ch), nn.ReLU()]
            in_ch = out_ch
        layers += [nn.ConvTranspose2d(in_ch, 3, k, stride=2, padding=pad, output_padding=out_pad), nn.Tanh()]
        G = nn.Sequential(*layers)
    if device.type == "meta":
        return E, G  # shapes only: initialising meta tensors would only load torch's reference kernels
    for module in (*E.modules(), *G.modules()):  # the official RandomNormal(0, 0.02) kernels
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(module.weight, 0.0, 0.02)
            nn.init.zeros_(module.bias)
    return E, G


def count_parameters(module: nn.Module) -> int:
    """The number of trainable parameters of a module (BatchNorm running statistics are buffers, not counted)."""
    module = _check_module(module, "module")
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def batchnorm_statistics(module: nn.Module) -> int:
    """The number of BatchNorm moving means and variances: what a Keras summary adds as non-trainable parameters."""
    module = _check_module(module, "module")
    return sum(m.running_mean.numel() + m.running_var.numel() for m in module.modules()
               if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.running_mean is not None)


# --- Training ----------------------------------------------------------------------------------------------------
@dataclass
class TrainLog:
    """What train_ogan records: windowed means of the loss terms, samples of fixed noise over training, timing."""

    steps: list[int] = field(default_factory=list)
    t1: list[float] = field(default_factory=list)
    corr: list[float] = field(default_factory=list)
    qp: list[float] = field(default_factory=list)
    mse: list[float] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    samples: dict[int, np.ndarray] = field(default_factory=dict)
    sample_z: np.ndarray | None = None
    seconds: float = 0.0
    config: dict[str, Any] = field(default_factory=dict)

    def frame(self) -> Any:
        """The logged curves as a pandas DataFrame indexed by step."""
        import pandas as pd

        return pd.DataFrame({"t1": self.t1, "corr": self.corr, "qp": self.qp, "mse": self.mse, "loss": self.loss},
                            index=pd.Index(self.steps, name="step"))


def train_ogan(X: TensorLike, steps: int = 2000, batch: int = 64, lr: float = 1e-4, optimizer: str = "rmsprop",
               seed: int = 0, lam1: float = 0.25, lam2: float = 0.5, recon: str = "corr", n_z: int = 16,
               hidden: int = 256, models: tuple[nn.Module, nn.Module] | None = None, log_every: int = 100,
               sample_at: Sequence[int] = (), n_samples: int = 10, threads: int | None = 1,
               progress: bool = True, desc: str = "O-GAN") -> tuple[nn.Module, nn.Module, TrainLog]:
    """Train (E, G) with the official loss on images X (n, ...) in [-1, 1]; returns (E, G, log)."""
    from tqdm.auto import tqdm

    X = _as_float_tensor(X, "X", 2)  # finite: one NaN pixel would silently turn every weight into NaN
    steps, batch = _check_int(steps, "steps", 1), _check_int(batch, "batch", 2)
    if batch > X.shape[0]:
        raise ValueError(f"batch must not exceed the number of images ({X.shape[0]}), got {batch}")
    lr = _check_real(lr, "lr", positive=True)
    optimizer = _check_choice(optimizer, "optimizer", OPTIMIZERS)
    seed = _check_int(seed, "seed", 0)
    lam1, lam2 = _check_real(lam1, "lam1", 0.0), _check_real(lam2, "lam2", 0.0)
    recon = _check_choice(recon, "recon", RECONS)
    log_every, n_samples = _check_int(log_every, "log_every", 1), _check_int(n_samples, "n_samples", 1)
    if isinstance(sample_at, (str, bytes)) or not hasattr(sample_at, "__iter__"):
        raise TypeError(f"sample_at must be a sequence of step numbers, got {type(sample_at).__name__}")
    sample_at = sorted({_check_int(s, "sample_at", 0) for s in sample_at})
    if threads is not None:
        runtime.set_threads(_check_int(threads, "threads", 1, runtime.usable_cores()))

    torch.manual_seed(seed)
    if models is None:
        if X.dim() != 2:
            raise ValueError(f"X must have shape (n, n_x) for the default MLP models, got {tuple(X.shape)}")
        E, G = make_mlp_ogan(X.shape[1], _check_int(n_z, "n_z", 2), _check_int(hidden, "hidden", 1))
    else:
        if not isinstance(models, tuple) or len(models) != 2:
            raise TypeError("models must be a pair (E, G) of torch modules")
        E, G = _check_module(models[0], "models[0]"), _check_module(models[1], "models[1]")
    params = [*E.parameters(), *G.parameters()]
    if optimizer == "rmsprop":  # Keras RMSprop(1e-4, rho=0.99), epsilon 1e-7: the official setting
        opt = torch.optim.RMSprop(params, lr=lr, alpha=0.99, eps=1e-7, foreach=True)
    else:
        opt = torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999), fused=True)

    gen = torch.Generator().manual_seed(seed)
    n_z_model = _latent_size(G)
    log = TrainLog(config={"steps": steps, "batch": batch, "lr": lr, "optimizer": optimizer, "seed": seed,
                           "lam1": lam1, "lam2": lam2, "recon": recon, "n_z": n_z_model})
    fixed_z = torch.randn(n_samples, n_z_model, generator=gen)
    log.sample_z = fixed_z.numpy().copy()

    def snapshot(step: int) -> None:
        if step in sample_at:
            log.samples[step] = _eval(G, fixed_z)

    window = {k: 0.0 for k in ("t1", "corr", "qp", "mse", "loss")}
    count, order, cursor = 0, torch.randperm(X.shape[0], generator=gen), 0
    clock = runtime.Stopwatch()
    snapshot(0)
    E.train()
    G.train()
    bar = tqdm(range(1, steps + 1), desc=desc, disable=not progress, mininterval=0.5, leave=True)
    for step in bar:
        if cursor + batch > X.shape[0]:  # a new epoch: reshuffle, drop the incomplete last batch
            order, cursor = torch.randperm(X.shape[0], generator=gen), 0
        x = X[order[cursor:cursor + batch]]
        cursor += batch
        z = torch.randn(batch, n_z_model, generator=gen)
        terms = ogan_terms(E, G, x, z)
        loss = _combine(terms, lam1, lam2, recon)
        if not torch.isfinite(loss):
            raise ValueError(f"training diverged at step {step} (loss = {float(loss)}): lower lr (got {lr}) or "
                             "check that X holds images scaled to [-1, 1]")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            for k in ("t1", "corr", "qp", "mse"):
                window[k] += float(terms[k].mean())
            window["loss"] += float(loss)
        count += 1
        if step % log_every == 0 or step == steps:
            log.steps.append(step)
            for k, total in window.items():
                getattr(log, k).append(total / count)
            bar.set_postfix(rho=f"{log.corr[-1]:.3f}", t1=f"{log.t1[-1]:.2f}", refresh=False)
            window, count = {k: 0.0 for k in window}, 0
        if step in sample_at:
            snapshot(step)
            E.train()
            G.train()
    bar.close()
    log.seconds = clock.elapsed()
    E.eval()
    G.eval()
    return E, G, log


def _train_job(job: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], TrainLog]:
    """Run one train_ogan job (in a worker process) and return plain state dicts, which pickle cheaply."""
    E, G, log = train_ogan(**job, progress=False, threads=1)
    state = lambda net: {k: v.detach().numpy() for k, v in net.state_dict().items()}  # noqa: E731
    return state(E), state(G), log


def _rebuild(job: dict[str, Any], states: tuple[dict[str, Any], dict[str, Any]]) -> tuple[nn.Module, nn.Module]:
    """The (E, G) of a job, built as train_ogan builds them, with the trained weights loaded."""
    import copy

    if job.get("models") is not None:
        E, G = (copy.deepcopy(m) for m in job["models"])
    else:
        n_x = int(np.prod(np.shape(job["X"])[1:]))
        E, G = make_mlp_ogan(n_x, job.get("n_z", 16), job.get("hidden", 256))
    for net, state in zip((E, G), states):
        net.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in state.items()})
        net.eval()
    return E, G


def train_many(jobs: Sequence[dict[str, Any]], workers: int | None = None, progress: bool = True,
               desc: str = "runs") -> list[tuple[nn.Module, nn.Module, TrainLog]]:
    """Run several train_ogan jobs (dicts of its keyword arguments, X included), on up to ``workers`` processes.

    By default ``workers`` is the number of idle cores (``runtime.free_cores``): on a busy machine extra processes
    only compete for the same cores. Results do not depend on ``workers`` (``runtime.run_parallel`` runs them).
    """
    if isinstance(jobs, dict) or not isinstance(jobs, Sequence) or not all(isinstance(j, dict) for j in jobs):
        raise TypeError("jobs must be a list of dicts of train_ogan keyword arguments")
    if not jobs:
        raise ValueError("jobs must not be empty")
    for i, job in enumerate(jobs):
        if "X" not in job:
            raise ValueError(f"jobs[{i}] has no 'X' (the training images)")
        unknown = set(job) & {"progress", "threads"}
        if unknown:
            raise ValueError(f"jobs[{i}] must not set {sorted(unknown)}: train_many sets them")
        _as_float_tensor(job["X"], f"jobs[{i}]['X']", 2)  # refuse bad images here, not in a worker
    results = runtime.run_parallel(_train_job, jobs, workers, progress=progress, desc=desc)
    return [(*_rebuild(job, (e, g)), log) for job, (e, g, log) in zip(jobs, results)]


def _latent_size(G: nn.Module) -> int:
    """The input size of G's first Linear layer (the latent dimension n_z)."""
    for module in G.modules():
        if isinstance(module, nn.Linear):
            return module.in_features
    raise ValueError("G must start with a torch.nn.Linear layer so that n_z can be read from it")


def _eval(net: nn.Module, inputs: torch.Tensor) -> np.ndarray:
    """net(inputs) in eval mode without gradients, as a NumPy array (the module is left in eval mode)."""
    net.eval()
    with torch.no_grad():
        return net(inputs).numpy()


# --- Using the trained networks ----------------------------------------------------------------------------------
def _like_input(result: np.ndarray, reference: Any) -> Any:
    """Return a tensor if the reference input was a tensor, else the NumPy array."""
    return torch.from_numpy(result) if isinstance(reference, torch.Tensor) else result


def encode(E: nn.Module, x: TensorLike) -> TensorLike:
    """The raw codes E(x) (eval mode, no gradients)."""
    E = _check_module(E, "E")
    return _like_input(_eval(E, _as_float_tensor(x, "x", 2)), x)


def decode(G: nn.Module, z: TensorLike) -> TensorLike:
    """G(z) for given codes z (eval mode, no gradients)."""
    G = _check_module(G, "G")
    return _like_input(_eval(G, _as_float_tensor(z, "z", 2)), z)


def sample(G: nn.Module, n: int = 64, seed: int = 0, scale: float = 1.0) -> np.ndarray:
    """n images G(scale * z) for fresh z ~ N(0, I) drawn with ``seed``."""
    G = _check_module(G, "G")
    n, seed = _check_int(n, "n", 1), _check_int(seed, "seed", 0)
    scale = _check_real(scale, "scale")
    z = torch.randn(n, _latent_size(G), generator=torch.Generator().manual_seed(seed))
    return _eval(G, scale * z)


def reconstruct(E: nn.Module, G: nn.Module, x: TensorLike, scale: float = 1.0) -> TensorLike:
    """Reconstructions G(scale * N(E(x))): the code is standardised first (its mean is the discriminator score)."""
    E, G = _check_module(E, "E"), _check_module(G, "G")
    scale = _check_real(scale, "scale")
    codes = torch.from_numpy(_eval(E, _as_float_tensor(x, "x", 2)))
    return _like_input(_eval(G, scale * standardize(codes)), x)


def interpolate(E: nn.Module, G: nn.Module, x_a: TensorLike, x_b: TensorLike, steps: int = 12,
                scale: float = 1.0) -> TensorLike:
    """Decode N((1 - t) N(E(x_a)) + t N(E(x_b))) for ``steps`` values of t from 0 to 1; shape (steps, *image)."""
    E, G = _check_module(E, "E"), _check_module(G, "G")
    steps, scale = _check_int(steps, "steps", 2), _check_real(scale, "scale")
    xa, xb = _as_float_tensor(x_a, "x_a", 1), _as_float_tensor(x_b, "x_b", 1)
    if xa.shape != xb.shape:
        raise ValueError(f"x_a and x_b must have the same shape, got {tuple(xa.shape)} and {tuple(xb.shape)}")
    codes = standardize(torch.from_numpy(_eval(E, torch.stack([xa, xb]))))
    t = torch.linspace(0, 1, steps)[:, None]
    mixed = standardize((1 - t) * codes[0] + t * codes[1])
    return _like_input(_eval(G, scale * mixed), x_a)


def code_correlation(E: nn.Module, G: nn.Module, n: int = 2000, seed: int = 1) -> float:
    """Mean Pearson correlation rho(z, E(G(z))) over n fresh z ~ N(0, I) (eval mode)."""
    E, G = _check_module(E, "E"), _check_module(G, "G")
    n, seed = _check_int(n, "n", 1), _check_int(seed, "seed", 0)
    z = torch.randn(n, _latent_size(G), generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        E.eval()
        G.eval()
        return float(pearson(z, E(G(z))).mean())


def _images(X: TensorLike, name: str) -> np.ndarray:
    """Images (n, ...) as a finite float64 array of n flattened rows."""
    if isinstance(X, torch.Tensor):
        X = X.detach().numpy()
    X = validate.array(X, name, min_ndim=1, dtype=np.float64)
    return X.reshape(len(X), -1)


def information_bound(rho: float, n_z: int) -> tuple[float, float]:
    """A lower bound (nats) on I(N(z); G(z)) from a mean correlation rho, and the von Mises-Fisher kappa attaining it.

    N(z)/sqrt(n_z) is uniform on the unit sphere S^{d-1}, d = n_z - 1, of the hyperplane orthogonal to 1. With the
    von Mises-Fisher decoder q(u | x) = C_d(kappa) exp(kappa * rho(u, E(x))), the Barber-Agakov bound reads
    I >= log|S^{d-1}| + log C_d(kappa) + kappa * E[rho], maximised here over kappa >= 0.
    """
    from scipy.optimize import minimize_scalar
    from scipy.special import gammaln, ive

    rho = _check_real(rho, "rho", minimum=-1.0)
    if rho > 1:
        raise ValueError(f"rho must be at most 1 (a correlation), got {rho}")
    d = _check_int(n_z, "n_z", 3, 100_000) - 1
    nu = d / 2 - 1
    log_area = math.log(2) + d / 2 * math.log(math.pi) - gammaln(d / 2)

    def bound(kappa: float) -> float:
        # log C_d(kappa) = nu log kappa - (d/2) log(2 pi) - log I_nu(kappa); ive = I_nu(kappa) exp(-kappa)
        log_c = nu * math.log(kappa) - d / 2 * math.log(2 * math.pi) - (math.log(ive(nu, kappa)) + kappa)
        return log_area + log_c + kappa * rho

    if rho <= 0:
        return 0.0, 0.0  # kappa = 0 (the uniform decoder) is optimal: the bound says nothing
    best = minimize_scalar(lambda t: -bound(math.exp(t)), bounds=(-10.0, 12.0), method="bounded",
                           options={"xatol": 1e-10})
    return max(0.0, float(-best.fun)), float(math.exp(best.x))


def digit_classifier(X: TensorLike, y: ArrayLike) -> LogisticRegression:
    """A multinomial logistic-regression classifier (scikit-learn) fitted on flattened images X and labels y."""
    from sklearn.linear_model import LogisticRegression

    X = _images(X, "X")
    y = validate.integers(y, "y", ndim=1)
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same length, got {len(X)} and {len(y)}")
    with runtime.blas_threads(1):  # small problems: one BLAS thread is fastest, and steady on a shared machine
        return LogisticRegression(max_iter=5000).fit(X, y)


def linear_probe(E: nn.Module, X_train: TensorLike, y_train: ArrayLike, X_test: TensorLike,
                 y_test: ArrayLike) -> float:
    """Test accuracy of a logistic regression on standardised raw codes E(x): how linearly readable the labels are."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    f_train, f_test = encode(E, X_train), encode(E, X_test)
    with runtime.blas_threads(1):
        probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)).fit(f_train, np.asarray(y_train))
        return float(probe.score(f_test, np.asarray(y_test)))


def encoder_report(E: nn.Module, G: nn.Module, X_train: TensorLike, y_train: ArrayLike, X_test: TensorLike,
                   y_test: ArrayLike, n_classifier: int = 2000) -> dict[str, float]:
    """How good a trained pair is as an encoder: rho on fresh noise, the linear probe on the codes, and a classifier
    (fitted on the first ``n_classifier`` real training images) reading the real and the reconstructed test images."""
    n_classifier = _check_int(n_classifier, "n_classifier", 10)
    X_train, X_test = _images(X_train, "X_train"), _images(X_test, "X_test")
    y_train, y_test = validate.integers(y_train, "y_train", ndim=1), validate.integers(y_test, "y_test", ndim=1)
    if len(X_train) != len(y_train) or len(X_test) != len(y_test):
        raise ValueError(f"X_train and y_train ({len(X_train)}, {len(y_train)}), X_test and y_test ({len(X_test)}, "
                         f"{len(y_test)}) must have matching lengths")
    classifier = digit_classifier(X_train[:n_classifier], y_train[:n_classifier])
    return {"rho": code_correlation(E, G), "probe": linear_probe(E, X_train, y_train, X_test, y_test),
            "acc_real": float(classifier.score(X_test, y_test)),
            "acc_recon": float(classifier.score(reconstruct(E, G, X_test), y_test))}


def nearest_mse(X_query: TensorLike, X_ref: TensorLike) -> np.ndarray:
    """For each query image, the per-pixel MSE to its nearest reference image (a memorising baseline)."""
    q, r = _images(X_query, "X_query"), _images(X_ref, "X_ref")
    if q.shape[1] != r.shape[1]:
        raise ValueError(f"X_query and X_ref must have the same number of pixels, got {q.shape[1]} and {r.shape[1]}")
    validate.memory(8.0 * 3 * len(q) * len(r), "X_query", "the table of distances to X_ref")
    with np.errstate(over="ignore", invalid="ignore"):
        sq = (q**2).sum(1)[:, None] + (r**2).sum(1)[None, :] - 2 * q @ r.T  # squared distances, without a 3-D array
    return validate.finite(np.maximum(sq.min(1), 0) / q.shape[1], "X_query or X_ref", "the squared distances")


def class_entropy(classifier: Any, images: TensorLike, n_classes: int = 10) -> float:
    """Entropy (nats) of the histogram of a classifier's predicted classes over images; log(10) = 2.303 is uniform."""
    n_classes = _check_int(n_classes, "n_classes", 2)
    if not hasattr(classifier, "predict"):
        raise TypeError(f"classifier must have a predict method, got {type(classifier).__name__}")
    images = np.asarray(images, dtype=np.float64)
    predicted = np.asarray(classifier.predict(images.reshape(len(images), -1)), dtype=np.int64)
    p = np.bincount(predicted, minlength=n_classes) / len(predicted)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


# --- Figures ----------------------------------------------------------------------------------------------------
def image_rows(rows: Sequence[Any], labels: Sequence[str], shape: tuple[int, int] = (8, 8), title: str = "",
               col_labels: Sequence[str] | None = None, size: float = 0.5) -> Figure:
    """A figure with one strip of images per row (pixels in [-1, 1], ink dark), each row labelled on the left."""
    import matplotlib.pyplot as plt

    for value, name in ((rows, "rows"), (labels, "labels")):
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise TypeError(f"{name} must be a sequence, got {type(value).__name__}")
    if len(rows) != len(labels) or not rows:
        raise ValueError(f"rows and labels must be non-empty and of the same length, got {len(rows)} and {len(labels)}")
    if not (isinstance(shape, tuple) and len(shape) == 2):
        raise TypeError(f"shape must be a pair (height, width), got {shape!r}")
    h, w = (_check_int(v, "shape", 1) for v in shape)
    strips = []
    for row in rows:
        images = np.asarray(row, dtype=np.float64).reshape(-1, h, w)
        gap = np.full((h, 1), np.nan)
        strips.append(np.hstack([np.hstack([im, gap]) for im in images])[:, :-1])
    n_cols = max(len(np.asarray(r).reshape(-1, h * w)) for r in rows)
    fig, axes = plt.subplots(len(rows), 1, figsize=(size * n_cols + 1.4, size * len(rows) * h / w + 0.6),
                             squeeze=False)
    cmap = plt.get_cmap("gray_r").copy()
    cmap.set_bad("white")
    for ax, strip, label in zip(axes[:, 0], strips, labels):
        ax.imshow(strip, cmap=cmap, vmin=-1, vmax=1, interpolation="nearest", aspect="equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize="small")
    if col_labels is not None:
        top = axes[0, 0]
        top.set_xticks([(w + 1) * j + (w - 1) / 2 for j in range(len(col_labels))])
        top.set_xticklabels(col_labels, fontsize="x-small")
        top.xaxis.set_ticks_position("top")
        top.tick_params(length=0)
    if title:
        fig.suptitle(title, fontsize="medium", y=1.0 + 0.12 / len(rows) if col_labels is not None else 0.98)
    return fig


def plot_decomposition(z: ArrayLike = (2.0, -0.5, 0.4), ax: Axes3D | None = None) -> Axes3D:
    """A 3-D picture of z = avg(z) 1 + std(z) N(z) for n_z = 3: the line along 1, the plane and the circle of N."""
    import matplotlib.pyplot as plt

    z = validate.vector(z, "z", size=3)
    if ax is not None and not hasattr(ax, "plot_surface"):
        raise TypeError(f"ax must be a 3-D matplotlib Axes (projection='3d') or None, got {type(ax).__name__}")
    avg, std, n = (np.ravel(v) for v in decompose(z))
    if ax is None:
        fig = plt.figure(figsize=(6, 5.2))
        ax = fig.add_subplot(projection="3d")
    one = np.ones(3) / math.sqrt(3)
    u = np.array([1.0, -1.0, 0.0]) / math.sqrt(2)  # an orthonormal basis (u, v) of the plane orthogonal to 1
    v = np.cross(one, u)
    t = np.linspace(0, 2 * math.pi, 200)
    circle = math.sqrt(3) * (np.outer(np.cos(t), u) + np.outer(np.sin(t), v))
    r, a = np.meshgrid(np.linspace(0, 2.2, 8), np.linspace(0, 2 * math.pi, 40))
    disc = (r[..., None] * (np.cos(a)[..., None] * u + np.sin(a)[..., None] * v))
    ax.plot_surface(disc[..., 0], disc[..., 1], disc[..., 2], color="#56B4E9", alpha=0.15, linewidth=0)
    ax.plot(*circle.T, color="#0072B2",
            label=r"$\mathcal{N}(z)$: circle of radius $\sqrt{3}$ in the plane $\perp \mathbf{1}$")
    line = np.outer(np.linspace(-2.5, 2.5, 2), np.ones(3))
    ax.plot(*line.T, color="grey", linestyle="--", label=r"the line along $\mathbf{1}$")
    base = avg[0] * np.ones(3)
    ax.quiver(0, 0, 0, *base, color="#E69F00", arrow_length_ratio=0.15, label=r"$\mathrm{avg}(z)\,\mathbf{1}$")
    ax.quiver(*base, *(std[0] * n), color="#009E73", arrow_length_ratio=0.1,
              label=r"$\mathrm{std}(z)\,\mathcal{N}(z)$")
    ax.scatter(*n, color="#0072B2", s=30)
    ax.scatter(*z, color="#D55E00", s=40, label=r"$z$", depthshade=False)
    ax.set(xlabel="$z_1$", ylabel="$z_2$", zlabel="$z_3$")
    ax.legend(loc="upper left", fontsize="x-small")
    return ax


# --- Exercise data (the checkers are in kexue.exercises.ogan) ----------------------------------------------------
INVARIANCE_CASES: tuple[str, ...] = (
    "3.2 * zh - 5", "-2 * zh", "zh + 7", "0.01 * zh", "zh ** 3", "zh + z", "np.exp(zh)", "zh[::-1]", "zh - zh.mean()",
    "(zh - zh.mean()) / zh.std()",
)
"""Transformations of zh for exercise ogan-invariances: which leave rho(z, zh) unchanged for every z?"""
