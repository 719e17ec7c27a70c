"""内置模型的配方：``python -m tinymodels train NAME`` 训练的就是这些。

每个配方写明用"文档尺寸"建的模型、随包数据、损失、指标和默认轮数；
2 核 CPU 上几十秒到一两分钟训练完。

| 名字 | 模型 | 数据 | 主要指标 |
|---|---|---|---|
| `mlp` | `MLP([64, 64, 10])` | 8x8 手写数字（展平） | accuracy |
| `cnn` | `LeNet(1, 10, (8, 8))` | 8x8 手写数字（图像） | accuracy |
| `rnn` | `RNNClassifier(8, 32, 10)` | 手写数字，逐行读入 | accuracy |
| `lstm` | `LSTMClassifier(2, 32, 1)` | 加法问题，序列长 16 | mse |
| `transformer` | `TransformerEncoder(10, 10)` | 序列反转，长 8 | accuracy |
| `gpt` | `TinyGPT(V, block_size=32)` | 本站中文语料，字符级 | perplexity |
| `autoencoder` | `Autoencoder(64, (32,), 8)` | 8x8 数字重建 | mse |
| `gan` | `GAN(2, 2)` | 圆环上 8 个高斯的混合 | modes_covered |
"""

from __future__ import annotations

import functools
import math
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from tinygrad.nn.optim import Adam
from tinygrad.nn.state import get_parameters

from tinymodels import models as M
from tinymodels._contract import require
from tinymodels.data import (
    CharTokenizer,
    adding_problem,
    gaussian_mixture,
    load_corpus,
    load_digits,
    mixture_centers,
    next_token_windows,
    reversal_task,
)
from tinymodels.losses import cross_entropy, mse_loss
from tinymodels.train import evaluate, fit

__all__ = [
    "Recipe", "RECIPES", "list_models", "get_recipe", "loss_fn_for",
    "train_recipe", "evaluate_recipe", "gan_mode_coverage",
]  # fmt: skip

Data = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Recipe:
    """一个内置模型的训练配方。

    Attributes:
        name: 命令行里的名字。
        summary: 一句话说明。
        build: 无参函数，新建模型（先 ``set_seed`` 才可复现）。
        load_data: 无参函数，返回 ``(train, test)``，各为 ``(X, Y)``。
        metric: 主要指标名。
        higher_is_better: 主要指标是否越大越好。
        epochs: 默认训练轮数。
        batch_size: 批大小。
        lr: Adam 学习率。
        loss: ``"cross_entropy"``、``"mse"`` 或 ``"gan"``（``train_gan``）。
        metrics: 评估时另算的指标名。
        metadata: 无参函数，返回写进检查点的额外元数据（如 GPT 的词表）。
    """

    name: str
    summary: str
    build: Callable[[], Any]
    load_data: Callable[[], tuple[Data, Data]]
    metric: str
    higher_is_better: bool
    epochs: int
    batch_size: int = 32
    lr: float = 3e-3
    loss: str = "cross_entropy"
    metrics: tuple[str, ...] = ()
    metadata: Callable[[], dict] = field(default=dict)


# ---------------------------------------------------------------- 数据
# 每个进程只准备一次


@functools.cache
def _digits(flatten: bool, rows: bool = False) -> tuple[Data, Data]:
    out = []
    for split in ("train", "test"):
        X, y = load_digits(split, flatten=flatten)
        # rows：(N, 1, 8, 8) -> (N, 8, 8)，8 行像素当作 8 步、每步 8 个特征
        out.append((X.reshape(-1, 8, 8) if rows else X, y))
    return out[0], out[1]


@functools.cache
def _autoencoder_data() -> tuple[Data, Data]:
    (Xtr, _), (Xte, _) = _digits(True)
    return (Xtr, Xtr), (Xte, Xte)


@functools.cache
def _tokenizer() -> tuple[CharTokenizer, np.ndarray]:
    text = load_corpus()
    tok = CharTokenizer(text)
    return tok, np.array(tok.encode(text), dtype=np.int64)


_GPT_BLOCK = 32


