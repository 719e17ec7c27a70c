"""后端一致性：每个模型在某个后端上的前向输出与梯度，要与 CPU 在容差内一致。

    python -m tinymodels parity --device CL       # 有不一致时退出码为 1
    python -m tinymodels parity --device CUDA --record verification/

做法：CPU 上用固定种子建模型、输入和固定的随机"上游梯度" ``g``，算
``loss = sum(model(x) * g)`` 的输出与对全部参数（及浮点输入）的梯度；把同样的
权重搬到目标后端重算一遍。误差是 ``max|a - b| / max(max|b|, 下限)``。
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from datetime import date
from importlib.metadata import version
from pathlib import Path
from typing import Callable

import numpy as np
from tinygrad import Context, Tensor, dtypes
from tinygrad.nn.state import get_state_dict

import tinymodels
from tinymodels import models as M
from tinymodels.models.moe_llama import TinyMoELlama
from tinymodels.tools.backends import resolve_device

__all__ = [
    "DEFAULT_TOLERANCE", "PARITY_MODELS", "ParityResult", "format_table",
    "run_parity", "save_parity_record",
]  # fmt: skip

#: 默认相对误差容差：容得下各后端 float32 累加顺序的差别，抓得住真错误。
DEFAULT_TOLERANCE = 1e-4
#: 梯度误差分母的下限：该模型最大梯度的这个倍数。数学上恒为 0 的梯度（如
#: 注意力里 key 投影的偏置）两边都只剩 1e-8 量级的舍入噪声，不能当分母。
GRAD_SCALE_FLOOR = 1e-3


@dataclass
class ParityResult:
    """一个模型的结果：前向与梯度的最大相对误差。"""

    model: str
    forward_error: float
    grad_error: float
    tolerance: float

    @property
    def passed(self) -> bool:
        return max(self.forward_error, self.grad_error) <= self.tolerance


_LLAMA = dict(
    block_size=8, d_model=16, num_heads=4, num_kv_heads=2, num_layers=1
)
# 模型名 -> (小尺寸模型, 输入形状, 输入)："randn" 标准正态，"rand" [0, 1)
# 均匀，整数 V 表示词表大小为 V 的 token
_CASES = {
    "MLP": (lambda: M.MLP([16, 32, 10]), (4, 16), "randn"),
    "LeNet": (lambda: M.LeNet(), (4, 1, 8, 8), "rand"),
    "RNNClassifier": (lambda: M.RNNClassifier(2, 8, 1), (4, 5, 2), "randn"),
    "LSTMClassifier": (lambda: M.LSTMClassifier(2, 8, 1), (4, 5, 2), "randn"),
    "TransformerEncoder": (
        lambda: M.TransformerEncoder(
            8, 8, d_model=16, num_heads=2, num_layers=1, d_ff=32, max_len=8
        ),
        (2, 8),
        8,
    ),
    "TinyGPT": (
        lambda: M.TinyGPT(12, 8, d_model=16, num_heads=2, num_layers=1),
        (2, 8),
        12,
    ),
    # 大模型部分：RMSNorm、RoPE、GQA、SwiGLU；MoE 版再加路由 top-k 与专家
    "TinyLlama": (lambda: M.TinyLlama(12, **_LLAMA), (2, 8), 12),
    "TinyMoELlama": (lambda: TinyMoELlama(12, 4, **_LLAMA), (2, 8), 12),
    "Autoencoder": (lambda: M.Autoencoder(64, (16,), 4), (4, 64), "rand"),
    "Generator": (lambda: M.Generator(2, 2, (16,)), (4, 2), "randn"),
    "Discriminator": (lambda: M.Discriminator(2, (16,)), (4, 2), "randn"),
}
PARITY_MODELS = list(_CASES)


def _input(rng, shape: tuple, kind) -> np.ndarray:
    if kind == "randn":
        return rng.standard_normal(shape).astype(np.float32)
    if kind == "rand":
        return rng.random(shape).astype(np.float32)
    return rng.integers(0, kind, size=shape).astype(np.int32)


def _rel_error(a: np.ndarray, b: np.ndarray, floor: float = 1e-6) -> float:
    """``max|a - b| / max(max|b|, floor)``；形状不同时为无穷大。"""
    if a.shape != b.shape:
        return float("inf")
    if not a.size:
        return 0.0
    diff = np.abs(a.astype(np.float64) - b.astype(np.float64)).max()
    return float(diff) / max(float(np.abs(b).max()), floor)


def _forward_backward(model, x_np, g_np, device: str, perturb=None):
    """在 ``device`` 上算输出与梯度：``(输出, {名字: 梯度})``。"""
    params = get_state_dict(model)
    x = Tensor(x_np, device=device)
    out = model(x)
    if perturb is not None:
        out = perturb(out)
    loss = (out * Tensor(g_np, device=device)).sum()
    named = {**params, **({"<input>": x} if dtypes.is_float(x.dtype) else {})}
    grads = loss.gradient(*named.values())
    return out.numpy(), {k: g.numpy() for k, g in zip(named, grads)}


def run_parity(
    device: str,
    models: list[str] | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    perturb: Callable[[Tensor], Tensor] | None = None,
) -> list[ParityResult]:
    """逐个模型比较 ``device`` 与 CPU 上的前向与梯度。

    Args:
        device: 设备名，如 ``"CL"``（``"CPU"`` 与自己比，用于自检）。
        models: 模型名，默认 ``PARITY_MODELS`` 全部。
        tolerance: 相对误差容差。
        perturb: 只在目标后端上作用于输出的改动：测试用它证明会判失败。
    """
    device = resolve_device(device)
    unknown = [m for m in models or [] if m not in _CASES]
    if unknown:
        raise ValueError(f"未知的模型 {unknown}；可选：{PARITY_MODELS}")
    results, rng = [], np.random.default_rng(0)
    for name in models or PARITY_MODELS:
        build, shape, kind = _CASES[name]
        tinymodels.set_seed(0)
        x = _input(rng, shape, kind)
        with Context(DEV="CPU"):
            model = build()
            out_shape = model(Tensor(x)).shape
            g = np.random.default_rng(1).standard_normal(out_shape)
            g = g.astype(np.float32)
            ref_out, ref = _forward_backward(model, x, g, "CPU")
        for t in get_state_dict(model).values():
            t.to_(device)
        out, grads = _forward_backward(model, x, g, device, perturb)
        largest = max(float(np.abs(v).max()) for v in ref.values() if v.size)
        floor = max(GRAD_SCALE_FLOOR * largest, 1e-6)
        grad_err = max(_rel_error(grads[k], ref[k], floor) for k in ref)
        fwd_err = _rel_error(out, ref_out)
        results.append(ParityResult(name, fwd_err, grad_err, tolerance))
    return results


def format_table(device: str, results: list[ParityResult]) -> str:
    """结果表（中文），每个模型一行。"""
    tol = results[0].tolerance if results else DEFAULT_TOLERANCE
    lines = [
        f"后端 {device} 与 CPU 的一致性（相对误差容差 {tol:g}）",
        f"{'模型':<20}{'前向误差':>12}{'梯度误差':>12}  结果",
    ]
    for r in results:
        ok = "通过" if r.passed else "失败"
        errs = f"{r.forward_error:>12.2e}{r.grad_error:>12.2e}"
        lines.append(f"{r.model:<20}{errs}  {ok}")
    return "\n".join(lines)


def save_parity_record(device: str, results, directory) -> Path:
    """把结果原子地写成 ``directory/parity-<后端>.json``，网站验证页读它。"""
    backend = device.split(":")[0].upper()
    data = {
        "backend": backend,
        "tolerance": results[0].tolerance if results else DEFAULT_TOLERANCE,
        "tinygrad": version("tinygrad"),
        "tinymodels": tinymodels.__version__,
        "date": date.today().isoformat(),
        "time": time.time(),
        "results": [{**asdict(r), "passed": r.passed} for r in results],
    }
    out = Path(directory) / f"parity-{backend.lower()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), "utf-8")
    os.replace(tmp, out)
    return out
