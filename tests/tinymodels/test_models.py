"""模型与层的形状、参数检查和错误输入。

形状检查只构图不计算（tinygrad 是惰性的，``out.shape`` 不需要编译），
所以这些测试几乎不花时间；真正的计算与学习效果在
test_models_learning.py 中检验。
"""

from __future__ import annotations

import numpy as np
import pytest
from tinygrad import Context, Tensor, dtypes

from tinymodels._tinygrad import read_scalar, to_device, write_scalar
from tinymodels.layers import (
    GRU,
    LSTM,
    RNN,
    AvgPool2d,
    Conv2d,
    DecoderBlock,
    Dropout,
    Embedding,
    EncoderBlock,
    FeedForward,
    Linear,
    MaxPool2d,
    MultiHeadAttention,
    RNNCell,
    Sequential,
    get_activation,
    scaled_dot_product_attention,
    sinusoidal_positional_encoding,
)
from tinymodels.models import (
    GAN,
    MLP,
    Autoencoder,
    Discriminator,
    Generator,
    GRUClassifier,
    LeNet,
    LSTMClassifier,
    RNNClassifier,
    SequenceClassifier,
    TinyGPT,
    TransformerEncoder,
    train_gan,
)
from tinymodels.train import set_seed
from tinymodels.utils import count_parameters


def f32(*shape):
    return Tensor(np.zeros(shape, np.float32))


def i32(*shape):
    return Tensor(np.zeros(shape, np.int32))


# ------------------------------------------------ 形状（惰性，不编译）


def test_model_output_shapes():
    assert MLP([64, 32, 10])(f32(5, 64)).shape == (5, 10)
    net = LeNet()
    assert net(f32(3, 1, 8, 8)).shape == (3, 10)
    assert [m.shape for m in net.features(f32(3, 1, 8, 8))] == [
        (3, 6, 8, 8),
        (3, 16, 4, 4),
    ]
    assert net.flat_features == 16 * 2 * 2 and count_parameters(net) == 5750
    big = LeNet(
        in_channels=3,
        num_classes=5,
        input_size=(28, 20),
        channels=(6, 16),
        kernel_size=5,
        hidden=32,
    )
    assert big.flat_features == 16 * 7 * 5 and big(
        f32(2, 3, 28, 20)
    ).shape == (2, 5)
    for cls in (RNNClassifier, LSTMClassifier, GRUClassifier):
        assert cls(2, 8, 3)(f32(4, 6, 2)).shape == (4, 3)
    assert SequenceClassifier(2, 8, 1, cell="gru")(f32(4, 6, 2)).shape == (
        4,
        1,
    )
    enc = TransformerEncoder(10, 7)
    logits, weights = enc(i32(2, 8), return_attention=True)
    assert (
        logits.shape == (2, 8, 7)
        and len(weights) == 2
        and weights[0].shape == (2, 4, 8, 8)
    )
    gpt = TinyGPT(20, block_size=16, d_model=32, num_heads=2)
    assert gpt(i32(3, 16)).shape == (3, 16, 20) and gpt(i32(3, 5)).shape == (
        3,
        5,
        20,
    )
    ae = Autoencoder()
    assert (
        ae.encode(f32(4, 64)).shape == (4, 8)
        and ae.decode(f32(4, 8)).shape == (4, 64)
        and ae(f32(4, 64)).shape == (4, 64)
    )
    assert Autoencoder(10, (), 3)(f32(2, 10)).shape == (2, 10)
    gan = GAN(
        latent_dim=3, data_dim=64, hidden=32, output_activation="sigmoid"
    )
    assert gan.generator(f32(5, 3)).shape == (5, 64) and gan.discriminator(
        f32(5, 64)
    ).shape == (5, 1)
    assert gan(f32(5, 3)).shape == (5, 64)


