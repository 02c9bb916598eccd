"""Heat in a frying pan: material data, a thin-plate radial finite-volume model, its Bessel steady state, lumped
cooling, contact temperatures and induction skin depths.

Chapter source: Su Jianlin (苏剑林), 《【生活杂记】炒锅的尽头是铁锅》 ("[Life notes] The end of the road for frying
pans is the iron wok"), Scientific Spaces, 2023-11-13, https://kexue.fm/archives/9855.

Conventions: SI units throughout (m, s, W, J, kg), temperatures in degrees Celsius except inside the radiation term
sigma*T^4, which uses kelvin. A pan bottom is a disc of radius R, isothermal through its thickness, made of layers
(material, thickness); it is described by its heat capacity per area C = sum(rho c delta) (J m^-2 K^-1) and its
in-plane conductance K = sum(k delta) (W K^-1).

Material data (density rho, specific heat c, conductivity k at 300 K):

* Incropera, DeWitt, Bergman & Lavine, *Fundamentals of Heat and Mass Transfer*, Appendix Table A.1: carbon steel
  AISI 1010, plain carbon steel, pure iron, stainless AISI 304, aluminium, copper, titanium;
* Holman, *Heat Transfer*, Appendix Table A-2 (20 degC): cast iron, C about 4 %;
* PTFE: approximate values from manufacturers' datasheets (k about 0.25, c about 1000).

Table A.1 also gives temperature-dependent values (the conductivity of carbon steel falls and that of 304 rises
between 300 and 600 K); constant 300 K values are used here.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import scipy.linalg
import scipy.special
from numpy.typing import ArrayLike, NDArray
from scipy.integrate import solve_ivp

from kexue import validate

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "ABSOLUTE_ZERO", "LATENT_HEAT_WATER", "MATERIALS", "PANS", "PANS_RADIUS", "SIGMA", "SOURCES", "ConvergenceError",
    "HeatUp", "Pan", "RadialPan", "bessel_errors", "cap_area", "contact_temperature", "effusivity",
    "fin_steady_bessel", "heat_flux_profile", "heat_up", "heat_up_summary", "loaded_summary", "lumped_cooling",
    "pan_properties", "plate_properties", "plot_loaded_profiles", "rz_heat_up", "simulate_loaded", "skin_depth",
    "spreading_length", "steady_loaded", "surface_resistance", "time_to_temperature", "wall_check", "wok",
    "wok_cooling",
]

SIGMA = 5.670374419e-8  # Stefan-Boltzmann constant, W m^-2 K^-4
ABSOLUTE_ZERO = -273.15  # degC
MU_0 = 4e-7 * math.pi  # vacuum permeability, H m^-1 (the SI value to 1e-9)
LATENT_HEAT_WATER = 2.257e6  # J kg^-1 at 100 degC

# name -> (rho kg m^-3, c J kg^-1 K^-1, k W m^-1 K^-1); sources in the module docstring.
MATERIALS: dict[str, tuple[float, float, float]] = {
    "carbon_steel_1010": (7832.0, 434.0, 63.9),
    "plain_carbon_steel": (7854.0, 434.0, 60.5),
    "pure_iron": (7870.0, 447.0, 80.2),
    "stainless_304": (7900.0, 477.0, 14.9),
    "aluminium": (2702.0, 903.0, 237.0),
    "copper": (8933.0, 385.0, 401.0),
    "titanium": (4500.0, 522.0, 21.9),
    "cast_iron": (7272.0, 420.0, 52.0),
    "ptfe": (2200.0, 1000.0, 0.25),
}


@dataclass(frozen=True)
class Pan:
    """A pan bottom: its layers (material, thickness in m) and the emissivity of its faces (assumed)."""

    label: str
    layers: tuple[tuple[str, float], ...]
    emissivity: float


PANS: dict[str, Pan] = {
    "carbon_steel": Pan("carbon steel 1.5 mm", (("carbon_steel_1010", 0.0015),), 0.85),
    "cast_iron": Pan("cast iron 4 mm", (("cast_iron", 0.004),), 0.85),
    "stainless_304": Pan("stainless 304 2 mm", (("stainless_304", 0.002),), 0.3),
    "tri_ply": Pan("tri-ply SS/Al/SS", (("stainless_304", 0.0005), ("aluminium", 0.0015),
                                        ("stainless_304", 0.0005)), 0.3),
    "aluminium_ptfe": Pan("aluminium 3 mm + PTFE", (("aluminium", 0.003), ("ptfe", 30e-6)), 0.85),
    "titanium": Pan("titanium 1 mm", (("titanium", 0.001),), 0.4),
    "copper": Pan("copper 2 mm", (("copper", 0.002),), 0.3),
}

# Absorbed power of the two burners (W): a ~4-4.5 kW gas burner at ~55-60 % and a 2 kW induction hob at ~90 %.
SOURCES: dict[str, float] = {"gas": 2400.0, "induction": 1800.0}
GAS_RING = (0.05, 0.03)  # centre and width (m) of the gas flame's ring of heat
COIL = (0.025, 0.09)  # inner and outer radius (m) of the induction coil
PANS_RADIUS = 0.14  # radius (m) of the flat bottom of every pan of PANS (a 28 cm pan)


class ConvergenceError(RuntimeError):
    """A solver did not reach its target; the message says what was tried."""


# ------------------------------------------------------------------------------------------------ argument checks
def _length(value: float, name: str, allow_zero: bool = False) -> float:
    value = validate.real(value, name)
    if not (value > 0 or (allow_zero and value == 0)):
        raise ValueError(f"{name} must be {'non-negative' if allow_zero else 'positive'} (in m), got {value}")
    return value


def _positive(value: float, name: str, unit: str, allow_zero: bool = False) -> float:
    value = validate.real(value, name)
    if not (value > 0 or (allow_zero and value == 0)):
        raise ValueError(f"{name} must be {'non-negative' if allow_zero else 'positive'} (in {unit}), got {value}")
    return value


def _temperature(value: float, name: str) -> float:
    value = validate.real(value, name)
    if value <= ABSOLUTE_ZERO:
        raise ValueError(f"{name} must be above absolute zero ({ABSOLUTE_ZERO} degC), got {value} degC")
    return value


def _emissivity(value: float, name: str) -> float:
    value = validate.real(value, name)
    if not 0 <= value <= 1:
        raise ValueError(f"{name} must be between 0 and 1 (dimensionless), got {value}")
    return value


def _material(name: object, argument: str = "material") -> tuple[float, float, float]:
    return MATERIALS[validate.choice(name, argument, tuple(MATERIALS))]


def _pan(pan: object) -> Pan:
    if isinstance(pan, Pan):
        return pan
    return PANS[validate.choice(pan, "pan", tuple(PANS))]


def _field(value: ArrayLike, name: str, n: int, unit: str, kind: str = "any") -> NDArray[np.float64]:
    """A scalar or per-cell array of n finite values, checked for its physical range."""
    array = np.broadcast_to(np.asarray(value, dtype=float), (n,)) if np.ndim(value) == 0 else np.asarray(value, float)
    if array.shape != (n,):
        raise ValueError(f"{name} must be a scalar or an array of {n} cell values (in {unit}), got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite (in {unit})")
    if kind == "nonneg" and np.any(array < 0):
        raise ValueError(f"{name} must be non-negative (in {unit})")
    if kind == "temperature" and np.any(array <= ABSOLUTE_ZERO):
        raise ValueError(f"{name} must be above absolute zero ({ABSOLUTE_ZERO} degC)")
    if kind == "fraction" and np.any((array < 0) | (array > 1)):
        raise ValueError(f"{name} must be between 0 and 1 (dimensionless)")
    return array


# ------------------------------------------------------------------------------------------------ properties
def plate_properties(layers: Sequence[tuple[str, float]]) -> tuple[float, float]:
    """Heat capacity per area C = sum rho c delta (J m^-2 K^-1) and conductance K = sum k delta (W K^-1) of layers."""
    if isinstance(layers, (str, bytes)) or not isinstance(layers, Sequence) or len(layers) == 0:
        raise TypeError("layers must be a non-empty list of (material, thickness in m) pairs")
    C = K = 0.0
    for i, layer in enumerate(layers):
        if not isinstance(layer, (tuple, list)) or len(layer) != 2:
            raise TypeError(f"layers[{i}] must be a (material, thickness in m) pair, got {layer!r}")
        rho, c, k = _material(layer[0], f"layers[{i}] material")
        delta = _length(layer[1], f"layers[{i}] thickness")
        C += rho * c * delta
        K += k * delta
    return C, K


def pan_properties(pan: str | Pan) -> tuple[float, float]:
    """(C, K) of a pan of PANS by name."""
    return plate_properties(_pan(pan).layers)


def spreading_length(K: float, H: float) -> float:
    """Distance ell = sqrt(K / H) (m) over which a hot spot spreads in a plate of conductance K losing H per area."""
    K = _positive(K, "K", "W/K")
    H = _positive(H, "H", "W/(m^2 K)")
    return math.sqrt(K / H)


def effusivity(k: float, rho: float, c: float) -> float:
    """Thermal effusivity e = sqrt(k rho c) (J m^-2 K^-1 s^-1/2)."""
    k = _positive(k, "k", "W/(m K)")
    rho = _positive(rho, "rho", "kg/m^3")
    c = _positive(c, "c", "J/(kg K)")
    return math.sqrt(k * rho * c)


def contact_temperature(e1: float, T1: float, e2: float, T2: float) -> float:
    """Interface temperature (degC) of two semi-infinite bodies at T1, T2 with effusivities e1, e2 put in contact."""
    e1 = _positive(e1, "e1", "J m^-2 K^-1 s^-1/2")
    e2 = _positive(e2, "e2", "J m^-2 K^-1 s^-1/2")
    T1 = _temperature(T1, "T1")
    T2 = _temperature(T2, "T2")
    return (e1 * T1 + e2 * T2) / (e1 + e2)


def skin_depth(rho_e: float, mu_r: float, f: float) -> float:
    """Electromagnetic skin depth sqrt(2 rho_e / (omega mu_0 mu_r)) (m) at frequency f (Hz)."""
    rho_e = _positive(rho_e, "rho_e", "ohm m")
    mu_r = validate.real(mu_r, "mu_r")
    if mu_r < 1:
        raise ValueError(f"mu_r must be at least 1 (relative permeability, dimensionless), got {mu_r}")
    f = _positive(f, "f", "Hz")
    return math.sqrt(2 * rho_e / (2 * math.pi * f * MU_0 * mu_r))


def surface_resistance(rho_e: float, mu_r: float, f: float) -> float:
    """Surface resistance rho_e / skin depth (ohm): the resistance an induction coil's eddy currents meet."""
    return validate.real(rho_e, "rho_e") / skin_depth(rho_e, mu_r, f)


