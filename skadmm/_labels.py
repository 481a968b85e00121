"""The classifier's target encoding: class labels as one-hot rows (or one column).

Multiclass targets are one-hot rows trained with the softmax cross-entropy on
one output per class; a binary target is one column (1 for ``classes_[1]``)
trained with :class:`~skadmm._losses.LogisticLoss`, the two-class softmax in an
orthonormal basis of its zero-sum outputs. The binary network's read-out is
scaled by ``sqrt(2)`` when stored, so that the fitted network outputs the
log-odds (``decision_function``).
"""

import numpy as np

from ._losses import LogisticLoss, SoftmaxLoss, center_columns
from ._penalty import classification_alpha
from ._rows import RowWeights


class ClassificationTarget:
    """Classes of the fit and the loss, curves and score that go with them."""

    curve_name, score_name = "log-loss", "accuracy"
    #: ``alpha="auto"`` on ``n`` summed weights (no cross-validation).
    auto_alpha = staticmethod(classification_alpha)

    def __init__(self, classes):
        self.classes = classes
        self.binary = len(classes) == 2
        self.loss = LogisticLoss() if self.binary else SoftmaxLoss()
        self.n_outputs = 1 if self.binary else len(classes)

    @classmethod
    def fit(cls, y, sample_weight, dtype):
        """Classes of ``y`` (the rows of positive weight); two at least."""
        classes = np.unique(y)
        if len(classes) < 2:
            raise ValueError(
                "The classifier needs samples of at least 2 classes with positive "
                f"weight; the data has only the class {classes[0]!r}."
            )
        return cls(classes)

    def indices(self, y):
        """Index of each label in ``classes``; ``ValueError`` for an unseen one."""
        index = np.searchsorted(self.classes, y)
        index[index == len(self.classes)] = 0
        unseen = self.classes[index] != y
        if unseen.any():
            raise ValueError(
                f"y contains labels not seen in the first fit: "
                f"{np.unique(y[unseen])[:5].tolist()}; the fitted classes are "
                f"{self.classes.tolist()}. Set warm_start=False to refit."
            )
        return index

    def encode(self, y, dtype):
        index = self.indices(y)
        if self.binary:
            return (index == 1).astype(dtype)[:, None]
        Y = np.zeros((len(y), len(self.classes)), dtype=dtype)
        Y[np.arange(len(y)), index] = 1.0
        return Y

    def true_index(self, Y):
        """Class index of each encoded row."""
        return (Y[:, 0] > 0.5).astype(np.intp) if self.binary else Y.argmax(axis=1)

    def decode(self, Y):
        return self.classes[self.true_index(Y)]

    def fold(self, weights):
        """Weights whose output is the log-odds (binary) or centred logits.

        The softmax ignores a constant added to every logit of a row, so the
        read-out's component along the all-ones output is not determined by
        the loss (nor penalised, in the bias); removing it makes the logits,
        hence ``decision_function``, one function of the training problem.
        """
        if not self.binary:
            return [*weights[:-1], center_columns(weights[-1])]
        return [*weights[:-1], weights[-1] * LogisticLoss.scale]

    def unfold(self, weights):
        if not self.binary:
            return [W.copy() for W in weights]
        return [*weights[:-1], weights[-1] / LogisticLoss.scale]

    def stratify(self, Y):
        """Labels for a stratified validation split (if every class has 2 rows)."""
        index = self.true_index(Y)
        counts = np.bincount(index, minlength=len(self.classes))
        return index if counts.min() >= 2 else None

    def curve_loss(self, Y, out, sample_weight):
        """Mean cross-entropy (``loss_curve_``), ``out`` in training units."""
        rw = RowWeights(sample_weight, Y.shape[0], out.dtype)
        return self.loss.value(out, Y, rw)

    def score(self, Y, out, sample_weight):
        """Validation accuracy (early stopping)."""
        if self.binary:
            predicted = (out[:, 0] > 0).astype(np.intp)
        else:
            predicted = out.argmax(axis=1)
        hit = predicted == self.true_index(Y)
        return float(np.average(hit, weights=sample_weight))
