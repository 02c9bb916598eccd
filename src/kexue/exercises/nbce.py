"""Checkers for the exercises of chapter 07 (NBCE, naive-Bayes context extension).

Only NumPy at import time; kexue.nbce (torch) is imported when a checker runs.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from kexue.exercises import call, close, grade, register


def _posterior_cases() -> list[tuple[Any, ...]]:
    """Random exactly conditionally independent toys: (prior, likelihood tables, observed values)."""
    rng = np.random.default_rng(9617)
    cases = []
    for n_t, sizes in [(2, (2, 2, 2)), (4, (5, 5, 5)), (3, (2, 4)), (6, (3, 3, 3, 3))]:
        prior = rng.dirichlet(np.ones(n_t))
        tables = [rng.dirichlet(np.ones(s), size=n_t) for s in sizes]
        observed = [int(rng.integers(s)) for s in sizes]
        cases.append((prior, tables, observed))
    return cases


@register("nbce-nb-posterior", hint="Write p(S_k | T) with Bayes' rule as p(T | S_k) p(S_k) / p(T); the p(S_k) do not "
                                    "depend on T and disappear when you normalise over T.")
def nb_posterior(answer: Any) -> tuple[bool, str]:
    """A function posterior(prior, likelihoods, observed) returning p(T | S_1..S_n) as a normalised vector."""
    if not callable(answer):
        return False, "pass a function posterior(prior, likelihoods, observed) returning a probability vector."
    from kexue.nbce import independent_posterior

    result = grade(answer, _posterior_cases(), lambda *case: independent_posterior(*case)[0], rtol=0, atol=1e-12,
                   names=("prior", "likelihoods", "observed"), what="toy models")
    return result.passed, result.message("right on all four toy models, to 1e-12.")


def _score_cases() -> list[tuple[Any, ...]]:
    """The hand-made contexts of the chapter and random ones, for every pooling, with and without Top-P."""
    import torch

    ctx = torch.tensor([[0.7, 0.12, 0.1, 0.08], [0.25] * 4, [0.09, 0.6, 0.2, 0.11]], dtype=torch.float64).log()
    unc = torch.tensor([0.4, 0.3, 0.2, 0.1], dtype=torch.float64).log()
    gen = torch.Generator().manual_seed(9632)
    rctx = torch.randn(5, 9, generator=gen, dtype=torch.float64).mul(2).log_softmax(-1)
    runc = torch.randn(9, generator=gen, dtype=torch.float64).log_softmax(-1)
    cases = []
    for c, u in ((ctx, unc), (rctx, runc)):
        for pooling, beta in (("min_entropy", 0.25), ("average", 2.0), ("average", 0.0), ("max", 0.25)):
            for top_p in (None, 0.85):
                cases.append((c.clone(), u.clone(), pooling, beta, top_p))
    return cases


def _scores_agree(value: Any, expected: Any) -> bool:
    """Same finite entries (to 1e-9) and −∞ in the same places."""
    import torch

    got = torch.as_tensor(np.asarray(value, dtype=float), dtype=torch.float64)
    want = torch.as_tensor(expected, dtype=torch.float64)
    if got.shape != want.shape or torch.isnan(got).any() or (got == float("inf")).any():
        return False
    same_inf = torch.equal(torch.isinf(got), torch.isinf(want))
    finite = torch.isfinite(want)
    return same_inf and bool(torch.allclose(got[finite], want[finite], rtol=0, atol=1e-9))


@register("nbce-scores", hint="Truncate every row and the no-context row first; then pool; then apply "
                              "(1+β)·pooled − β·log p(T) only where log p(T) is finite.")
def nbce_scores_checker(answer: Any) -> tuple[bool, str]:
    """A function scores(logp_ctx, logp_uncond, pooling, beta, top_p) equal to kexue.nbce.nbce_scores' scores."""
    if not callable(answer):
        return False, "pass a function scores(logp_ctx, logp_uncond, pooling, beta, top_p) returning a vector."
    from kexue.nbce import nbce_scores

    cases = _score_cases()
    wrong = []
    for case in cases:  # tensors are cloned for each call, so that a function that edits them in place spoils nothing
        value, error = call(answer, case[0].clone(), case[1].clone(), *case[2:])
        try:
            ok = error is None and _scores_agree(value, nbce_scores(*case)[0])
        except (TypeError, ValueError, RuntimeError):
            ok = False
        if not ok:
            wrong.append(case)
    if not wrong:
        return True, f"right on all {len(cases)} cases: every pooling, with and without Top-P."
    bad = sorted({(case[2], case[4] is not None) for case in wrong})
    where = "; ".join(f"{p}{' with Top-P' if t else ' without Top-P'}" for p, t in bad)
    return False, f"{len(wrong)} of {len(cases)} cases differ, for: {where}."


@register("nbce-duplicate-beta", hint="With r distinct contexts each repeated m times, the average over all n = r·m "
                                      "logs equals the average over the r distinct ones.")
