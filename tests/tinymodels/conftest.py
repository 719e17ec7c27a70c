"""tinymodels 层/模型/损失测试的公共工具。

* ``rel_err``：基于范数的相对误差 ``||a-b|| / max(||b||, 1e-12)``；参考测试
  要求 < 1e-4。
* ``fast``：在 ``tinymodels.utils.fast_compile()``（NOOPT）中运行测试——只改变
  tinygrad 生成内核时是否做循环展开等优化，不改变数值语义，能把每个测试的编译
  时间砍掉一半以上。
* ``err``：检查错误消息的函数（``err.shape``、``err.dtype``、``err.names``、
  ``err.numbers``）。只检查消息写明了参数名、实际形状（或类型）与期望的尺寸，
  不钉死整句措辞。
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pytest
from tinygrad import Tensor

from tinymodels.train import set_seed
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
        if hasattr(actual, "detach"):
            actual = actual.detach().numpy()
        if hasattr(expected, "detach"):
            expected = expected.detach().numpy()
        if isinstance(actual, Tensor):
            actual = actual.numpy()
        if isinstance(expected, Tensor):
            expected = expected.numpy()
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
    set_seed(0)
    yield


# ---------------------------------------------------------------- 错误消息


def fmt_shape(shape) -> str:
    """``(2, 3)``；一维写成 ``(4,)``（与 tinymodels 的写法相同）。"""
    parts = [str(s) for s in shape]
    if len(parts) == 1:
        return f"({parts[0]},)"
    return f"({', '.join(parts)})"


def _message(exc) -> str:
    """ExceptionInfo 或异常本身 -> 消息；必须是 ValueError。"""
    value = getattr(exc, "value", exc)
    assert isinstance(value, ValueError), f"应为 ValueError，实际为 {value!r}"
    return str(value)


def _has_word(msg: str, word: str) -> bool:
    """``word`` 作为独立的标识符出现（前后不是字母、数字、下划线）。"""
    pattern = rf"(?<![A-Za-z0-9_]){re.escape(word)}(?![A-Za-z0-9_])"
    return re.search(pattern, msg) is not None


def check_names(exc, *names: str) -> str:
    """消息里写出了每一个参数名。返回消息。"""
    msg = _message(exc)
    for name in names:
        assert _has_word(msg, name), f"消息 {msg!r} 没有写出参数名 {name!r}"
    return msg


def check_numbers(exc, *numbers: int) -> str:
    """消息里写出了这些数（例如超出的长度与上限）。返回消息。"""
    msg = _message(exc)
    for n in numbers:
        found = re.search(rf"(?<![\d.]){n}(?![\d.])", msg)
        assert found, f"消息 {msg!r} 没有写出 {n}"
    return msg


def check_shape_error(exc, name: str, got, want=()) -> str:
    """形状错误：写出参数名、实际形状 ``fmt_shape(got)``，以及期望的形状。

    期望的形状是消息里另一个括号组（写法不限，如 ``(batch, 64)`` 或
    ``(B, C=64)``）；``want`` 给出的固定尺寸都必须出现在这个括号组里。
    """
    msg = check_names(exc, name)
    actual = fmt_shape(got)
    assert actual in msg, f"消息 {msg!r} 没有写出实际形状 {actual}"
    groups = [
        g for g in re.findall(r"\(([^()]*)\)", msg) if f"({g})" != actual
    ]
    wanted = {str(w) for w in want}

    def mentions(group: str) -> bool:
        tokens = set(re.split(r"[\s,=<>*:]+", group))
        return wanted <= tokens

    assert any(mentions(g) for g in groups), (
        f"消息 {msg!r} 没有写出期望的形状（含 {sorted(wanted)}）"
    )
    return msg


def check_dtype_error(exc, name: str, got: str) -> str:
    """类型错误：写出参数名与实际类型（如 ``dtypes.float``）。"""
    msg = check_names(exc, name)
    assert f"dtypes.{got}" in msg, (
        f"消息 {msg!r} 没有写出实际类型 dtypes.{got}"
    )
    return msg


@pytest.fixture
def err():
    """错误消息的检查函数，第一个参数都是 ``pytest.raises`` 的 excinfo。

    ``err.shape(e, name, got, want=())``、``err.dtype(e, name, got)``、
    ``err.names(e, *names)``、``err.numbers(e, *numbers)``。
    """
    return SimpleNamespace(
        shape=check_shape_error,
        dtype=check_dtype_error,
        names=check_names,
        numbers=check_numbers,
    )
