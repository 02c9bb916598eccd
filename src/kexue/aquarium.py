"""Pipe networks under an aquarium bed and the nitrogen cycle of a new tank.

Chapter source: Su Jianlin (苏剑林), 【龟鱼记】全陶粒的同程底滤生态缸 ("An all-ceramsite, equal-path bottom-filter
eco-tank"), Scientific Spaces, 2020-12-07, https://kexue.fm/archives/7961.

Part A models the bottom filter as a steady pipe network: nodes carry pressures (Pa, gauge, the tank is 0), edges
carry volume flows (m³/s) with a strictly increasing law ``p_u - p_v = dp(q)``. Pipes follow Darcy–Weisbach with
minor losses, inlets (drilled holes plus the bed column they drain) an orifice law plus Ergun. ``solve_network``
solves Kirchhoff's laws with a damped Picard iteration polished by ``scipy.optimize.root``, and raises if it does not
converge. Part B is a two-step Monod model of nitrification with attached biomass, integrated with ``solve_ivp``.
SI units throughout Part A; Part B uses days, litres, mg N/L and mg VSS.
"""
from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize
from scipy.integrate import solve_ivp

from kexue.validate import choice, integer, real

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "WATER", "LPH", "friction_factor", "pipe_dp", "orifice_dp", "ergun_dp", "Edge", "solve_network",
    "network_power", "Network", "Solution", "htree_layout", "comb_layout", "ladder_layout",
    "direct_return_layout", "reverse_return_layout", "solve_layout", "inlet_resistance", "bed_geometry",
    "uniformity", "ladder_uniformity", "tan_production", "free_ammonia_fraction", "ammonia_pka",
    "NitrogenParams", "CycleResult", "simulate_cycle", "steady_state_substrate", "steady_biomass",
    "steady_nitrate", "exchange_rate", "OXYGEN_PER_N", "ALKALINITY_PER_N", "NITRATE_N_PER_NO3", "FREE_AMMONIA_GUIDE", "draw_layout", "layout_table",
    "compare_layouts", "plot_cycle",
]

WATER: dict[str, float] = {"rho": 998.2, "mu": 1.002e-3}  # kg/m³ and Pa·s at 20 °C
LPH = 1.0 / 3.6e6  # one litre per hour in m³/s
RE_LAMINAR, RE_TURBULENT = 2300.0, 4000.0

# Nitrification stoichiometry: NH4+ + 1.5 O2 -> NO2- (AOB), NO2- + 0.5 O2 -> NO3- (NOB); 2 HCO3- per NH4+.
OXYGEN_PER_N: tuple[float, float] = (1.5 * 32 / 14, 0.5 * 32 / 14)  # g O2 per g N, (AOB, NOB)
ALKALINITY_PER_N: float = 2 * 50 / 14  # g CaCO3 per g N oxidised (two equivalents of 50 g)
FREE_AMMONIA_GUIDE: float = 0.02  # mg NH3-N/L, a commonly quoted long-term limit for fish
NITRATE_N_PER_NO3: float = 14.0067 / (14.0067 + 3 * 15.9994)  # mg N per mg NO3- (IUPAC atomic weights)


def _nonneg(value: float, name: str, unit: str) -> float:
    """A finite real >= 0, or a ValueError naming the argument and its unit."""
    value = real(value, name)
    if value < 0:
        raise ValueError(f"{name} must be non-negative (in {unit}), got {value}")
    return value


def _pos(value: float, name: str, unit: str) -> float:
    """A finite real > 0, or a ValueError naming the argument and its unit."""
    value = real(value, name)
    if value <= 0:
        raise ValueError(f"{name} must be positive (in {unit}), got {value}")
    return value


def _flow(q: float, name: str = "q") -> float:
    """A finite flow in m³/s (either sign)."""
    return real(q, name)


# --- Part A: edge laws ---------------------------------------------------------------------------------------------
def friction_factor(re: float | ArrayLike) -> NDArray[np.float64]:
    """Darcy friction factor: 64/Re, Blasius above 4000, and the weighted blend of the two in between."""
    arr = np.asarray(re, dtype=float)
    if arr.dtype == object or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError("re (Reynolds number, dimensionless) must be finite and positive")
    laminar = 64.0 / arr
    blasius = 0.3164 * arr ** -0.25
    w = np.clip((arr - RE_LAMINAR) / (RE_TURBULENT - RE_LAMINAR), 0.0, 1.0)
    return (1 - w) * laminar + w * blasius


def pipe_dp(q: float, L: float, D: float, K: float = 0.0, rho: float = WATER["rho"],
            mu: float = WATER["mu"]) -> float:
    """Pressure drop (Pa) of flow q (m³/s) in a pipe of length L and diameter D (m) with minor-loss sum K."""
    q = _flow(q)
    L, D, K = _nonneg(L, "L", "m"), _pos(D, "D", "m"), _nonneg(K, "K", "velocity heads")
    rho, mu = _pos(rho, "rho", "kg/m³"), _pos(mu, "mu", "Pa·s")
    if q == 0:
        return 0.0
    area = math.pi * D * D / 4
    v = q / area
    re = rho * abs(v) * D / mu
    head = rho * v * abs(v) / 2
    # f·Re = 64 exactly in the laminar range, so write it as Hagen–Poiseuille (no round trip through f).
    friction = 128 * mu * L * q / (math.pi * D**4) if re < RE_LAMINAR else float(friction_factor(re)) * L / D * head
    return friction + K * head


def orifice_dp(q: float, n_holes: int, d_hole: float, cd: float = 0.61, rho: float = WATER["rho"]) -> float:
    """Pressure drop (Pa) of flow q (m³/s) through n_holes sharp holes of diameter d_hole (m)."""
    q = _flow(q)
    n_holes = integer(n_holes, "n_holes", minimum=1)
    d_hole = _pos(d_hole, "d_hole", "m")
    cd = real(cd, "cd")
    if not 0 < cd <= 1:
        raise ValueError(f"cd (discharge coefficient, dimensionless) must be in (0, 1], got {cd}")
    area = n_holes * math.pi * d_hole**2 / 4
    return _pos(rho, "rho", "kg/m³") / (2 * cd**2 * area**2) * q * abs(q)