def test_layer_output_shapes():
    out, h = RNN(3, 5)(f32(2, 4, 3))
    assert out.shape == (2, 4, 5) and h.shape == (2, 5)
    out, (h, c) = LSTM(3, 5)(f32(2, 4, 3))
    assert out.shape == (2, 4, 5) and h.shape == c.shape == (2, 5)
    out, h = GRU(3, 5)(f32(2, 4, 3), f32(2, 5))
    assert out.shape == (2, 4, 5) and h.shape == (2, 5)
    assert RNNCell(3, 5)(f32(2, 3), f32(2, 5)).shape == (2, 5)
    assert RNN(3, 5).step(f32(2, 3), f32(2, 5)).shape == (2, 5)
    mha = MultiHeadAttention(8, 2)
    out, w = mha(f32(2, 3, 8), f32(2, 6, 8), need_weights=True)
    assert out.shape == (2, 3, 8) and w.shape == (2, 2, 3, 6)
    x, w = EncoderBlock(8, 2, 16)(f32(2, 5, 8), need_weights=True)
    assert x.shape == (2, 5, 8) and w.shape == (2, 2, 5, 5)
    dec = DecoderBlock(8, 2, 16, cross_attention=True)
    x, (sw, cw) = dec(f32(2, 5, 8), memory=f32(2, 7, 8), need_weights=True)
    assert (
        x.shape == (2, 5, 8)
        and sw.shape == (2, 2, 5, 5)
        and cw.shape == (2, 2, 5, 7)
    )
    assert DecoderBlock(8, 2, 16)(f32(2, 5, 8)).shape == (2, 5, 8)
    assert FeedForward(8, 16)(f32(2, 5, 8)).shape == (2, 5, 8)
    assert Conv2d(1, 4, 3, stride=2, padding=1)(f32(2, 1, 8, 8)).shape == (
        2,
        4,
        4,
        4,
    )
    assert MaxPool2d(2)(f32(2, 3, 5, 5)).shape == (2, 3, 2, 2) and AvgPool2d(
        2, 1
    )(f32(1, 1, 3, 3)).shape == (1, 1, 2, 2)
    assert Embedding(10, 4)(i32(2, 3)).shape == (2, 3, 4)
    assert Sequential(Linear(4, 3), get_activation("tanh"))(
        f32(2, 4)
    ).shape == (2, 3)
    assert sinusoidal_positional_encoding(7, 6).shape == (7, 6)
    assert scaled_dot_product_attention(
        f32(2, 3, 4), f32(2, 5, 4), f32(2, 5, 6)
    ).shape == (2, 3, 6)


def test_count_parameters():
    assert count_parameters(MLP([64, 32, 10])) == 64 * 32 + 32 + 32 * 10 + 10
    H, I = 5, 3
    assert count_parameters(LSTM(I, H)) == 4 * H * (I + H) + 8 * H
    enc = TransformerEncoder(
        10, 7, d_model=8, num_heads=2, num_layers=1, d_ff=16, max_len=4
    )
    # 位置编码表是缓冲区（is_param=False），不计入
    d = 8
    block = 2 * 2 * d + 4 * (d * d + d) + (d * 16 + 16) + (16 * d + d)
    assert count_parameters(enc) == 10 * d + block + 2 * d + d * 7 + 7


def test_init_follows_set_seed():
    set_seed(123)
    a = MLP([3, 4, 2])
    set_seed(123)
    b = MLP([3, 4, 2])
    c = MLP([3, 4, 2])
    wa, wb, wc = (m.layers[0].weight.numpy() for m in (a, b, c))
    np.testing.assert_array_equal(wa, wb)
    assert not np.array_equal(wa, wc)


def test_to_device_read_scalar_write_scalar():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    x = to_device(a)
    assert x.dtype == dtypes.float32 and x.uop.is_realized
    np.testing.assert_array_equal(x.numpy(), a)
    ints = to_device(np.array([1, 2, 3, 4], np.int32))
    np.testing.assert_array_equal(ints.numpy(), [1, 2, 3, 4])
    t = Tensor([2.5]).contiguous().realize()
    assert read_scalar(t) == 2.5
    write_scalar(t, -1.25)  # 原地改写：同一个张量对象读出新值
    assert read_scalar(t) == -1.25 and t.numpy().tolist() == [-1.25]


def test_dropout_off_at_eval_on_under_context():
    x = Tensor(np.ones((64, 64), np.float32))
    drop = Dropout(0.5)
    np.testing.assert_array_equal(drop(x).numpy(), 1.0)  # 默认（评估）：恒等
    with Context(TRAINING=1):
        y = drop(x).numpy()
    zeros = (y == 0).mean()
    assert 0.4 < zeros < 0.6, zeros  # 约一半被置零
    np.testing.assert_allclose(y[y != 0], 2.0)  # 其余放大 1/(1-p)
    assert Dropout(0.0)(x) is x
    # MLP 的 dropout 同样只在训练上下文中生效
    mlp = MLP([64, 64], dropout=0.5)
    with Context(TRAINING=0):
        np.testing.assert_array_equal(mlp(x).numpy(), mlp(x).numpy())


# ------------------------------------------ 错误输入：只在公开入口检查
#
# 入口（模型的 __call__、generate、train_gan 与各构造参数）给出 ValueError，
# 消息写明参数名、实际形状与期望的形状；只检查这几样，不钉死整句措辞。
# 内部的层（Linear、Conv2d、注意力、Transformer 块……）相信调用者，不在这里测。

