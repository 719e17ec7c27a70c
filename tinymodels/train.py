"""训练与评估：编译好的训练步 ``train_step``、``fit`` 与 ``evaluate``。

tinygrad 0.14 的要点都在这里：

* 训练模式是 ``with Context(TRAINING=1)``：不开启时优化器报错，
  Dropout 也不生效。
* 训练步写成 ``loss.backward(); loss.realize(*opt.schedule_step())`` 并交给
  ``TinyJit``：前两次照常执行并录制，之后直接重放编译好的内核。
* JIT 要求每次输入形状相同，所以训练时丢弃不足一批的尾巴。
"""

from __future__ import annotations

import math
import random
import sys
import time
import weakref
from typing import Callable

import numpy as np
from tinygrad import Context, Tensor, TinyJit
from tinygrad.nn.optim import Adam
from tinygrad.nn.state import get_parameters, get_state_dict

from tinymodels._contract import is_int, require
from tinymodels._tinygrad import read_scalar
from tinymodels.data.loader import as_numpy, batches
from tinymodels.layers import init
from tinymodels.losses import accuracy, cross_entropy

__all__ = [
    "History",
    "TrainingDivergedError",
    "set_seed",
    "train_step",
    "fit",
    "evaluate",
    "realize_state",
]


class TrainingDivergedError(FloatingPointError):
    """损失变成 NaN 或无穷大；常见原因：学习率太大、输入没归一化、log(0)。"""


class History:
    """``fit`` 的返回值。

    Attributes:
        epochs: 每轮一个字典，如 ``{"epoch": 1, "loss": 0.52}``；
            ``history["val_loss"]`` 取出各轮的值。
        step_losses: 每个训练步的损失。
    """

    def __init__(self) -> None:
        self.epochs: list[dict] = []
        self.step_losses: list[float] = []

    def __getitem__(self, name: str) -> list:
        if not self.epochs or name not in self.epochs[0]:
            known = sorted(self.epochs[0]) if self.epochs else []
            raise KeyError(f"History 中没有指标 {name!r}；已有：{known}")
        return [e[name] for e in self.epochs]

    @property
    def last(self) -> dict:
        """最后一轮的指标字典。"""
        return dict(self.epochs[-1]) if self.epochs else {}

    def to_dict(self) -> dict:
        """可 JSON 序列化的 ``{"epochs": [...], "step_losses": [...]}``。"""
        return {
            "epochs": list(self.epochs),
            "step_losses": list(self.step_losses),
        }

    def __len__(self) -> int:
        return len(self.epochs)

    def __repr__(self) -> str:
        return f"History(epochs={len(self)}, last={self.last})"


def set_seed(seed: int) -> None:
    """固定参数初值、Dropout、NumPy 与 ``random`` 的随机性；建模型前调用。"""
    require(
        is_int(seed),
        f"set_seed: seed 应为非负整数，实际为 {seed!r}",
    )
    init.seed(seed)
    Tensor.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)


def realize_state(*objects) -> None:
    """先把模型参数和优化器状态（如 Adam 的矩）算出来，再开始 JIT 训练。

    张量是惰性的：不先算出来，第一步的计算图里就带着初始化，与之后每一步的图
    不同，JIT 录制时调度缓存不命中，整张图要再编译一遍。``fit`` 会自动调用。
    """
    tensors = [t for o in objects for t in get_state_dict(o).values()]
    pending = [t for t in tensors if not t.uop.is_realized]
    if pending:
        Tensor.realize(*pending)


def train_step(loss_fn: Callable[..., Tensor], opt) -> TinyJit:
    """把一个训练步编译成 ``TinyJit``：``step(*batch) -> loss``。

    本库里所有训练（``fit``、``train_gan``、基准、测试）都用这一个函数::

        opt.zero_grad(); loss = loss_fn(*batch); loss.backward(); opt.step()

    损失与参数更新在同一次 ``realize`` 里完成，JIT 才能把整步录成一张图。
    调用时要在 ``with Context(TRAINING=1):`` 里，每次的输入形状相同。
    """

    def step(*batch: Tensor) -> Tensor:
        opt.zero_grad()
        loss = loss_fn(*batch)
        loss.backward()
        return loss.realize(*opt.schedule_step())

    return TinyJit(step)


# fit 编译过的训练步：{模型: {(优化器, 损失函数, 批形状): (优化器, step)}}。
# 同一个模型再 fit 一次时直接复用，不用重新编译。
_STEPS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _cached_step(model, loss_fn, opt, xb: Tensor, yb: Tensor) -> tuple:
    cache = _STEPS.setdefault(model, {})
    if (
        opt is None
    ):  # 没给优化器：接着用这个模型上次的默认 Adam（连同它的动量）
        opt = cache.get("default_adam") or Adam(
            get_parameters(model), lr=1e-3
        )
        cache["default_adam"] = opt
    key = (id(opt), loss_fn, xb.shape, xb.dtype, yb.shape, yb.dtype)
    if key not in cache:
        cache[key] = (opt, train_step(lambda x, y: loss_fn(model(x), y), opt))
    return cache[key]


