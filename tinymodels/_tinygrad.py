"""The only module that touches tinygrad internals; checked against tinygrad
0.14.0.

用到 tinygrad 私有接口的代码都放在这里：升级 tinygrad 时只核对这一个文件。
"""

from __future__ import annotations

import os

import numpy as np
import tinygrad.codegen as _codegen
import tinygrad.codegen.opt.heuristic as _heuristic
import tinygrad.engine.realize as _realize
import tinygrad.engine.worker as _worker
from tinygrad import Tensor, dtypes
from tinygrad.codegen.opt import KernelOptError, Opt, OptOps
from tinygrad.device import Buffer
from tinygrad.dtype import _from_np_dtype
from tinygrad.helpers import ContextVar, prod

__all__ = [
    "to_device",
    "read_scalar",
    "write_scalar",
    "KERNEL_OPTS",
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

# 选哪套优化由一个 tinygrad 的 ContextVar 决定，而不是一个模块变量：tinygrad
# 把多个内核分给 spawn 出来的编译进程（PARALLEL，默认每核一个）去生成代码，
# 每个任务带着 to_program_context 里各变量的值。把这个变量加进去，编译进程
# 里也就用同一套优化。环境变量同名：TINYMODELS_KERNEL_OPTS=tinygrad。
KERNEL_OPTS = ContextVar._cache.get("TINYMODELS_KERNEL_OPTS") or ContextVar(
    "TINYMODELS_KERNEL_OPTS", "light"
)


def _light_opts(k):
    """CPU 上的轻量内核优化：小内核不优化，大内核只各展开一个轴。

    tinygrad 默认的启发式会叠加多次展开，生成的代码大、编译慢，而本库的小
    模型在 CPU 上的首个训练步几乎全是编译时间。这里：迭代空间（输出乘归约）
    小于 2^20 的内核不做优化（省下的运行时间抵不上编译）；更大的内核把一个
    输出轴按 4 展开、把归约轴按 4 展开。实测（benchmarks/RESULTS.md，
    2 核机器，冷启动首步/稳态每步，tinygrad 默认 -> 轻量）：TinyGPT
    18.1 s/195 ms -> 10.9 s/295 ms，LSTM 16.8 s/13.0 ms -> 6.2 s/12.8 ms，
    LeNet 9.1 s/3.6 ms -> 6.8 s/6.5 ms：首步快 1.3~2.7 倍，稳态最多慢
    约八成。
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


def _hand_coded_optimizations(k):
    """tinygrad 调用的启发式：按 ``KERNEL_OPTS`` 选轻量优化或 tinygrad
    默认。"""
    if KERNEL_OPTS.value == "light":
        return _light_opts(k)
    return _TINYGRAD_OPTS(k)


def _init_compile_worker() -> None:
    """tinygrad 编译进程的初始化函数。

    spawn 按名字找到这个函数，所以编译进程会先 import 本模块：启发式换好、
    ``KERNEL_OPTS`` 注册好，再接任务（任务里带着父进程的取值）。
    """
    _tinygrad_init_worker()


def _install() -> None:
    """把上面的启发式和变量接进 tinygrad（本进程与编译进程都执行）。"""
    if KERNEL_OPTS.value not in ("light", "tinygrad"):
        raise ValueError(
            "环境变量 TINYMODELS_KERNEL_OPTS 应为 light 或 tinygrad，"
            f"实际为 {KERNEL_OPTS.value!r}"
        )
    _heuristic.hand_coded_optimizations = _hand_coded_optimizations
    if all(v is not KERNEL_OPTS for v in _codegen.to_program_config):
        # 进 to_program_config：换了优化，同一个内核要重新编译（它是进程内
        # 缓存的键）；进 to_program_context：随每个任务传给编译进程
        _codegen.to_program_config = (
            *_codegen.to_program_config,
            KERNEL_OPTS,
        )
        ctx = (*_realize.to_program_context, KERNEL_OPTS)
        _codegen.to_program_context = _realize.to_program_context = ctx
    # 编译进程每接 16 个任务就换一个新的（tinygrad 为 BEAM 搜索限制内存
    # 而设），新进程要重新 import：TinyGPT 的第一个训练步（两百多个内核）
    # 因此多花 2~3 秒。只生成代码的进程占不了多少内存，放宽到 256 个。
    os.environ.setdefault("BEAM_MAX_TASKS_PER_CHILD", "256")
    if _worker._init_worker is not _init_compile_worker:
        # 在本模块之前建好的编译进程不认识 KERNEL_OPTS：关掉，用到时重建
        _worker.terminate_worker_pool()
        _worker._init_worker = _init_compile_worker


_tinygrad_init_worker = _worker._init_worker
_install()
