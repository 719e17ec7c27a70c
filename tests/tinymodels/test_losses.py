"""损失函数：与 PyTorch 比较数值与梯度，检查数值稳定性与错误输入。"""

from __future__ import annotations

import numpy as np
import pytest
from tinygrad import Tensor

from tinymodels.losses import (
    accuracy,
    bce_with_logits,
    cross_entropy,
    mse_loss,
)

torch = pytest.importorskip("torch")
F = torch.nn.functional

pytestmark = pytest.mark.usefixtures("fast")


@pytest.mark.parametrize(
    "shape,ignore", [((6, 5), None), ((3, 4, 5), None), ((3, 4, 5), -100)]
)
def test_cross_entropy_matches_torch(close, shape, ignore):
    rng = np.random.default_rng(0)
    logits = (rng.standard_normal(shape) * 3).astype(np.float32)
    targets = rng.integers(0, shape[-1], size=shape[:-1])
    if ignore is not None:
        targets.reshape(-1)[::3] = ignore
    lt = torch.tensor(logits, requires_grad=True)
    ref = F.cross_entropy(
        lt.reshape(-1, shape[-1]),
        torch.tensor(targets.reshape(-1)),
        ignore_index=-100 if ignore is None else ignore,
    )
    ref.backward()
    lo = Tensor(logits)
    ours = cross_entropy(
        lo, Tensor(targets.astype(np.int32)), ignore_index=ignore
    )
    ours.backward()
    close(ours.numpy(), ref.detach().numpy(), "cross_entropy value")
    close(lo.grad, lt.grad, "cross_entropy dlogits")


def test_mse_and_bce_match_torch(close):
    rng = np.random.default_rng(1)
    a, b = (
        rng.standard_normal((4, 3)).astype(np.float32),
        rng.random((4, 3)).astype(np.float32),
    )
    at = torch.tensor(a, requires_grad=True)
    ao = Tensor(a)
    F.mse_loss(at, torch.tensor(b)).backward()
    mse_loss(ao, Tensor(b)).backward()
    close(ao.grad, at.grad, "mse grad")
    close(
        mse_loss(Tensor(a), Tensor(b)).numpy(),
        F.mse_loss(torch.tensor(a), torch.tensor(b)).numpy(),
        "mse",
    )
    # 极端 logits：朴素的 log(sigmoid(x)) 会得到 inf/nan，稳定版不会
    x = np.array(
        [[-100.0, -20.0, -1.0], [0.0, 20.0, 100.0]], dtype=np.float32
    )
    y = np.array([[1.0, 0.0, 1.0], [0.5, 1.0, 0.0]], dtype=np.float32)
    xt, xo = torch.tensor(x, requires_grad=True), Tensor(x)
    ref = F.binary_cross_entropy_with_logits(xt, torch.tensor(y))
    ref.backward()
    ours = bce_with_logits(xo, Tensor(y))
    ours.backward()
    assert np.isfinite(ours.numpy())
    close(ours.numpy(), ref.detach().numpy(), "bce value")
    close(xo.grad, xt.grad, "bce grad")


def test_accuracy():
    logits = np.array(
        [[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]], dtype=np.float32
    )
    assert accuracy(Tensor(logits), Tensor([1, 0, 0, 0])) == 0.75
    assert accuracy(logits, np.array([1, 0, 1, 0])) == 1.0
    seq = np.zeros((2, 3, 4), dtype=np.float32)
    seq[..., 2] = 1
    assert accuracy(seq, np.full((2, 3), 2)) == 1.0
    assert (
        accuracy(np.array([[2.0], [-1.0]]), np.array([1, 1])) == 0.5
    )  # 单列：二分类，阈值 0


def test_losses_reject_bad_inputs(err):
    logits = Tensor(np.zeros((4, 3), np.float32))
    with pytest.raises(ValueError) as e:
        cross_entropy(logits, Tensor(np.zeros(5, np.int32)))
    err.shape(e, "targets", (5,), (4,))
    with pytest.raises(ValueError) as e:
        cross_entropy(logits, Tensor(np.zeros(4, np.float32)))
    err.dtype(e, "targets", "float")
    with pytest.raises(ValueError) as e:
        cross_entropy(
            Tensor(np.zeros(4, np.float32)), Tensor(np.zeros(4, np.int32))
        )
    err.names(e, "logits")
    assert "(4,)" in str(e.value)
    with pytest.raises(ValueError) as e:
        cross_entropy(
            Tensor(np.zeros((4, 3), np.int32)), Tensor(np.zeros(4, np.int32))
        )
    err.dtype(e, "logits", "int")
    with pytest.raises(ValueError) as e:
        cross_entropy(logits, Tensor(np.zeros(4, np.int32)), ignore_index=1.5)
    err.names(e, "ignore_index")
    with pytest.raises(ValueError) as e:
        mse_loss(logits, Tensor(np.zeros((4, 1), np.float32)))
    err.shape(e, "target", (4, 1), (4, 3))
    with pytest.raises(ValueError) as e:
        bce_with_logits(logits, Tensor(np.zeros((3, 4), np.float32)))
    err.shape(e, "targets", (3, 4), (4, 3))
    with pytest.raises(ValueError) as e:
        bce_with_logits(logits, Tensor(np.zeros((4, 3), np.int32)))
    err.dtype(e, "targets", "int")
    with pytest.raises(ValueError) as e:
        accuracy(logits, np.zeros((4, 1), np.int64))
    err.shape(e, "targets", (4, 1), (4,))
    with pytest.raises(ValueError) as e:
        accuracy([[0.1, 0.2]], np.zeros(1, np.int64))
    err.names(e, "logits")
    with pytest.raises(ValueError) as e:
        mse_loss(np.zeros(3), Tensor(np.zeros(3, np.float32)))
    assert "ndarray" in err.names(e, "pred")
