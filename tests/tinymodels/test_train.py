"""tinymodels.train 的测试：可复现性、发散检测、历史记录、评估与参数检查。

模型与命令行 ``train mlp`` 用的一样（MLP([64, 64, 10])，批 32，Adam，
验证集为整个测试集），所有测试共用同样的形状，tinygrad 在进程内缓存的
内核可以复用。
这里测的是训练循环的逻辑而不是内核优化，所以整个文件在 ``fast_compile()``
（NOOPT）下运行，编译快三成以上。
"""

import math

import numpy as np
import pytest
from tinygrad import Context, Tensor
from tinygrad.nn.optim import SGD, Adam
from tinygrad.nn.state import get_parameters, get_state_dict

from tinymodels.data import load_digits
from tinymodels.models import MLP
from tinymodels.train import (
    History,
    TrainingDivergedError,
    evaluate,
    fit,
    realize_state,
    set_seed,
    train_step,
)

pytestmark = pytest.mark.usefixtures(
    "fast"
)  # conftest.py 里的 fixture：fast_compile()


def Tiny():
    return MLP([64, 64, 10])


def ce(out, y):
    return out.sparse_categorical_crossentropy(y)


def acc(out, y):
    return (out.argmax(-1) == y).mean().item()


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits("train", flatten=True)
    Xt, yt = load_digits("test", flatten=True)
    return (X[:256], y[:256]), (Xt, yt)


def _train(digits, seed=0, **kwargs):
    set_seed(seed)
    model = Tiny()
    args = dict(
        loss_fn=ce, metrics=(acc,), epochs=2, batch_size=32, seed=seed
    )
    args.update(kwargs)
    return model, fit(model, digits[0], **args)


def _numpy_mlp_cross_entropy(model, X, y) -> float:
    """MLP（ReLU 隐藏层）的前向与平均交叉熵，全部用 NumPy float64 计算。"""
    a = np.asarray(X, dtype=np.float64)
    for i, layer in enumerate(model.layers):
        W = layer.weight.numpy().astype(np.float64)
        a = a @ W.T + layer.bias.numpy().astype(np.float64)
        if i < len(model.layers) - 1:
            a = np.maximum(a, 0.0)
    a = a - a.max(-1, keepdims=True)
    logp = a - np.log(np.exp(a).sum(-1, keepdims=True))
    return float(-logp[np.arange(len(y)), np.asarray(y)].mean())