def _ergun_coefficients(area: float, depth: float, d_p: float, eps: float, rho: float,
                        mu: float) -> tuple[float, float]:
    """(linear, quadratic) coefficients of Ergun's law for a bed column, in terms of the flow q."""
    area, depth = _pos(area, "area", "m²"), _nonneg(depth, "depth", "m")
    d_p = _pos(d_p, "d_p", "m")
    eps = real(eps, "eps")
    if not 0 < eps < 1:
        raise ValueError(f"eps (porosity, dimensionless) must be in (0, 1), got {eps}")
    lin = 150 * mu * (1 - eps) ** 2 / (eps**3 * d_p**2) * depth / area
    quad = 1.75 * rho * (1 - eps) / (eps**3 * d_p) * depth / area**2
    return lin, quad


def ergun_dp(q: float, area: float, depth: float, d_p: float, eps: float, rho: float = WATER["rho"],
             mu: float = WATER["mu"]) -> float:
    """Pressure drop (Pa) of flow q (m³/s) through a packed bed of cross-section area (m²) and depth (m)."""
    q = _flow(q)
    lin, quad = _ergun_coefficients(area, depth, d_p, eps, _pos(rho, "rho", "kg/m³"), _pos(mu, "mu", "Pa·s"))
    return lin * q + quad * q * abs(q)


def inlet_resistance(n_holes: int = 4, d_hole: float = 0.005, cd: float = 0.61, bed_depth: float = 0.12,
                     eps: float = 0.4, d_p: float = 0.01, area: float = 0.24, n_inlets: int = 8,
                     open_end: float | None = None, k_entrance: float = 1.0,
                     rho: float = WATER["rho"], mu: float = WATER["mu"]) -> tuple[float, float]:
    """(r_lin Pa·s/m³, r_quad Pa·s²/m⁶) of one inlet: holes (or an open pipe end of diameter open_end, m) plus
    the bed column of area/n_inlets it drains, so that dp = r_lin·q + r_quad·q|q|."""
    n_inlets = integer(n_inlets, "n_inlets", minimum=1)
    lin, quad = _ergun_coefficients(_pos(area, "area", "m²") / n_inlets, bed_depth, d_p, eps, rho, mu)
    if open_end is None:
        quad += orifice_dp(1.0, n_holes, d_hole, cd, rho)
    else:
        pipe_area = math.pi * _pos(open_end, "open_end", "m") ** 2 / 4
        quad += _nonneg(k_entrance, "k_entrance", "velocity heads") * rho / (2 * pipe_area**2)
    return lin, quad


def bed_geometry(mass: float = 20.0, bulk_density: float = 0.7, footprint: float = 0.24, eps: float = 0.4,
                 d_p: float = 0.01) -> dict[str, float]:
    """Bed volume (L), depth (m) and geometric surface (m²) of ``mass`` kg of spheres of diameter d_p (m)."""
    mass = _pos(mass, "mass", "kg")
    bulk_density = _pos(bulk_density, "bulk_density", "kg/L")
    footprint = _pos(footprint, "footprint", "m²")
    eps = real(eps, "eps")
    if not 0 < eps < 1:
        raise ValueError(f"eps (porosity, dimensionless) must be in (0, 1), got {eps}")
    volume = mass / bulk_density / 1000  # m³
    return {"volume_l": volume * 1000, "depth_m": volume / footprint,
            "surface_m2": 6 * (1 - eps) / _pos(d_p, "d_p", "m") * volume}


# --- Part A: networks ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Edge:
    """A directed edge u -> v: a pipe (L, D, K) or a lumped inlet (dp = r_lin·q + r_quad·q|q|)."""

    u: Hashable
    v: Hashable
    L: float = 0.0
    D: float = 0.017
    K: float = 0.0
    r_lin: float = 0.0
    r_quad: float = 0.0
    kind: Literal["pipe", "inlet"] = "pipe"

    def __post_init__(self) -> None:
        choice(self.kind, "kind", ("pipe", "inlet"))
        if self.u == self.v:
            raise ValueError(f"an edge must join two different nodes, got u = v = {self.u!r}")
        _nonneg(self.L, "L", "m"), _pos(self.D, "D", "m"), _nonneg(self.K, "K", "velocity heads")
        _nonneg(self.r_lin, "r_lin", "Pa·s/m³"), _nonneg(self.r_quad, "r_quad", "Pa·s²/m⁶")
        if self.kind == "inlet" and self.r_lin == 0 and self.r_quad == 0:
            raise ValueError("an inlet edge needs r_lin > 0 or r_quad > 0")
        if self.kind == "pipe" and self.L == 0 and self.K == 0:
            raise ValueError("a pipe edge needs L > 0 or K > 0")

    def dp(self, q: float, laminar: bool = False) -> float:
        """Pressure drop p_u - p_v (Pa) at flow q (m³/s); laminar=True keeps only the linear part of each law."""
        if self.kind == "inlet":
            return self.r_lin * q if laminar else self.r_lin * q + self.r_quad * q * abs(q)
        if laminar:
            return 128 * WATER["mu"] * self.L * q / (math.pi * self.D**4)
        return pipe_dp(q, self.L, self.D, self.K)

    def resistance(self, q: float, laminar: bool = False) -> float:
        """Secant resistance dp(q)/q (Pa·s/m³), with its q -> 0 limit."""
        if self.kind == "inlet":
            r = self.r_lin + (0.0 if laminar else self.r_quad * abs(q))
        elif laminar or q == 0 or abs(q) * 4 * WATER["rho"] / (math.pi * self.D * WATER["mu"]) < RE_LAMINAR:
            area = math.pi * self.D**2 / 4
            r = 128 * WATER["mu"] * self.L / (math.pi * self.D**4)
            r += 0.0 if laminar else self.K * WATER["rho"] * abs(q) / (2 * area**2)
        else:
            r = self.dp(q) / q
        if r <= 0:
            raise ValueError(f"edge {self.u!r}->{self.v!r} has no resistance in the linear law")
        return r