SHAPE_ERRORS = [
    # (说明, 调用, 参数名, 实际形状, 期望形状里必须出现的固定尺寸)
    (
        "LeNet 输入少了通道维",
        lambda: LeNet()(f32(32, 64)),
        "x",
        (32, 64),
        (1, 8),
    ),
    (
        "LeNet 输入尺寸不对",
        lambda: LeNet()(f32(2, 1, 28, 28)),
        "x",
        (2, 1, 28, 28),
        (1, 8),
    ),
    (
        "MLP 特征数不对",
        lambda: MLP([64, 10])(f32(4, 32)),
        "x",
        (4, 32),
        (64,),
    ),
    (
        "LSTMClassifier 输入",
        lambda: LSTMClassifier(2, 8, 1)(f32(4, 10)),
        "x",
        (4, 10),
        (2,),
    ),
    (
        "SequenceClassifier 特征数",
        lambda: SequenceClassifier(2, 8, 1, cell="gru")(f32(4, 6, 3)),
        "x",
        (4, 6, 3),
        (2,),
    ),
    (
        "TransformerEncoder 维数",
        lambda: TransformerEncoder(10, 10)(i32(2, 8, 1)),
        "tokens",
        (2, 8, 1),
        (),
    ),
    ("TinyGPT 一维", lambda: TinyGPT(20)(i32(4)), "idx", (4,), ()),
    (
        "generate 一维",
        lambda: TinyGPT(20).generate(i32(3), 2),
        "idx",
        (3,),
        (),
    ),
    (
        "Autoencoder 维度",
        lambda: Autoencoder()(f32(4, 8, 8)),
        "x",
        (4, 8, 8),
        (64,),
    ),
    ("Generator z", lambda: Generator(2, 2)(f32(4, 3)), "z", (4, 3), (2,)),
    (
        "Discriminator x",
        lambda: Discriminator(2)(f32(4, 64)),
        "x",
        (4, 64),
        (2,),
    ),
    ("GAN z", lambda: GAN(latent_dim=3)(f32(5, 4)), "z", (5, 4), (3,)),
    (
        "train_gan 数据形状",
        lambda: train_gan(GAN(), np.zeros((100, 3)), steps=1),
        "data",
        (100, 3),
        (2,),
    ),
]


@pytest.mark.parametrize(
    "what,call,name,got,want", SHAPE_ERRORS, ids=[e[0] for e in SHAPE_ERRORS]
)
def test_entry_point_shape_errors(err, what, call, name, got, want):
    with pytest.raises(ValueError) as excinfo:
        call()
    err.shape(excinfo, name, got, want)


DTYPE_ERRORS = [
    # (说明, 调用, 参数名, 实际类型)
    ("LeNet 整数输入", lambda: LeNet()(i32(2, 1, 8, 8)), "x", "int"),
    ("TinyGPT 浮点 idx", lambda: TinyGPT(20)(f32(1, 4)), "idx", "float"),
    (
        "TransformerEncoder 浮点 token",
        lambda: TransformerEncoder(10, 10)(f32(2, 8)),
        "tokens",
        "float",
    ),
]


@pytest.mark.parametrize(
    "what,call,name,got", DTYPE_ERRORS, ids=[e[0] for e in DTYPE_ERRORS]
)
def test_entry_point_dtype_errors(err, what, call, name, got):
    with pytest.raises(ValueError) as excinfo:
        call()
    err.dtype(excinfo, name, got)


def test_entry_point_rejects_non_tensor(err):
    with pytest.raises(ValueError) as excinfo:
        MLP([4, 2])(np.zeros((2, 4), np.float32))
    assert "ndarray" in err.names(excinfo, "x")


@pytest.mark.parametrize(
    "what,call,name,limit,got",
    [
        (
            "TransformerEncoder 超长",
            lambda: TransformerEncoder(10, 10)(i32(2, 17)),
            "tokens",
            16,
            17,
        ),
        (
            "TinyGPT 超长",
            lambda: TinyGPT(20, block_size=8)(i32(1, 9)),
            "idx",
            8,
            9,
        ),
    ],
    ids=["TransformerEncoder", "TinyGPT"],
)
def test_sequence_longer_than_limit(err, what, call, name, limit, got):
    with pytest.raises(ValueError) as excinfo:
        call()
    err.names(excinfo, name)
    err.numbers(excinfo, limit, got)


