"""内置模型清单（model zoo）：命令行 ``python -m tinymodels train NAME`` 用到的"配方"。

每个配方写明：用"文档尺寸"建模型、用哪份随包数据、什么损失、看什么指标、默认训练几轮。
这些尺寸在 2 核 CPU 上几十秒到一两分钟就能训练完。

| 名字 | 模型 | 数据 | 主要指标 |
|---|---|---|---|
| `mlp` | `MLP([64, 64, 10])` | 8x8 手写数字（展平） | accuracy |
| `cnn` | `LeNet(1, 10, (8, 8))` | 8x8 手写数字（图像） | accuracy |
| `rnn` | `RNNClassifier(8, 32, 10)` | 手写数字，逐行当作 8 步序列 | accuracy |
| `lstm` | `LSTMClassifier(2, 32, 1)` | 加法问题，序列长 16 | mse |
| `transformer` | `TransformerEncoder(10, 10)` | 序列反转，长 8，词表 10 | accuracy |
| `gpt` | `TinyGPT(词表大小, block_size=32)` | 本站中文语料，字符级 | perplexity |
| `autoencoder` | `Autoencoder(64, (32,), 8)` | 8x8 手写数字（展平）重建 | mse |
| `gan` | `GAN(latent_dim=2, data_dim=2)` | 圆环上 8 个高斯分量的混合 | modes_covered |
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .data import (CharTokenizer, adding_problem, gaussian_mixture, load_corpus, load_digits, mixture_centers,
                   next_token_windows, reversal_task)

__all__ = ["Recipe", "RECIPES", "list_models", "get_recipe", "train_recipe", "evaluate_recipe", "gan_mode_coverage"]

Data = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Recipe:
    """一个内置模型的完整训练配方。

    Attributes:
        name: 模型名（命令行里用的名字）。
        summary: 一句话中文说明。
        build: 无参函数，按文档尺寸新建模型（调用前先 ``set_seed`` 才可复现）。
        load_data: 无参函数，返回 ``(train, test)``，两者都是 ``(X, Y)`` NumPy 二元组。
        metric: 主要指标名（命令行最后打印它）。
        higher_is_better: 主要指标是否越大越好。
        epochs: 默认训练轮数。
        batch_size: 训练批大小。
        lr: Adam 学习率。
        loss: 损失函数名：``"cross_entropy"``、``"mse"``，或 ``"gan"``（用 ``train_gan`` 训练）。
        metrics: 评估时额外计算的指标名（传给 ``tinymodels.train.evaluate``）。
        metadata: 无参函数，返回要写进检查点的额外元数据（如 GPT 的词表）。
    """

    name: str
    summary: str
    build: Callable[[], Any]
    load_data: Callable[[], tuple[Data, Data]]
    metric: str
    higher_is_better: bool
    epochs: int
    batch_size: int
    lr: float
    loss: str = "cross_entropy"
    metrics: tuple[str, ...] = ()
    metadata: Callable[[], dict] = field(default=dict)


# ---------------------------------------------------------------- 数据（每个进程只准备一次）


@functools.lru_cache(maxsize=None)
def _digits(flatten: bool, rows: bool = False) -> tuple[Data, Data]:
    out = []
    for split in ("train", "test"):
        X, y = load_digits(split, flatten=flatten)
        if rows:  # (N, 1, 8, 8) -> (N, 8, 8)：把 8 行像素当作 8 个时间步，每步 8 个特征
            X = X.reshape(-1, 8, 8)
        out.append((X, y))
    return out[0], out[1]


@functools.lru_cache(maxsize=None)
def _autoencoder_data() -> tuple[Data, Data]:
    (Xtr, _), (Xte, _) = _digits(True)
    return (Xtr, Xtr), (Xte, Xte)


@functools.lru_cache(maxsize=None)
def _adding_data() -> tuple[Data, Data]:
    return adding_problem(2048, seq_len=16, seed=1), adding_problem(512, seq_len=16, seed=2)


@functools.lru_cache(maxsize=None)
def _reversal_data() -> tuple[Data, Data]:
    return reversal_task(2048, seq_len=8, vocab=10, seed=1), reversal_task(512, seq_len=8, vocab=10, seed=2)


@functools.lru_cache(maxsize=None)
def _corpus_tokenizer() -> tuple[CharTokenizer, np.ndarray]:
    text = load_corpus()
    tok = CharTokenizer(text)
    return tok, np.array(tok.encode(text), dtype=np.int64)


_GPT_BLOCK = 32


@functools.lru_cache(maxsize=None)
def _gpt_data() -> tuple[Data, Data]:
    _, ids = _corpus_tokenizer()
    # 按位置切分：前 90% 训练，后 10% 测试，避免训练窗口与测试窗口重叠
    cut = int(len(ids) * 0.9)
    train = next_token_windows(ids[:cut], _GPT_BLOCK, stride=_GPT_BLOCK // 2)
    test = next_token_windows(ids[cut:], _GPT_BLOCK, stride=_GPT_BLOCK)
    return train, test


_GAN_MODES, _GAN_RADIUS, _GAN_STD = 8, 2.0, 0.05


@functools.lru_cache(maxsize=None)
def _gan_data() -> tuple[Data, Data]:
    train = gaussian_mixture(2048, modes=_GAN_MODES, radius=_GAN_RADIUS, std=_GAN_STD, seed=1)
    test = gaussian_mixture(512, modes=_GAN_MODES, radius=_GAN_RADIUS, std=_GAN_STD, seed=2)
    # GAN 没有"目标"，第二项放一个占位数组，保持 (X, Y) 的统一形式
    return (train, np.zeros(len(train), np.float32)), (test, np.zeros(len(test), np.float32))


# ---------------------------------------------------------------- 建模型（文档尺寸）


def _build_mlp():
    from .models import MLP

    return MLP([64, 64, 10])


def _build_cnn():
    from .models import LeNet

    return LeNet(in_channels=1, num_classes=10, input_size=(8, 8))


def _build_rnn():
    from .models import RNNClassifier

    return RNNClassifier(input_size=8, hidden_size=32, num_outputs=10)


def _build_lstm():
    from .models import LSTMClassifier

    return LSTMClassifier(input_size=2, hidden_size=32, num_outputs=1)


def _build_transformer():
    from .models import TransformerEncoder

    return TransformerEncoder(vocab_size=10, num_classes=10, d_model=32, num_heads=4, num_layers=2, d_ff=64, max_len=16)


def _build_gpt():
    from .models import TinyGPT

    tok, _ = _corpus_tokenizer()
    return TinyGPT(vocab_size=tok.vocab_size, block_size=_GPT_BLOCK, d_model=64, num_heads=4, num_layers=2)


def _build_autoencoder():
    from .models import Autoencoder

    return Autoencoder(input_dim=64, hidden_dims=(32,), latent_dim=8)


def _build_gan():
    from .models import GAN

    return GAN(latent_dim=2, data_dim=2)


def _gpt_metadata() -> dict:
    tok, _ = _corpus_tokenizer()
    return {"vocab": "".join(tok.chars)}


RECIPES: dict[str, Recipe] = {r.name: r for r in [
    Recipe("mlp", "多层感知机对 8x8 手写数字分类", _build_mlp, lambda: _digits(True),
           metric="accuracy", higher_is_better=True, epochs=10, batch_size=32, lr=3e-3, metrics=("accuracy",)),
    Recipe("cnn", "LeNet 卷积网络对 8x8 手写数字分类", _build_cnn, lambda: _digits(False),
           metric="accuracy", higher_is_better=True, epochs=5, batch_size=32, lr=3e-3, metrics=("accuracy",)),
    Recipe("rnn", "简单循环网络把数字图像逐行读入后分类", _build_rnn, lambda: _digits(False, rows=True),
           metric="accuracy", higher_is_better=True, epochs=10, batch_size=32, lr=3e-3, metrics=("accuracy",)),
    Recipe("lstm", "LSTM 解加法问题（记住两个被标记的数并相加）", _build_lstm, _adding_data,
           metric="mse", higher_is_better=False, epochs=10, batch_size=32, lr=1e-2, loss="mse"),
    Recipe("transformer", "Transformer 编码器学习把序列反转", _build_transformer, _reversal_data,
           metric="accuracy", higher_is_better=True, epochs=10, batch_size=32, lr=3e-3, metrics=("accuracy",)),
    Recipe("gpt", "字符级 TinyGPT 在本站中文语料上预测下一个字", _build_gpt, _gpt_data,
           metric="perplexity", higher_is_better=False, epochs=5, batch_size=32, lr=3e-3, metrics=("accuracy",),
           metadata=_gpt_metadata),
    Recipe("autoencoder", "自编码器把 64 维数字图像压到 8 维再重建", _build_autoencoder, _autoencoder_data,
           metric="mse", higher_is_better=False, epochs=10, batch_size=32, lr=3e-3, loss="mse"),
    Recipe("gan", "GAN 学习圆环上 8 个高斯分量的混合分布", _build_gan, _gan_data,
           metric="modes_covered", higher_is_better=True, epochs=40, batch_size=64, lr=1e-3, loss="gan"),
]}


def list_models() -> list[str]:
    """返回全部内置模型名（按文档顺序）。"""
    return list(RECIPES)


def get_recipe(name: str) -> Recipe:
    """按名字取配方（大小写不限）。

    Args:
        name: 模型名，如 ``"cnn"``。

    Returns:
        ``Recipe``。

    Raises:
        ValueError: 不认识的名字，消息列出全部合法名字。
    """
    key = name.strip().lower() if isinstance(name, str) else None
    if key not in RECIPES:
        raise ValueError(f"未知模型 {name!r}；可选：{', '.join(RECIPES)}")
    return RECIPES[key]


def _loss_fn(recipe: Recipe):
    from . import losses

    return {"cross_entropy": losses.cross_entropy, "mse": losses.mse_loss}[recipe.loss]


def gan_mode_coverage(samples: np.ndarray, centers: np.ndarray, std: float) -> dict[str, float]:
    """评价 GAN 样本：覆盖了几个分量、多少样本"足够好"。

    沿用 Unrolled GAN / VEEGAN 论文的做法：离最近中心不超过 3 个标准差的样本算"高质量"；
    某个分量分到的高质量样本不少于"均匀分配时应得数量"的 10%，就算覆盖了这个分量。

    Args:
        samples: 生成的样本，形状 (n, 2)。
        centers: 各分量中心，形状 (modes, 2)。
        std: 各分量的标准差。

    Returns:
        ``{"modes_covered": 覆盖的分量数, "high_quality": 高质量样本比例}``。

    Raises:
        ValueError: 形状不对（样本与中心的维数不同、没有样本）或 ``std`` 不是正数。
    """
    samples = np.asarray(samples, dtype=np.float64)
    centers = np.asarray(centers, dtype=np.float64)
    if samples.ndim != 2 or centers.ndim != 2 or samples.shape[1] != centers.shape[1] or not len(samples) or not len(centers):
        raise ValueError(f"gan_mode_coverage: samples 应为 (n, d)、centers 应为 (modes, d) 且都非空，"
                         f"实际为 {samples.shape} 与 {centers.shape}")
    if not (isinstance(std, (int, float)) and std > 0):
        raise ValueError(f"gan_mode_coverage: std 应为正数，实际为 {std!r}")
    dist = np.linalg.norm(samples[:, None, :] - centers[None, :, :], axis=-1)
    nearest, d = dist.argmin(axis=1), dist.min(axis=1)
    good = d <= 3 * std
    counts = np.bincount(nearest[good], minlength=len(centers))
    expected = len(samples) / len(centers)
    return {"modes_covered": float((counts >= 0.1 * expected).sum()), "high_quality": float(good.mean())}


def train_recipe(recipe: Recipe | str, model, *, epochs: int | None = None, seed: int = 0,
                 progress: bool | None = None) -> dict:
    """按配方训练一个已经建好的模型。

    Args:
        recipe: 配方或模型名。
        model: ``recipe.build()`` 得到的模型。
        epochs: 训练轮数；默认用配方的 ``epochs``。GAN 的一轮等于把训练数据过一遍所需的步数。
        seed: 数据顺序与随机性的种子。
        progress: 是否显示进度条（None 为自动）。

    Returns:
        最后一轮的训练记录字典；GAN 为 ``{"steps": 步数, "d_loss": 最后一步判别器损失, "g_loss": ...}``。

    Raises:
        ValueError: 参数不合法。
        TrainingDivergedError: 训练发散。
    """
    from tinygrad.nn.optim import Adam
    from tinygrad.nn.state import get_parameters

    from .train import _auto_progress, fit

    recipe = get_recipe(recipe) if isinstance(recipe, str) else recipe
    epochs = recipe.epochs if epochs is None else epochs
    train, _ = recipe.load_data()
    if recipe.loss == "gan":
        from .models import train_gan

        steps = epochs * (len(train[0]) // recipe.batch_size)
        losses = train_gan(model, train[0], steps=steps, batch_size=recipe.batch_size, lr=recipe.lr, seed=seed,
                           progress=_auto_progress(progress, "train_recipe"))
        return {"steps": steps, **{k: v[-1] for k, v in losses.items()}}
    history = fit(model, train, loss_fn=_loss_fn(recipe), optimizer=Adam(get_parameters(model), lr=recipe.lr),
                  epochs=epochs, batch_size=recipe.batch_size, metrics=recipe.metrics, seed=seed, progress=progress)
    return history.last


def evaluate_recipe(recipe: Recipe | str, model, *, seed: int = 0) -> dict[str, float]:
    """在配方的测试集上评估模型，返回包含主要指标 ``recipe.metric`` 的字典。

    Args:
        recipe: 配方或模型名。
        model: 要评估的模型。
        seed: 只对 GAN 有意义：采样所用的种子。

    Returns:
        指标字典，如 ``{"loss": 0.21, "accuracy": 0.95}``；GPT 另有 ``perplexity``，
        LSTM 与自编码器的 ``mse`` 即损失本身，GAN 为 ``modes_covered`` 与 ``high_quality``。
    """
    from .train import evaluate

    recipe = get_recipe(recipe) if isinstance(recipe, str) else recipe
    _, test = recipe.load_data()
    if recipe.loss == "gan":
        samples = model.sample(1000, seed=seed).numpy()
        return gan_mode_coverage(samples, mixture_centers(_GAN_MODES, _GAN_RADIUS), _GAN_STD)
    # 测试集都不超过 512 个样本：一次算完只需编译一种形状
    result = evaluate(model, test, loss_fn=_loss_fn(recipe), metrics=recipe.metrics, batch_size=512)
    if recipe.loss == "mse":
        result["mse"] = result["loss"]
    if recipe.metric == "perplexity":
        result["perplexity"] = math.exp(min(result["loss"], 50.0))
    return result