def _check_network(nodes: Sequence[Hashable], edges: Sequence[Edge], fixed: Mapping[Hashable, float],
                   inject: Mapping[Hashable, float]) -> dict[Hashable, int]:
    """Index of every node, after checking that the network is well posed."""
    if not isinstance(nodes, Sequence) or len(nodes) < 2:
        raise ValueError("nodes must be a sequence of at least two node names")
    index = {n: i for i, n in enumerate(nodes)}
    if len(index) != len(nodes):
        raise ValueError("nodes must not repeat a name")
    if not edges or not all(isinstance(e, Edge) for e in edges):
        raise TypeError("edges must be a non-empty sequence of Edge")
    for e in edges:
        if e.u not in index or e.v not in index:
            raise ValueError(f"edge {e.u!r}->{e.v!r} joins a node missing from nodes")
    if not fixed or any(n not in index for n in fixed):
        raise ValueError("fixed must give the pressure (Pa) of at least one node of nodes")
    for n, p in fixed.items():
        real(p, f"fixed[{n!r}]")
    for n, q in inject.items():
        if n not in index:
            raise ValueError(f"inject names a node {n!r} missing from nodes")
        real(q, f"inject[{n!r}]")
        if n in fixed:
            raise ValueError(f"node {n!r} is both fixed and injected; inject only at free nodes")
    # Every node must reach a fixed node, or its pressure is undetermined.
    seen, stack = set(fixed), list(fixed)
    neighbours: dict[Hashable, list[Hashable]] = {n: [] for n in nodes}
    for e in edges:
        neighbours[e.u].append(e.v)
        neighbours[e.v].append(e.u)
    while stack:
        for m in neighbours[stack.pop()]:
            if m not in seen:
                seen.add(m)
                stack.append(m)
    if len(seen) != len(nodes):
        raise ValueError(f"nodes {sorted(map(str, set(nodes) - seen))} are not connected to a fixed node")
    return index


def _linear_solve(index: Mapping[Hashable, int], edges: Sequence[Edge], resist: NDArray[np.float64],
                  fixed: Mapping[Hashable, float], inject: Mapping[Hashable, float]) -> NDArray[np.float64]:
    """Node pressures of the linear network with edge resistances ``resist`` (weighted Laplacian)."""
    n = len(index)
    lap = np.zeros((n, n))
    rhs = np.zeros(n)
    for e, r in zip(edges, resist):
        i, j, g = index[e.u], index[e.v], 1.0 / r
        lap[i, i] += g
        lap[j, j] += g
        lap[i, j] -= g
        lap[j, i] -= g
    for node, q in inject.items():
        rhs[index[node]] += q
    free = np.array([i for node, i in index.items() if node not in fixed], dtype=int)
    fix = np.array([index[node] for node in fixed], dtype=int)
    p = np.zeros(n)
    p[fix] = [fixed[node] for node in fixed]
    if free.size:
        p[free] = np.linalg.solve(lap[np.ix_(free, free)], rhs[free] - lap[np.ix_(free, fix)] @ p[fix])
    return p