def cap_area(diameter: float, depth: float) -> float:
    """Area (m^2) of one face of a spherical cap (a round wok) of rim diameter and depth: pi (a^2 + h^2)."""
    diameter = _length(diameter, "diameter")
    depth = _length(depth, "depth", allow_zero=True)
    if depth > diameter / 2:
        raise ValueError(f"depth must be at most half the diameter (a cap, in m), got {depth} > {diameter / 2}")
    return math.pi * ((diameter / 2) ** 2 + depth**2)


# ------------------------------------------------------------------------------------------------ heat sources
def heat_flux_profile(kind: Literal["gas", "induction", "uniform"], r: ArrayLike, power: float,
                      cell_areas: ArrayLike, ring_radius: float = GAS_RING[0]) -> NDArray[np.float64]:
    """Absorbed flux q(r) (W m^-2) of a gas ring, an induction coil or a uniform source, scaled so sum q A = power."""
    kind = validate.choice(kind, "kind", ("gas", "induction", "uniform"))
    r = np.asarray(r, dtype=float)
    areas = np.asarray(cell_areas, dtype=float)
    if r.ndim != 1 or r.shape != areas.shape or r.size == 0:
        raise ValueError(f"r and cell_areas must be 1-D arrays of the same length (in m and m^2), got {r.shape}, "
                         f"{areas.shape}")
    if not (np.all(np.isfinite(r)) and np.all(r >= 0)):
        raise ValueError("r must be finite and non-negative (in m)")
    if not (np.all(np.isfinite(areas)) and np.all(areas > 0)):
        raise ValueError("cell_areas must be finite and positive (in m^2)")
    power = _positive(power, "power", "W", allow_zero=True)
    ring_radius = _length(ring_radius, "ring_radius", allow_zero=True)
    if kind == "gas":
        shape = np.exp(-0.5 * ((r - ring_radius) / GAS_RING[1]) ** 2)
    elif kind == "induction":
        shape = ((r >= COIL[0]) & (r <= COIL[1])).astype(float)
    else:
        shape = np.ones_like(r)
    weight = float(np.sum(shape * areas))
    if weight == 0:
        raise ValueError(f"the {kind} source heats none of the cells: r does not reach the coil or ring (in m)")
    return shape * (power / weight)


