"""Dense or CSR: the first layer's products with a numeric embedding's code.

For 1,000 and 50,000 rows of 20 standard normal columns and 16 bins, each
binned code (``piecewise``: about half its entries nonzero; ``onehot``: one
per column and row) stored dense and as CSR: the seconds of ``A @ W`` and
``A.T @ R`` with ``A = [E(X), 1]`` (``W``: 100 columns, as the default width),
of its Gram matrix ``A.T @ A`` (formed once per fit), and of fitting and
applying the encoder; beside them the raw columns' product and a hidden
layer's ``(n, 100) x (100, 100)`` product. Best of three (the Gram and the
encoder: one), one BLAS thread. The user guide's "Numeric embeddings" page
quotes the table.

Outputs in ``--out`` (default ``benchmarks/results/embeddings``):
``products.csv`` and ``products.md``. About 30 seconds.

    python benchmarks/bench_embedding_products.py
"""

import argparse
import time
from functools import partial

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from skadmm._embeddings import make_embedding
from skadmm._linalg import augment, dense_product

from _common import RESULTS, rounded, write_results


def best_of(f, repeats=3):
    best = np.inf
    for _ in range(repeats):
        tick = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - tick)
    return best


def gram(A):
    return (A.T @ A).toarray() if sp.issparse(A) else A.T @ A


def encode(kind, n_bins, X):
    return make_embedding(kind, n_bins).fit(X).transform(X)


def timings(A, W, R, product=dense_product, encoder=None):
    """Milliseconds of ``A @ W``, ``A.T @ R``, ``A.T @ A`` and ``encoder()``."""
    return dict(
        product_ms=1e3 * best_of(partial(product, A, W)),
        transposed_ms=1e3 * best_of(partial(transposed, A, R)),
        gram_ms=1e3 * best_of(partial(gram, A), 1),
        encode_ms=1e3 * best_of(encoder, 1) if encoder else 0.0,
    )


def transposed(A, R):
    return np.asarray(A.T @ R)


def measure(sizes, n_features=20, n_bins=16, width=100):
    rng = np.random.default_rng(0)
    rows = []
    for n in sizes:
        X = rng.standard_normal((n, n_features))
        R = rng.standard_normal((n, width))
        for kind in ("piecewise", "onehot"):
            dense = encode(kind, n_bins, X)
            dense = dense.toarray() if sp.issparse(dense) else dense
            W = rng.standard_normal((dense.shape[1] + 1, width))
            for stored, E in (("dense", dense), ("csr", sp.csr_matrix(dense))):
                row = dict(rows=n, code=kind, stored=stored)
                row["density"] = sp.csr_matrix(dense).nnz / dense.size
                encoder = partial(encode, kind, n_bins, X)
                rows.append({**row, **timings(augment(E), W, R, encoder=encoder)})
        W = rng.standard_normal((n_features + 1, width))
        raw = dict(rows=n, code="raw columns", stored="dense", density=1.0)
        rows.append({**raw, **timings(augment(X), W, R)})
        V = rng.standard_normal((width, width))
        hidden = dict(rows=n, code="hidden layer (width 100)", stored="dense")
        rows.append({**hidden, "density": 1.0, **timings(R, V, R)})
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run")
    parser.add_argument("--out", default=RESULTS / "embeddings")
    args = parser.parse_args(argv)
    sizes = (1_000,) if args.quick else (1_000, 50_000)
    with threadpool_limits(1):
        rows = measure(sizes)
    preamble = (
        "Milliseconds, best of three (Gram and encoder: one run), one BLAS "
        "thread; 20 columns, 16 bins, products with 100 columns."
    )
    write_results(args.out, "products", rounded(rows), preamble)


if __name__ == "__main__":
    main()