@functools.cache
def _gpt_data() -> tuple[Data, Data]:
    _, ids = _tokenizer()
    cut = int(len(ids) * 0.9)  # 前 90% 训练、后 10% 测试，窗口互不重叠
    train = next_token_windows(ids[:cut], _GPT_BLOCK, stride=_GPT_BLOCK // 2)
    return train, next_token_windows(ids[cut:], _GPT_BLOCK, stride=_GPT_BLOCK)


_GAN_MODES, _GAN_RADIUS, _GAN_STD = 8, 2.0, 0.05


@functools.cache
def _gan_data() -> tuple[Data, Data]:
    def split(n: int, seed: int) -> Data:  # GAN 没有目标：Y 是占位
        X = gaussian_mixture(n, _GAN_MODES, _GAN_RADIUS, _GAN_STD, seed=seed)
        return X, np.zeros(len(X), np.float32)

    return split(2048, 1), split(512, 2)


def _gpt() -> M.TinyGPT:
    V = _tokenizer()[0].vocab_size
    return M.TinyGPT(
        V, block_size=_GPT_BLOCK, d_model=64, num_heads=4, num_layers=2
    )


_ACC = ("accuracy",)
RECIPES: dict[str, Recipe] = {r.name: r for r in [
    Recipe("mlp", "多层感知机对 8x8 手写数字分类",
           lambda: M.MLP([64, 64, 10]), lambda: _digits(True),
           "accuracy", True, epochs=10, metrics=_ACC),
    Recipe("cnn", "LeNet 卷积网络对 8x8 手写数字分类",
           lambda: M.LeNet(1, 10, (8, 8)), lambda: _digits(False),
           "accuracy", True, epochs=5, metrics=_ACC),
    Recipe("rnn", "简单循环网络把数字图像逐行读入后分类",
           lambda: M.RNNClassifier(8, 32, 10), lambda: _digits(False, True),
           "accuracy", True, epochs=10, metrics=_ACC),
    Recipe("lstm", "LSTM 解加法问题（记住两个被标记的数并相加）",
           lambda: M.LSTMClassifier(2, 32, 1),
           lambda: (adding_problem(2048, 16, seed=1),
                    adding_problem(512, 16, seed=2)),
           "mse", False, epochs=10, lr=1e-2, loss="mse"),
    Recipe("transformer", "Transformer 编码器学习把序列反转",
           lambda: M.TransformerEncoder(
               10, 10, d_model=32, num_heads=4, num_layers=2, d_ff=64,
               max_len=16),
           lambda: (reversal_task(2048, 8, vocab=10, seed=1),
                    reversal_task(512, 8, vocab=10, seed=2)),
           "accuracy", True, epochs=10, metrics=_ACC),
    Recipe("gpt", "字符级 TinyGPT 在本站中文语料上预测下一个字",
           _gpt, _gpt_data, "perplexity", False, epochs=5, metrics=_ACC,
           metadata=lambda: {"vocab": "".join(_tokenizer()[0].chars)}),
    Recipe("autoencoder", "自编码器把 64 维数字图像压到 8 维再重建",
           lambda: M.Autoencoder(64, (32,), 8), _autoencoder_data,
           "mse", False, epochs=10, loss="mse"),
    Recipe("gan", "GAN 学习圆环上 8 个高斯分量的混合分布",
           lambda: M.GAN(latent_dim=2, data_dim=2), _gan_data,
           "modes_covered", True, epochs=40, batch_size=64, lr=1e-3,
           loss="gan"),
]}  # fmt: skip


def list_models() -> list[str]:
    """全部内置模型名，按文档顺序。"""
    return list(RECIPES)


def get_recipe(name: str) -> Recipe:
    """按名字（大小写不限）取配方；不认识时 ``ValueError`` 列出全部名字。"""
    key = name.strip().lower() if isinstance(name, str) else None
    require(key in RECIPES, f"未知模型 {name!r}；可选：{', '.join(RECIPES)}")
    return RECIPES[key]


def loss_fn_for(recipe: Recipe) -> Callable:
    """配方的 ``loss_fn(output, target)``；GAN 没有，抛 ``KeyError``。"""
    return {"cross_entropy": cross_entropy, "mse": mse_loss}[recipe.loss]


def gan_mode_coverage(samples, centers, std: float) -> dict[str, float]:
    """GAN 样本覆盖了几个分量（Unrolled GAN / VEEGAN 的做法）。

    离最近中心不超过 ``3 * std`` 的样本算"高质量"；一个分量分到的高质量样本
    不少于均匀分配时应得数量的 10%，就算覆盖了它。

    Returns:
        ``{"modes_covered": 分量数, "high_quality": 高质量样本比例}``。
    """
    samples = np.asarray(samples, np.float64)
    centers = np.asarray(centers, np.float64)
    require(
        samples.ndim == centers.ndim == 2 and len(samples) and len(centers)
        and samples.shape[1] == centers.shape[1] and std > 0,
        f"gan_mode_coverage: samples 应为 (n, d)、centers 为 (modes, d)、"
        f"std > 0，实际为 {samples.shape}、{centers.shape}、{std!r}",
    )  # fmt: skip
    dist = np.linalg.norm(samples[:, None] - centers[None], axis=-1)
    good = dist.min(axis=1) <= 3 * std
    counts = np.bincount(dist.argmin(axis=1)[good], minlength=len(centers))
    covered = counts >= 0.1 * len(samples) / len(centers)
    return {
        "modes_covered": float(covered.sum()),
        "high_quality": float(good.mean()),
    }


def train_recipe(
    recipe: Recipe | str,
    model,
    *,
    epochs: int | None = None,
    seed: int = 0,
    progress: bool | None = None,
) -> dict:
    """按配方训练建好的模型，返回最后一轮的记录。

    分类与回归用 ``fit``；GAN 用 ``train_gan``，一轮是把训练数据过一遍的
    步数，返回 ``{"steps": 步数, "d_loss": ..., "g_loss": ...}``。
    """
    recipe = get_recipe(recipe) if isinstance(recipe, str) else recipe
    epochs = recipe.epochs if epochs is None else epochs
    (X, Y), _ = recipe.load_data()
    if recipe.loss == "gan":
        require(epochs >= 1, f"train_recipe: epochs={epochs} 应为正整数")
        steps = epochs * (len(X) // recipe.batch_size)
        show = sys.stderr.isatty() if progress is None else progress
        losses = M.train_gan(
            model, X, steps, batch_size=recipe.batch_size, lr=recipe.lr,
            seed=seed, progress=show,
        )  # fmt: skip
        return {"steps": steps, **{k: v[-1] for k, v in losses.items()}}
    opt = Adam(get_parameters(model), lr=recipe.lr)
    history = fit(
        model, (X, Y), loss_fn=loss_fn_for(recipe), optimizer=opt,
        epochs=epochs, batch_size=recipe.batch_size, seed=seed,
        progress=progress,
    )  # fmt: skip
    return history.last


def evaluate_recipe(recipe: Recipe | str, model, *, seed: int = 0) -> dict:
    """在配方的测试集上评估，结果含主要指标 ``recipe.metric``。

    ``seed`` 只用于 GAN 采样。GPT 另算 ``perplexity``；``mse`` 配方的
    ``mse`` 就是损失。
    """
    recipe = get_recipe(recipe) if isinstance(recipe, str) else recipe
    _, test = recipe.load_data()
    if recipe.loss == "gan":
        samples = model.sample(1000, seed=seed).numpy()
        centers = mixture_centers(_GAN_MODES, _GAN_RADIUS)
        return gan_mode_coverage(samples, centers, _GAN_STD)
    result = evaluate(  # 测试集不超过 512 个：一批算完，只编译一种形状
        model, test, loss_fn=loss_fn_for(recipe), metrics=recipe.metrics,
        batch_size=512,
    )  # fmt: skip
    if recipe.loss == "mse":
        result["mse"] = result["loss"]
    if recipe.metric == "perplexity":
        result["perplexity"] = math.exp(min(result["loss"], 50.0))
    return result