def solve_network(nodes: Sequence[Hashable], edges: Sequence[Edge], fixed: Mapping[Hashable, float],
                  inject: Mapping[Hashable, float], laminar: bool = False, tol: float = 1e-12,
                  max_iter: int = 500) -> tuple[dict[Hashable, float], NDArray[np.float64]]:
    """Node pressures (Pa) and edge flows (m³/s, positive u -> v) satisfying Kirchhoff's laws.

    ``fixed`` maps nodes to prescribed pressures; ``inject`` maps free nodes to the flow entering the network there
    (negative where a pump withdraws). Damped Picard iterations on the weighted Laplacian are polished by Newton's
    method (``scipy.optimize.root``). ``tol`` bounds the final residuals, flows relative to the largest edge flow and
    pressures relative to the largest edge pressure drop; a RuntimeError is raised if they do not fall below it.
    """
    index = _check_network(nodes, edges, fixed, inject)
    tol = _pos(tol, "tol", "relative residual")
    max_iter = integer(max_iter, "max_iter", minimum=1)
    laminar = bool(laminar)
    inject = {k: float(v) for k, v in inject.items()}
    u = np.array([index[e.u] for e in edges])
    v = np.array([index[e.v] for e in edges])

    # Picard: freeze each edge's secant resistance, solve the linear network, update, damp by 1/2.
    resist = np.array([e.resistance(0.0, laminar) for e in edges])
    p = _linear_solve(index, edges, resist, fixed, inject)
    q = (p[u] - p[v]) / resist
    if not laminar:
        for _ in range(max_iter):
            new = np.array([e.resistance(qe) for e, qe in zip(edges, q)])
            resist = 0.5 * resist + 0.5 * new
            p = _linear_solve(index, edges, resist, fixed, inject)
            q_new = (p[u] - p[v]) / resist
            if np.max(np.abs(q_new - q)) <= 1e-6 * max(np.max(np.abs(q_new)), 1e-300):
                q = q_new
                break
            q = q_new
        else:
            raise RuntimeError(f"solve_network: Picard iteration did not converge in {max_iter} steps")

    # Newton polish on (free pressures, edge flows), in scaled variables.
    free = [i for node, i in index.items() if node not in fixed]
    q_scale = max(np.max(np.abs(q)), 1e-300)
    p_scale = max(np.max(np.abs(p[u] - p[v])), 1e-300)
    injection = np.zeros(len(index))
    for node, qi in inject.items():
        injection[index[node]] = qi

    def unpack(x: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        pp = p.copy()
        pp[free] = x[: len(free)] * p_scale
        return pp, x[len(free):] * q_scale

    def residual(x: NDArray[np.float64]) -> NDArray[np.float64]:
        pp, qq = unpack(x)
        drop = np.array([e.dp(qe, laminar) for e, qe in zip(edges, qq)])
        balance = injection.copy()
        np.add.at(balance, u, -qq)
        np.add.at(balance, v, qq)
        return np.concatenate([balance[free] / q_scale, (pp[u] - pp[v] - drop) / p_scale])

    n_free, n_edges = len(free), len(edges)
    column = {node_index: k for k, node_index in enumerate(free)}
    jac0 = np.zeros((n_free + n_edges, n_free + n_edges))
    for k, (i, j) in enumerate(zip(u, v)):
        # Mass balance rows: an edge's flow leaves u and enters v. Edge rows: p_u - p_v - dp(q).
        if i in column:
            jac0[column[i], n_free + k] -= 1.0
            jac0[n_free + k, column[i]] += 1.0
        if j in column:
            jac0[column[j], n_free + k] += 1.0
            jac0[n_free + k, column[j]] -= 1.0

    def jacobian(x: NDArray[np.float64]) -> NDArray[np.float64]:
        _, qq = unpack(x)
        step = 1e-7 * np.maximum(np.abs(qq), 1e-6 * q_scale)
        slope = np.array([(e.dp(qe + h, laminar) - e.dp(qe - h, laminar)) / (2 * h)
                          for e, qe, h in zip(edges, qq, step)])
        jac = jac0.copy()
        jac[n_free + np.arange(n_edges), n_free + np.arange(n_edges)] = -slope * q_scale / p_scale
        return jac

    x0 = np.concatenate([p[free] / p_scale, q / q_scale])
    sol = optimize.root(residual, x0, jac=jacobian, method="hybr", options={"xtol": 1e-15})
    worst = float(np.max(np.abs(residual(sol.x))))
    if not np.all(np.isfinite(sol.x)) or worst > tol:
        raise RuntimeError(f"solve_network did not converge: scaled residual {worst:.2e} ({sol.message})")
    p_final, q_final = unpack(sol.x)
    return {node: float(p_final[i]) for node, i in index.items()}, q_final


def network_power(pressures: Mapping[Hashable, float], flows: ArrayLike, edges: Sequence[Edge],
                  laminar: bool = False) -> tuple[float, float]:
    """(power delivered by the fixed/injected nodes, power dissipated in the edges), both in W (Tellegen)."""
    flows = np.asarray(flows, dtype=float)
    if flows.shape != (len(edges),):
        raise ValueError(f"flows must have one entry per edge ({len(edges)}), got shape {flows.shape}")
    dissipated = float(sum(qe * e.dp(qe, laminar) for e, qe in zip(edges, flows)))
    # Net outflow at each node times its pressure: what the boundary (tank, pump) supplies to the network.
    outflow: dict[Hashable, float] = {n: 0.0 for n in pressures}
    for e, qe in zip(edges, flows):
        outflow[e.u] += qe
        outflow[e.v] -= qe
    supplied = float(sum(pressures[n] * outflow[n] for n in pressures))
    return supplied, dissipated


@dataclass
class Network:
    """A layout: nodes, edges, drawing positions (m), the tank and pump nodes, and the inlet edges (indices)."""

    nodes: list[Hashable]
    edges: list[Edge]
    pos: dict[Hashable, tuple[float, float]]
    tank: Hashable
    pump: Hashable
    inlets: list[int]
    name: str = ""
    pushes: bool = False  # True: the pump pushes q into `pump` (heating loops); False: it withdraws q (bottom filters)


@dataclass
class Solution:
    """A solved layout: pressures (Pa), edge flows (m³/s), inlet flows (m³/s) and the pump suction (Pa)."""

    network: Network
    pressures: dict[Hashable, float]
    flows: NDArray[np.float64]
    inlet_flows: NDArray[np.float64]
    suction: float
    pump_power: float
    dissipated: float


def _inlet_pair(inlet: tuple[float, float] | None) -> tuple[float, float]:
    if inlet is None:
        return inlet_resistance()
    if not isinstance(inlet, Sequence) or len(inlet) != 2:
        raise TypeError("inlet must be a pair (r_lin Pa·s/m³, r_quad Pa·s²/m⁶)")
    return _nonneg(inlet[0], "inlet[0] (r_lin)", "Pa·s/m³"), _nonneg(inlet[1], "inlet[1] (r_quad)", "Pa·s²/m⁶")


def htree_layout(levels: int = 3, a: float = 0.15, b: float = 0.20, D: float | Sequence[float] = 0.017,
                 k_tee: float = 1.0, inlet: tuple[float, float] | None = None) -> Network:
    """An H-tree with 2**levels inlets and the pump at its centre: branches of length a, b/2, a/2, b/4, ... (m).

    D is one diameter (m) or one per level; every inlet is a lumped edge from the tank node "T"."""
    levels = integer(levels, "levels", minimum=1, maximum=10)
    a, b = _pos(a, "a", "m"), _pos(b, "b", "m")
    diam = [D] * levels if isinstance(D, (int, float)) else list(D)
    if len(diam) != levels:
        raise ValueError(f"D must be one diameter or {levels} (one per level), got {len(diam)}")
    diam = [_pos(d, "D", "m") for d in diam]
    r_lin, r_quad = _inlet_pair(inlet)
    pos: dict[Hashable, tuple[float, float]] = {"O": (0.0, 0.0)}
    edges: list[Edge] = []
    frontier = ["O"]
    for level in range(levels):
        horizontal = level % 2 == 0
        length = a / 2 ** (level // 2) if horizontal else b / 2 ** (level // 2 + 1)
        nxt = []
        for parent in frontier:
            x, y = pos[parent]
            for sign, tag in ((-1, "0"), (1, "1")):
                child = parent + tag
                pos[child] = (x + sign * length, y) if horizontal else (x, y + sign * length)
                edges.append(Edge(child, parent, L=length, D=diam[level], K=_nonneg(k_tee, "k_tee", "velocity heads")))
                nxt.append(child)
        frontier = nxt
    inlets = []
    for leaf in frontier:
        inlets.append(len(edges))
        edges.append(Edge("T", leaf, r_lin=r_lin, r_quad=r_quad, kind="inlet"))
    pos["T"] = (float("nan"), float("nan"))
    return Network(["T", *[n for n in pos if n != "T"]], edges, pos, "T", "O", inlets, "H-tree")


def comb_layout(a: float = 0.15, b: float = 0.20, D: float = 0.017, k_tee: float = 1.0, k_run: float = 0.3,
                inlet: tuple[float, float] | None = None, n_tees: int = 4) -> Network:
    """The ordinary layout: a header on y = 0 fed from one end, tees every a (m), two laterals of b/2 per tee."""
    n_tees = integer(n_tees, "n_tees", minimum=1, maximum=200)
    a, b, D = _pos(a, "a", "m"), _pos(b, "b", "m"), _pos(D, "D", "m")
    k_tee, k_run = _nonneg(k_tee, "k_tee", "velocity heads"), _nonneg(k_run, "k_run", "velocity heads")
    r_lin, r_quad = _inlet_pair(inlet)
    x0 = -a * n_tees / 2  # pump at the left end, first tee half a spacing further in
    pos: dict[Hashable, tuple[float, float]] = {"O": (x0, 0.0)}
    edges: list[Edge] = []
    inlets: list[int] = []
    previous = "O"
    for k in range(n_tees):
        tee = f"h{k}"
        x = x0 + a / 2 + a * k
        pos[tee] = (x, 0.0)
        edges.append(Edge(tee, previous, L=a / 2 if k == 0 else a, D=D, K=k_run))
        for sign, tag in ((-1, "s"), (1, "n")):
            end = f"{tee}{tag}"
            pos[end] = (x, sign * b / 2)
            edges.append(Edge(end, tee, L=b / 2, D=D, K=k_tee))
            inlets.append(len(edges))
            edges.append(Edge("T", end, r_lin=r_lin, r_quad=r_quad, kind="inlet"))
        previous = tee
    pos["T"] = (float("nan"), float("nan"))
    return Network(["T", *[n for n in pos if n != "T"]], edges, pos, "T", "O", inlets, "comb")


def ladder_layout(n: int, x: float) -> Network:
    """Linear single-header ladder: n inlets of resistance 1 from the tank, header segments of resistance x."""
    n = integer(n, "n", minimum=1, maximum=10_000)
    x = _pos(x, "x", "resistance ratio r/R")
    edges: list[Edge] = []
    inlets = []
    for k in range(n):
        inlets.append(len(edges))
        edges.append(Edge("T", f"h{k}", r_lin=1.0, kind="inlet"))
        if k > 0:
            edges.append(Edge(f"h{k}", f"h{k - 1}", r_lin=x, kind="inlet"))
    pos = {f"h{k}": (float(k), 0.0) for k in range(n)}
    return Network(["T", *pos], edges, pos, "T", "h0", inlets, "ladder")


def _two_header(n: int, x: float, reverse: bool) -> Network:
    n = integer(n, "n", minimum=2, maximum=10_000)
    x = _pos(x, "x", "resistance ratio r/R_t")
    edges: list[Edge] = []
    inlets = []
    for k in range(n):
        inlets.append(len(edges))
        edges.append(Edge(f"s{k}", f"r{k}", r_lin=1.0, kind="inlet"))  # the terminal (coil, radiator, inlet)
        if k > 0:
            edges.append(Edge(f"s{k - 1}", f"s{k}", r_lin=x, kind="inlet"))
            # Direct return flows back towards terminal 0; reverse return continues to terminal n-1.
            edges.append(Edge(f"r{k - 1}", f"r{k}", r_lin=x, kind="inlet") if reverse
                         else Edge(f"r{k}", f"r{k - 1}", r_lin=x, kind="inlet"))
    pos = {**{f"s{k}": (float(k), 1.0) for k in range(n)}, **{f"r{k}": (float(k), 0.0) for k in range(n)}}
    exit_node = f"r{n - 1}" if reverse else "r0"
    return Network(list(pos), edges, pos, exit_node, "s0", inlets, "reverse return" if reverse else "direct return",
                   pushes=True)


def direct_return_layout(n: int, x: float) -> Network:
    """Two-header linear network fed at terminal 0 and leaving at terminal 0 (direct return)."""
    return _two_header(n, x, reverse=False)


def reverse_return_layout(n: int, x: float) -> Network:
    """Two-header linear network fed at terminal 0 and leaving after terminal n-1 (reverse return, equal path)."""
    return _two_header(n, x, reverse=True)


def solve_layout(network: Network, q: float = 500 * LPH, laminar: bool = False, tol: float = 1e-12) -> Solution:
    """Solve a layout with the pump moving q (m³/s) through it (withdrawn at the pump node, or pushed in)."""
    if not isinstance(network, Network):
        raise TypeError(f"network must be a Network, got {type(network).__name__}")
    q = _pos(q, "q", "m³/s")
    # Bottom filters: the tank (pressure 0) feeds the inlets and the pump withdraws q. Heating loops: the pump
    # pushes q into the supply node and the return end is the reference.
    inject = {network.pump: q if network.pushes else -q}
    pressures, flows = solve_network(network.nodes, network.edges, {network.tank: 0.0}, inject, laminar, tol)
    supplied, dissipated = network_power(pressures, flows, network.edges, laminar)
    return Solution(network, pressures, flows, flows[network.inlets], pressures[network.pump], supplied, dissipated)


def uniformity(q: ArrayLike) -> tuple[float, float]:
    """(min/max, population coefficient of variation) of the inlet flows q (all must share one sign)."""
    arr = np.asarray(q, dtype=float).ravel()
    if arr.size == 0 or not np.all(np.isfinite(arr)):
        raise ValueError("q (inlet flows, m³/s) must be a non-empty array of finite numbers")
    if not (np.all(arr > 0) or np.all(arr < 0)):
        raise ValueError("q (inlet flows, m³/s) must all be non-zero and of one sign")
    arr = np.abs(arr)
    return float(arr.min() / arr.max()), float(arr.std() / arr.mean())


def ladder_uniformity(n: int, x: float) -> float:
    """Closed-form q_far/q_near of a linear ladder of n inlets with header/inlet resistance ratio x."""
    n = integer(n, "n", minimum=1)
    x = _nonneg(x, "x", "resistance ratio r/R")
    # cosh θ = 1 + x/2  <=>  sinh(θ/2) = √x / 2; the asinh form keeps precision for small x.
    theta = 2 * math.asinh(math.sqrt(x) / 2)
    return math.cosh(theta / 2) / math.cosh((n - 0.5) * theta)


# --- Part B: nitrogen ----------------------------------------------------------------------------------------------
def tan_production(feed_g: float, protein: float, coef: float = 0.092) -> float:
    """Total ammonia nitrogen excreted (mg N/day) for feed_g g/day of food with protein fraction ``protein``."""
    feed_g = _nonneg(feed_g, "feed_g", "g/day")
    protein = real(protein, "protein")
    if not 0 <= protein <= 1:
        raise ValueError(f"protein (mass fraction, 0–1) must be between 0 and 1, got {protein}")
    return 1000 * feed_g * protein * _nonneg(coef, "coef", "g TAN per g protein")


def ammonia_pka(temp_c: float) -> float:
    """pKa of NH4+ at temp_c °C (Emerson et al. 1975)."""
    temp_c = real(temp_c, "temp_c")
    if temp_c <= -273.15:
        raise ValueError(f"temp_c (°C) must be above absolute zero (-273.15 °C), got {temp_c}")
    return 0.09018 + 2729.92 / (temp_c + 273.15)


def free_ammonia_fraction(temp_c: float, ph: float) -> float:
    """Un-ionised fraction NH3/(NH3 + NH4+) at temp_c °C and the given pH."""
    ph = real(ph, "ph")
    if not 0 <= ph <= 14:
        raise ValueError(f"ph (pH units) must be between 0 and 14, got {ph}")
    return 1.0 / (1.0 + 10 ** (ammonia_pka(temp_c) - ph))


def exchange_rate(fraction: float, interval: float) -> float:
    """Continuous-equivalent exchange rate (1/day) of changing ``fraction`` of the water every ``interval`` days."""
    fraction = real(fraction, "fraction")
    if not 0 <= fraction < 1:
        raise ValueError(f"fraction (of the tank volume) must be in [0, 1), got {fraction}")
    return -math.log1p(-fraction) / _pos(interval, "interval", "days")


@dataclass(frozen=True)
class NitrogenParams:
    """Parameters of the two-step nitrification model (days, litres, mg N/L, mg VSS)."""

    volume: float = 40.0        # L
    feed: float = 1.0           # g food per day
    protein: float = 0.40       # protein mass fraction
    mu_a: float = 0.9           # AOB maximum growth rate, 1/day
    k_a: float = 0.5            # AOB half-saturation, mg N/L
    b_a: float = 0.17           # AOB decay, 1/day
    y_a: float = 0.15           # AOB yield, mg VSS per mg N
    mu_n: float = 1.0
    k_n: float = 0.2
    b_n: float = 0.17
    y_n: float = 0.05
    seed_a: float = 0.01        # initial AOB biomass in the tank, mg VSS
    seed_n: float = 0.01
    k_pa: float = 0.0           # plant uptake of TAN, 1/day
    k_pn: float = 0.0           # plant uptake / denitrification of nitrate, 1/day
    w: float = 0.0              # continuous water exchange, 1/day

    def __post_init__(self) -> None:
        for f in fields(self):
            value = real(getattr(self, f.name), f.name)
            if value < 0:
                raise ValueError(f"{f.name} must be non-negative, got {value}")
        for f in ("volume", "mu_a", "k_a", "y_a", "mu_n", "k_n", "y_n"):
            if getattr(self, f) <= 0:
                raise ValueError(f"{f} must be positive, got {getattr(self, f)}")
        if self.protein > 1:
            raise ValueError(f"protein (mass fraction, 0–1) must be at most 1, got {self.protein}")

    @property
    def load(self) -> float:
        """Volumetric TAN load L (mg N L⁻¹ day⁻¹)."""
        return tan_production(self.feed, self.protein) / self.volume


@dataclass
class CycleResult:
    """Time (days) and state of a nitrogen-cycle run: TAN, nitrite-N, nitrate-N (mg/L), AOB, NOB (mg VSS)."""

    t: NDArray[np.float64]
    tan: NDArray[np.float64]
    nitrite: NDArray[np.float64]
    nitrate: NDArray[np.float64]
    aob: NDArray[np.float64]
    nob: NDArray[np.float64]
    removed: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))  # cumulative N removed, mg/L


