"""Fit the verdict's combination of signals (``workers/novelty.py``) on labelled claims, and say how
well it holds on a stream it was not fitted on (leave one stream out).

    .venv/bin/python benchmarks/novelty_eval.py --corpus dev --features /tmp/f.jsonl   # and dev-ru, dev-wagner
    .venv/bin/python benchmarks/novelty_fit.py /tmp/f.jsonl

A claim with a figure the watch has never seen is new by rule and is not fitted. The model is a
logistic regression (L2, plain numpy) on the signals ``workers.novelty.signals`` records; it prints
the coefficients to paste into ``workers/novelty.py`` with the numbers they were fitted on.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

FEATURES = ["words", "names_figures", "meaning", "meaning_across", "carried_words", "carried_meaning",
            "specifics", "new_names", "speaks"]


def fit(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 3000, lr: float = 0.5) -> np.ndarray:
    """Weights (bias last) by gradient descent on the mean log loss plus l2/n * |w|^2."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-xb @ w))
        grad = xb.T @ (p - y) / len(y)
        grad[:-1] += l2 * w[:-1] / len(y)
        w -= lr * grad
    return w


def predict(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-(x @ w[:-1] + w[-1])))


def scores(pred: np.ndarray, y: np.ndarray) -> str:
    tp = int(((pred == 1) & (y == 1)).sum())
    fp = int(((pred == 1) & (y == 0)).sum())
    fn = int(((pred == 0) & (y == 1)).sum())
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return f"new claims: P {p:.2f} R {r:.2f} F1 {f:.2f} (tp {tp}, fp {fp}, fn {fn})"


def main() -> int:
    rows = [json.loads(line) for line in Path(sys.argv[1]).read_text().splitlines()]
    rows = [r for r in rows if not r["rule"].startswith("new figure")]
    x = np.array([[float(r[f]) for f in FEATURES] for r in rows])
    y = np.array([1.0 if r["new"] else 0.0 for r in rows])
    rules = np.array([1.0 if r["verdict"] == "new" else 0.0 for r in rows])
    corpora = sorted({r["corpus"] for r in rows})
    print(f"{len(rows)} claims ({int(y.sum())} new) from {', '.join(corpora)}; figures rule excluded")
    for c in corpora:
        test = np.array([r["corpus"] == c for r in rows])
        w = fit(x[~test], y[~test])
        pred = (predict(w, x[test]) >= 0.5).astype(float)
        print(f"  held out {c:<11} model  {scores(pred, y[test])}")
        print(f"  {'':<20} rules  {scores(rules[test], y[test])}")
    w = fit(x, y)
    print("all streams, model:", scores((predict(w, x) >= 0.5).astype(float), y))
    print("coefficients:", {f: round(float(v), 3) for f, v in zip([*FEATURES, "bias"], w, strict=True)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
