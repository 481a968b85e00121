"""pdADMM-G and pdADMM-G-Q: GA-MLPs trained by layer-parallel ADMM on graphs.

pdADMM-G is ``solver="pdadmm"`` on hop features (``skadmm.graph.hop_features``,
GCN normalisation, self loops) with the paper's greedy depth schedule:
2 layers, then 5, then 10 (``n_blocks`` 0, 3, 8 at the same ``width``, grown
by ``warm_start``), ``MAX_ITER`` iterations a stage; the depth kept is the
stage with the best validation accuracy. The number of hops (``HOPS_GRID``) and
``alpha`` (``ALPHA_GRID``) are chosen per graph on the validation nodes, by a
2-layer pdADMM-G fit (seed 0), and every method then gets those features.
pdADMM-G-Q is the same with
``quantize`` (``"p"``: the layer inputs, whose merit stays monotone, at 8
and 16 bits; ``"pq"``: inputs and outputs, at 8 bits), each with the levels
of each change (``quantize_levels="step"``, the default) and with the
paper's level set fixed for the whole fit (``"fixed"``). Compared, on the same
features: the default mode (``solver="reset"``, 2 layers), ``LogisticRegression`` (``C``
chosen on the validation nodes among 1, 10, 100) and ``MLPClassifier`` (one
hidden layer of ``WIDTH`` units, adam, ``alpha=1e-3``, 200 epochs); on the raw
node features: pdADMM-G (2 layers) and the logistic regression.

Graphs: Cora and CiteSeer (Planetoid public split, row-normalised features)
and a homophilous CSBM (3,000 nodes, 3 classes, 16 features, degree 10,
homophily 0.8, 20 training nodes a class, 500 validation, the rest test; the
split of ``bench_graph.py``). Every fit runs on one BLAS thread
(``threadpoolctl``); width ``WIDTH`` = 128 (``--width``). Test accuracy:
mean and standard deviation over ``SEEDS`` initialisation seeds (the split is
fixed). Bytes: the ``exchange_bytes_`` of the last fit (every variable, per
iteration). Outputs in ``--out`` (default ``benchmarks/results``):
``pdadmm_graph.csv`` / ``.md`` (``--name``); ``--graphs`` runs some graphs
only.

Usage::

    python benchmarks/bench_pdadmm_graph.py            # about 14 min on 2 cores
    python benchmarks/bench_pdadmm_graph.py --quick    # smoke run (seconds)
    python benchmarks/bench_pdadmm_graph.py --graphs csbm_homophilous \
        --width 256 --name pdadmm_graph_csbm_width256   # one graph, wider
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from bench_graph import csbm, planetoid
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

from skadmm import ADMMResidualClassifier
from skadmm.graph import hop_features

from _common import RESULTS, rounded, write_results

WIDTH = 128
HOPS_GRID = (3, 5)
ALPHA_GRID = (3e-4, 1e-3, 3e-3)
SCHEDULE = (0, 3, 8)  # n_blocks: 2, 5 and 10 layers
MAX_ITER = 50
SEEDS = (0, 1, 2, 3, 4)
C_GRID = (1.0, 10.0, 100.0)
PDADMM = {
    "pdADMM-G": {},
    "pdADMM-G-Q p 8-bit": dict(quantize="p", quantize_bits=8),
    "pdADMM-G-Q p 16-bit": dict(quantize="p", quantize_bits=16),
    "pdADMM-G-Q pq 8-bit": dict(quantize="pq", quantize_bits=8),
    "pdADMM-G-Q p 8-bit fixed": dict(
        quantize="p", quantize_bits=8, quantize_levels="fixed"
    ),
    "pdADMM-G-Q p 16-bit fixed": dict(
        quantize="p", quantize_bits=16, quantize_levels="fixed"
    ),
    "pdADMM-G-Q pq 8-bit fixed": dict(
        quantize="pq", quantize_bits=8, quantize_levels="fixed"
    ),
}


def dense(X):
    return np.asarray(X.toarray() if hasattr(X, "toarray") else X, dtype=np.float64)


def pdadmm_g(H, y, split, seed, schedule, max_iter, width=WIDTH, **params):
    """Greedy depth growth; ``(val, test, seconds, depth, bytes, stopped,
    quantized)``, ``quantized``: the bytes of the quantized variables over
    those of the same elements in float32 (0 without ``quantize``)."""
    train, val, test = split
    clf = ADMMResidualClassifier(
        solver="pdadmm",
        width=width,
        n_blocks=schedule[0],
        max_iter=max_iter,
        warm_start=True,
        random_state=seed,
        **params,
    )
    best, seconds, stopped = None, 0.0, False
    for n_blocks in schedule:
        tick = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            clf.set_params(n_blocks=n_blocks).fit(H[train], y[train])
        seconds += time.perf_counter() - tick
        stopped |= any("increased" in str(w.message) for w in caught)
        scores = clf.score(H[val], y[val]), clf.score(H[test], y[test])
        if best is None or scores[0] > best[0]:
            best = (*scores, n_blocks + 2)
    sent = clf.exchange_bytes_
    nbytes = sum(sent.values())
    # u always crosses as float64 and has the shape of p and q.
    float32 = sent["u"] / 2
    quantized = max(
        (sent[v] / float32 for v in params.get("quantize") or ()), default=0
    )
    return best[0], best[1], seconds, best[2], nbytes, stopped, quantized


def sklearn_fit(make, H, y, split):
    train, val, test = split
    tick = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = make().fit(H[train], y[train])
    seconds = time.perf_counter() - tick
    return model.score(H[val], y[val]), model.score(H[test], y[test]), seconds


def logistic(H, y, split):
    """Validation-chosen ``C``: one deterministic result for every seed."""
    results = [
        sklearn_fit(lambda C=C: LogisticRegression(C=C, max_iter=2000), H, y, split)
        for C in C_GRID
    ]
    return max(results, key=lambda r: r[0])


def tune(A, X, y, split, max_iter, hops_grid, alpha_grid, width=WIDTH):
    """``(n_hops, alpha)`` of the best 2-layer pdADMM-G on the validation nodes."""
    best = None
    for n_hops in hops_grid:
        H = dense(hop_features(A, X, n_hops=n_hops))
        for alpha in alpha_grid:
            val = pdadmm_g(H, y, split, 0, (0,), max_iter, width, alpha=alpha)[0]
            print(f"    tuning: {n_hops} hops, alpha={alpha:g}: {val:.3f}", flush=True)
            if best is None or val > best[0]:
                best = (val, n_hops, alpha)
    return best[1:]


def evaluate(
    graph, data, seeds, schedule, max_iter, methods, grids, width=WIDTH, others=True
):
    A, X, y, train, val, test = data
    split = (train, val, test)
    n_hops, alpha = tune(A, X, y, split, max_iter, *grids, width=width)
    hops = f"hops={n_hops}"
    features = {hops: dense(hop_features(A, X, n_hops=n_hops)), "raw": dense(X)}
    runs = []
    for name, quantize in methods.items():
        runs.append((name, hops, "pdadmm", dict(alpha=alpha, **quantize)))
    runs += (
        []
        if not others
        else [
            ("default mode (reset)", hops, "reset", None),
            ("LogisticRegression", hops, "logistic", None),
            ("MLPClassifier", hops, "mlp", None),
            ("pdADMM-G (2 layers)", "raw", "pdadmm", dict(alpha=alpha)),
            ("LogisticRegression", "raw", "logistic", None),
        ]
    )
    rows = []
    for name, feature, kind, quantize in runs:
        H = features[feature]
        results = []
        for seed in seeds:
            if kind == "pdadmm":
                stages = schedule[:1] if feature == "raw" else schedule
                r = pdadmm_g(H, y, split, seed, stages, max_iter, width, **quantize)
            elif kind == "reset":
                make = lambda s=seed: ADMMResidualClassifier(  # noqa: E731
                    width=width, random_state=s
                )
                r = (*sklearn_fit(make, H, y, split), 2, 0, False, 0)
            elif kind == "mlp":
                make = lambda s=seed: MLPClassifier(  # noqa: E731
                    (width,), alpha=1e-3, max_iter=200, random_state=s
                )
                r = (*sklearn_fit(make, H, y, split), 2, 0, False, 0)
            else:
                r = (*logistic(H, y, split), 1, 0, False, 0)
            results.append(r)
        columns = map(np.array, zip(*results, strict=True))
        val_acc, test_acc, seconds, depth, nbytes, stopped, quantized = columns
        row = dict(
            graph=graph,
            method=name,
            features=feature,
            alpha=alpha if kind == "pdadmm" else "",
            test_accuracy=float(test_acc.mean()),
            test_std=float(test_acc.std()),
            val_accuracy=float(val_acc.mean()),
            fit_seconds=float(seconds.mean()),
            layers=" ".join(str(d) for d in depth),
            bytes_per_iter=int(nbytes.max()),
            quantized_vs_float32=float(quantized.max()),
            merit_stops=int(stopped.sum()),
        )
        print("   ", row, flush=True)
        rows.append(row)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--width", type=int, default=WIDTH, help="width of every network"
    )
    parser.add_argument(
        "--graphs", default=None, help="comma-separated graphs (default: all)"
    )
    parser.add_argument("--name", default="pdadmm_graph", help="output file name")
    parser.add_argument(
        "--methods",
        default=None,
        help="comma-separated pdADMM-G methods (default: all); with it, the "
        "other models are left out",
    )
    args = parser.parse_args(argv)
    seeds = SEEDS[:1] if args.quick else SEEDS
    schedule = SCHEDULE[:2] if args.quick else SCHEDULE
    max_iter = 5 if args.quick else MAX_ITER
    methods = dict(list(PDADMM.items())[:2]) if args.quick else PDADMM
    if args.methods:
        methods = {name: PDADMM[name] for name in args.methods.split(",")}
    grids = ((3,), (1e-3,)) if args.quick else (HOPS_GRID, ALPHA_GRID)
    graphs = {"cora": lambda: planetoid("cora")}
    if not args.quick:
        graphs["citeseer"] = lambda: planetoid("citeseer")
    graphs["csbm_homophilous"] = lambda: csbm(0.8, 1200 if args.quick else 3000)
    if args.graphs:
        graphs = {name: graphs[name] for name in args.graphs.split(",")}

    rows = []
    with threadpool_limits(1):
        for graph, load in graphs.items():
            rows += evaluate(
                graph,
                load(),
                seeds,
                schedule,
                max_iter,
                methods,
                grids,
                args.width,
                others=not args.methods,
            )
    preamble = (
        "GA-MLPs on hop features (hops and pdADMM's alpha chosen on the "
        f"validation nodes among {grids[0]} and {grids[1]}) and raw features: "
        f"test accuracy mean and std over {len(seeds)} seeds, fixed split; "
        "pdADMM-G grows "
        f"{' -> '.join(str(b + 2) for b in schedule)} layers (width {args.width}, "
        f"{max_iter} iterations a stage), `layers` lists the depth chosen on the "
        "validation nodes per seed; `fit_seconds`: one thread, the whole "
        "schedule; `bytes_per_iter`: p, q and u across all layer boundaries in "
        "one iteration; `quantized_vs_float32`: bytes of the quantized variables "
        "over the same elements in float32 (largest over seeds and variables); "
        "`merit_stops`: seeds where a stage stopped at the merit "
        "check (DivergenceWarning)."
    )
    write_results(args.out, args.name, rounded(rows), preamble)


if __name__ == "__main__":
    main()
