"""The shared modules: plotting style, run-time settings, the exercise checker, and a light `import kexue`."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st

from kexue import exercises, plotting, runtime  # noqa: E402


def test_import_kexue_is_light() -> None:
    code = ("import sys, kexue, kexue.plotting, kexue.exercises, kexue.runtime, kexue.validate; "
            "print(sorted({'torch', 'sympy', 'matplotlib'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_chinese_text_renders_without_missing_glyphs(tmp_path) -> None:
    assert plotting.cjk_font() is not None, "install fonts-noto-cjk"
    plotting.use_style()
    fig, ax = plt.subplots()
    ax.set_title("十字架组合计数 (cross)")
    ax.plot([-1, 1], label="红 / 黄 / 蓝")
    ax.legend()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)"
        fig.savefig(tmp_path / "cjk.png")
    plt.close(fig)


def relative_luminance(hex_colour: str) -> float:
    rgb = np.array(matplotlib.colors.to_rgb(hex_colour))
    lin = np.where(rgb <= 0.03928, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return float(lin @ [0.2126, 0.7152, 0.0722])


def test_palette_lines_are_legible_on_the_white_figure() -> None:
    plotting.use_style()
    assert matplotlib.rcParams["figure.facecolor"] == "white"  # opaque, so the dark theme cannot swallow text
    for colour in plotting.CYCLE:
        contrast = (1.05) / (relative_luminance(colour) + 0.05)
        assert contrast >= 2.0, f"{colour} is too faint on white ({contrast:.2f}:1)"
    assert len(set(plotting.CYCLE)) == len(plotting.CYCLE)


@given(st.integers(min_value=0, max_value=2**31))
def test_seed_everything_is_reproducible(seed: int) -> None:
    a = runtime.seed_everything(seed).random(3), np.random.random(3)
    b = runtime.seed_everything(seed).random(3), np.random.random(3)
    np.testing.assert_array_equal(a, b)


@pytest.mark.torch
def test_seed_and_threads_reach_torch() -> None:
    torch = pytest.importorskip("torch")

    runtime.seed_everything(7)
    first = torch.rand(3)
    runtime.seed_everything(7)
    assert torch.equal(first, torch.rand(3))
    assert runtime.set_threads(1) == 1 and torch.get_num_threads() == 1


@pytest.mark.parametrize("bad, error", [(-1, ValueError), (1.5, TypeError), ("3", TypeError), (True, TypeError)])
def test_runtime_rejects_bad_input(bad, error) -> None:
    with pytest.raises(error, match="seed"):
        runtime.seed_everything(bad)
    with pytest.raises(error, match="n must"):
        runtime.set_threads(bad if bad != -1 else 0)


def test_threads_are_bounded_by_the_usable_cores() -> None:
    cores = runtime.usable_cores()
    assert 1 <= cores <= (os.cpu_count() or 1)
    with pytest.raises(ValueError, match=f"n must be between 1 and {cores}"):
        runtime.set_threads(10**9)
    with pytest.raises(ValueError, match="n must be between"):
        runtime.blas_threads(10**9)


def test_blas_threads_limits_and_restores() -> None:
    from threadpoolctl import threadpool_info

    def blas_limits() -> set[int]:
        return {info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"}

    before = blas_limits()
    with runtime.blas_threads(1):
        assert blas_limits() <= {1}

    @runtime.one_blas_thread
    def inside() -> set[int]:
        return blas_limits()

    assert inside() <= {1}
    assert blas_limits() == before


def test_timer_helpers() -> None:
    calls = []
    seconds = runtime.time_call(lambda: calls.append(1), repeat=3, min_time=1e-3)
    assert 0 < seconds < 1e-3 and len(calls) > 3
    assert runtime.calibrate(lambda: None, 1e-4) >= 1
    with runtime.Stopwatch() as clock:
        sum(range(1000))
    assert 0 < clock.seconds < 1
    with pytest.raises(TypeError, match="call must be callable"):
        runtime.time_call(3)


def _square(x: int) -> int:
    return x * x


def test_run_parallel_keeps_the_order() -> None:
    assert runtime.run_parallel(_square, [3, 1, 2], workers=1, progress=False) == [9, 1, 4]
    if runtime.usable_cores() >= 2:
        assert runtime.run_parallel(_square, list(range(6)), workers=2, progress=False) == [i * i for i in range(6)]
    with pytest.raises(TypeError, match="jobs must be a sequence"):
        runtime.run_parallel(_square, 3)


def test_process_tree_memory_counts_children() -> None:
    code = "import time; x = bytearray(200 * 2**20); time.sleep(3)"
    child = subprocess.Popen([sys.executable, "-c", code])
    try:
        with runtime.PeakMemory(interval=0.05) as peak:
            time.sleep(1.5)
        assert peak.peak_mb >= runtime.tree_memory_mb(include_root=False) >= 190
        assert peak.peak_mb > runtime.peak_memory_mb() * 0 + 190
    finally:
        child.kill()
        child.wait()
    with pytest.raises(ValueError, match="pid"):
        runtime.tree_memory_mb(pid=-3)


def test_peak_memory_finds_a_worker_started_later_and_stays_cheap() -> None:
    """New descendants are looked up every `refresh` seconds; the poller itself uses little CPU meanwhile."""
    code = "import time; x = bytearray(200 * 2**20); time.sleep(3)"
    cpu = time.process_time()
    with runtime.PeakMemory(interval=0.05, include_root=False, refresh=0.5) as peak:
        child = subprocess.Popen([sys.executable, "-c", code])
        try:
            time.sleep(2.0)
        finally:
            child.kill()
            child.wait()
    assert peak.peak_mb >= 190
    assert time.process_time() - cpu < 1.0  # 40 polls; a full process scan at each poll cost a core on a busy host
    with pytest.raises(ValueError, match="refresh"):
        runtime.PeakMemory(refresh=-1)


def test_peak_memory_is_plausible() -> None:
    assert 10 < runtime.peak_memory_mb() < 24 * 1024


@pytest.fixture
def toy_exercise():
    """A throwaway exercise, removed again so that it does not leak into other tests."""

    @exercises.register("test-answer", hint="think of Douglas Adams")
    def _(answer):
        value = exercises.as_int(answer)
        return value == 42, "right" if value == 42 else ("too small" if value < 42 else "too large")

    yield "test-answer"
    exercises._REGISTRY.pop("test-answer")


def test_check_grades_without_revealing(toy_exercise) -> None:
    right, wrong = exercises.check(toy_exercise, 42), exercises.check(toy_exercise, 41)
    assert right.passed and "✓" in str(right) and "Hint" not in str(right)
    assert not wrong.passed and "too small" in str(wrong) and "Douglas" in str(wrong) and "42" not in str(wrong)
    assert not exercises.check(toy_exercise, "forty-two").passed  # a wrong type is feedback, not a crash
    assert toy_exercise in exercises.registered()
    assert "✓" in right._repr_html_()


def test_check_names_unknown_ids_and_bad_registrations() -> None:
    with pytest.raises(ValueError, match="exercise_id 'no-such'"):
        exercises.check("no-such", 1)
    with pytest.raises(ValueError, match="exercise_id"):
        exercises.register("")


def test_as_int() -> None:
    assert exercises.as_int(np.int64(5)) == 5 and exercises.as_int(6.0) == 6
    with pytest.raises(TypeError, match="answer must be an integer"):
        exercises.as_int(2.5)
    with pytest.raises(TypeError, match="count"):
        exercises.as_int(True, name="count")
