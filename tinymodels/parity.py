"""后端一致性测试：每个模型在某个后端上的前向输出与梯度，必须与 CPU 上的结果在容差内一致。

用法（命令行）::

    python -m tinymodels parity --device CL            # 打印表格，有不一致时退出码为 1
    python -m tinymodels parity --device CUDA --record verification/

做法：在 CPU 上用固定种子构造模型、输入和一个固定的随机“上游梯度” ``g``，计算
``loss = sum(model(x) * g)`` 的前向输出和对全部参数（以及浮点输入）的梯度；再把同样的权重和输入
搬到目标后端上重算一遍。比较用相对误差 ``max|a - b| / max(max|b|, 下限)``：前向输出的下限是 1e-6，
梯度的下限是该模型最大梯度的 1e-3 倍（见 ``GRAD_SCALE_FLOOR``），以免数学上为 0 的梯度把舍入噪声放大成“误差”。
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Callable

import numpy as np
from tinygrad import Context, Device, Tensor
from tinygrad.nn.state import get_state_dict

__all__ = ["ParityResult", "PARITY_MODELS", "run_parity", "format_table", "save_parity_record", "DEFAULT_TOLERANCE"]

#: 默认容差（相对误差）。float32 在不同后端上的累加顺序不同，1e-4 足以容纳这种差别，又能抓住真正的错误。
DEFAULT_TOLERANCE = 1e-4


@dataclass
class ParityResult:
    """一个模型的一致性结果。"""

    model: str
    forward_error: float
    grad_error: float
    tolerance: float

    @property
    def passed(self) -> bool:
        return self.forward_error <= self.tolerance and self.grad_error <= self.tolerance


def _cases() -> dict[str, Callable[[], tuple[object, np.ndarray]]]:
    """每个模型的小尺寸实例和输入（整数输入表示 token）。"""
    from tinymodels.models import (
        MLP, Autoencoder, Discriminator, Generator, LeNet, LSTMClassifier, RNNClassifier, TinyGPT, TransformerEncoder,
    )

    rng = np.random.default_rng(0)
    return {
        "MLP": lambda: (MLP([16, 32, 10]), rng.standard_normal((4, 16)).astype(np.float32)),
        "LeNet": lambda: (LeNet(), rng.random((4, 1, 8, 8)).astype(np.float32)),
        "RNNClassifier": lambda: (RNNClassifier(2, 8, 1), rng.standard_normal((4, 5, 2)).astype(np.float32)),
        "LSTMClassifier": lambda: (LSTMClassifier(2, 8, 1), rng.standard_normal((4, 5, 2)).astype(np.float32)),
        "TransformerEncoder": lambda: (TransformerEncoder(vocab_size=8, num_classes=8, d_model=16, num_heads=2,
                                                          num_layers=1, d_ff=32, max_len=8),
                                       rng.integers(0, 8, size=(2, 8)).astype(np.int32)),
        "TinyGPT": lambda: (TinyGPT(vocab_size=12, block_size=8, d_model=16, num_heads=2, num_layers=1),
                            rng.integers(0, 12, size=(2, 8)).astype(np.int32)),
        "Autoencoder": lambda: (Autoencoder(input_dim=64, hidden_dims=(16,), latent_dim=4),
                                rng.random((4, 64)).astype(np.float32)),
        "Generator": lambda: (Generator(latent_dim=2, data_dim=2, hidden=(16,)),
                              rng.standard_normal((4, 2)).astype(np.float32)),
        "Discriminator": lambda: (Discriminator(data_dim=2, hidden=(16,)),
                                  rng.standard_normal((4, 2)).astype(np.float32)),
    }


PARITY_MODELS = ["MLP", "LeNet", "RNNClassifier", "LSTMClassifier", "TransformerEncoder", "TinyGPT", "Autoencoder",
                 "Generator", "Discriminator"]


def _rel_error(a: np.ndarray, b: np.ndarray, floor: float = 1e-6) -> float:
    """``max|a - b| / max(max|b|, floor)``；形状不同时为无穷大。"""
    if a.shape != b.shape:
        return float("inf")
    scale = max(float(np.max(np.abs(b))) if b.size else 0.0, floor)
    return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)))) / scale if a.size else 0.0


#: 梯度误差的分母下限：模型最大梯度的这个倍数。有的梯度在数学上恒为 0（例如注意力里 key 投影的偏置：
#: 它给同一行的每个分数加上同一个数，softmax 对此不变），两个后端算出的都只是 1e-8 量级的舍入噪声，
#: 若拿噪声本身当分母，相对误差毫无意义（实测 CL 对 CPU 为 0.05～0.2）。
GRAD_SCALE_FLOOR = 1e-3


def _forward_backward(model, x_np: np.ndarray, g_np: np.ndarray | None, device: str,
                      perturb: Callable[[Tensor], Tensor] | None):
    """在 device 上算前向输出和梯度；返回 (输出, {名字: 梯度}, 上游梯度)。"""
    params = get_state_dict(model)
    x = Tensor(x_np, device=device)
    out = model(x)
    if perturb is not None:
        out = perturb(out)
    if g_np is None:
        g_np = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
    loss = (out * Tensor(g_np, device=device)).sum()
    targets = [t for t in params.values()] + ([x] if x.dtype.name.startswith("float") else [])
    grads = loss.gradient(*targets)
    names = list(params) + (["<input>"] if len(targets) > len(params) else [])
    return out.numpy(), {n: gr.numpy() for n, gr in zip(names, grads)}, g_np


def _on_device(model, device: str):
    """把模型的全部权重复制到 device 上（原地替换张量）。"""
    for t in get_state_dict(model).values():
        t.replace(Tensor(t.numpy(), device=device))
    return model


def run_parity(device: str, models: list[str] | None = None, tolerance: float = DEFAULT_TOLERANCE,
               perturb: Callable[[Tensor], Tensor] | None = None) -> list[ParityResult]:
    """在 device 上逐个模型比较前向与梯度，返回结果列表。

    Args:
      device: tinygrad 设备名，如 "CL"、"CUDA"、"METAL"（"CPU" 与自己比较，用于自检）。
      models: 要测的模型名（默认全部，见 PARITY_MODELS）。
      tolerance: 相对误差容差。
      perturb: 只在目标后端上对模型输出做的改动——测试用来证明一致性测试真的会失败。
    """
    from tinymodels.device import resolve_device

    device = resolve_device(device)
    cases = _cases()
    names = models or PARITY_MODELS
    unknown = [m for m in names if m not in cases]
    if unknown:
        raise ValueError(f"未知的模型 {unknown}；可选：{PARITY_MODELS}")
    results = []
    for name in names:
        Tensor.manual_seed(0)
        with Context(DEV="CPU"):
            model, x_np = cases[name]()
            ref_out, ref_grads, g_np = _forward_backward(model, x_np, None, "CPU", None)
        _on_device(model, device)
        out, grads, _ = _forward_backward(model, x_np, g_np, device, perturb)
        largest = max((float(np.max(np.abs(v))) for v in ref_grads.values() if v.size), default=0.0)
        floor = max(GRAD_SCALE_FLOOR * largest, 1e-6)
        grad_err = max((_rel_error(grads[k], ref_grads[k], floor) for k in ref_grads), default=0.0)
        results.append(ParityResult(name, _rel_error(out, ref_out), grad_err, tolerance))
    return results


def format_table(device: str, results: list[ParityResult]) -> str:
    lines = [f"后端 {device} 与 CPU 的一致性（相对误差容差 {results[0].tolerance:g}）" if results else "",
             f"{'模型':<20}{'前向误差':>12}{'梯度误差':>12}  结果"]
    for r in results:
        lines.append(f"{r.model:<20}{r.forward_error:>12.2e}{r.grad_error:>12.2e}  {'通过' if r.passed else '失败'}")
    return "\n".join(lines)


def save_parity_record(device: str, results: list[ParityResult], directory: str | os.PathLike) -> Path:
    """把结果写成 JSON（原子写入），供网站的“验证状态”页读取。"""
    import tinygrad  # noqa: F401
    from importlib.metadata import version

    import tinymodels

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    backend = Device.canonicalize(device).split(":")[0] if hasattr(Device, "canonicalize") else device.upper()
    data = {
        "backend": backend, "tolerance": results[0].tolerance if results else DEFAULT_TOLERANCE,
        "tinygrad": version("tinygrad"), "tinymodels": tinymodels.__version__, "date": date.today().isoformat(),
        "time": time.time(), "results": [{**asdict(r), "passed": r.passed} for r in results],
    }
    out = directory / f"parity-{backend.lower()}.json"
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, out)
    return out