def duplicate_beta(answer: Any) -> tuple[bool, str]:
    """A function beta(n, m): the β that makes average pooling exact for n contexts in groups of m identical copies."""
    if not callable(answer):
        return False, "pass a function beta(n, m) of the number of contexts and the size of each group of copies."
    cases = [(n, m) for n in (1, 2, 4, 6, 12, 30) for m in (1, 2, 3, 6) if n % m == 0]
    result = grade(answer, cases, lambda n, m: n / m - 1, rtol=1e-12, atol=1e-12, names=("n", "m"))
    return result.passed, result.message(f"right on all {len(cases)} (n, m) pairs.")


def _pcw_reference(scores: list[np.ndarray]) -> np.ndarray:
    """Softmax within each context's block, divided by the number of contexts, concatenated."""
    blocks = [np.exp(s - s.max()) / np.exp(s - s.max()).sum() for s in scores]
    return np.concatenate(blocks) / len(blocks)


@register("nbce-pcw-average", hint="Each context's run normalises its own attention scores with a softmax; averaging "
                                   "n outputs multiplies every weight by 1/n.")
def pcw_average(answer: Any) -> tuple[bool, str]:
    """A function pcw_weights(scores) giving the attention weights over the concatenation that average pooling uses."""
    if not callable(answer):
        return False, "pass a function pcw_weights(scores) taking a list of 1-D score arrays, one per context."
    rng = np.random.default_rng(2212)
    cases = [([rng.normal(size=int(rng.integers(2, 7))) * 3 for _ in range(n)],) for n in (1, 2, 3, 5)]
    result = grade(answer, cases, _pcw_reference, rtol=1e-9, atol=1e-12, names=("scores",), what="random cases")
    if not result.passed:
        return False, result.message()
    value, _ = call(answer, [np.zeros(3), np.zeros(5)])
    if value is None or not close(np.sum(value), 1.0, rtol=1e-9):
        return False, "the weights over the concatenation must sum to 1."
    return True, "right on four random cases: block softmaxes, each scaled by 1/n."


def _refusal_data(refusal: bool, trials: int = 300, n: int = 8, vocab: int = 12,
                  seed: int = 5) -> tuple[Any, Any, Any]:
    """Synthetic per-context log-probabilities: the right context puts ~0.7 on the answer; with ``refusal`` the
    others and the no-context run put ~0.97 on a refusal token (last id), else they spread over the values."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    values = vocab - 1
    answer = torch.randint(0, values, (trials,), generator=gen)
    right = torch.randint(0, n, (trials,), generator=gen)
    logits = torch.randn(trials, n + 1, vocab, generator=gen, dtype=torch.float64) * 0.3
    if refusal:
        logits[..., -1] += 6.0
    else:
        logits[..., -1] -= 6.0
    rows = torch.arange(trials)
    logits[rows, right] = torch.randn(trials, vocab, generator=gen, dtype=torch.float64) * 0.3
    logits[rows, right, answer] += 3.5
    logits[rows, right, -1] -= 6.0
    logp = logits.log_softmax(-1)
    return logp[:, :n], logp[:, n], (answer, right)


def _rule_accuracy(rule: Any, refusal: bool) -> float | None:
    """Accuracy of NBCE with the student's context choice (β = 0.25) on synthetic data, or None if the rule fails."""
    import torch

    ctx, unc, (answer, _) = _refusal_data(refusal)
    k, error = call(rule, ctx.clone(), unc.clone())
    try:
        k = torch.as_tensor(np.asarray(k), dtype=torch.long).reshape(-1)
    except (TypeError, ValueError, RuntimeError):
        return None
    if error is not None or k.shape != answer.shape or (k < 0).any() or (k >= ctx.shape[1]).any():
        return None
    chosen = ctx[torch.arange(len(k)), k]
    scores = 1.25 * chosen - 0.25 * unc
    return float((scores.argmax(-1) == answer).double().mean())


@register("nbce-refusal-rule", hint="A context that only repeats what the no-context run says carries no evidence, "
                                    "however confident it is: compare each context with the no-context prediction.")
def refusal_rule(answer: Any) -> tuple[bool, str]:
    """A function select(logp_ctx, logp_uncond) -> (T,) context indices that keeps NBCE right on a refusal model."""
    if not callable(answer):
        return False, "pass a function select(logp_ctx, logp_uncond) taking (T, n, V) and (T, V) log-probabilities."
    plain, refusing = _rule_accuracy(answer, False), _rule_accuracy(answer, True)
    if plain is None or refusing is None:
        return False, "the function must return one context index per problem, an integer array of shape (T,)."
    if refusing < 0.9:
        return False, "on a model that confidently refuses in the unrelated contexts, your rule still picks them."
    if plain < 0.9:
        return False, "your rule copes with refusals but no longer finds the right context on an ordinary model."
    return True, "accuracy at least 0.9 with and without confident refusals, with β = 0.25."