def _check_data(name: str, data, where: str) -> tuple[np.ndarray, np.ndarray]:
    require(
        isinstance(data, (tuple, list)) and len(data) == 2,
        f"{where}: {name} 应为 (输入, 目标) 二元组，"
        f"实际为 {type(data).__name__}",
    )
    x, y = as_numpy(f"{name}[0]", data[0]), as_numpy(f"{name}[1]", data[1])
    require(
        len(x) == len(y) > 0,
        f"{where}: {name} 的输入与目标应有相同的非零样本数，"
        f"实际为 {len(x)} 与 {len(y)}",
    )
    return x, y


def _check_loss(loss_fn, where: str):
    require(
        loss_fn is None or callable(loss_fn),
        f"{where}: loss_fn 应为函数 loss_fn(output, target)，"
        f"实际为 {loss_fn!r}",
    )
    return loss_fn or cross_entropy


def _check_model(model, where: str) -> None:
    require(
        callable(model),
        f"{where}: model 应可调用，实际为 {type(model).__name__}",
    )
    require(
        any(p.is_param for p in get_parameters(model)),
        f"{where}: 在 model（{type(model).__name__}）的属性里找不到参数张量",
    )


def _metrics(metrics, loss_fn, where: str) -> dict[str, Callable]:
    """``None`` 表示：默认交叉熵时算准确率，否则不算。"""
    if metrics is None:
        metrics = ("accuracy",) if loss_fn is cross_entropy else ()
    if isinstance(metrics, str) or callable(metrics):
        metrics = (metrics,)
    if not isinstance(metrics, dict):
        require(
            isinstance(metrics, (tuple, list)),
            f"{where}: metrics 应为指标名、函数或它们的元组/字典，"
            f"实际为 {metrics!r}",
        )
        metrics = {getattr(m, "__name__", str(m)): m for m in metrics}
    out = {}
    for name, m in metrics.items():
        m = accuracy if m == "accuracy" else m
        require(
            callable(m) and name != "loss",
            f"{where}: metrics 里的 {name!r} 不是可用的指标"
            "（内置的只有 'accuracy'，也可传函数；不能叫 'loss'）",
        )
        out[name] = m
    return out