# ------------------------------------------------------------------------------------------------ the solver
class RadialPan:
    """A pan bottom of radius R in n annular finite volumes, stepped by backward Euler (tridiagonal solve)."""

    def __init__(self, layers: Sequence[tuple[str, float]], R: float = PANS_RADIUS, n: int = 140) -> None:
        self.C, self.K = plate_properties(layers)
        self.R = _length(R, "R")
        # 20000 cells are ~1 MB of arrays; more is not a pan-bottom computation.
        self.n = validate.integer(n, "n", minimum=2, maximum=20000)
        self.dr = self.R / self.n
        edges = np.linspace(0.0, self.R, self.n + 1)
        self.r = 0.5 * (edges[:-1] + edges[1:])  # cell centres (m)
        self.areas = np.pi * (edges[1:] ** 2 - edges[:-1] ** 2)  # annulus areas (m^2)
        # Conductance between neighbouring cells through the circle r_{i+1/2}: K 2 pi r / dr (W/K).
        self.G = self.K * 2 * np.pi * edges[1:-1] / self.dr
        # The conduction part of the matrix in LAPACK's banded layout (upper, main, lower diagonals).
        self._bands = np.zeros((3, self.n))
        self._bands[0, 1:] = -self.G
        self._bands[1, :-1] += self.G
        self._bands[1, 1:] += self.G
        self._bands[2, :-1] = -self.G

    def flux(self, kind: Literal["gas", "induction", "uniform"], power: float,
             ring_radius: float = GAS_RING[0]) -> NDArray[np.float64]:
        """The heat flux (W m^-2) of a source of this kind and absorbed power on this grid."""
        return heat_flux_profile(kind, self.r, power, self.areas, ring_radius)

    def mean(self, T: ArrayLike, r_max: float | None = None) -> float:
        """Area-weighted mean temperature over r < r_max (the whole disc by default)."""
        T = _field(T, "T", self.n, "degC", "temperature")
        mask = self.r < (self.R if r_max is None else _length(r_max, "r_max"))
        if not mask.any():
            raise ValueError(f"r_max must include at least one cell centre (in m), got {r_max}")
        return float(np.sum(T[mask] * self.areas[mask]) / np.sum(self.areas[mask]))

    def _solve(self, diag: NDArray[np.float64], rhs: NDArray[np.float64]) -> NDArray[np.float64]:
        """Solve the symmetric tridiagonal system (diag + conduction) T = rhs."""
        bands = self._bands.copy()
        bands[1] += diag
        T = scipy.linalg.solve_banded((1, 1), bands, rhs, overwrite_ab=True, check_finite=False)
        if not np.all(np.isfinite(T)):
            raise ConvergenceError("the tridiagonal solve returned non-finite temperatures")
        return T

    def step(self, T: ArrayLike, dt: float, q: ArrayLike, h_top: ArrayLike = 10.0, T_top: ArrayLike = 25.0,
             h_bot: float = 10.0, T_amb: float = 25.0, eps_top: ArrayLike = 0.0,
             eps_bot: float = 0.0) -> NDArray[np.float64]:
        """One backward-Euler step of dt (s): heating q, convection to T_top/T_amb, radiation to T_amb (linearised)."""
        n = self.n
        T = _field(T, "T", n, "degC", "temperature")
        dt = _positive(dt, "dt", "s")
        q = _field(q, "q", n, "W/m^2")
        h_top = _field(h_top, "h_top", n, "W/(m^2 K)", "nonneg")
        T_top = _field(T_top, "T_top", n, "degC", "temperature")
        h_bot = _positive(h_bot, "h_bot", "W/(m^2 K)", allow_zero=True)
        T_amb = _temperature(T_amb, "T_amb")
        eps = _field(eps_top, "eps_top", n, "dimensionless", "fraction") + _emissivity(eps_bot, "eps_bot")
        return self._advance(T, dt, q, h_top, T_top, h_bot, T_amb, eps)

    def _advance(self, T: NDArray[np.float64], dt: float, q: NDArray[np.float64], h_top: NDArray[np.float64],
                 T_top: NDArray[np.float64], h_bot: float, T_amb: float,
                 eps: NDArray[np.float64]) -> NDArray[np.float64]:
        """The step itself, on checked arguments (eps is the sum of both faces' emissivities)."""
        # Radiation: sigma (T_K^4 - T_aK^4) linearised about the previous step, in kelvin.
        TK, TaK = T - ABSOLUTE_ZERO, T_amb - ABSOLUTE_ZERO
        rad_slope = eps * SIGMA * 4 * TK**3
        storage = self.C / dt
        diag = (storage + h_top + h_bot + rad_slope) * self.areas
        rhs = (storage * T + q + h_top * T_top + h_bot * T_amb
               + rad_slope * T - eps * SIGMA * (TK**4 - TaK**4)) * self.areas
        return self._solve(diag, rhs)

    def steady_linear(self, q: ArrayLike, H: ArrayLike, T_inf: ArrayLike) -> NDArray[np.float64]:
        """Steady temperatures (degC) with linear losses H (T - T_inf) and an insulated rim."""
        n = self.n
        q = _field(q, "q", n, "W/m^2")
        H = _field(H, "H", n, "W/(m^2 K)", "nonneg")
        T_inf = _field(T_inf, "T_inf", n, "degC", "temperature")
        if not np.any(H > 0):
            raise ValueError("H must be positive somewhere (in W/(m^2 K)): without losses there is no steady state")
        return self._solve(H * self.areas, (q + H * T_inf) * self.areas)