def test_fit_is_bit_reproducible_from_a_seed(digits):
    _, h1 = _train(digits, val_data=digits[1])
    _, h2 = _train(digits, val_data=digits[1])
    assert len(h1.step_losses) == 2 * (256 // 32)
    assert h1.step_losses == h2.step_losses  # 逐位相同，不是"差不多"
    assert h1["val_loss"] == h2["val_loss"]
    _, h3 = _train(digits, seed=1, val_data=digits[1])
    assert h3.step_losses != h1.step_losses


def test_fit_history_and_learning(digits):
    model, h = _train(digits, val_data=digits[1], epochs=3)
    assert isinstance(h, History) and len(h) == 3
    assert set(h.last) == {"epoch", "loss", "val_loss", "val_acc", "seconds"}
    assert h["epoch"] == [1, 2, 3]
    assert h["loss"][-1] < h["loss"][0]  # 损失在下降
    assert all(math.isfinite(v) for v in h.step_losses)
    assert h.to_dict()["step_losses"] == h.step_losses
    with pytest.raises(KeyError, match="val_loss"):
        h["nope"]
    result = evaluate(model, digits[1], loss_fn=ce, metrics={"acc": acc})
    assert set(result) == {"loss", "acc"}
    # 独立的参照：用 NumPy（float64）从最终权重算出整个验证集上的交叉熵
    expected = _numpy_mlp_cross_entropy(model, *digits[1])
    assert abs(h.last["val_loss"] - expected) < 1e-5 * max(1.0, expected)
    assert abs(result["loss"] - expected) < 1e-5 * max(1.0, expected)
    assert 0.0 <= result["acc"] <= 1.0


def test_evaluate_handles_partial_batches_and_no_jit(digits):
    set_seed(0)
    model = Tiny()
    X, y = digits[1]
    full = evaluate(model, (X, y), loss_fn=ce, metrics=(acc,), batch_size=512)
    split = evaluate(
        model, (X, y), loss_fn=ce, metrics=(acc,), batch_size=320, jit=False
    )  # 320 + 35
    assert (
        abs(full["loss"] - split["loss"]) < 1e-5
        and abs(full["acc"] - split["acc"]) < 1e-6
    )
    manual = ce(model(Tensor(X)), Tensor(y.astype(np.int32))).item()
    assert abs(full["loss"] - manual) < 1e-5


def test_fit_again_reuses_the_compiled_step(digits):
    from tinygrad.schedule import schedule_cache

    set_seed(0)
    model = Tiny()
    opt = Adam(get_parameters(model), lr=0.01)
    h = fit(model, digits[0], loss_fn=ce, optimizer=opt, batch_size=32)
    assert len(h.step_losses) == 8 and "val_loss" not in h.last
    before = len(schedule_cache)
    h2 = fit(model, digits[0], loss_fn=ce, optimizer=opt, batch_size=32)
    # 第二次 fit 直接重放第一次编译好的训练步：调度缓存里没有新图
    assert len(schedule_cache) == before
    # 而且是接着训练：损失继续下降
    assert h2.last["loss"] < h.last["loss"]


def test_nan_loss_stops_training_with_epoch_and_step(digits):
    set_seed(0)
    model = Tiny()

    def exploding(out, y):  # 第一步就是 NaN
        return ce(out, y) * float("nan")

    with pytest.raises(
        TrainingDivergedError, match=r"第 1 轮第 1 步"
    ) as info:
        fit(model, digits[0], loss_fn=exploding, epochs=2, batch_size=32)
    assert isinstance(info.value, FloatingPointError)

    set_seed(0)
    model = Tiny()
    opt = SGD(get_parameters(model), lr=1e30)  # 学习率大到必然溢出
    with pytest.raises(TrainingDivergedError, match=r"第 \d+ 轮第 \d+ 步"):
        fit(
            model,
            digits[0],
            loss_fn=ce,
            optimizer=opt,
            epochs=3,
            batch_size=32,
        )


def test_progress_bar_only_on_a_terminal_unless_forced(digits, capsys):
    _train(digits, epochs=1)  # pytest 捕获的 stderr 不是终端：默认不显示
    assert "it/s" not in capsys.readouterr().err
    _train(digits, epochs=1, progress=True)
    assert "8/8" in capsys.readouterr().err


@pytest.mark.parametrize(
    "change,match",
    [
        ({"model": object()}, "model"),
        ({"model": lambda x: x}, "参数"),
        ({"train_data": None}, "train_data"),
        ({"train_data": (np.zeros((4, 64)),)}, "train_data"),
        ({"train_data": (np.zeros((4, 64)), np.zeros(5))}, "4 与 5"),
        ({"train_data": (np.zeros((0, 64)), np.zeros(0))}, "0 与 0"),
        ({"val_data": (np.zeros((4, 64)), np.zeros(3))}, "val_data"),
        ({"loss_fn": "mse"}, "loss_fn"),
        ({"optimizer": "adam"}, "optimizer"),
        ({"epochs": 0}, "epochs"),
        ({"epochs": 1.5}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 10_000}, "batch_size"),
        ({"seed": -1}, "seed"),
        ({"metrics": ("f1",)}, "f1"),
        ({"metrics": (3,)}, "metrics"),
        ({"metrics": 3}, "metrics"),
        ({"metrics": {"loss": acc}}, "loss"),
    ],
)
def test_fit_bad_input(digits, change, match):
    args = {"model": Tiny(), "train_data": digits[0], "loss_fn": ce}
    args.update(change)
    with pytest.raises(ValueError, match=match):
        fit(args.pop("model"), args.pop("train_data"), **args)


