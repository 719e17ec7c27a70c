"""The only module that touches tinygrad internals; checked against tinygrad
0.14.0.

用到 tinygrad 私有接口的代码都放在这里：升级 tinygrad 时只核对这一个文件。
"""

from __future__ import annotations

import numpy as np
import tinygrad.codegen.opt.heuristic as _heuristic
from tinygrad import Tensor, dtypes
from tinygrad.codegen.opt import KernelOptError, Opt, OptOps
from tinygrad.device import Buffer
from tinygrad.dtype import _from_np_dtype
from tinygrad.helpers import prod

__all__ = [
    "to_device",
    "read_scalar",
    "write_scalar",
    "use_light_kernel_opts",
]


def to_device(arr: np.ndarray) -> Tensor:
    """把 NumPy 数组直接拷进新分配的设备内存，返回已 realize 的张量。

    等价于 ``Tensor(arr).realize()``，但不经过调度器：CPU 上每个张量约
    2.6 ms -> 0.7 ms，而小模型的一个 JIT 训练步本身只要几毫秒。
    类型原样保留（``float64`` 仍是 ``float64``）。
    """
    arr = np.ascontiguousarray(arr)
    dtype = _from_np_dtype(arr.dtype)
    t = Tensor.empty(*arr.shape, dtype=dtype)
    src = Buffer("NPY", arr.size, dtype, opaque=arr)
    t.uop.buffer.ensure_allocated().copy_from(src)
    return t


def _host_buffer(t: Tensor):
    """已 realize 的 float32 CPU 张量的缓冲区；不能零拷贝访问时返回 None。"""
    base = t.uop.base
    buf = getattr(base, "buffer", None) if base.is_realized else None
    zero_copy = hasattr(getattr(buf, "allocator", None), "_as_buffer")
    return buf if zero_copy and t.dtype == dtypes.float32 else None


def read_scalar(t: Tensor) -> float:
    """读出单元素张量的值，同 ``t.item()``；CPU 上直接读内存，快约 100 倍。

    ``item()`` 每次都走一遍拷贝流程（约 1.4 ms），每步都记损失的小模型训练里
    很显眼。
    """
    buf = _host_buffer(t)
    if buf is None or buf.size != 1:
        return float(t.item())
    return float(
        np.frombuffer(buf.as_memoryview(force_zero_copy=True), np.float32)[0]
    )


def write_scalar(t: Tensor, value: float) -> None:
    """原地改写形状 ``(1,)`` 的张量（如优化器的学习率）。

    JIT 录下的是同一块缓冲区，所以下一步立即生效，不用重新编译。
    """
    buf = _host_buffer(t)
    if buf is None:
        t.assign(Tensor([value], dtype=t.dtype, device=t.device)).realize()
    else:
        mv = buf.as_memoryview(force_zero_copy=True)
        np.frombuffer(mv, np.float32)[:] = value


_TINYGRAD_OPTS = _heuristic.hand_coded_optimizations


def _light_opts(k):
    """CPU 上的轻量内核优化：小内核不优化，大内核只各展开一个轴。

    tinygrad 默认的启发式会叠加多次展开，生成的代码大、编译慢，而本库的小
    模型在 CPU 上的首个训练步几乎全是编译时间。这里：迭代空间（输出乘归约）
    小于 2^20 的内核不做优化（省下的运行时间抵不上编译）；更大的内核把一个
    输出轴按 4 展开、把归约轴按 4 展开。代价是大模型的稳态慢一些。实测
    （benchmarks/bench_models.py，空闲的 2 核机器，首步/稳态；同一台机器上
    前后两次能差到 1.5 倍）：TinyGPT 37.3 s/228 ms -> 12.4 s/282 ms，
    LeNet 15.1 s/3.6 ms -> 7.9 s/8.5 ms。
    有局部内存的设备（GPU）照用 tinygrad 默认的启发式。
    """
    if k.ren.has_local:
        return _TINYGRAD_OPTS(k)
    if prod(k.full_shape) < 2**20:
        return k
    k = k.copy()
    for axis in reversed(list(k.upcastable_dims)):
        if k.full_shape[axis] % 4 == 0:
            try:
                k.apply_opt(Opt(OptOps.UPCAST, axis, 4))
                break
            except KernelOptError:
                pass
    dims = k.unrollable_dims
    if dims and k.full_shape[dims[-1]] % 4 == 0:
        try:
            k.apply_opt(Opt(OptOps.UNROLL, len(dims) - 1, 4))
        except KernelOptError:
            pass
    return k


def light_kernel_opts_enabled() -> bool:
    """当前是否在用 ``_light_opts``。"""
    return _heuristic.hand_coded_optimizations is _light_opts


def use_light_kernel_opts(enabled: bool = True) -> None:
    """之后编译的 CPU 内核用 ``_light_opts``；``False`` 恢复 tinygrad 默认。

    ``import tinymodels`` 时自动打开；设环境变量
    ``TINYMODELS_KERNEL_OPTS=tinygrad`` 则不打开。
    """
    _heuristic.hand_coded_optimizations = (
        _light_opts if enabled else _TINYGRAD_OPTS
    )