# ------------------------------------------------------------------------------------------------ Bessel solution
def fin_steady_bessel(r: ArrayLike, a: float, R: float, q0: float, H: float, K: float,
                      T_inf: float) -> NDArray[np.float64]:
    """Exact steady temperature (degC) of a disc heated by q0 on r < a, losing H (T - T_inf), insulated at R."""
    r = np.asarray(r, dtype=float)
    R = _length(R, "R")
    a = _length(a, "a")
    if a >= R:
        raise ValueError(f"a must be smaller than R (the heated disc inside the pan, in m), got a={a}, R={R}")
    if not (np.all(np.isfinite(r)) and np.all((r >= 0) & (r <= R))):
        raise ValueError("r must lie in [0, R] (in m)")
    q0 = validate.real(q0, "q0")
    H = _positive(H, "H", "W/(m^2 K)")
    K = _positive(K, "K", "W/K")
    T_inf = _temperature(T_inf, "T_inf")
    m = 1 / spreading_length(K, H)
    if m * R > 700:  # I0(700) overflows a float
        raise ValueError(f"R / spreading length = {m * R:.0f} is too large for the Bessel form (at most 700)")
    i0, i1, k0, k1 = scipy.special.i0, scipy.special.i1, scipy.special.k0, scipy.special.k1
    ma, mR = m * a, m * R
    # Unknowns C1 (inside), C2, C3 (outside): continuity of theta and theta' at a, zero slope at R.
    A = np.array([[i0(ma), -i0(ma), -k0(ma)],
                  [i1(ma), -i1(ma), k1(ma)],
                  [0.0, i1(mR), -k1(mR)]])
    C1, C2, C3 = np.linalg.solve(A, [-q0 / H, 0.0, 0.0])
    inside = q0 / H + C1 * i0(m * r)
    with np.errstate(divide="ignore", invalid="ignore"):
        outside = C2 * i0(m * r) + C3 * k0(m * np.maximum(r, a))  # K0 is only evaluated where r >= a
    return T_inf + np.where(r < a, inside, outside)


