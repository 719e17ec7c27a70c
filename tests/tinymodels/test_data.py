"""tinymodels.data 的测试：随包数据、合成数据、文本、批迭代器与语料脚本。"""

import gzip
import hashlib
import importlib.util
from pathlib import Path

import numpy as np
import pytest
from tinygrad import Tensor, dtypes

from tinymodels.data import (
    CharTokenizer,
    adding_problem,
    batches,
    gaussian_mixture,
    load_corpus,
    load_digits,
    mixture_centers,
    next_token_windows,
    reversal_task,
    sorting_task,
)
from tinymodels.data.digits import DIGITS_PATH
from tinymodels.data.text import CORPUS_PATH

ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------- digits


def test_digits_file_is_the_documented_copy():
    digest = hashlib.sha256(DIGITS_PATH.read_bytes()).hexdigest()
    assert (
        digest
        == "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"
    )
    assert digest in (DIGITS_PATH.parent / "README.md").read_text(
        encoding="utf-8"
    )
    with gzip.open(DIGITS_PATH, "rt") as f:
        assert sum(1 for _ in f) == 1797


@pytest.mark.parametrize(
    "split,n", [("train", 1442), ("test", 355), ("all", 1797)]
)
def test_load_digits_shapes_and_ranges(split, n):
    X, y = load_digits(split)
    assert X.shape == (n, 1, 8, 8) and X.dtype == np.float32
    assert y.shape == (n,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert set(np.unique(y)) == set(range(10))


def test_load_digits_flatten_and_raw_values():
    X, _ = load_digits("test", flatten=True, normalize=False)
    assert X.shape == (355, 64) and X.dtype == np.float32
    assert X.max() == 16.0 and np.all(X == np.round(X))


def test_digits_split_is_fixed_stratified_and_disjoint():
    Xa, ya = load_digits("all", flatten=True, normalize=False)
    Xtr, ytr = load_digits("train", flatten=True, normalize=False)
    Xte, yte = load_digits("test", flatten=True, normalize=False)
    assert len(ytr) + len(yte) == len(ya)
    # 每一类都约 20% 进测试集
    for c in range(10):
        frac = (yte == c).sum() / (ya == c).sum()
        assert 0.18 <= frac <= 0.21
    # 训练集与测试集拼起来恰好是全集（按行比较）
    whole = {
        r.tobytes() + bytes([l]) for r, l in zip(Xa.astype(np.uint8), ya)
    }
    parts = [
        r.tobytes() + bytes([l])
        for r, l in zip(
            np.concatenate([Xtr, Xte]).astype(np.uint8),
            np.concatenate([ytr, yte]),
        )
    ]
    assert set(parts) == whole
    # 两次调用结果一致，且返回的是副本
    X1, y1 = load_digits("train")
    X1[:] = -1
    X2, y2 = load_digits("train")
    assert X2.min() == 0.0 and np.array_equal(y1, y2)


@pytest.mark.parametrize(
    "kwargs",
    [{"split": "val"}, {"split": None}, {"flatten": 1}, {"normalize": "yes"}],
)
def test_load_digits_bad_input(kwargs):
    with pytest.raises(ValueError):
        load_digits(**kwargs)


# ---------------------------------------------------------------- 合成数据


def test_adding_problem():
    X, y = adding_problem(64, seq_len=10, seed=3)
    assert X.shape == (64, 10, 2) and y.shape == (64, 1)
    assert X.dtype == np.float32 and y.dtype == np.float32
    markers = X[:, :, 1]
    assert np.all(markers.sum(1) == 2)
    assert np.all(markers[:, :5].sum(1) == 1) and np.all(
        markers[:, 5:].sum(1) == 1
    )
    np.testing.assert_allclose(
        y[:, 0], (X[:, :, 0] * markers).sum(1), rtol=1e-6
    )
    X2, y2 = adding_problem(64, seq_len=10, seed=3)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    assert not np.array_equal(X, adding_problem(64, seq_len=10, seed=4)[0])


def test_reversal_and_sorting_tasks():
    tok, tgt = reversal_task(16, seq_len=6, vocab=5, seed=1)
    assert tok.shape == tgt.shape == (16, 6) and tok.dtype == np.int64
    assert (
        np.array_equal(tgt, tok[:, ::-1]) and tok.min() >= 0 and tok.max() < 5
    )
    tok, tgt = sorting_task(16, seq_len=6, vocab=5, seed=1)
    assert np.array_equal(tgt, np.sort(tok, axis=1))
    assert np.array_equal(
        tok, sorting_task(16, seq_len=6, vocab=5, seed=1)[0]
    )


def test_gaussian_mixture_and_centers():
    centers = mixture_centers(8, radius=2.0)
    assert centers.shape == (8, 2) and centers.dtype == np.float32
    np.testing.assert_allclose(
        np.linalg.norm(centers, axis=1), 2.0, rtol=1e-6
    )
    pts = gaussian_mixture(800, modes=8, radius=2.0, std=0.05, seed=0)
    assert pts.shape == (800, 2) and pts.dtype == np.float32
    d = np.linalg.norm(pts[:, None] - centers[None], axis=-1)
    assert d.min(1).max() < 6 * 0.05
    assert len(np.unique(d.argmin(1))) == 8
    assert np.array_equal(pts, gaussian_mixture(800, seed=0))


@pytest.mark.parametrize(
    "fn,kwargs",
    [
        (adding_problem, {"n": 0}),
        (adding_problem, {"n": 4, "seq_len": 1}),
        (adding_problem, {"n": 2.5}),
        (adding_problem, {"n": 4, "seed": -1}),
        (reversal_task, {"n": 4, "vocab": 1}),
        (sorting_task, {"n": 4, "seq_len": 0}),
        (gaussian_mixture, {"n": 4, "std": 0}),
        (gaussian_mixture, {"n": 4, "modes": 0}),
        (gaussian_mixture, {"n": True}),
        (mixture_centers, {"radius": -1.0}),
        (mixture_centers, {"radius": float("nan")}),
    ],
)
def test_synthetic_bad_input(fn, kwargs):
    with pytest.raises(ValueError):
        fn(**kwargs)


# ---------------------------------------------------------------- 文本


def test_char_tokenizer_round_trip_and_vocab():
    tok = CharTokenizer("深度学习，学习深度。")
    assert tok.vocab_size == len(tok) == len(set("深度学习，学习深度。"))
    assert tok.chars == sorted(tok.chars)
    ids = tok.encode("学习深度")
    assert isinstance(ids, list) and all(isinstance(i, int) for i in ids)
    assert tok.decode(ids) == "学习深度"
    assert tok.decode(np.array(ids)) == "学习深度"
    assert tok.decode(Tensor(ids)) == "学习深度"
    assert tok.encode("") == [] and tok.decode([]) == ""
    again = CharTokenizer.from_vocab(tok.chars)
    assert again.encode("学习深度") == ids


def test_char_tokenizer_unknown_characters():
    tok = CharTokenizer("你好")
    with pytest.raises(ValueError, match=r"'世'.*位置 2"):
        tok.encode("你好世界")
    tok = CharTokenizer("你好", unk="<unk>")
    assert tok.vocab_size == 3
    ids = tok.encode("你好世")
    assert ids[2] == 0 and 0 not in ids[:2]
    assert tok.decode(ids) == "你好<unk>"


@pytest.mark.parametrize(
    "make",
    [
        lambda: CharTokenizer(""),
        lambda: CharTokenizer(123),
        lambda: CharTokenizer("ab", unk=""),
        lambda: CharTokenizer.from_vocab(["a", "a"]),
        lambda: CharTokenizer.from_vocab(["ab"]),
        lambda: CharTokenizer.from_vocab([]),
        lambda: CharTokenizer("ab").encode(5),
        lambda: CharTokenizer("ab").decode([0, 7]),
        lambda: CharTokenizer("ab").decode([[0]]),
        lambda: CharTokenizer("ab").decode([0.5]),
    ],
)
def test_char_tokenizer_bad_input(make):
    with pytest.raises(ValueError):
        make()


def test_load_corpus_ships_chinese_text(tmp_path):
    text = load_corpus()
    assert CORPUS_PATH.is_file() and len(text) > 1000
    assert sum("\u4e00" <= ch <= "\u9fff" for ch in text) > 500
    assert "```" not in text and "---" not in text.splitlines()[0]
    with pytest.raises(FileNotFoundError):
        load_corpus(tmp_path / "missing.txt")
    (tmp_path / "empty.txt").write_text("  \n", encoding="utf-8")
    with pytest.raises(ValueError):
        load_corpus(tmp_path / "empty.txt")


def test_next_token_windows():
    ids = np.arange(10)
    X, Y = next_token_windows(ids, block_size=4)
    assert X.shape == Y.shape == (2, 4) and X.dtype == np.int64
    assert np.array_equal(X[1], [4, 5, 6, 7]) and np.array_equal(
        Y[1], [5, 6, 7, 8]
    )
    X, Y = next_token_windows(ids, block_size=4, stride=1)
    assert X.shape == (6, 4) and np.array_equal(Y[-1], [6, 7, 8, 9])
    for kwargs in (
        {"block_size": 0},
        {"block_size": 10},
        {"block_size": 2, "stride": 0},
    ):
        with pytest.raises(ValueError):
            next_token_windows(ids, **kwargs)
    with pytest.raises(ValueError):
        next_token_windows(np.zeros((3, 3), np.int64), block_size=2)


# ---------------------------------------------------------------- batches


def test_batches_reproducible_order_and_tensors():
    X = np.arange(20, dtype=np.float64).reshape(10, 2)
    y = np.arange(10)
    first = [
        (xb.numpy(), yb.numpy())
        for xb, yb in batches(X, y, batch_size=4, seed=1)
    ]
    again = [
        (xb.numpy(), yb.numpy())
        for xb, yb in batches(X, y, batch_size=4, seed=1)
    ]
    other = [yb.numpy() for _, yb in batches(X, y, batch_size=4, seed=2)]
    assert len(first) == 2  # drop_last 丢掉最后 2 个
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(first, again))
    assert not all(np.array_equal(a[1], b) for a, b in zip(first, other))
    for xb, yb in first:  # 行与标签保持对应
        assert np.array_equal(xb[:, 0], yb * 2)
    xb, yb = next(iter(batches(X, y, batch_size=4)))
    assert (
        isinstance(xb, Tensor)
        and xb.dtype == dtypes.float32
        and yb.dtype == dtypes.int32
    )
    # 批次直接拷进设备内存：已经 realize（TinyJit 不必再调度一次），
    # 且与源数据逐位相同
    assert xb.uop.is_realized and yb.uop.is_realized and xb.shape == (4, 2)
    masks = np.stack(
        [np.arange(6) % 2 == 0, np.arange(6) % 3 == 0], 1
    )  # bool 这类少见的类型也照样拷贝
    (mb,) = batches(masks, batch_size=6, shuffle=False)
    assert mb.dtype == dtypes.bool and np.array_equal(mb.numpy(), masks)