@pytest.mark.parametrize(
    "change,match",
    [
        ({"model": 42}, "model"),
        ({"data": [1, 2, 3]}, "data"),
        ({"batch_size": -1}, "batch_size"),
        ({"loss_fn": 5}, "loss_fn"),
        ({"metrics": [None]}, "metrics"),
    ],
)
def test_evaluate_bad_input(digits, change, match):
    args = {"model": Tiny(), "data": digits[1], "loss_fn": ce}
    args.update(change)
    with pytest.raises(ValueError, match=match):
        evaluate(args.pop("model"), args.pop("data"), **args)


def test_set_seed_controls_initialisation():
    set_seed(7)
    a = Tiny().layers[0].weight.numpy()
    set_seed(7)
    b = Tiny().layers[0].weight.numpy()
    set_seed(8)
    c = Tiny().layers[0].weight.numpy()
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    for bad in (-1, 1.0, "0", True):
        with pytest.raises(ValueError):
            set_seed(bad)


def test_defaults_use_cross_entropy_adam_and_accuracy(digits):
    from tinymodels.losses import cross_entropy

    set_seed(0)
    model = Tiny()
    h = fit(model, digits[0], epochs=1, batch_size=32, val_data=digits[1])
    assert set(h.last) == {
        "epoch",
        "loss",
        "val_loss",
        "val_accuracy",
        "seconds",
    }
    result = evaluate(model, digits[1])
    assert set(result) == {"loss", "accuracy"}
    X, y = digits[1]
    manual = cross_entropy(
        model(Tensor(X)), Tensor(y.astype(np.int32))
    ).item()
    assert abs(result["loss"] - manual) < 1e-5


def _jit_run(
    digits, prepare: bool, steps: int = 4
) -> tuple[list[float], int]:
    """用 train_step 的训练循环；prepare=True 时第一步之前先 realize_state。

    返回每步的损失，以及训练步一共往 tinygrad 的调度缓存里添了几张新图。
    隐藏层宽 40 只在这里用，    所以第一次运行时缓存里没有它的图。
    """
    from tinygrad.schedule import schedule_cache

    (X, y), _ = digits
    set_seed(0)
    model = MLP([64, 40, 10])
    opt = Adam(get_parameters(model), lr=1e-2)
    if prepare:
        assert not all(
            t.uop.is_realized for t in get_state_dict(opt).values()
        )  # 新建时是惰性的
        realize_state(model, opt)
        assert all(
            t.uop.is_realized
            for t in [
                *get_state_dict(model).values(),
                *get_state_dict(opt).values(),
            ]
        )

    step = train_step(lambda xb, yb: ce(model(xb), yb), opt)

    xb, yb = (
        Tensor(X[:32]).realize(),
        Tensor(y[:32].astype(np.int32)).realize(),
    )
    losses, new_graphs = [], 0
    with Context(TRAINING=1):
        for _ in range(steps):
            before = len(schedule_cache)
            loss = step(xb, yb)
            new_graphs += len(schedule_cache) - before
            losses.append(loss.item())
    return losses, new_graphs


def test_realize_state_makes_first_two_steps_one_graph_same_results(
    digits,
):
    prepared, new_graphs = _jit_run(digits, prepare=True)
    # 第一步与 JIT 录制的第二步是同一张图：只调度一次。
    # 不先 realize 时第一步的图里还带着权重初始化和 Adam 状态的初值，
    # 与第二步不同，这里会是 2
    assert new_graphs == 1
    plain, _ = _jit_run(digits, prepare=False)
    assert (
        prepared == plain and prepared[-1] < prepared[0]
    )  # 逐位相同：只改变计算的先后，不改变结果
