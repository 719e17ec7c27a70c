#!/usr/bin/env python3
"""内置模型的训练速度基准：tinygrad（tinymodels）对照 PyTorch CPU。

对 ``tinymodels.tools.recipes`` 里的每个模型（文档尺寸、配方的批大小），在一个
**全新的子进程**里测量：

* 冷启动第一步：从第一次调用训练步到拿到损失的秒数。默认用空的临时内核缓存
  （``CACHEDB`` 指向临时文件），即读者第一次运行示例时的情况；
  ``--warm-cache`` 改用平时的缓存。
* 稳态 ms/step：``tinymodels.train.train_step``（``fit`` 用的同一个训练步）
  JIT 编译好、预热之后每步耗时的中位数，每步都取回损失（同 ``fit``）。
* 同一模型的 PyTorch 镜像（同样的层、尺寸、批、Adam 学习率）在 CPU 上的
  ms/step，``torch.set_num_threads(2)``（``--torch-threads`` 可改）。
* 二者之比与目标：每个模型第一步 <= 10 s，稳态比 PyTorch 慢不超过 3 倍。

开头和结尾打印系统负载（1/5/15 分钟平均）：远大于核数时数字偏慢。

用法（仓库根目录）::

    python benchmarks/bench_models.py                       # 全部模型，几分钟
    python benchmarks/bench_models.py --models cnn,lstm     # 只测一部分
    python benchmarks/bench_models.py --markdown            # Markdown 表格

这不是测试：不会被 pytest 收集，也不做断言。PyTorch 只在这个脚本里使用。
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRST_STEP_TARGET_S = 10.0  # 每个模型：冷启动第一步不超过 10 秒
RATIO_TARGET = 3.0  # 每个模型：稳态不超过 PyTorch 的 3 倍
HEADERS = [
    "model", "params", "batch", "first step s (cold)", "tinygrad ms/step",
    "torch ms/step", "ratio", "target",
]  # fmt: skip


# ====================================================== 子进程：测一个模型


def _measure_tinygrad(name: str, steps: int, warmup: int) -> dict:
    from tinygrad import Context, Device
    from tinygrad.nn.optim import Adam
    from tinygrad.nn.state import get_parameters

    from tinymodels import (
        count_parameters,
        realize_state,
        set_seed,
        train_gan,
    )
    from tinymodels._tinygrad import read_scalar
    from tinymodels.data import batches
    from tinymodels.tools.recipes import get_recipe, loss_fn_for
    from tinymodels.train import train_step

    recipe = get_recipe(name)
    set_seed(0)
    model = recipe.build()
    (X, Y), _ = recipe.load_data()
    bs = recipe.batch_size
    out = {"model": name, "device": Device.DEFAULT, "batch_size": bs}
    out["params"] = count_parameters(model)

    if recipe.loss == "gan":
        # 一步 = 判别器一步 + 生成器一步；计时 train_gan 本身（命令行的路径）
        def run(n: int) -> float:
            t0 = time.perf_counter()
            train_gan(model, X, steps=n, batch_size=bs, lr=recipe.lr)
            return time.perf_counter() - t0

        out["first_step_s"] = run(1)
        # 两次调用之差，扣掉每次调用的固定开销（建优化器、JIT 录制）。
        # 录制一次要几百毫秒、起伏也有几百毫秒，而一步只要十几毫秒：长的
        # 那次多跑 10 倍步数，三对取中位数，差才不被起伏淹没
        short = max(warmup, 2)  # 两次调用都要走到 JIT 录制
        long = short + 10 * steps
        run(short)
        diffs = [run(long) - run(short) for _ in range(3)]
        out["steady_ms"] = statistics.median(diffs) / (long - short) * 1e3
        return out

    loss_fn = loss_fn_for(recipe)
    opt = Adam(get_parameters(model), lr=recipe.lr)
    step = train_step(lambda x, y: loss_fn(model(x), y), opt)  # 同 fit
    data = []
    while len(data) < 2 + warmup + steps:  # 数据不够时循环使用
        data += batches(X, Y, batch_size=bs, seed=len(data))
    times = []
    with Context(TRAINING=1):
        t0 = time.perf_counter()
        realize_state(model, opt)  # 同 fit：先算出参数与优化器状态
        for xb, yb in data[: 2 + warmup + steps]:
            read_scalar(step(xb, yb))  # 第 1 次照常执行，第 2 次 JIT 录制
            times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
    out["first_step_s"], out["second_step_s"] = times[0], times[1]
    out["steady_ms"] = statistics.median(times[2 + warmup :]) * 1e3
    return out


def _torch_model(name: str):
    """与 tinymodels 的模型同结构、同尺寸的 PyTorch 实现（无 dropout）。"""
    import torch
    from torch import nn

    from tinymodels.data import CharTokenizer, load_corpus

    L, F = nn.Linear, nn.functional

    class Seq(nn.Module):  # SequenceClassifier：最后的隐状态接线性层
        def __init__(self, cell, i: int, h: int, o: int):
            super().__init__()
            self.rnn, self.head = cell(i, h, batch_first=True), L(h, o)

        def forward(self, x):
            _, h = self.rnn(x)
            return self.head((h[0] if isinstance(h, tuple) else h)[-1])

    def sinusoid(T: int, d: int):
        pos = torch.arange(T, dtype=torch.float64)[:, None]
        two_i = torch.arange(0, d, 2, dtype=torch.float64)
        angle = pos / 10000.0 ** (two_i / d)
        pe = torch.zeros(T, d, dtype=torch.float64)
        pe[:, 0::2], pe[:, 1::2] = torch.sin(angle), torch.cos(angle)
        return pe.float()

    class Encoder(nn.Module):
        """TransformerEncoder(10, 10, d_model=32, 4 头, 2 层, d_ff=64)：
        EncoderBlock 是 Pre-LN、ReLU。"""

        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(10, 32)
            self.register_buffer("pe", sinusoid(16, 32))
            self.blocks = nn.ModuleList(
                nn.TransformerEncoderLayer(
                    32,
                    4,
                    64,
                    dropout=0.0,
                    activation="relu",
                    batch_first=True,
                    norm_first=True,
                )  # fmt: skip
                for _ in range(2)
            )
            self.ln_f, self.head = nn.LayerNorm(32), L(32, 10)

        def forward(self, tokens):
            x = self.embed(tokens) + self.pe[: tokens.shape[1]]
            for block in self.blocks:
                x = block(x)
            return self.head(self.ln_f(x))

    class Block(nn.Module):
        """TinyGPT 的块（models/gpt.py）：Pre-LN，qkv 一个 Linear(d, 3d)，
        MLP 是 fc1 -> ReLU -> fc2。"""

        def __init__(self, d: int, h: int):
            super().__init__()
            self.h, self.ln1, self.ln2 = h, nn.LayerNorm(d), nn.LayerNorm(d)
            self.qkv, self.proj = L(d, 3 * d), L(d, d)
            self.fc1, self.fc2 = L(d, 4 * d), L(4 * d, d)

        def forward(self, x):
            B, T, C = x.shape
            qkv = self.qkv(self.ln1(x)).reshape(B, T, 3, self.h, C // self.h)
            q, k, v = qkv.permute(2, 0, 3, 1, 4)  # 各 (B, h, T, d_h)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.proj(y.transpose(1, 2).reshape(B, T, C))
            return x + self.fc2(self.fc1(self.ln2(x)).relu())

    class GPT(nn.Module):  # TinyGPT(V, block_size=32, d_model=64, 4 头, 2 层)
        def __init__(self, V: int):
            super().__init__()
            self.tok_emb = nn.Parameter(torch.randn(V, 64) * 0.02)
            self.pos_emb = nn.Parameter(torch.randn(32, 64) * 0.02)
            self.blocks = nn.Sequential(Block(64, 4), Block(64, 4))
            self.ln_f, self.head = nn.LayerNorm(64), L(64, V, bias=False)

        def forward(self, idx):
            x = self.tok_emb[idx] + self.pos_emb[: idx.shape[1]]
            return self.head(self.ln_f(self.blocks(x)))

    relu = nn.ReLU
    return {
        "mlp": lambda: nn.Sequential(L(64, 64), relu(), L(64, 10)),
        "cnn": lambda: nn.Sequential(  # LeNet(1, 10, (8, 8))
            nn.Conv2d(1, 6, 3, padding=1), relu(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 3, padding=1), relu(), nn.MaxPool2d(2),
            nn.Flatten(), L(64, 64), relu(), L(64, 10),
        ),
        "rnn": lambda: Seq(nn.RNN, 8, 32, 10),
        "lstm": lambda: Seq(nn.LSTM, 2, 32, 1),
        "transformer": Encoder,
        "gpt": lambda: GPT(CharTokenizer(load_corpus()).vocab_size),
        "autoencoder": lambda: nn.Sequential(  # Autoencoder(64, (32,), 8)
            L(64, 32), relu(), L(32, 8), L(8, 32), relu(), L(32, 64),
            nn.Sigmoid(),
        ),
        "gan": lambda: [  # 生成器与判别器：隐藏层 (64, 64)，LeakyReLU(0.2)
            nn.Sequential(
                L(i, 64), nn.LeakyReLU(0.2), L(64, 64), nn.LeakyReLU(0.2),
                L(64, o),
            )
            for i, o in ((2, 2), (2, 1))
        ],
    }[name]()  # fmt: skip


def _measure_torch(name: str, steps: int, warmup: int, threads: int) -> dict:
    import numpy as np
    import torch

    from tinymodels.tools.recipes import get_recipe

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    recipe = get_recipe(name)
    (X, Y), _ = recipe.load_data()
    bs, rng, F = (
        recipe.batch_size,
        np.random.default_rng(0),
        torch.nn.functional,
    )

    def batch():
        idx = rng.integers(0, len(X), size=bs)
        return torch.from_numpy(X[idx]), torch.from_numpy(Y[idx])

    def update(opt, loss):
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    model = _torch_model(name)
    if recipe.loss == "gan":
        G, D = model
        bce = F.binary_cross_entropy_with_logits
        g_opt, d_opt = (
            torch.optim.Adam(m.parameters(), lr=recipe.lr, betas=(0.5, 0.999))
            for m in (G, D)
        )
        ones, zeros = torch.ones(bs, 1), torch.zeros(bs, 1)

        def step():
            real, fake = batch()[0], G(torch.randn(bs, 2))
            d_loss = bce(D(real), ones) + bce(D(fake.detach()), zeros)
            update(d_opt, d_loss)
            update(g_opt, bce(D(G(torch.randn(bs, 2))), ones))
    else:
        opt = torch.optim.Adam(model.parameters(), lr=recipe.lr)

        def loss_fn(out, y):
            if recipe.loss == "mse":
                return F.mse_loss(out, y)
            return F.cross_entropy(out.flatten(0, -2), y.flatten())

        def step():
            x, y = batch()
            update(opt, loss_fn(model(x), y))

    for _ in range(warmup + 2):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    modules = model if isinstance(model, list) else [model]
    return {
        "torch_ms": statistics.median(times) * 1e3,
        "torch_params": sum(
            p.numel() for m in modules for p in m.parameters()
        ),
        "torch_threads": threads,
        "torch_version": torch.__version__,
    }


def _worker(name: str, steps: int, warmup: int, torch_threads: int) -> None:
    result = _measure_tinygrad(name, steps, warmup)
    if torch_threads > 0:
        result.update(_measure_torch(name, steps, warmup, torch_threads))
    print("RESULT " + json.dumps(result), flush=True)


# ====================================================== 父进程：调度与汇总


def _run_one(name: str, args) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), env.get("PYTHONPATH")) if p
    )
    threads = 0 if args.no_torch else args.torch_threads
    cmd = [
        sys.executable, str(Path(__file__).resolve()), "--worker", name,
        "--steps", str(args.steps), "--warmup", str(args.warmup),
        "--torch-threads", str(threads),
    ]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="tinymodels-bench-") as tmp:
        if not args.warm_cache:  # 空的内核缓存：真正的冷启动
            env["CACHEDB"] = str(Path(tmp) / "cache.db")
        if args.noopt:  # 同 fast_compile()：跳过内核优化，编译快、运行可能慢
            env["NOOPT"] = "1"
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(
                cmd, env=env, capture_output=True, text=True,
                timeout=args.timeout,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return {"model": name, "error": f"超过 {args.timeout} 秒未完成"}
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line.removeprefix("RESULT "))
            return {**result, "process_s": time.perf_counter() - t0}
    tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
    return {"model": name, "error": f"子进程退出码 {proc.returncode}：{tail}"}


def _mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def _fmt_row(r: dict) -> list[str]:
    name = r["model"]
    if "error" in r:
        return [name, "-", "-", "-", "-", "-", "-", r["error"]]
    first = r["first_step_s"]
    first_s = f"{first:.1f} {_mark(first <= FIRST_STEP_TARGET_S)}"
    ratio_s = torch_s = "-"
    if "torch_ms" in r:
        ratio = r["steady_ms"] / r["torch_ms"]
        ratio_s = f"{ratio:.1f}x {_mark(ratio <= RATIO_TARGET)}"
        torch_s = f"{r['torch_ms']:.2f}"
    params = f"{r['params']:,}"
    if r.get("torch_params") not in (None, r["params"]):
        params += f" (torch {r['torch_params']:,})"
    target = f"<= {FIRST_STEP_TARGET_S:.0f} s; <= {RATIO_TARGET:.0f}x"
    tg, bs = f"{r['steady_ms']:.1f}", str(r["batch_size"])
    return [name, params, bs, first_s, tg, torch_s, ratio_s, target]


def _print_table(rows: list[list[str]], markdown: bool, warm: bool) -> None:
    headers = list(HEADERS)
    if warm:
        headers[3] = "first step s (warm cache)"
    if markdown:
        print("| " + " | ".join(headers) + " |")
        print("|" + "|".join("---" for _ in headers) + "|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
        return
    widths = [max(len(c) for c in col) for col in zip(headers, *rows)]
    for row in [headers, ["-" * w for w in widths], *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))


def _loadavg() -> str:
    try:
        return "/".join(f"{x:.1f}" for x in os.getloadavg())
    except (OSError, AttributeError):  # Windows 没有 getloadavg
        return "未知"


def main(argv: list[str] | None = None) -> int:
    from importlib.metadata import version

    from tinymodels.tools.recipes import list_models

    all_models = ",".join(list_models())
    parser = argparse.ArgumentParser(
        description="内置模型训练速度对照 PyTorch"
    )
    arg = parser.add_argument
    arg("--models", default=all_models, help=f"逗号分隔（默认 {all_models}）")
    arg("--steps", type=int, default=30, help="计时的稳态步数（默认 30）")
    arg(
        "--warmup", type=int, default=5, help="JIT 录制后的预热步数（默认 5）"
    )
    arg("--warm-cache", action="store_true", help="用平时的内核缓存")
    arg("--no-torch", action="store_true", help="不测 PyTorch")
    arg("--noopt", action="store_true", help="tinygrad 部分用 NOOPT=1")
    arg("--markdown", action="store_true", help="输出 Markdown 表格")
    arg("--timeout", type=int, default=600, help="每个模型的超时秒数")
    arg(
        "--torch-threads",
        type=int,
        default=2,
        help="PyTorch 线程数（默认 2）",
    )
    arg("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        _worker(args.worker, args.steps, args.warmup, args.torch_threads)
        return 0
    names = [m.strip().lower() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in names if m not in list_models()]
    if unknown:
        parser.error(f"未知模型 {unknown}；可选：{all_models}")
    if args.steps < 1 or args.warmup < 0:
        parser.error("--steps 必须 >= 1，--warmup 必须 >= 0")

    cache = "平时的内核缓存" if args.warm_cache else "空内核缓存（冷启动）"
    threads = 0 if args.no_torch else args.torch_threads
    noopt = "  NOOPT=1" if args.noopt else ""
    print(
        f"# tinymodels 基准  {time.strftime('%Y-%m-%d %H:%M')}  "
        f"Python {platform.python_version()}  "
        f"tinygrad {version('tinygrad')}  CPU 核数 {os.cpu_count()}  "
        f"{cache}{noopt}  torch 线程 {threads}  "
        f"稳态 {args.steps} 步/预热 {args.warmup} 步\n"
        f"开始时负载（1/5/15 分钟平均）{_loadavg()}\n"
    )
    rows, start = [], time.perf_counter()
    for name in names:
        r = _run_one(name, args)
        rows.append(_fmt_row(r))
        status = r.get("error") or (
            f"首步 {r['first_step_s']:.1f}s，"
            f"稳态 {r['steady_ms']:.1f} ms/step"
            f"，torch {r.get('torch_ms', float('nan')):.2f} ms/step"
            f"，设备 {r['device']}"
        )
        print(f"  {name}: {status}", file=sys.stderr, flush=True)
    _print_table(rows, args.markdown, args.warm_cache)
    print(
        f"\n结束时负载（1/5/15 分钟平均）{_loadavg()}：远大于核数时，"
        "机器上有别的进程在抢 CPU，数字会偏慢。\n"
        f"共用时 {time.perf_counter() - start:.0f} 秒。✓/✗：是否达到目标"
        f"（每个模型：第一步 <= {FIRST_STEP_TARGET_S:.0f} 秒；"
        f"稳态 tinygrad/PyTorch 之比 <= {RATIO_TARGET:.0f}）。"
    )
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