def _rhs(p: NitrogenParams):
    load = p.load

    def f(_t: float, s: NDArray[np.float64]) -> list[float]:
        a, i, n, xa, xn, _ = s
        r_a = p.mu_a / p.y_a * xa / p.volume * a / (p.k_a + a)
        r_n = p.mu_n / p.y_n * xn / p.volume * i / (p.k_n + i)
        # The last state integrates what plants and water exchange remove, for the nitrogen bookkeeping.
        removal = p.k_pa * a + p.k_pn * n + p.w * (a + i + n)
        return [load - r_a - p.k_pa * a - p.w * a, r_a - r_n - p.w * i, r_n - p.k_pn * n - p.w * n,
                p.y_a * r_a * p.volume - p.b_a * xa, p.y_n * r_n * p.volume - p.b_n * xn, removal]

    return f


def simulate_cycle(params: NitrogenParams, days: float, t_eval: ArrayLike | None = None,
                   change_fraction: float = 0.0, change_interval: float | None = None,
                   initial: Sequence[float] = (0.0, 0.0, 0.0), rtol: float = 1e-9) -> CycleResult:
    """Integrate the nitrogen cycle for ``days`` (LSODA); optionally change ``change_fraction`` of the water
    every ``change_interval`` days (impulses; biomass on surfaces stays)."""
    if not isinstance(params, NitrogenParams):
        raise TypeError(f"params must be a NitrogenParams, got {type(params).__name__}")
    days = _pos(days, "days", "days")
    if days > 1e5:
        raise ValueError(f"days must be at most 1e5, got {days}")
    change_fraction = real(change_fraction, "change_fraction")
    if not 0 <= change_fraction < 1:
        raise ValueError(f"change_fraction (of the volume) must be in [0, 1), got {change_fraction}")
    if change_fraction > 0 and change_interval is None:
        raise ValueError("change_interval (days) is required when change_fraction > 0")
    if change_interval is not None:
        change_interval = _pos(change_interval, "change_interval", "days")
        if days / change_interval > 1e5:
            raise ValueError("change_interval is too short for the simulated span")
    t_eval = np.linspace(0, days, int(days * 10) + 1) if t_eval is None else np.asarray(t_eval, dtype=float)
    if t_eval.ndim != 1 or t_eval.size == 0 or t_eval[0] < 0 or t_eval[-1] > days or np.any(np.diff(t_eval) <= 0):
        raise ValueError("t_eval must be increasing times (days) within [0, days]")
    if len(initial) != 3 or any(real(c, "initial") < 0 for c in initial):
        raise ValueError("initial must be three non-negative concentrations (mg N/L): TAN, nitrite, nitrate")
    state = np.array([*map(float, initial), params.seed_a, params.seed_n, 0.0])
    cuts = [0.0]
    if change_fraction > 0:
        cuts += list(np.arange(change_interval, days, change_interval))
    cuts.append(days)
    rhs = _rhs(params)
    out = np.empty((6, t_eval.size))
    for start, stop in zip(cuts[:-1], cuts[1:]):
        last = stop == days
        mask = (t_eval >= start) & ((t_eval <= stop) if last else (t_eval < stop))
        points = t_eval[mask]
        grid = points if points.size and points[-1] == stop else np.append(points, stop)
        sol = solve_ivp(rhs, (start, stop), state, method="LSODA", t_eval=grid, rtol=rtol, atol=1e-12)
        if not sol.success:
            raise RuntimeError(f"simulate_cycle: the integrator failed on [{start}, {stop}] days: {sol.message}")
        out[:, mask] = sol.y[:, : points.size]
        state = sol.y[:, -1].copy()
        if not last:
            state[5] += change_fraction * state[:3].sum()
            state[:3] *= 1 - change_fraction
    if not np.all(np.isfinite(out)):
        raise RuntimeError("simulate_cycle produced non-finite values")
    return CycleResult(t_eval, *out[:5], removed=out[5])