# ------------------------------------------------------------------------------------------------ experiments
def heat_up(pan: str | Pan, source: Literal["gas", "induction"], power: float | None = None, dt: float = 0.05,
            t_max: float = 600.0, stop: Callable[[NDArray[np.float64]], bool] | None = None, n: int = 140,
            T0: float = 25.0) -> tuple[NDArray[np.float64], NDArray[np.float64], RadialPan]:
    """Heat an empty pan at full power from T0 until stop(T) is true or t_max (s); return times, T(t, r), solver.

    The empty pan loses heat by natural convection (10 W m^-2 K^-1) and radiation from both faces to 25 degC.
    """
    spec = _pan(pan)
    source = validate.choice(source, "source", tuple(SOURCES))
    power = SOURCES[source] if power is None else _positive(power, "power", "W")
    dt = _positive(dt, "dt", "s")
    t_max = _positive(t_max, "t_max", "s")
    steps = int(round(t_max / dt))
    if steps > 200_000:  # 200 000 x 140 cells of history is 224 MB: refuse before allocating
        raise ValueError(f"t_max / dt must be at most 200000 steps, got {steps}")
    if stop is not None and not callable(stop):
        raise TypeError(f"stop must be a function of the temperatures or None, got {type(stop).__name__}")
    model = RadialPan(spec.layers, n=n)
    q = model.flux(source, power)
    ones = np.ones(model.n)
    h_top, T_top, eps = 10.0 * ones, 25.0 * ones, 2 * spec.emissivity * ones
    history = [np.full(model.n, _temperature(T0, "T0"))]
    for _ in range(steps):
        history.append(model._advance(history[-1], dt, q, h_top, T_top, 10.0, 25.0, eps))
        if stop is not None and stop(history[-1]):
            break
    return dt * np.arange(len(history)), np.array(history), model


def time_to_temperature(pan: str | Pan, source: Literal["gas", "induction"], power: float | None = None,
                        T_limit: float = 260.0, which: Literal["max", "min"] = "max", dt: float = 0.05,
                        r_max: float | None = None, n: int = 140, T0: float = 25.0,
                        t_max: float = 600.0) -> tuple[float, NDArray[np.float64], RadialPan]:
    """Time (s) until an empty pan's hottest point (which='max') or all of r < r_max ('min') reaches T_limit (degC).

    Returns (t, T at that moment, the solver). Raises ConvergenceError if T_limit is not reached by t_max.
    """
    T_limit = _temperature(T_limit, "T_limit")
    which = validate.choice(which, "which", ("max", "min"))
    R = PANS_RADIUS
    mask = RadialPan(_pan(pan).layers, R, n).r < (R if r_max is None else _length(r_max, "r_max"))
    if not mask.any():
        raise ValueError("r_max must include at least one cell centre (in m)")

    def reached(T: NDArray[np.float64]) -> bool:
        return bool((T.max() if which == "max" else T[mask].min()) >= T_limit)

    times, history, model = heat_up(pan, source, power, dt, t_max, reached, n, T0)
    if not reached(history[-1]):
        raise ConvergenceError(f"{_pan(pan).label} on {source} did not reach {T_limit} degC ({which}) "
                               f"within t_max = {t_max} s")
    return float(times[-1]), history[-1], model


