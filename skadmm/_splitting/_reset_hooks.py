"""What the forward-reset mode asks of its problem, on rows held in this process.

:class:`~skadmm._solvers._reset.ResetSolver` reaches the rows only through these
methods (and ``reset_to_forward``, ``weights``, ``W``, ``H``, ``alpha``), so a
problem whose rows live elsewhere (the row shards of a Dask fit,
:mod:`skadmm._sharded`) can run the same solver: its versions return the same
sums over rows, gathered from the shards.
"""

from functools import partial

import numpy as np
import scipy.sparse as sp

from .._linalg import dense_product
from .._network import augmented_hidden_into, l2_penalty
from .._rows import feature_chunk_rows, rows_of
from ._output_factor import OutputFactor

#: The first layer's pre-activations ``[X, 1] W_1`` of the line search's trials
#: are kept (two more ``n_samples x width`` arrays) when ``[X, 1]`` is sparse
#: or has more columns than this: the reset then copies the accepted trial's
#: instead of multiplying again. On narrower dense inputs that product is about
#: 1 % of a fit (Wine red's 12 columns), not worth the two arrays.
FIRST_LAYER_CACHE_MIN_COLUMNS = 32


def caches_first_layer(n_input_columns, sparse):
    """Whether the reset mode keeps the trials' first-layer pre-activations,
    for an augmented input ``[X, 1]`` of ``n_input_columns`` columns."""
    return sparse or n_input_columns > FIRST_LAYER_CACHE_MIN_COLUMNS


