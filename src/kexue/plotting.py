"""One visual style for every chapter: a colour-blind-safe palette, a CJK-capable font, figures that read well
on the site's light and dark themes."""
from __future__ import annotations

import warnings
from functools import lru_cache

import matplotlib as mpl
from matplotlib import font_manager

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision deficiency.
PALETTE: dict[str, str] = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "sky": "#56B4E9",
    "purple": "#CC79A7",
    "yellow": "#F0E442",
    "black": "#000000",
}
CYCLE: list[str] = [PALETTE[name] for name in ("blue", "orange", "green", "vermillion", "sky", "purple", "black")]


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The family name of an installed font with Chinese glyphs (Noto Sans CJK preferred), or None."""
    names = sorted({f.name for f in font_manager.fontManager.ttflist})
    for preferred in ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK TC", "Noto Sans CJK KR"):
        if preferred in names:
            return preferred
    return next((n for n in names if "CJK" in n or "Hei" in n or "WenQuanYi" in n), None)


def use_style() -> None:
    """Apply the course's matplotlib style (call once at the top of a chapter)."""
    cjk = cjk_font()
    if cjk is None:
        warnings.warn(
            "no CJK font found: Chinese text in figures will show as boxes (install fonts-noto-cjk)",
            stacklevel=2,
        )
    mpl.rcParams.update(
        {
            # Glyphs missing from the first family fall back to the next, so Chinese labels render.
            "font.family": ["DejaVu Sans"] + ([cjk] if cjk else []),
            "axes.prop_cycle": mpl.cycler(color=CYCLE),
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titlesize": "medium",
            "figure.figsize": (6.4, 4.0),
            "figure.dpi": 110,
            "savefig.dpi": 150,
            "savefig.bbox": "tight",
            # An opaque white background keeps dark text legible when the site is in dark mode.
            "figure.facecolor": "white",
            "axes.facecolor": "white",
            "savefig.facecolor": "white",
            "legend.frameon": False,
        }
    )
    sharp_inline_figures()


def sharp_inline_figures() -> None:
    """In a notebook, draw figures as PNGs at twice their display resolution, so they stay sharp on HiDPI screens."""
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: no inline backend to configure
        return
    if get_ipython() is None:
        return
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    set_matplotlib_formats("retina")