def simulate_loaded(pan: str | Pan, source: Literal["gas", "induction"], power: float | None = None,
                    t_end: float = 600.0, dt: float = 2.0, food_radius: float = 0.12, H_food: float = 1000.0,
                    T_food: float = 100.0, n: int = 140, T0: float = 25.0) -> tuple[NDArray[np.float64], RadialPan]:
    """Temperatures (degC) at t_end of a pan with wet food (H_food to T_food) on r < food_radius, burner on."""
    spec = _pan(pan)
    source = validate.choice(source, "source", tuple(SOURCES))
    power = SOURCES[source] if power is None else _positive(power, "power", "W")
    t_end = _positive(t_end, "t_end", "s")
    dt = _positive(dt, "dt", "s")
    if t_end / dt > 1e6:
        raise ValueError(f"t_end / dt must be at most 1e6 steps, got {t_end / dt:.3g}")
    food_radius = _length(food_radius, "food_radius")
    H_food = _positive(H_food, "H_food", "W/(m^2 K)")
    T_food = _temperature(T_food, "T_food")
    model = RadialPan(spec.layers, n=n)
    q = model.flux(source, power)
    covered = model.r < food_radius
    # Food on top: boiling contact; the uncovered rim: natural convection, and no radiation from the top face.
    h_top = np.where(covered, H_food, 10.0)
    T_top = np.where(covered, T_food, 25.0)
    T = np.full(model.n, _temperature(T0, "T0"))
    eps = np.full(model.n, spec.emissivity)
    for _ in range(int(round(t_end / dt))):
        T = model._advance(T, dt, q, h_top, T_top, 10.0, 25.0, eps)
    return T, model


def lumped_cooling(mass: float, c: float, area: float, T0: float, t: ArrayLike, eps: float = 0.85,
                   h: float = 10.0, T_amb: float = 25.0) -> NDArray[np.float64] | float:
    """Temperature (degC) at times t (s) of a body m c dT/dt = -A [h (T - Ta) + eps sigma (T_K^4 - T_aK^4)]."""
    mass = _positive(mass, "mass", "kg")
    c = _positive(c, "c", "J/(kg K)")
    area = _positive(area, "area", "m^2")
    T0 = _temperature(T0, "T0")
    eps = _emissivity(eps, "eps")
    h = _positive(h, "h", "W/(m^2 K)", allow_zero=True)
    T_amb = _temperature(T_amb, "T_amb")
    times = np.asarray(t, dtype=float)
    if not (np.all(np.isfinite(times)) and np.all(times >= 0)):
        raise ValueError("t must be finite and non-negative (in s)")
    TaK = T_amb - ABSOLUTE_ZERO

    def rate(_: float, y: NDArray[np.float64]) -> NDArray[np.float64]:
        TK = y - ABSOLUTE_ZERO
        return -area * (h * (y - T_amb) + eps * SIGMA * (TK**4 - TaK**4)) / (mass * c)

    t_end = float(times.max()) if times.size else 0.0
    if t_end == 0:
        return np.full(times.shape, T0) if times.ndim else T0
    sol = solve_ivp(rate, (0.0, t_end), [T0], t_eval=np.sort(times.ravel()), rtol=1e-10, atol=1e-8,
                    method="LSODA")
    if not sol.success:
        raise ConvergenceError(f"the cooling ODE did not converge: {sol.message}")
    values = np.interp(times.ravel(), sol.t, sol.y[0]).reshape(times.shape)
    return float(values) if times.ndim == 0 else values


def steady_loaded(layers: Sequence[tuple[str, float]], source: Literal["gas", "induction"] = "gas",
                  power: float | None = None, ring_radius: float = GAS_RING[0], food_radius: float = 0.12,
                  H_food: float = 1000.0, T_food: float = 100.0, n: int = 140) -> tuple[NDArray[np.float64],
                                                                                         NDArray[np.float64]]:
    """Cell centres r (m) and the steady temperature (degC) of a loaded pan bottom, radiation neglected."""
    source = validate.choice(source, "source", tuple(SOURCES))
    power = SOURCES[source] if power is None else _positive(power, "power", "W")
    food_radius = _length(food_radius, "food_radius")
    H_food = _positive(H_food, "H_food", "W/(m^2 K)")
    T_food = _temperature(T_food, "T_food")
    model = RadialPan(layers, n=n)
    covered = model.r < food_radius
    h_top = np.where(covered, H_food, 10.0)
    T_top = np.where(covered, T_food, 25.0)
    # Top (food or air) and bottom (air, 10 W m^-2 K^-1 at 25 degC) combine into one linear loss.
    H = h_top + 10.0
    T_inf = (h_top * T_top + 10.0 * 25.0) / H
    return model.r, model.steady_linear(model.flux(source, power, ring_radius), H, T_inf)