class LocalResetHooks:
    """The forward-reset mode's phases over the rows of a
    :class:`~skadmm._splitting.SplitRelaxation` held in this process."""

    def prepare_reset(
        self,
        first_order_targets,
        top_alternations,
        output_damping=None,
        feature_buffers=True,
    ):
        """The mode's settings of the problem and its feature buffers.

        The read-out link is exact in this mode: ``O = Y``, no multiplier, so
        the last hidden block solves ``min 1/2 ||U V + b - Y||^2 + beta/2 ||U
        - T||^2``. ``feature_buffers=False``: a problem that only sweeps (a
        streamed shard's, see :class:`~skadmm._shard.StreamedRowShard`) gets
        none of the line search's buffers.
        """
        self.O[...] = self.Y
        self.Lam[...] = 0.0
        self.rho = 1.0
        self.tau = 0.0
        self.first_order_targets = first_order_targets
        self.top_alternations = top_alternations
        self.output_factor = (
            None if output_damping is None else OutputFactor(output_damping)
        )
        width = self.U[-1].shape[1] - 1 if self.H else 0
        buffers = self.H and feature_buffers
        self._features = self._row_array("slot0", width, True) if buffers else None
        self._spare = self._row_array("slot1", width, True) if buffers else None
        # The two buffers by slot, for a driver that names them (a shard).
        self._slots = (self._features, self._spare)
        # The first layer's product [X, 1] W_1 is the costly one of a wide
        # input (an embedding): each feature buffer gets a buffer of its
        # trial's pre-activations and a copy of that trial's W_1, which the
        # reset (reset_to_forward) reuses when the accepted W_1 is equal.
        self._pre_of = {}
        A = self.X_aug
        if buffers and caches_first_layer(A.shape[1], sp.issparse(A)):
            width = self.W[0].shape[1]
            for slot, buffer in enumerate(self._slots):
                pre = self._row_array(f"pre{slot}", width)
                self._pre_of[id(buffer)] = [pre, None]
        # [copy of W_1] while Z_1 holds [X, 1] W_1 of every row since the last
        # reset (a list, shared with the row views of a sweep, see
        # ``_row_view``); the sweep's first z-step of the first layer copies
        # that product instead of recomputing it (a dense chunk's product may
        # round differently from the reset's, which changes no guarantee: the
        # z-step and its link read the same copy). It was a product per row
        # and iteration of the ten or so a default fit makes.
        self._forward_z0 = [None]

    def reset_sweep(self, beta, run):
        """Backward sweep from the reset state at ``beta``; the RMS link."""
        self.backward_sweep(beta, run)
        return float(np.sqrt(self.link_sq.sum()))

    def reset_w_steps(self, eta, mu, run):
        """Every hidden layer's W step (:meth:`reset_w_step`), as parallel tasks."""
        run([partial(self.reset_w_step, k, eta, mu) for k in range(self.H)])
        if self.output_factor is not None:
            self.output_factor.step_done()

    def objective_of(self, hidden, readout, run):
        """Training objective of the network ``hidden`` + ``readout``.

        Its forward features stay in the feature buffer (see
        :meth:`swap_features` and :meth:`readout_for`).
        """
        if not hidden:
            output = self.X_aug @ readout
        else:
            # The product with the read-out is taken from each chunk's
            # features while in cache (one read of every row's fewer).
            output = np.empty((self._features.shape[0], readout.shape[1]), self.dtype)
            self.forward_features(hidden, run, readout, output)
        return self._objective_value(output, (*hidden, readout))

    def readout_for(self, hidden, max_iter, run, kept=False):
        """Best read-out for the forward features of ``hidden``, and the objective.

        ``kept``: those features are in the feature buffer already (the last
        :meth:`objective_of` of ``hidden``). ``max_iter``: steps of a
        read-out without a closed form, from the current one.
        """
        if kept and self.H:
            A = self._features
        else:
            A = self.forward_features(hidden, run)
        readout = self.loss.fit_readout(
            A, self.Y, self.rw, self.alpha, self.W[-1], max_iter=max_iter
        )
        return readout, self._objective_value(A @ readout, (*hidden, readout))

    def feature_buffer(self, slot):
        """Feature buffer ``slot`` (0 or 1; ``[X, 1]`` without hidden layers)."""
        return self._slots[slot] if self.H else self.X_aug

    def forward_features_into(self, hidden, slot):
        """The forward features of ``hidden`` into buffer ``slot``, which
        becomes the current one."""
        if self.H:
            self._features = self._slots[slot]
        return self.forward_features(hidden, None)

    def swap_features(self):
        """Exchange the feature buffer and its spare (the line search's best
        trial stays in the spare while the next trial is computed)."""
        self._features, self._spare = self._spare, self._features

    def _objective_value(self, output, weights):
        reg = l2_penalty(weights)
        return self.loss.value(output, self.Y, self.rw) + 0.5 * self.alpha * reg

    def forward_features(self, hidden, run, readout=None, output=None):
        """``[U_{H-1}, 1]`` of the forward pass of ``hidden`` (a reused buffer);
        with a ``readout``, their product with it written into ``output``.

        The rows fall into one block per region of layers, each block a task
        of the team: the blocks depend on ``n_regions``, not on ``n_jobs``, so
        neither do the results (with one region, one block: all the rows).
        """
        if not hidden:
            return self.X_aug
        A = self._features
        A[:, -1] = 1.0
        cached = self._pre_of.get(id(A))
        if cached is not None:
            cached[1] = None  # its buffer is being overwritten
        self.run_row_blocks(
            partial(self._forward_feature_rows, hidden, readout, output), run
        )
        if cached is not None:
            cached[1] = hidden[0].copy()
        return A

    def _forward_feature_rows(self, hidden, readout, output, rows):
        """The forward features of the rows ``rows`` into the feature buffer
        (with a ``readout``: and their product with it into ``output``)."""
        cached = self._pre_of.get(id(self._features))
        pre = None if cached is None else cached[0][rows]
        augmented_hidden_into(
            rows_of(self.X_aug, rows),
            hidden,
            self.act,
            self._features[rows],
            pre,
            chunk_rows=None if self.whole_products else self._feature_chunk_rows(),
            readout=readout,
            output=None if output is None else output[rows],
        )

    def _feature_chunk_rows(self):
        """Rows per chunk of a forward pass with single-threaded BLAS: each
        chunk's features are activated while still in cache."""
        return feature_chunk_rows(self._features.shape[1], self._features.dtype)

    def first_layer_product(self, rows, out):
        """``[X, 1] W_1`` of the rows ``rows`` into ``out``, for the reset.

        A copy of a line-search trial's pre-activations when its ``W_1``
        equals the current one (the accepted trial, see :meth:`prepare_reset`):
        the same product of the same operands, so bit for bit the same.
        """
        W = self.W[0]
        for pre, key in getattr(self, "_pre_of", {}).values():
            if key is not None and np.array_equal(key, W):
                np.copyto(out, pre[rows])
                return out
        return dense_product(rows_of(self.X_aug, rows), W, out)

    def mark_forward_z0(self):
        """Record that ``Z_1`` now holds ``[X, 1] W_1`` (reset mode only)."""
        if getattr(self, "_forward_z0", None) is not None:
            self._forward_z0[0] = self.W[0].copy()

    def take_forward_z0(self):
        """Whether ``Z_1`` still holds ``[X, 1] W_1`` of the current ``W_1``;
        forgets it (the caller's z-step overwrites ``Z_1``)."""
        cell = getattr(self, "_forward_z0", None)
        if cell is None:
            return False
        key, cell[0] = cell[0], None
        return key is not None and np.array_equal(key, self.W[0])
