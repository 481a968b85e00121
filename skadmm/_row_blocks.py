"""Row blocks of an in-process fit, computed on the fit's worker threads.

On a large table the forward-reset mode splits its work by rows: every
auxiliary step is row by row, and every weight step needs only sums over rows
(Gram matrices, cross products, losses). So the rows fall into fixed blocks of
about :data:`ROW_BLOCK_ROWS` rows, each a row shard held in this process,
and the driver of the sharded fit (:class:`~skadmm._sharded.ShardedProblem`)
runs the unchanged solver on them:
each exchange is one task per block on the fit's threads
(:class:`~skadmm._parallel.Team`), and the driver sums the blocks' results in
block order. This is the machinery of the fit on a Dask cluster, with the
workers replaced by threads: numpy's products and elementwise loops release
the GIL, so the blocks run in parallel.

The blocks keep no auxiliaries between calls: the forward-reset mode resets
them to the forward pass of the weights every iteration, so each call
rebuilds a block's state from the weights, uses it and drops it
(:class:`~skadmm._shard.StreamedRowShard`). A fit then holds its data and a
block's state per thread, not every row's auxiliaries.

The blocks depend on the number of rows only and every block computes on one
BLAS thread, so the results are bit-identical for any ``n_jobs``. They differ
from a fit with its rows in one block by the rounding of the summed reductions
only (see the page "Large tables").
"""

from functools import partial

import numpy as np

from ._shard import StreamedRowShard
from ._sharded import ShardedProblem, ShardSet, refit_readout_on
from ._splitting._buffers import Workspace
from ._wide import use_dual

#: Tables of fewer training rows keep their rows in one problem (every table
#: of the regression and classification suites does).
MIN_BLOCKED_ROWS = 16_384
#: Rows of a block (about; a run has at least two blocks, see
#: :func:`n_row_blocks`). A block's products (width 100) take milliseconds,
#: far above the cost of a task; smaller blocks cost more than they balance
#: (2,048 rows: 24 % more CPU time per fit on 200,000 rows, one thread).
ROW_BLOCK_ROWS = 8192
#: Below this many blocks a run's count is even, so that two threads share
#: them equally (three blocks on two threads take as long as four).
BALANCED_BLOCKS = 16
#: The blocks' class: they keep no state of their rows between calls (the
#: forward-reset mode rebuilds it from the weights), so a fit holds one
#: block's auxiliaries per thread instead of every row's.
BLOCK_SHARD = StreamedRowShard


def n_row_blocks(n_rows, input_width, min_rows=None):
    """Row blocks of a run on ``n_rows`` rows whose input is ``input_width`` wide.

    ``1``: the rows stay in one problem (fewer than ``min_rows`` rows,
    ``None``: ``MIN_BLOCKED_ROWS``, or inputs so wide that a block would take
    the dual weight step, whose sums are not over rows). The runs of a
    blocked fit pass ``min_rows=ROW_BLOCK_ROWS``: the table decided that its
    runs are blocked, each run's rows decide how many blocks, and a stage of
    16,000 rows runs on two threads (1.17x with ``n_jobs=2``; it ran on one).
    Smaller stages stay in one problem: an iteration on 4,000 rows takes
    about 8 ms, too short to share (two blocks of 2,000 rows on two threads
    took 1.2x *longer* than on one, 8,000 rows as long).
    """
    if n_rows < (MIN_BLOCKED_ROWS if min_rows is None else min_rows):
        return 1
    blocks = max(n_rows // ROW_BLOCK_ROWS, 2)
    if blocks < BALANCED_BLOCKS:
        blocks += blocks % 2
    if use_dual(n_rows // blocks, input_width + 1):
        return 1
    return blocks


class LocalShards:
    """In-process row shards, called together on a team's threads.

    The interface of :class:`~skadmm._pinned.PinnedActors` that
    :class:`~skadmm._sharded.ShardSet` uses, with the shards in this process:
    ``run`` (:meth:`~skadmm._parallel.Team.run`) runs one task per shard.
    """

    def __init__(self, shards, run):
        self.shards, self.run = shards, run

    def __len__(self):
        return len(self.shards)

    def call(self, method, *args):
        """``method(*args)`` on every shard; the results in shard order."""
        results = [None] * len(self.shards)

        def task(i):
            results[i] = getattr(self.shards[i], method)(*args)

        self.run([partial(task, i) for i in range(len(self.shards))])
        return results

    def close(self):
        self.shards = []


def row_block_problem(
    X,
    Y,
    sample_weight,
    weights,
    activation,
    loss,
    update,
    params,
    run,
    n_blocks,
    readout_steps=None,
):
    """A three-splitting over ``n_blocks`` row blocks of ``X, Y`` (a
    :class:`~skadmm._sharded.ShardedProblem` on :class:`LocalShards`), at
    ``weights`` with the read-out refitted, as a fit's initial problem is.

    ``params``: the relaxation's penalties (``alpha``, ``beta``, ``rho``,
    ``tau``); ``run``: the fit's team; ``readout_steps``: a cross-entropy's
    read-out takes that many majorised steps from ``weights[-1]`` instead of
    running to convergence (``None``).
    """
    n = X.shape[0]
    # The blocks compute in X's dtype: a progressive fit's first stage starts
    # from weights drawn in the fit's float64 on rows cast to float32, and
    # mixed operands would compute every product in float64.
    weights = [np.asarray(W, dtype=X.dtype) for W in weights]
    sw = sample_weight
    if sw is None or np.all(sw == sw[0]):
        norm = ("uniform", n)
    else:
        norm = ("weighted", float(sw.sum(dtype=np.float64)))
    bounds = np.linspace(0, n, n_blocks + 1).astype(int)
    shards = [
        BLOCK_SHARD.of_rows(
            i,
            X[a:b],
            Y[a:b],
            None if sw is None else sw[a:b],
            norm,
            activation.name,
        )
        for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True))
    ]
    # One workspace for all the blocks: each of the team's threads reuses its
    # arrays from block to block (one block's state per thread).
    workspace = Workspace()
    for shard in shards:
        shard.workspace = workspace
    blocks = ShardSet(
        LocalShards(shards, run),
        [[i] for i in range(n_blocks)],
        (),
        count_bytes=False,
    )
    readout = refit_readout_on(blocks, weights, loss, params["alpha"], readout_steps)
    weights = [*weights[:-1], readout]
    blocks.pinned.call("build", weights, params, update, loss)
    return ShardedProblem(blocks, weights, n, Y.shape[1], loss, update, **params)
