"""What the forward-reset mode asks of its problem, on rows held in this process.

:class:`~skadmm._solvers._reset.ResetSolver` reaches the rows only through these
methods (and ``reset_to_forward``, ``weights``, ``W``, ``H``, ``alpha``), so a
problem whose rows live elsewhere (the row shards of a Dask fit,
:mod:`skadmm._sharded`) can run the same solver: its versions return the same
sums over rows, gathered from the shards.
"""

from functools import partial

import numpy as np

from .._network import augmented_hidden_into, l2_penalty


class LocalResetHooks:
    """The forward-reset mode's phases over the rows of a
    :class:`~skadmm._splitting.SplitRelaxation` held in this process."""

    def prepare_reset(self, first_order_targets, top_alternations):
        """The mode's settings of the problem and its feature buffers.

        The read-out link is exact in this mode: ``O = Y``, no multiplier, so
        the last hidden block solves ``min 1/2 ||U V + b - Y||^2 + beta/2 ||U
        - T||^2``.
        """
        self.O[...] = self.Y
        self.Lam[...] = 0.0
        self.rho = 1.0
        self.tau = 0.0
        self.first_order_targets = first_order_targets
        self.top_alternations = top_alternations
        self._features = np.empty_like(self.U[-1]) if self.H else None
        self._spare = np.empty_like(self._features) if self.H else None
        # The two buffers by slot, for a driver that names them (a shard).
        self._slots = (self._features, self._spare)

    def reset_sweep(self, beta, run):
        """Backward sweep from the reset state at ``beta``; the RMS link."""
        self.backward_sweep(beta, run)
        return float(np.sqrt(self.link_sq.sum()))

    def reset_w_steps(self, eta, mu, run):
        """Every hidden layer's W step (:meth:`reset_w_step`), as parallel tasks."""
        run([partial(self.reset_w_step, k, eta, mu) for k in range(self.H)])

    def objective_of(self, hidden, readout, run):
        """Training objective of the network ``hidden`` + ``readout``.

        Its forward features stay in the feature buffer (see
        :meth:`swap_features` and :meth:`readout_for`).
        """
        output = self.forward_features(hidden, run) @ readout
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

    def forward_features(self, hidden, run):
        """``[U_{H-1}, 1]`` of the forward pass of ``hidden`` (a reused buffer).

        The rows fall into one block per region of layers, each block a task
        of the team: the blocks depend on ``n_regions``, not on ``n_jobs``, so
        neither do the results (with one region, one block: all the rows).
        """
        if not hidden:
            return self.X_aug
        A = self._features
        A[:, -1] = 1.0
        self.run_row_blocks(partial(self._forward_feature_rows, hidden), run)
        return A

    def _forward_feature_rows(self, hidden, rows):
        """The forward features of the rows ``rows`` into the feature buffer."""
        augmented_hidden_into(self.X_aug[rows], hidden, self.act, self._features[rows])