class _Evaluator:
    """按批算损失与指标；每种批形状一个 TinyJit，fit 每轮复用。"""

    def __init__(
        self, model, loss_fn, metrics: dict[str, Callable], jit: bool
    ):
        self.model, self.loss_fn, self.metrics = model, loss_fn, metrics
        self.jits: dict[tuple, Callable] = {}
        self.jit = jit

    def _forward(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        out = self.model(x)
        return self.loss_fn(out, y).realize(), out.realize()

    def run(
        self, x: np.ndarray, y: np.ndarray, batch_size: int
    ) -> dict[str, float]:
        totals = dict.fromkeys(["loss", *self.metrics], 0.0)
        with Context(TRAINING=0):  # 评估时关掉 Dropout
            for xb, yb in batches(
                x, y, batch_size=batch_size, shuffle=False, drop_last=False
            ):
                fn = self._forward
                if self.jit:
                    key = (xb.shape, xb.dtype, yb.shape, yb.dtype)
                    if key not in self.jits:
                        self.jits[key] = TinyJit(self._forward)
                    fn = self.jits[key]
                loss, out = fn(xb, yb)
                totals["loss"] += read_scalar(loss) * len(xb)
                for name, metric in self.metrics.items():
                    value = metric(out, yb)
                    totals[name] += len(xb) * (
                        read_scalar(value)
                        if isinstance(value, Tensor)
                        else float(value)
                    )
        return {k: v / len(x) for k, v in totals.items()}


def evaluate(
    model,
    data,
    *,
    loss_fn=None,
    metrics=None,
    batch_size: int = 256,
    jit: bool = True,
) -> dict[str, float]:
    """在 ``data = (X, Y)`` 上算平均损失与指标（评估模式，不更新参数）。

    Args:
        model: ``model(x)`` 返回输出张量。
        data: ``(X, Y)``，NumPy 数组或张量，第 0 维是样本。
        loss_fn: ``loss_fn(output, target)``，默认 ``cross_entropy``。
        metrics: ``"accuracy"``、函数 ``metric(output, target)``，
            或它们的元组/字典；
            默认：交叉熵时算准确率。
        batch_size: 每批样本数（最后不足一批的也算）。
        jit: 是否用 TinyJit 编译前向。

    Returns:
        ``{"loss": ..., 指标名: ...}``，按样本数加权平均。
    """
    _check_model(model, "evaluate")
    x, y = _check_data("data", data, "evaluate")
    loss_fn = _check_loss(loss_fn, "evaluate")
    require(
        is_int(batch_size, 1),
        f"evaluate: batch_size={batch_size!r} 应为正整数",
    )
    evaluator = _Evaluator(
        model, loss_fn, _metrics(metrics, loss_fn, "evaluate"), jit
    )
    return evaluator.run(x, y, batch_size)


def fit(
    model,
    train_data,
    *,
    loss_fn=None,
    optimizer=None,
    epochs: int = 1,
    batch_size: int = 32,
    val_data=None,
    metrics=None,
    seed: int = 0,
    progress: bool | None = None,
) -> History:
    """小批量训练 ``epochs`` 轮，返回 ``History``。

    第 ``e`` 轮用种子 ``seed + e`` 打乱数据（顺序可复现），丢弃不足一批的
    尾巴。
    编译好的训练步按（模型、优化器、损失函数、批形状）缓存：同一个模型再调用
    ``fit`` 不会重新编译；不给 ``optimizer`` 时接着用上次的默认 Adam。

    Args:
        model: ``model(x)`` 返回输出张量，参数存在它的属性里。
        train_data: ``(X, Y)``，NumPy 数组或张量，第 0 维是样本。
        loss_fn: ``loss_fn(output, target)``，默认 ``cross_entropy``。
        optimizer: tinygrad 优化器，默认 ``Adam(lr=1e-3)``。
        epochs: 轮数。
        batch_size: 每批样本数，不大于样本数。
        val_data: 可选的验证集 ``(X, Y)``，每轮结束后评估，记为 ``val_*``。
        metrics: 验证集上的指标，写法同 ``evaluate``。
        seed: 数据顺序与 Dropout 的种子。
        progress: 是否显示进度条；默认只在交互式终端显示。

    Raises:
        ValueError: 参数不合法（消息写明是哪个）。
        TrainingDivergedError: 损失变成 NaN 或无穷大。
    """
    _check_model(model, "fit")
    x, y = _check_data("train_data", train_data, "fit")
    val = (
        None if val_data is None else _check_data("val_data", val_data, "fit")
    )
    require(
        is_int(epochs, 1),
        f"fit: epochs={epochs!r} 应为正整数",
    )
    require(
        is_int(batch_size, 1) and batch_size <= len(x),
        f"fit: batch_size={batch_size!r} 应为 1..{len(x)}（训练样本数）"
        "之间的整数",
    )
    require(
        optimizer is None or hasattr(optimizer, "schedule_step"),
        "fit: optimizer 应为 tinygrad 优化器，"
        f"实际为 {type(optimizer).__name__}",
    )
    require(is_int(seed), f"fit: seed={seed!r} 应为非负整数")
    loss_fn = _check_loss(loss_fn, "fit")
    metrics = _metrics(metrics, loss_fn, "fit")
    evaluator = (
        None if val is None else _Evaluator(model, loss_fn, metrics, True)
    )
    show = progress if progress is not None else sys.stderr.isatty()
    history = History()
    Tensor.manual_seed(seed)  # Dropout 掩码可复现
    # 不用 tqdm.auto：没装 ipywidgets 时它在笔记本里报警告
    from tqdm import tqdm

    opt = step = None

    for epoch in range(1, epochs + 1):
        start, losses = time.perf_counter(), []
        order = batches(x, y, batch_size=batch_size, seed=seed + epoch)
        with Context(TRAINING=1):
            for xb, yb in tqdm(
                order, total=len(x) // batch_size, disable=not show
            ):
                if step is None:  # 第一批：取（或编译）训练步
                    opt, step = _cached_step(
                        model, loss_fn, optimizer, xb, yb
                    )
                    realize_state(model, opt)  # 见 realize_state
                loss = read_scalar(step(xb, yb))
                if not math.isfinite(loss):
                    raise TrainingDivergedError(
                        f"fit: 第 {epoch} 轮第 {len(losses) + 1} 步"
                        f"损失为 {loss}；"
                        "试试减小学习率、把输入归一化、检查损失函数"
                    )
                losses.append(loss)
        history.step_losses += losses
        record = {"epoch": epoch, "loss": float(np.mean(losses))}
        if evaluator is not None:
            metrics_ = evaluator.run(*val, max(batch_size, 256))
            record.update({f"val_{k}": v for k, v in metrics_.items()})
        record["seconds"] = time.perf_counter() - start
        history.epochs.append(record)
    return history