def test_batches_options():
    X = np.arange(10)
    plain = list(
        batches(
            X, batch_size=4, shuffle=False, drop_last=False, as_tensor=False
        )
    )
    assert [b.tolist() for b in plain] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert isinstance(plain[0], np.ndarray)
    shuffled = np.concatenate(
        list(batches(X, batch_size=5, seed=0, as_tensor=False))
    )
    assert sorted(shuffled.tolist()) == list(
        range(10)
    ) and shuffled.tolist() != list(range(10))


@pytest.mark.parametrize(
    "args,kwargs",
    [
        ((), {"batch_size": 2}),
        ((np.zeros(5), np.zeros(4)), {"batch_size": 2}),
        ((np.zeros(5),), {"batch_size": 0}),
        ((np.zeros(5),), {"batch_size": 2.0}),
        ((np.zeros(5),), {"batch_size": 8}),
        ((np.zeros(5),), {"batch_size": 2, "seed": -1}),
        ((np.zeros(5),), {"batch_size": 2, "shuffle": "yes"}),
        ((np.zeros(5),), {"batch_size": 2, "drop_last": None}),
        ((np.zeros(0),), {"batch_size": 1, "drop_last": False}),
        ((np.float32(3.0),), {"batch_size": 1}),
        (([[1, 2], [3]],), {"batch_size": 1}),
    ],
)
def test_batches_bad_input(args, kwargs):
    with pytest.raises(ValueError):
        batches(*args, **kwargs)  # 参数错误在调用时立即报出，而不是等到迭代


