"""Row chunks and the groups of their elementwise passes (``skadmm._rows``)."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import skadmm._splitting._base as splitting_base
from skadmm._activations import get_activation
from skadmm._losses import SquaredLoss
from skadmm._rows import block_rows, blocks_per_group, chunk_groups, row_chunks
from skadmm._splitting._three import ThreeSplitRelaxation


@pytest.mark.parametrize("n_rows", [1, 326, 327, 1000, 5000])
@pytest.mark.parametrize("whole", [False, True])
@pytest.mark.parametrize("per_group", [1, 2, 3])
def test_groups_cover_every_row_block_once_in_order(n_rows, whole, per_group):
    width = 100
    _, chunks = row_chunks(n_rows, width, whole)
    plan = chunk_groups(chunks, per_group)
    blocks = [rows for _, parts in chunks for rows, _ in parts]
    seen, products, groups = [], [], []
    for span, span_products, span_groups in plan:
        assert span_products[0].start == span.start
        assert span_products[-1].stop == span.stop
        products += span_products
        for group, parts in span_groups:
            assert span.start <= group.start < group.stop <= span.stop
            assert parts[0][0].start == group.start and parts[-1][0].stop == group.stop
            assert len(parts) <= per_group
            groups.append(group)
            seen += [rows for rows, _ in parts]
    assert seen == blocks
    assert products == [chunk for chunk, _ in chunks]
    # The groups tile the rows.
    assert [g.start for g in groups[1:]] == [g.stop for g in groups[:-1]]
    assert groups[0].start == 0 and groups[-1].stop == n_rows


def test_a_float32_group_holds_the_bytes_of_a_float64_block():
    assert blocks_per_group(np.float64) == 1
    assert blocks_per_group(np.float32) == 2


def _swept(dtype, n_blocks, n_outputs, weighted):
    """A three-splitting's state after a reset and a backward sweep."""
    rng = np.random.default_rng(0)
    n, d, width = 3 * block_rows(64) + 50, 7, 64
    X = rng.standard_normal((n, d)).astype(dtype)
    Y = rng.standard_normal((n, n_outputs)).astype(dtype)
    sw = rng.uniform(0.5, 2.0, n) if weighted else None
    fans = [d] + [width] * (n_blocks + 1)
    outs = [width] * (n_blocks + 1) + [n_outputs]
    W = [
        (rng.standard_normal((a + 1, b)) / np.sqrt(a)).astype(dtype)
        for a, b in zip(fans, outs, strict=True)
    ]
    p = ThreeSplitRelaxation(
        X,
        Y,
        sw,
        W,
        get_activation("relu"),
        beta=1.0,
        rho=1.0,
        tau=0.0,
        alpha=1e-3,
        update="proximal",
        loss=SquaredLoss(),
    )
    p.prepare_reset(False, 1)
    with threadpool_limits(1):
        p.reset_to_forward()
        p.backward_sweep(0.7)
    return [*p.Z, *p.U, p.link_sq.copy()]


@pytest.mark.parametrize("n_blocks, n_outputs", [(0, 1), (1, 3)])
@pytest.mark.parametrize("weighted", [False, True])
def test_grouped_elementwise_passes_change_no_value(
    n_blocks, n_outputs, weighted, monkeypatch
):
    # In float32 two row blocks share a group: the sweep must equal, bit for
    # bit, the sweep with one block per group (the products and the links'
    # reductions stay per block).
    grouped = _swept(np.float32, n_blocks, n_outputs, weighted)
    monkeypatch.setattr(splitting_base, "blocks_per_group", lambda dtype: 1)
    single = _swept(np.float32, n_blocks, n_outputs, weighted)
    for a, b in zip(grouped, single, strict=True):
        np.testing.assert_array_equal(a, b)
