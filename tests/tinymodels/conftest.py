"""tinymodels 层/模型/损失测试的公共工具。

* ``rel_err``：基于范数的相对误差 ``||a-b|| / max(||b||, 1e-12)``；参考测试要求 < 1e-4。
* ``fast``：在 ``tinymodels.utils.fast_compile()``（NOOPT）中运行测试——只改变 tinygrad 生成内核时是否做
  循环展开等优化，不改变数值语义，能把每个测试的编译时间砍掉一半以上。
"""
from __future__ import annotations

import numpy as np
import pytest
from tinygrad import Tensor

from tinymodels.utils import fast_compile

REL_TOL = 1e-4


def rel_err(a, b) -> float:
  a = np.asarray(a, dtype=np.float64)
  b = np.asarray(b, dtype=np.float64)
  assert a.shape == b.shape, f"shape mismatch {a.shape} vs {b.shape}"
  return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-12))


@pytest.fixture
def close():
  """返回断言函数 ``close(actual, expected, what)``：相对误差 < REL_TOL。"""
  def check(actual, expected, what: str = "") -> None:
    if hasattr(actual, "detach"): actual = actual.detach().numpy()
    if hasattr(expected, "detach"): expected = expected.detach().numpy()
    if isinstance(actual, Tensor): actual = actual.numpy()
    if isinstance(expected, Tensor): expected = expected.numpy()
    err = rel_err(actual, expected)
    assert err < REL_TOL, f"{what}: relative error {err:.3e} >= {REL_TOL}"
  return check


@pytest.fixture
def fast():
  """在 NOOPT（快速编译）上下文中运行测试。"""
  with fast_compile():
    yield


@pytest.fixture(autouse=True)
def _seed():
  Tensor.manual_seed(0)
  yield