# ---------------------------------------------------------------- 语料脚本


def _load_script():
    spec = importlib.util.spec_from_file_location(
        "build_corpus", ROOT / "scripts" / "build_corpus.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


ARTICLE = """---
title: 反向传播
---
# 反向传播 { #bp }

反向传播是**训练神经网络**的核心算法，
它利用[链式法则](https://example.com/chain)计算梯度，见 `loss.backward()`。

公式 $y = f(x)$ 写在行内；价格从 $5 涨到 $10 不是公式。

$$
\\frac{\\partial L}{\\partial w}
$$

```python
print("代码里的中文不要")
```

!!! note "注意"
    提示框里的正文要保留。

<div>标签里的文字</div>
<!-- 注释里的中文不要 -->
![一张图](figure.png)
Only English here.
"""


def test_build_corpus_cleaning_and_cli(tmp_path):
    mod = _load_script()
    cleaned = mod.clean_markdown(ARTICLE)
    for kept in (
        "反向传播是训练神经网络的核心算法，它利用链式法则计算梯度",
        "提示框里的正文要保留",
        "标签里的文字",
        "价格从 $5 涨到 $10 不是公式",
    ):
        assert kept in cleaned
    for dropped in (
        "title",
        "代码里的中文不要",
        "注释里的中文不要",
        "https://",
        "partial",
        "f(x)",
        "一张图",
        "Only English",
        "{ #bp }",
        "loss.backward",
        "**",
    ):
        assert dropped not in cleaned
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "sub" / "a.md").write_text(ARTICLE, encoding="utf-8")
    out = tmp_path / "corpus.txt"
    assert (
        mod.main(
            ["--docs", str(docs), "--out", str(out), "--docstrings", "never"]
        )
        == 0
    )
    assert out.read_text(encoding="utf-8") == cleaned + "\n"
    assert (
        mod.main(
            [
                "--docs",
                str(docs),
                "--out",
                str(out),
                "--docstrings",
                "never",
                "--check",
            ]
        )
        == 0
    )
    (docs / "b.md").write_text("新的一篇文章。", encoding="utf-8")
    assert (
        mod.main(
            [
                "--docs",
                str(docs),
                "--out",
                str(out),
                "--docstrings",
                "never",
                "--check",
            ]
        )
        == 1
    )
    assert (
        mod.main(
            [
                "--docs",
                str(tmp_path / "nothing"),
                "--out",
                str(out),
                "--docstrings",
                "never",
            ]
        )
        == 1
    )


def test_as_numpy():
    from tinymodels.data.loader import as_numpy

    assert as_numpy("x", [1, 2]).tolist() == [1, 2]
    assert as_numpy("x", Tensor([1.0, 2.0])).tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match="x"):
        as_numpy("x", 3.0)
    with pytest.raises(ValueError, match="x"):
        as_numpy("x", [[1], [2, 3]])
