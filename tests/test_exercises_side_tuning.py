"""Tests for the exercise checkers of chapter 11 (kexue.exercises.side_tuning): reference answers pass, wrong and
do-nothing answers fail, and the messages do not give the answer away."""
from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytestmark = pytest.mark.torch

from kexue import exercises  # noqa: E402
from kexue import side_tuning as st  # noqa: E402

IDS = ["lst-backprop-depth", "lst-budget", "lst-cache", "lst-gate", "lst-lora-params", "lst-saved-bytes"]
DEPTH = {"full": 0, "adapters": 1, "lora": 1, "bitfit": 0, "prompt tuning": 0, "lst": None}
SIZES = {"query": "d", "key": "d", "value": "d", "attention.output.dense": "d", "intermediate.dense": "f"}


def saved_bytes(loss_fn, params):
    excluded = {p.untyped_storage().data_ptr() for p in params}
    seen = {}

    def pack(t):
        s = t.untyped_storage()
        if s.data_ptr() not in excluded:
            seen[s.data_ptr()] = s.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = loss_fn()
    loss.backward()
    return sum(seen.values())


def saved_bytes_with_duplicates(loss_fn, params):
    excluded = {p.untyped_storage().data_ptr() for p in params}
    total = []

    def pack(t):
        if t.untyped_storage().data_ptr() not in excluded:
            total.append(t.untyped_storage().nbytes())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss_fn()
    return sum(total)


def lora_params(d, n_layers, ffn, r, targets):
    return n_layers * sum(r * (d + (d if SIZES[t] == "d" else ffn)) for t in targets)


def gate_slope(alpha, T):
    mu = 1 / (1 + math.exp(-alpha / T))
    return mu * (1 - mu) / T


def cache(backbone, input_ids, attention_mask):
    return st.hidden_states(backbone, input_ids, attention_mask)


def cache_with_dropout(backbone, input_ids, attention_mask):
    with torch.no_grad():
        return backbone(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True).hidden_states


def max_batch(memory_gb, n_params, trainable_fraction, act_per_example):
    free = memory_gb * 2**30 - 4 * n_params - 12 * trainable_fraction * n_params
    return max(0, math.floor(free / act_per_example))


def test_all_exercises_registered():
    assert sorted(i for i in exercises.registered() if i.startswith("lst-")) == IDS


@pytest.mark.parametrize("exercise_id, right, wrong", [
    ("lst-backprop-depth", DEPTH, {**DEPTH, "lst": 6}),
    ("lst-backprop-depth", DEPTH, {**DEPTH, "bitfit": 1}),
    ("lst-saved-bytes", saved_bytes, saved_bytes_with_duplicates),
    ("lst-saved-bytes", saved_bytes, lambda f, p: saved_bytes(f, [])),  # parameters counted
    ("lst-lora-params", lora_params, lambda d, n, f, r, t: n * 2 * r * 2 * d),
    ("lst-gate", gate_slope, lambda a, T: 1 / (4 * T)),
    ("lst-gate", gate_slope, lambda a, T: 1 / (1 + math.exp(-a / T))),
    ("lst-cache", cache, cache_with_dropout),
    ("lst-cache", cache, lambda b, i, m: st.hidden_states(b, i, m)[1:]),
    ("lst-budget", max_batch, lambda M, P, f, a: math.floor((M * 2**30 - 4 * P - 4 * f * P) / a)),
    ("lst-budget", max_batch, lambda M, P, f, a: math.floor((M * 1e9 - 4 * P - 12 * f * P) / a)),
])
def test_reference_answer_passes_and_wrong_answer_fails(exercise_id, right, wrong):
    assert exercises.check(exercise_id, right).passed
    feedback = exercises.check(exercise_id, wrong)
    assert not feedback.passed and feedback.message


@pytest.mark.parametrize("exercise_id", IDS)
@pytest.mark.parametrize("nothing", [None, 0, {}, lambda *a: 0, lambda *a: a[0], lambda *a: None])
def test_do_nothing_answers_fail(exercise_id, nothing):
    assert not exercises.check(exercise_id, nothing).passed


def test_messages_diagnose_without_revealing():
    assert "slope at α = 0" in exercises.check("lst-gate", lambda a, T: 1 / (4 * T)).message
    def only_query_value(d, n, f, r, t):
        return lora_params(d, n, f, r, ("query", "value"))

    assert "ignores targets" in exercises.check("lst-lora-params", only_query_value).message
    assert "dropout" in exercises.check("lst-cache", cache_with_dropout).message
    message = exercises.check("lst-backprop-depth", {**DEPTH, "lst": 6}).message
    assert "None" not in message and "1 of 6" in message
    message = exercises.check("lst-saved-bytes", saved_bytes_with_duplicates).message
    assert "same tensor" in message and "bytes" not in message.split(";")[1]