# ------------------------------------------------------------------------------------------------ chapter summaries
def wall_check(material: str, thickness: float, H: float = 1000.0, flux: float = 76.65e3) -> dict[str, float]:
    """Through-thickness checks of the thin-plate model: Biot H delta/k, time delta^2/alpha (s), drop q delta/k (K)."""
    rho, c, k = _material(material)
    delta = _length(thickness, "thickness")
    H = _positive(H, "H", "W/(m^2 K)")
    flux = _positive(flux, "flux", "W/m^2", allow_zero=True)
    return {"Biot H δ/k": H * delta / k, "δ²/α (s)": delta**2 * rho * c / k, "drop across δ (K)": flux * delta / k}


def bessel_errors(layers: Sequence[tuple[str, float]], ns: Sequence[int], a: float, q0: float, H: float,
                  T_inf: float, R: float = PANS_RADIUS) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Max error (K) of the steady finite-volume solution against the Bessel one, and the relative heat imbalance,
    for each number of cells in ns (q0 on r < a, linear losses H to T_inf)."""
    K = plate_properties(layers)[1]
    errors, imbalances = [], []
    for i, n in enumerate(ns):
        model = RadialPan(layers, R, validate.integer(n, f"ns[{i}]", minimum=2, maximum=20000))
        q = np.where(model.r < a, validate.real(q0, "q0"), 0.0)
        T = model.steady_linear(q, H, T_inf)
        errors.append(np.abs(T - fin_steady_bessel(model.r, a, R, q0, H, K, T_inf)).max())
        heat_in = np.sum(q * model.areas)
        imbalances.append(abs(heat_in - np.sum(H * (T - T_inf) * model.areas)) / heat_in)
    return np.array(errors), np.array(imbalances)


@dataclass(frozen=True)
class HeatUp:
    """An empty pan heated at full power: the time its hottest point reaches T_limit and when r < r_ready is all
    above T_ready, with the mean, spread and peak the chapter reports, and the whole history."""

    t_limit: float  # s, hottest point reaches T_limit
    mean_at_limit: float  # degC, area-weighted over r < r_stats
    spread_at_limit: float  # K, max - min over r < r_stats
    t_ready: float  # s, all of r < r_ready above T_ready
    peak_at_ready: float  # degC, hottest point at t_ready
    times: NDArray[np.float64]
    history: NDArray[np.float64]
    model: RadialPan


def heat_up_summary(pan: str | Pan, source: Literal["gas", "induction"], T_limit: float = 260.0,
                    T_ready: float = 193.0, r_ready: float = 0.08, r_stats: float = 0.10,
                    t_max: float = 300.0) -> HeatUp:
    """One run of an empty pan until both the hottest point reaches T_limit and all of r < r_ready exceeds T_ready."""
    T_limit = _temperature(T_limit, "T_limit")
    T_ready = _temperature(T_ready, "T_ready")
    inner = RadialPan(_pan(pan).layers).r < _length(r_ready, "r_ready")
    times, hist, model = heat_up(pan, source, t_max=t_max,
                                 stop=lambda T: T.max() >= T_limit and T[inner].min() >= T_ready)
    hot = hist.max(axis=1) >= T_limit
    ready = hist[:, inner].min(axis=1) >= T_ready
    if not (hot.any() and ready.any()):
        raise ConvergenceError(f"{_pan(pan).label} on {source} did not reach {T_limit} degC and readiness within "
                               f"t_max = {t_max} s")
    k1, k2 = int(np.argmax(hot)), int(np.argmax(ready))
    stats = model.r < _length(r_stats, "r_stats")
    return HeatUp(float(times[k1]), model.mean(hist[k1], r_stats), float(np.ptp(hist[k1, stats])),
                  float(times[k2]), float(hist[k2].max()), times, hist, model)


def loaded_summary(pan: str | Pan, source: Literal["gas", "induction"], food_radius: float = 0.12) -> dict[str, float]:
    """Max, min and spread (degC, K) over the food (r < food_radius) of a loaded pan after 600 s (Experiment 2)."""
    T, model = simulate_loaded(pan, source, food_radius=food_radius)
    inner = T[model.r < food_radius]
    return {"max (°C)": float(inner.max()), "min (°C)": float(inner.min()), "spread (K)": float(np.ptp(inner))}


def wok(material: str, thickness: float, diameter: float = 0.34, depth: float = 0.10) -> dict[str, float]:
    """A round wok as a spherical cap: one-face area (m^2), mass (kg) and heat capacity (J/K)."""
    rho, c, _ = _material(material)
    area = cap_area(diameter, depth)
    mass = rho * area * _length(thickness, "thickness")
    return {"area": area, "mass": mass, "heat_capacity": mass * c, "c": c}


def wok_cooling(material: str, thickness: float, T0: float, t: ArrayLike,
                eps: float = 0.85) -> NDArray[np.float64] | float:
    """Temperature (degC) of a wok off the heat at times t (s): both faces lose heat by convection and radiation."""
    w = wok(material, thickness)
    return lumped_cooling(w["mass"], w["c"], 2 * w["area"], T0, t, eps=eps)


def plot_loaded_profiles(pans: Sequence[tuple[str, Sequence[tuple[str, float]]]], ring_radius: float = GAS_RING[0],
                         ax: Axes | None = None) -> Axes:
    """Steady loaded profiles on the gas ring of (label, layers) pans, each labelled with its hot-spot contrast."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.6))
    for label, layers in pans:
        r, T = steady_loaded(layers, "gas", ring_radius=ring_radius)
        inner = T[r < 0.12]
        ax.plot(100 * r, T, label=f"{label}: contrast {np.ptp(inner):.1f} K")
    ax.axvline(100 * ring_radius, color="grey", ls=":", lw=1)
    ax.set(xlabel="radius r (cm)", ylabel="steady temperature (°C)",
           title=f"火圈半径 gas ring at {100 * ring_radius:.1f} cm, food on r < 12 cm")
    ax.legend(fontsize="small")
    return ax