BAD_ARGUMENTS = [
    # (说明, 调用, 消息里必须出现的参数名)
    ("LeNet 输入太小", lambda: LeNet(input_size=(2, 2)), ("input_size",)),
    ("LeNet input_size 类型", lambda: LeNet(input_size=8), ("input_size",)),
    ("LeNet channels 为空", lambda: LeNet(channels=()), ("channels",)),
    ("MLP sizes 太短", lambda: MLP([64]), ("sizes",)),
    ("MLP 激活名", lambda: MLP([4, 2], activation="swish"), ("activation",)),
    ("MLP dropout", lambda: MLP([4, 2], dropout=1.0), ("dropout",)),
    (
        "SequenceClassifier cell",
        lambda: SequenceClassifier(2, 8, 1, cell="transformer"),
        ("cell",),
    ),
    (
        "RNNClassifier num_outputs",
        lambda: RNNClassifier(2, 8, -1),
        ("num_outputs",),
    ),
    (
        "TransformerEncoder 头数",
        lambda: TransformerEncoder(10, 10, d_model=30),
        ("d_model", "num_heads"),
    ),
    ("TinyGPT vocab", lambda: TinyGPT(0), ("vocab_size",)),
    (
        "generate 温度",
        lambda: TinyGPT(20).generate(i32(1, 3), 5, temperature=-1),
        ("temperature",),
    ),
    (
        "generate top_k 太大",
        lambda: TinyGPT(20).generate(i32(1, 3), 5, top_k=21),
        ("top_k",),
    ),
    (
        "generate top_k 为 0",
        lambda: TinyGPT(20).generate(i32(1, 3), 5, top_k=0),
        ("top_k",),
    ),
    (
        "generate 个数",
        lambda: TinyGPT(20).generate(i32(1, 3), -1),
        ("max_new_tokens",),
    ),
    (
        "Autoencoder hidden",
        lambda: Autoencoder(hidden_dims=(32, 0)),
        ("hidden_dims",),
    ),
    (
        "Generator 输出激活",
        lambda: Generator(2, 2, output_activation="relu"),
        ("output_activation",),
    ),
    ("Discriminator hidden", lambda: Discriminator(2, hidden=0), ("hidden",)),
    ("GAN sample n", lambda: GAN().sample(0), ("n",)),
    ("GAN latent", lambda: GAN(latent_dim=-2), ("latent_dim",)),
    (
        "train_gan 数据太少",
        lambda: train_gan(GAN(), np.zeros((10, 2)), steps=1, batch_size=64),
        ("batch_size",),
    ),
    (
        "train_gan steps",
        lambda: train_gan(GAN(), np.zeros((100, 2)), steps=0),
        ("steps",),
    ),
    (
        "train_gan lr",
        lambda: train_gan(GAN(), np.zeros((100, 2)), steps=1, lr=-1.0),
        ("lr",),
    ),
    (
        "train_gan 对象",
        lambda: train_gan(MLP([2, 2]), np.zeros((100, 2)), steps=1),
        ("gan",),
    ),
    (
        "train_gan 调度",
        lambda: train_gan(
            GAN(), np.zeros((100, 2)), steps=1, lr_schedule="step"
        ),
        ("lr_schedule",),
    ),
]


@pytest.mark.parametrize(
    "what,call,names", BAD_ARGUMENTS, ids=[e[0] for e in BAD_ARGUMENTS]
)
def test_bad_arguments_name_the_argument(err, what, call, names):
    with pytest.raises(ValueError) as excinfo:
        call()
    err.names(excinfo, *names)


def test_contract_expect_and_require(err):
    """入口检查的唯一机制 tinymodels._contract。

    返回形状；出错时写明名字、期望与实际。
    """
    from tinymodels._contract import expect, fmt, require

    assert fmt((4,)) == "(4,)" and fmt((2, 3)) == "(2, 3)"
    assert expect(f32(2, 3, 8), "B T C", "x", "f", C=8) == (2, 3, 8)
    assert expect(i32(2, 3), "B T", "idx", "f", dtype="int") == (2, 3)
    with pytest.raises(ValueError) as excinfo:
        expect(f32(2, 3), "B T C", "x", "f", C=8)  # 维数不对
    err.shape(excinfo, "x", (2, 3), (8,))
    with pytest.raises(ValueError) as excinfo:
        expect(f32(2, 3, 4), "B T C", "x", "f", C=8)  # 固定维度不对
    err.shape(excinfo, "x", (2, 3, 4), (8,))
    with pytest.raises(ValueError) as excinfo:
        expect(f32(2, 3), "B T", "idx", "f", dtype="int")
    err.dtype(excinfo, "idx", "float")
    with pytest.raises(ValueError) as excinfo:
        expect(np.zeros((2, 3)), "B T", "x", "f")
    assert "ndarray" in err.names(excinfo, "x")
    require(True, "never raised")
    with pytest.raises(ValueError, match="num_heads"):
        require(False, "f: d_model=10 应能被 num_heads=3 整除")