def steady_state_substrate(K: float, b: float, mu: float) -> float:
    """Steady substrate of a retained-biomass Monod population: K·b/(μ − b) (mg N/L)."""
    K, b, mu = _pos(K, "K", "mg N/L"), _nonneg(b, "b", "1/day"), _pos(mu, "mu", "1/day")
    if mu <= b:
        raise ValueError(f"mu (1/day) must exceed b (1/day) for a population to persist, got mu={mu}, b={b}")
    return K * b / (mu - b)


def steady_biomass(y: float, load: float, volume: float, b: float, removed: float = 0.0) -> float:
    """Steady biomass Y·(L − removed)·V/b (mg VSS); ``removed`` is the load lost before oxidation (mg N/L/day)."""
    y, load = _pos(y, "y", "mg VSS/mg N"), _nonneg(load, "load", "mg N/L/day")
    net = load - _nonneg(removed, "removed", "mg N/L/day")
    if net < 0:
        raise ValueError("removed (mg N/L/day) must not exceed load")
    return y * net * _pos(volume, "volume", "L") / _pos(b, "b", "1/day")


def steady_nitrate(L: float, w: float, k_p: float, A_star: float = 0.0, I_star: float = 0.0) -> float:
    """Steady nitrate-N (mg N/L) under load L, exchange w and first-order removal k_p (1/day)."""
    L, w, k_p = _nonneg(L, "L", "mg N/L/day"), _nonneg(w, "w", "1/day"), _nonneg(k_p, "k_p", "1/day")
    if w + k_p <= 0:
        raise ValueError("w + k_p (1/day) must be positive, or nitrate grows without bound")
    return (L - w * (_nonneg(A_star, "A_star", "mg N/L") + _nonneg(I_star, "I_star", "mg N/L"))) / (k_p + w)