def rz_heat_up(material: str, thickness: float, source: Literal["gas", "induction"], power: float | None = None,
               t_end: float = 20.0, dt: float = 0.05, nr: int = 140, nz: int = 10, deposit_depth: float = 1e-4,
               h: float = 10.0, T0: float = 25.0) -> tuple[NDArray[np.float64], NDArray[np.float64],
                                                            NDArray[np.float64]]:
    """A 2-D axisymmetric (r, z) check of the thin-plate model: an empty one-material pan bottom heated in its lowest
    deposit_depth (m), convection h to 25 degC on both faces, no radiation. Returns r, T(r, z) at t_end (nz x nr,
    bottom row first) and the thin-plate T(r) for the same case."""
    rho, c, k = _material(material)
    delta = _length(thickness, "thickness")
    source = validate.choice(source, "source", tuple(SOURCES))
    power = SOURCES[source] if power is None else _positive(power, "power", "W")
    t_end, dt = _positive(t_end, "t_end", "s"), _positive(dt, "dt", "s")
    nr = validate.integer(nr, "nr", minimum=2, maximum=2000)
    nz = validate.integer(nz, "nz", minimum=1, maximum=200)  # at most 400 000 unknowns in a sparse LU
    deposit_depth = _length(deposit_depth, "deposit_depth")
    h = _positive(h, "h", "W/(m^2 K)", allow_zero=True)
    steps = int(round(t_end / dt))
    if steps > 100_000:
        raise ValueError(f"t_end / dt must be at most 100000 steps, got {steps}")
    from scipy.sparse import coo_matrix
    from scipy.sparse.linalg import splu

    plate = RadialPan(((material, delta),), n=nr)
    dz = delta / nz
    edges_z = np.arange(nz + 1) * dz
    # Share of the deposited heat in each layer of cells: overlap of [z_j, z_j+1] with [0, deposit_depth].
    share = np.clip(np.minimum(edges_z[1:], deposit_depth) - edges_z[:-1], 0, None) / min(deposit_depth, delta)
    q = plate.flux(source, power)
    index = np.arange(nr * nz).reshape(nz, nr)
    rows, cols, vals = [], [], []

    def couple(a: NDArray[np.int64], b: NDArray[np.int64], g: NDArray[np.float64]) -> None:
        rows.extend([a, b, a, b])
        cols.extend([a, b, b, a])
        vals.extend([g, g, -g, -g])

    g_r = k * 2 * np.pi * (plate.r[:-1] + plate.dr / 2) * dz / plate.dr
    for j in range(nz):
        couple(index[j, :-1], index[j, 1:], g_r)
    for j in range(nz - 1):
        couple(index[j], index[j + 1], k * plate.areas / dz)
    storage = np.tile(rho * c * plate.areas * dz / dt, nz)
    losses = np.zeros(nr * nz)
    losses[index[0]] += h * plate.areas
    losses[index[-1]] += h * plate.areas
    rows.append(np.arange(nr * nz))
    cols.append(np.arange(nr * nz))
    vals.append(storage + losses)
    matrix = coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                        shape=(nr * nz, nr * nz)).tocsc()
    lu = splu(matrix)
    heat = (share[:, None] * (q * plate.areas)[None, :]).ravel() + losses * 25.0
    T = np.full(nr * nz, _temperature(T0, "T0"))
    T_plate = np.full(nr, T0)
    for _ in range(steps):
        T = lu.solve(storage * T + heat)
        T_plate = plate.step(T_plate, dt, q, h_top=h, T_top=25.0, h_bot=h, T_amb=25.0)
    if not np.all(np.isfinite(T)):
        raise ConvergenceError("the 2-D solve returned non-finite temperatures")
    return plate.r, T.reshape(nz, nr), T_plate
