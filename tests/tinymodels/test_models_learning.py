"""每个模型都真的能学：在小数据上训练几百步，检查指标越过事先写明的门槛。

所有门槛都在本机（2 核 CPU，tinygrad 0.14.0）上实测后设定，
注释里写明了实测值与余量。
训练循环直接用 tinymodels.train.train_step（fit 用的也是它），批数据经
to_device 直接拷进设备内存。
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from tinygrad import Context, Tensor
from tinygrad.nn.optim import Adam
from tinygrad.nn.state import get_parameters

from tinymodels._tinygrad import read_scalar, to_device
from tinymodels.layers import padding_mask
from tinymodels.losses import accuracy, cross_entropy, mse_loss
from tinymodels.models import (
    GAN,
    Autoencoder,
    LeNet,
    LSTMClassifier,
    TinyGPT,
    TransformerEncoder,
    train_gan,
)
from tinymodels.train import set_seed, train_step
from tinymodels.utils import fast_compile

data = pytest.importorskip("tinymodels.data")


def _fit(
    model,
    loss_fn,
    batch_fn,
    steps,
    lr,
    x_dtype="float32",
    y_dtype="float32",
    lr_fn=None,
    fast=True,
    fused=False,
):
    """最小训练循环，返回每步损失。

    batch_fn(i) -> (x, y) NumPy 数组；lr_fn(i) 返回新学习率或 None（不变）。
    """
    opt = Adam(
        get_parameters(model), lr=lr, fused=fused
    )  # fused：所有参数拼成一个向量更新，参数张量少时编译更快

    step = train_step(lambda x, y: loss_fn(model(x), y), opt)
    x0, y0 = batch_fn(0)
    losses = []
    with Context(TRAINING=1), fast_compile(fast):
        for i in range(steps):
            new_lr = lr_fn(i) if lr_fn is not None and i > 0 else None
            if new_lr is not None:
                opt.lr.assign(Tensor([new_lr], dtype=opt.lr.dtype)).realize()
            x, y = (x0, y0) if i == 0 else batch_fn(i)
            losses.append(
                read_scalar(
                    step(
                        to_device(np.asarray(x, x_dtype)),
                        to_device(np.asarray(y, y_dtype)),
                    )
                )
            )
    assert all(math.isfinite(v) for v in losses)
    return losses


def test_lenet_reaches_97_percent_on_digits():
    """LeNet（默认 channels=(6, 16)，5750 个参数）在 8x8 数字测试集上 >= 97%。

    20 轮、批 64、Adam：前 12 轮学习率 1e-2，后 8 轮 1e-3。实测四个种子
    0/1/2/3 的最终测试准确率为
    98.3%/96.9%/97.5%/98.0%——默认尺寸的 LeNet 恰好在 97% 附近，对种子敏感；
    本测试用种子 0。
    （更宽的 channels=(16, 32) 在同样的训练下稳定在 97.5%~99%。）
    """
    Xtr, ytr = data.load_digits("train")
    Xte, yte = data.load_digits("test")
    set_seed(0)
    rng = np.random.default_rng(0)
    model = LeNet()
    B, epochs, decay_at = 64, 20, 12
    spe = len(Xtr) // B
    order = np.concatenate(
        [rng.permutation(len(Xtr))[: spe * B] for _ in range(epochs)]
    ).reshape(-1, B)
    losses = _fit(
        model,
        cross_entropy,
        lambda i: (Xtr[order[i]], ytr[order[i]]),
        spe * epochs,
        1e-2,
        y_dtype="int32",
        lr_fn=lambda i: 1e-3 if i == decay_at * spe else None,
        fast=False,
        fused=True,
    )
    assert np.mean(losses[-spe:]) < 0.1
    acc = accuracy(model(Tensor(Xte)), yte)
    assert acc >= 0.97, f"LeNet test accuracy {acc:.4f} < 0.97"


def test_lstm_solves_adding_problem():
    """LSTM 在加法问题（T=10）上的验证 MSE 远低于「总是预测 1」的基线 0.167。

    门槛 0.02，即至少比基线好 8 倍；实测 400 步后为 0.001~0.006（不同种子）。
    """
    T, B, steps = 10, 32, 400
    X, y = data.adding_problem(B * steps, seq_len=T, seed=1)
    Xv, yv = data.adding_problem(256, seq_len=T, seed=99)
    baseline = float(((yv - 1.0) ** 2).mean())
    assert 0.12 < baseline < 0.22
    set_seed(1)
    model = LSTMClassifier(input_size=2, hidden_size=32, num_outputs=1)
    losses = _fit(
        model,
        mse_loss,
        lambda i: (X[i * B : (i + 1) * B], y[i * B : (i + 1) * B]),
        steps,
        2e-2,
    )
    with fast_compile():
        val = mse_loss(model(Tensor(Xv)), Tensor(yv)).item()
    assert val < 0.02, (
        f"LSTM val MSE {val:.4f} not well below baseline {baseline:.3f} "
        f"(first loss {losses[0]:.3f})"
    )


def _toy_text():
    rng = np.random.default_rng(0)
    sents = [
        "hello world. ",
        "tiny models learn. ",
        "gpt predicts the next char. ",
    ]
    return "".join(rng.choice(sents) for _ in range(600))


def test_tinygpt_learns_and_generates():
    """TinyGPT 在三句话随机拼成的文本上学会预测，并能按种子复现地生成。

    验证交叉熵从 ln(V)≈3.0 降到 0.5 以下（实测约 0.2）。
    """
    text = _toy_text()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    ids = np.array([stoi[c] for c in text], dtype=np.int32)
    cut = int(len(ids) * 0.9)
    tr, va = ids[:cut], ids[cut:]
    blk, B = 16, 16
    rng = np.random.default_rng(0)
    set_seed(0)
    model = TinyGPT(
        len(chars), block_size=blk, d_model=32, num_heads=2, num_layers=2
    )

    def batch(i):
        st = rng.integers(0, len(tr) - blk - 1, B)
        return np.stack([tr[s : s + blk] for s in st]), np.stack(
            [tr[s + 1 : s + blk + 1] for s in st]
        )

    _fit(
        model,
        cross_entropy,
        batch,
        100,
        1e-2,
        x_dtype="int32",
        y_dtype="int32",
    )
    st = np.arange(0, len(va) - blk - 1, blk)[:64]
    xv, yv = (
        np.stack([va[s : s + blk] for s in st]),
        np.stack([va[s + 1 : s + blk + 1] for s in st]),
    )
    with fast_compile():
        val = cross_entropy(model(Tensor(xv)), Tensor(yv)).item()
        assert val < 0.5, (
            f"TinyGPT val loss {val:.3f} (uniform would be "
            f"{math.log(len(chars)):.2f})"
        )
        prompt = Tensor(
            np.array([[stoi[c] for c in "hello"]], dtype=np.int32)
        )
        greedy = model.generate(prompt, 8, top_k=1).numpy()[0]
        assert "".join(chars[i] for i in greedy) == "hello world. "
        a = model.generate(prompt, 20, temperature=0.8, seed=7).numpy()
        b = model.generate(prompt, 20, temperature=0.8, seed=7).numpy()
        np.testing.assert_array_equal(a, b)
        assert (
            a.shape == (1, 25)
            and a.dtype == np.int32
            and (a[0, :5] == prompt.numpy()[0]).all()
        )
        long_prompt = Tensor(
            np.array([tr[:40]], dtype=np.int32)
        )  # 超过 block_size：只用最后 16 个
        assert model.generate(long_prompt, 3, top_k=3, seed=1).shape == (
            1,
            43,
        )


def test_autoencoder_reconstructs_digits():
    """自编码器（64->32->8->32->64）的测试集重建 MSE < 0.03。

    不到「输出平均图像」基线 0.073 的一半（实测约 0.02）。
    """
    Xtr, _ = data.load_digits("train", flatten=True)
    Xte, _ = data.load_digits("test", flatten=True)
    baseline = float(((Xte - Xtr.mean(0)) ** 2).mean())
    set_seed(0)
    rng = np.random.default_rng(0)
    model = Autoencoder()
    idx = rng.integers(0, len(Xtr), size=(300, 64))
    _fit(model, mse_loss, lambda i: (Xtr[idx[i]], Xtr[idx[i]]), 300, 1e-2)
    with fast_compile():
        mse = mse_loss(model(Tensor(Xte)), Tensor(Xte)).item()
    assert mse < 0.03 and mse < 0.5 * baseline, (
        f"AE test MSE {mse:.4f}, mean-image baseline {baseline:.4f}"
    )


def test_gan_covers_all_eight_modes():
    """GAN 在 8 个分量的环形混合高斯上覆盖每一个模式。

    1000 步、批 128、学习率 2e-3 余弦退火。抽 1000 个样本，按最近中心分组、
    只算距离 < 0.5 的样本
    （相邻中心相距 1.53）：要求 >= 70% 的样本落在某个中心附近，
    且每个模式都分到至少 30% 的均分份额
    （均分为 125 个，即至少 38 个）。实测：附近样本 74%~79%，最少的模式 48~60
    个（种子 0/1/2）。
    """
    mix = data.gaussian_mixture(2048, seed=1)
    centers = data.mixture_centers(8, 2.0)
    set_seed(0)
    gan = GAN(latent_dim=2, data_dim=2)
    hist = train_gan(gan, mix, steps=1000, batch_size=128, lr=2e-3, seed=0)
    assert len(hist["d_loss"]) == len(hist["g_loss"]) == 1000
    samples = gan.sample(1000, seed=123).numpy()
    assert samples.shape == (1000, 2)
    dist = np.linalg.norm(samples[:, None] - centers[None], axis=-1)
    near, d = dist.argmin(1), dist.min(1)
    good = d < 0.5
    counts = np.bincount(near[good], minlength=8)
    assert good.mean() >= 0.70, (
        f"only {good.mean():.2f} of samples near a mode"
    )
    assert counts.min() >= 38, (
        f"mode counts {counts.tolist()} (uniform share 125)"
    )
    np.testing.assert_array_equal(
        gan.sample(5, seed=3).numpy(), gan.sample(5, seed=3).numpy()
    )


def test_transformer_encoder_attention_weights():
    """注意力权重每行和为 1，填充位置的权重为 0；logits 不含 NaN。"""
    set_seed(0)
    enc = TransformerEncoder(10, 10)
    tokens = Tensor(
        np.random.default_rng(0).integers(0, 10, (2, 8)).astype(np.int32)
    )
    with fast_compile():
        logits, weights = enc(
            tokens,
            key_padding_mask=padding_mask([8, 5], 8),
            return_attention=True,
        )
        Tensor.realize(logits, *weights)
        w = weights[0].numpy()
    assert np.isfinite(logits.numpy()).all()
    np.testing.assert_allclose(w.sum(-1), 1.0, rtol=1e-5)
    assert np.all(w[1, :, :, 5:] == 0)