# --- Drawing -------------------------------------------------------------------------------------------------------
def draw_layout(solution: Solution, ax: "Axes | None" = None, footprint: tuple[float, float] = (0.60, 0.40),
                vmax: float | None = None, title: str | None = None) -> "Axes":
    """Top view of a solved bottom-filter layout to scale (cm): pipes, pump, inlets coloured by flow (L/h)."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    if not isinstance(solution, Solution):
        raise TypeError(f"solution must be a Solution, got {type(solution).__name__}")
    net = solution.network
    if ax is None:
        _, ax = plt.subplots(figsize=(5.2, 3.8))
    w, h = (100 * _pos(v, "footprint", "m") for v in footprint)
    ax.add_patch(Rectangle((-w / 2, -h / 2), w, h, facecolor="#f3ead8", edgecolor="0.4", lw=1.0, zorder=0))
    for e in net.edges:
        if e.kind == "pipe":
            (x0, y0), (x1, y1) = net.pos[e.u], net.pos[e.v]
            ax.plot([100 * x0, 100 * x1], [100 * y0, 100 * y1], color="0.35", lw=1.2 + 60 * e.D, zorder=1,
                    solid_capstyle="round")
    flows = solution.inlet_flows / LPH
    xy = np.array([net.pos[net.edges[k].v] for k in net.inlets]) * 100
    points = ax.scatter(xy[:, 0], xy[:, 1], c=flows, s=40 + 3 * flows, cmap="viridis", vmin=0,
                        vmax=vmax or float(flows.max()), edgecolor="black", zorder=3)
    px, py = net.pos[net.pump]
    ax.plot(100 * px, 100 * py, marker="s", color="#D55E00", ms=9, zorder=4, label="pump suction")
    ax.set(xlim=(-w / 2 - 2, w / 2 + 2), ylim=(-h / 2 - 2, h / 2 + 2), aspect="equal", xlabel="x (cm)",
           ylabel="y (cm)", title=title or net.name)
    ax.figure.colorbar(points, ax=ax, label="inlet flow (L/h)", shrink=0.8)
    return ax


def layout_table(solutions: Mapping[str, Solution]) -> "pd.DataFrame":
    """One row per solved layout: inlet flows (L/h, one per mirror pair), U, CV and pump suction (Pa)."""
    import pandas as pd

    if not isinstance(solutions, Mapping) or not solutions:
        raise ValueError("solutions must be a non-empty mapping of names to Solution")
    rows = []
    for name, sol in solutions.items():
        if not isinstance(sol, Solution):
            raise TypeError(f"solutions[{name!r}] must be a Solution, got {type(sol).__name__}")
        u, cv = uniformity(sol.inlet_flows)
        flows = sol.inlet_flows / LPH
        # Inlets come in mirror pairs (y = ±b/2) with equal flows, so one per pair is listed.
        text = f"{flows[0]:.2f} (all {flows.size})" if u > 1 - 1e-12 else ", ".join(f"{f:.2f}" for f in flows[::2])
        rows.append({"layout": name, "inlet flows (L/h), nearest → farthest": text, "U": round(u, 4),
                     "CV": round(cv, 4), "pump suction (Pa)": round(sol.suction, 2)})
    return pd.DataFrame(rows)


def compare_layouts(flow_lph: float = 500, diameter_mm: float = 17, holes: int = 4, hole_mm: float = 5,
                    open_ends: bool = False) -> "Figure":
    """The H-tree and the comb solved for one design (L/h, mm), drawn side by side with U and the suction."""
    import matplotlib.pyplot as plt

    flow_lph, diameter_mm = _pos(flow_lph, "flow_lph", "L/h"), _pos(diameter_mm, "diameter_mm", "mm")
    inlet = (inlet_resistance(open_end=diameter_mm / 1000) if open_ends
             else inlet_resistance(n_holes=holes, d_hole=_pos(hole_mm, "hole_mm", "mm") / 1000))
    sols = [solve_layout(make(D=diameter_mm / 1000, inlet=inlet), q=flow_lph * LPH)
            for make in (htree_layout, comb_layout)]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    top = max(s.inlet_flows.max() for s in sols) / LPH
    for ax, sol, name in zip(axes, sols, ("同程 H-tree", "comb")):
        u, _ = uniformity(sol.inlet_flows)
        draw_layout(sol, ax=ax, vmax=top, title=f"{name}: U = {u:.3f}, suction {sol.suction:.0f} Pa")
    return fig


def plot_cycle(params: NitrogenParams, days: float = 60, temp_c: float = 25.0, ph: float = 7.5,
               change_fraction: float = 0.0, change_interval: float | None = None) -> "Figure":
    """Concentrations (mg N/L) and attached biomass (mg VSS) of a run, with the TAN at which free NH3-N reaches
    FREE_AMMONIA_GUIDE at temp_c °C and the given pH."""
    import matplotlib.pyplot as plt

    from kexue.plotting import PALETTE

    t = np.linspace(0, _pos(days, "days", "days"), 2001)
    run = simulate_cycle(params, days, t, change_fraction=change_fraction, change_interval=change_interval)
    guide = FREE_AMMONIA_GUIDE / free_ammonia_fraction(temp_c, ph)
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot(t, run.tan, label="TAN (氨氮)", color=PALETTE["vermillion"])
    ax.plot(t, run.nitrite, label="nitrite-N (亚硝酸盐)", color=PALETTE["orange"])
    ax.plot(t, run.nitrate, label="nitrate-N (硝酸盐)", color=PALETTE["blue"])
    ax.axhline(guide, color="black", ls=":", lw=1,
               label=f"TAN giving {FREE_AMMONIA_GUIDE} mg/L NH₃-N\n({temp_c:g} °C, pH {ph:g})")
    top = max(run.tan.max(), run.nitrite.max(), guide) * 2.5
    ax.set(xlabel="day", ylabel="mg N / L", title="新缸开缸: the nitrogen cycle starts up", ylim=(0, top))
    twin = ax.twinx()
    twin.plot(t, run.aob, "--", color=PALETTE["green"], label="AOB")
    twin.plot(t, run.nob, "--", color=PALETTE["purple"], label="NOB")
    twin.set(ylabel="attached biomass (mg VSS)", ylim=(0, None))
    twin.grid(False)
    handles = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.15, 1), fontsize="small")
    return fig
