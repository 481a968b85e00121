"""Weighted per-row reductions used by every block update.

Every per-row term of L_rho carries the normalised sample weight ``s_i`` (``1/N``
without sample weights), so ``sum_i s_i = 1``. The uniform case keeps scalars to
avoid an ``N x n`` temporary per Gram matrix.
"""

import numpy as np


class RowWeights:
    """Normalised sample weights ``s`` and the reductions ``A^T S B``, ``||A||_S^2``.

    Parameters
    ----------
    sample_weight : ndarray of shape (n_samples,) or None
        Positive weights; ``None`` means all rows weigh the same.
    n_samples : int
        Number of rows.
    dtype : numpy dtype
        Floating dtype of the computation.
    """

    def __init__(self, sample_weight, n_samples, dtype):
        self.n_samples = n_samples
        if sample_weight is None or np.all(sample_weight == sample_weight[0]):
            self.s = None
            self.scale = dtype.type(1.0 / n_samples)
        else:
            s = np.asarray(sample_weight, dtype=dtype)
            self.s = (s / s.sum())[:, None]
            self.sqrt_s = np.sqrt(self.s)

    def gram(self, A):
        """``A^T S A``."""
        if self.s is None:
            G = A.T @ A
            G *= self.scale
            return G
        As = A * self.sqrt_s
        return As.T @ As

    def cross(self, A, B):
        """``A^T S B``."""
        if self.s is None:
            C = A.T @ B
            C *= self.scale
            return C
        return (A * self.s).T @ B

    def sq_norm(self, A):
        """``sum_i s_i ||A_i||^2``."""
        if self.s is None:
            return float(np.vdot(A, A)) * float(self.scale)
        return float(np.einsum("ij,ij->i", A, A) @ self.s[:, 0])

    def inner(self, A, B):
        """``sum_i s_i <A_i, B_i>``."""
        if self.s is None:
            return float(np.vdot(A, B)) * float(self.scale)
        return float(np.einsum("ij,ij->i", A, B) @ self.s[:, 0])
