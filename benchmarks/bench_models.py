#!/usr/bin/env python3
"""内置模型的训练速度基准：tinygrad（tinymodels）对照 PyTorch CPU。

对 tinymodels.zoo 里的每个模型（文档尺寸、配方里的批大小），在一个**全新的子进程**里测量：

* 冷启动第一步：从第一次调用训练步到拿到损失的秒数。默认用一个空的临时内核缓存
  （``CACHEDB`` 指向临时文件），即读者第一次运行示例时的情况；``--warm-cache`` 改用平时的缓存。
* 稳态 ms/step：TinyJit 编译好之后（预热若干步后）每步耗时的中位数（毫秒），每步都取回损失
  （与 ``tinymodels.train.fit`` 的做法一致）。
* 同一模型的 PyTorch 镜像实现（同样的层、尺寸、批、Adam 学习率）在 CPU 上的 ms/step，
  ``torch.set_num_threads(2)``（``--torch-threads`` 可改）。
* 二者之比，以及目标：第一步 <= 10 s；稳态比 PyTorch 慢不超过 3 倍（CNN、Transformer）、5 倍（LSTM）。

用法（仓库根目录）::

    python benchmarks/bench_models.py                       # 全部模型，几分钟
    python benchmarks/bench_models.py --models cnn,lstm     # 只测一部分
    python benchmarks/bench_models.py --markdown            # 输出 Markdown 表格

这不是测试：不会被 pytest 收集，也不做断言。PyTorch 只在这个脚本里使用。
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRST_STEP_TARGET_S = 10.0
RATIO_TARGETS = {"cnn": 3.0, "transformer": 3.0, "lstm": 5.0}


# ============================================================ 子进程：测一个模型


def _median_ms(seconds: list[float]) -> float:
    """每步耗时的中位数（毫秒）：比平均值更不受偶发的抢占、垃圾回收影响。"""
    ordered = sorted(seconds)
    mid = len(ordered) // 2
    return (ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2) * 1000


def _tinygrad_step_fn(recipe, model):
    """与 tinymodels.train.fit 完全相同的 JIT 训练步。"""
    from tinygrad import TinyJit
    from tinygrad.nn.optim import Adam
    from tinygrad.nn.state import get_parameters

    from tinymodels.zoo import _loss_fn

    loss_fn = _loss_fn(recipe)
    opt = Adam(get_parameters(model), lr=recipe.lr)

    @TinyJit
    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        return loss.realize(*opt.schedule_step())

    return step


def _measure_tinygrad(name: str, steps: int, warmup: int) -> dict:
    from tinygrad import Context, Device

    from tinymodels import count_parameters, set_seed
    from tinymodels.data import batches
    from tinymodels.zoo import get_recipe

    recipe = get_recipe(name)
    set_seed(0)
    model = recipe.build()
    (X, Y), _ = recipe.load_data()
    out = {"model": name, "device": Device.DEFAULT, "params": count_parameters(model), "batch_size": recipe.batch_size}

    if recipe.loss == "gan":
        # GAN 的训练步是"判别器一步 + 生成器一步"，直接计时 tinymodels 的 train_gan（与命令行相同的路径）
        from tinymodels.models import train_gan

        t0 = time.perf_counter()
        train_gan(model, X, steps=1, batch_size=recipe.batch_size, lr=recipe.lr, seed=0)
        out["first_step_s"] = time.perf_counter() - t0
        train_gan(model, X, steps=warmup, batch_size=recipe.batch_size, lr=recipe.lr, seed=0)
        t0 = time.perf_counter()
        train_gan(model, X, steps=warmup, batch_size=recipe.batch_size, lr=recipe.lr, seed=0)
        short = time.perf_counter() - t0
        t0 = time.perf_counter()
        train_gan(model, X, steps=warmup + steps, batch_size=recipe.batch_size, lr=recipe.lr, seed=0)
        out["steady_ms"] = (time.perf_counter() - t0 - short) / steps * 1000
        return out

    step = _tinygrad_step_fn(recipe, model)
    need = 2 + warmup + steps
    data = []
    while len(data) < need:  # 数据不够时循环使用（只是计时，顺序无所谓）
        data.extend(batches(X, Y, batch_size=recipe.batch_size, seed=len(data)))
    with Context(TRAINING=1):
        t0 = time.perf_counter()
        step(*data[0]).item()
        out["first_step_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        step(*data[1]).item()  # 第二次调用：JIT 录制
        out["second_step_s"] = time.perf_counter() - t0
        for xb, yb in data[2:2 + warmup]:
            step(xb, yb).item()
        times = []
        for xb, yb in data[2 + warmup:need]:
            t0 = time.perf_counter()
            step(xb, yb).item()
            times.append(time.perf_counter() - t0)
        out["steady_ms"] = _median_ms(times)
    return out


def _torch_mirror(name: str, recipe, vocab_size: int | None):
    """返回 (模型, 损失函数)：与 tinymodels 同结构、同尺寸的 PyTorch 实现。"""
    import torch
    from torch import nn

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))

        def forward(self, x):
            return self.net(x)

    class LeNet(nn.Module):  # 对应 LeNet(1, 10, (8, 8))：3x3 卷积 padding 1，通道 (6, 16)，隐藏层 64
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Conv2d(1, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                          nn.Conv2d(6, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
            self.fc = nn.Sequential(nn.Flatten(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))

        def forward(self, x):
            return self.fc(self.features(x))

    class SeqModel(nn.Module):  # 对应 SequenceClassifier：读完序列，用最后的隐状态接线性层
        def __init__(self, cell, input_size, hidden, outputs):
            super().__init__()
            self.rnn = cell(input_size, hidden, batch_first=True)
            self.head = nn.Linear(hidden, outputs)

        def forward(self, x):
            _, h = self.rnn(x)
            h = h[0] if isinstance(h, tuple) else h
            return self.head(h[-1])

    def sinusoid(T, d):
        pos = torch.arange(T, dtype=torch.float64)[:, None]
        angle = pos / torch.pow(10000.0, torch.arange(0, d, 2, dtype=torch.float64) / d)
        pe = torch.zeros(T, d, dtype=torch.float64)
        pe[:, 0::2], pe[:, 1::2] = torch.sin(angle), torch.cos(angle)
        return pe.float()

    def pre_ln_layer(d, heads, d_ff):  # Pre-LN、GELU、无 dropout：与 tinymodels 的 EncoderBlock/DecoderBlock 相同
        return nn.TransformerEncoderLayer(d, heads, d_ff, dropout=0.0, activation="gelu", batch_first=True,
                                          norm_first=True)

    class Encoder(nn.Module):  # TransformerEncoder(10, 10, d_model=32, heads 4, layers 2, d_ff 64, max_len 16)
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(10, 32)
            self.register_buffer("pe", sinusoid(16, 32))
            self.blocks = nn.ModuleList([pre_ln_layer(32, 4, 64) for _ in range(2)])
            self.ln_f, self.head = nn.LayerNorm(32), nn.Linear(32, 10)

        def forward(self, tokens):
            x = self.embed(tokens) + self.pe[: tokens.shape[1]]
            for b in self.blocks:
                x = b(x)
            return self.head(self.ln_f(x))

    class GPT(nn.Module):  # TinyGPT(V, block_size 32, d_model 64, heads 4, layers 2, d_ff 256)
        def __init__(self, V):
            super().__init__()
            self.tok = nn.Embedding(V, 64)
            self.pos = nn.Parameter(torch.randn(32, 64) * 0.02)
            self.blocks = nn.ModuleList([pre_ln_layer(64, 4, 256) for _ in range(2)])
            self.ln_f, self.head = nn.LayerNorm(64), nn.Linear(64, V, bias=False)

        def forward(self, idx):
            T = idx.shape[1]
            x = self.tok(idx) + self.pos[:T]
            mask = nn.Transformer.generate_square_subsequent_mask(T)
            for b in self.blocks:
                x = b(x, src_mask=mask, is_causal=True)
            return self.head(self.ln_f(x))

    class AE(nn.Module):  # Autoencoder(64, (32,), 8)
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 8), nn.Linear(8, 32), nn.ReLU(),
                                     nn.Linear(32, 64), nn.Sigmoid())

        def forward(self, x):
            return self.net(x)

    def ce(out, y):
        return nn.functional.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))

    mse = nn.functional.mse_loss
    builders = {
        "mlp": lambda: (MLP(), ce),
        "cnn": lambda: (LeNet(), ce),
        "rnn": lambda: (SeqModel(nn.RNN, 8, 32, 10), ce),
        "lstm": lambda: (SeqModel(nn.LSTM, 2, 32, 1), mse),
        "transformer": lambda: (Encoder(), ce),
        "gpt": lambda: (GPT(vocab_size), ce),
        "autoencoder": lambda: (AE(), mse),
    }
    return builders[name]()


def _torch_gan():
    from torch import nn

    def mlp(i, o):
        return nn.Sequential(nn.Linear(i, 64), nn.LeakyReLU(0.2), nn.Linear(64, 64), nn.LeakyReLU(0.2), nn.Linear(64, o))

    return mlp(2, 2), mlp(2, 1)


def _measure_torch(name: str, steps: int, warmup: int, threads: int) -> dict:
    import numpy as np
    import torch

    from tinymodels.zoo import _corpus_tokenizer, get_recipe

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    recipe = get_recipe(name)
    (X, Y), _ = recipe.load_data()
    bs = recipe.batch_size
    rng = np.random.default_rng(0)

    def batch():
        idx = rng.integers(0, len(X), size=bs)
        return torch.from_numpy(np.ascontiguousarray(X[idx])), torch.from_numpy(np.ascontiguousarray(Y[idx]))

    if recipe.loss == "gan":
        G, D = _torch_gan()
        bce = torch.nn.functional.binary_cross_entropy_with_logits
        g_opt = torch.optim.Adam(G.parameters(), lr=recipe.lr, betas=(0.5, 0.999))
        d_opt = torch.optim.Adam(D.parameters(), lr=recipe.lr, betas=(0.5, 0.999))
        ones, zeros = torch.ones(bs, 1), torch.zeros(bs, 1)

        def step():
            real, _ = batch()
            d_opt.zero_grad()
            d_loss = bce(D(real), ones) + bce(D(G(torch.randn(bs, 2)).detach()), zeros)
            d_loss.backward()
            d_opt.step()
            g_opt.zero_grad()
            g_loss = bce(D(G(torch.randn(bs, 2))), ones)
            g_loss.backward()
            g_opt.step()
            return d_loss.item() + g_loss.item()
        params = sum(p.numel() for p in G.parameters()) + sum(p.numel() for p in D.parameters())
    else:
        vocab = _corpus_tokenizer()[0].vocab_size if name == "gpt" else None
        model, loss_fn = _torch_mirror(name, recipe, vocab)
        opt = torch.optim.Adam(model.parameters(), lr=recipe.lr)
        params = sum(p.numel() for p in model.parameters())

        def step():
            x, y = batch()
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            return loss.item()

    for _ in range(warmup + 2):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return {"torch_ms": _median_ms(times), "torch_params": params, "torch_threads": threads,
            "torch_version": torch.__version__}


def _worker(name: str, steps: int, warmup: int, torch_threads: int) -> None:
    result = _measure_tinygrad(name, steps, warmup)
    if torch_threads > 0:
        result.update(_measure_torch(name, steps, warmup, torch_threads))
    print("RESULT " + json.dumps(result), flush=True)


# ============================================================ 父进程：调度与汇总


def _run_one(name: str, args) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    with tempfile.TemporaryDirectory(prefix="tinymodels-bench-") as tmp:
        if not args.warm_cache:
            env["CACHEDB"] = str(Path(tmp) / "cache.db")  # 空的内核缓存：真正的冷启动
        if args.noopt:
            env["NOOPT"] = "1"  # 与 tinymodels.utils.fast_compile() 相同：跳过内核优化，编译快、运行可能慢
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", name, "--steps", str(args.steps),
               "--warmup", str(args.warmup), "--torch-threads", "0" if args.no_torch else str(args.torch_threads)]
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=args.timeout)
        except subprocess.TimeoutExpired:
            return {"model": name, "error": f"超过 {args.timeout} 秒未完成"}
        wall = time.perf_counter() - t0
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT "):])
            result["process_s"] = wall
            return result
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
    return {"model": name, "error": f"子进程退出码 {proc.returncode}：{' | '.join(tail)}"}


def _fmt_row(r: dict) -> list[str]:
    name = r["model"]
    if "error" in r:
        return [name, "-", "-", "-", "-", "-", "-", r["error"]]
    first = r["first_step_s"]
    first_s = f"{first:.1f} {'✓' if first <= FIRST_STEP_TARGET_S else '✗'}"
    tg = f"{r['steady_ms']:.1f}"
    if "torch_ms" in r:
        ratio = r["steady_ms"] / r["torch_ms"]
        target = RATIO_TARGETS.get(name)
        ratio_s = f"{ratio:.1f}x" + ("" if target is None else f" {'✓' if ratio <= target else '✗'}")
        torch_s = f"{r['torch_ms']:.2f}"
    else:
        ratio_s, torch_s, target = "-", "-", RATIO_TARGETS.get(name)
    params = f"{r['params']:,}" + ("" if r.get("torch_params") in (None, r["params"]) else f" (torch {r['torch_params']:,})")
    target_s = f"<= {FIRST_STEP_TARGET_S:.0f} s" + (f"; <= {target:.0f}x" if target else "")
    return [name, params, str(r["batch_size"]), first_s, tg, torch_s, ratio_s, target_s]


HEADERS = ["model", "params", "batch", "first step s (cold)", "tinygrad ms/step", "torch ms/step", "ratio", "target"]


def _print_table(rows: list[list[str]], markdown: bool, warm_cache: bool = False) -> None:
    headers = list(HEADERS)
    if warm_cache:
        headers[3] = "first step s (warm cache)"
    if markdown:
        print("| " + " | ".join(headers) + " |")
        print("|" + "|".join("---" for _ in headers) + "|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
        return
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))


def _loadavg() -> str:
    try:
        return "/".join(f"{x:.1f}" for x in os.getloadavg())
    except (OSError, AttributeError):  # Windows 没有 getloadavg
        return "未知"


def main(argv: list[str] | None = None) -> int:
    from tinymodels.zoo import list_models

    parser = argparse.ArgumentParser(description="内置模型训练速度：tinygrad 对照 PyTorch CPU")
    parser.add_argument("--models", default=",".join(list_models()),
                        help=f"逗号分隔的模型名（默认全部：{','.join(list_models())}）")
    parser.add_argument("--steps", type=int, default=30, help="计时的稳态步数（默认 30）")
    parser.add_argument("--warmup", type=int, default=5, help="JIT 录制之后的预热步数（默认 5）")
    parser.add_argument("--warm-cache", action="store_true", help="使用平时的内核缓存，而不是空缓存")
    parser.add_argument("--no-torch", action="store_true", help="不测 PyTorch")
    parser.add_argument("--noopt", action="store_true",
                        help="tinygrad 部分在 NOOPT=1 下运行（即 fast_compile()：编译快，稳态可能慢）")
    parser.add_argument("--markdown", action="store_true", help="输出 Markdown 表格")
    parser.add_argument("--timeout", type=int, default=600, help="每个模型子进程的超时秒数")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--torch-threads", type=int, default=2, help="PyTorch 的线程数（默认 2）")
    args = parser.parse_args(argv)

    if args.worker:
        _worker(args.worker, args.steps, args.warmup, args.torch_threads)
        return 0
    names = [m.strip().lower() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in names if m not in list_models()]
    if unknown:
        parser.error(f"未知模型 {unknown}；可选：{', '.join(list_models())}")
    if args.steps < 1 or args.warmup < 0:
        parser.error("--steps 必须 >= 1，--warmup 必须 >= 0")

    from importlib.metadata import version

    print(f"# tinymodels 基准  {time.strftime('%Y-%m-%d %H:%M')}  Python {platform.python_version()}  "
          f"tinygrad {version('tinygrad')}  CPU 核数 {os.cpu_count()}  开始时负载 {_loadavg()}  "
          f"{'平时的内核缓存' if args.warm_cache else '空内核缓存（冷启动）'}"
          f"{'  NOOPT=1' if args.noopt else ''}  torch 线程 {0 if args.no_torch else args.torch_threads}  稳态 {args.steps} 步/预热 {args.warmup} 步\n")
    rows = []
    start = time.perf_counter()
    for name in names:
        r = _run_one(name, args)
        rows.append(_fmt_row(r))
        status = r.get("error") or (f"首步 {r['first_step_s']:.1f}s，稳态 {r['steady_ms']:.1f} ms/step"
                                    + (f"，torch {r['torch_ms']:.2f} ms/step" if "torch_ms" in r else "")
                                    + f"，设备 {r['device']}")
        print(f"  {name}: {status}", file=sys.stderr, flush=True)
    _print_table(rows, args.markdown, args.warm_cache)
    print(f"\n结束时负载 {_loadavg()}（1/5/15 分钟平均；远大于核数时，机器上还有别的进程在抢 CPU，数字会偏慢）。")
    print(f"共用时 {time.perf_counter() - start:.0f} 秒。✓/✗：是否达到目标（第一步 <= {FIRST_STEP_TARGET_S:.0f} 秒；"
          "稳态 tinygrad/PyTorch 之比：CNN、Transformer <= 3，LSTM <= 5）。")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
