#!/usr/bin/env python3
"""训练随包附带的基座模型 tinymodels/data/base-model.safetensors。

后训练的几页（指令微调、LoRA、偏好对齐、GRPO、评估）都从这个已经预训练
好的小模型出发，不必每页从零预训练。

用法（在仓库根目录；约 14 分钟 CPU 时间，机器繁忙时墙钟要长得多）::

    DEV=CPU .venv/bin/python scripts/make_base_model.py
    # 测试用的缩小版：小模型、少步数，写到别处
    DEV=CPU .venv/bin/python scripts/make_base_model.py --small \
        --out /tmp/b.safetensors

做法，每一步都由种子决定：

1. 数据：本站语料 ``corpus_zh.txt`` 的段落，加上 ``task_text`` 生成的纯文本
   任务（加法、倒序、查首都，见 ``tinymodels/data/tasks.py``），打乱后用
   ``<|endoftext|>`` 连起来。语料最后 10% 的段落和另一批任务（种子不同）
   留作验证集。
2. 分词器：字节级 BPE，词表 512（含 4 个特殊词元，见
   ``tinymodels/chat.py``）。
   训练分词器时去掉数字，所以每个数字都是单独的词元（LLaMA 也把数字逐位
   切开，Touvron 等，2023），加法的进位才能逐位学。
3. 模型：``TinyLlama``，2 层、宽 64、4 个查询头、2 组键/值、上下文 64。
4. 训练：AdamW，学习率 3e-3，批大小 32，窗口步长 32，4 轮。

每篇文档以 ``<|endoftext|>`` 开头（它兼做文档的开始），所以给基座模型的
纯文本提示也要以它开头。

元数据里记下脚本、提交、数据、分词器（合并规则与特殊词元）、训练设置和
验证集上的结果；``tinymodels.pretrained.load_base_model`` 读回模型和分词器。
"""

from __future__ import annotations

import argparse
import math
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from tinygrad import Tensor  # noqa: E402
from tinygrad.nn.optim import AdamW  # noqa: E402
from tinygrad.nn.state import get_parameters  # noqa: E402

from tinymodels import (  # noqa: E402
    BPETokenizer,
    TinyLlama,
    count_parameters,
    evaluate,
    fit,
    load_corpus,
    next_token_windows,
    save_checkpoint,
    set_seed,
)
from tinymodels.chat import ENDOFTEXT, SPECIAL_TOKENS  # noqa: E402
from tinymodels.data.tasks import addition_pairs, task_text  # noqa: E402
from tinymodels.pretrained import BASE_MODEL_PATH  # noqa: E402

#: 完整版与缩小版（测试用）的设置
SIZES = {
    "full": dict(
        vocab=512, d_model=64, layers=2, heads=4, kv_heads=2, block=64,
        task_lines=12000, epochs=4, batch=32, lr=3e-3,
    ),
    "small": dict(
        vocab=300, d_model=32, layers=1, heads=2, kv_heads=1, block=32,
        task_lines=600, epochs=1, batch=16, lr=1e-2, corpus_chars=8000,
    ),
}  # fmt: skip


def documents(cfg: dict, seed: int) -> tuple[list[str], list[str]]:
    """（训练文档, 验证文档）：语料段落与任务行。"""
    text = load_corpus()[: cfg.get("corpus_chars")]
    paras = [p.strip() for p in text.split("\n") if p.strip()]
    cut = int(len(paras) * 0.9)
    n = cfg["task_lines"]
    train = paras[:cut] + task_text(n, seed).splitlines()
    val = paras[cut:] + task_text(max(n // 10, 30), seed + 1000).splitlines()
    order = np.random.default_rng(seed).permutation(len(train))
    return [train[i] for i in order], val


def token_ids(tok: BPETokenizer, docs: list[str]) -> np.ndarray:
    text = ENDOFTEXT + ENDOFTEXT.join(docs)  # 每篇文档以它开头
    return np.array(tok.encode(text), np.int32)


def addition_accuracy(model, tok, n: int = 100, seed: int = 7) -> float:
    """纯文本格式 ``<|endoftext|>a+b=`` 后贪心续写，答对的比例（另一批
    题目，两个数在 0..20，与预训练时相同）。"""
    pairs = addition_pairs(n, seed, max_value=20)
    prompts = [tok.encode(ENDOFTEXT + q) for q, _ in pairs]
    right = 0
    # 按提示长度分组，同组一起生成
    for L in sorted({len(p) for p in prompts}):
        group = [i for i, p in enumerate(prompts) if len(p) == L]
        idx = Tensor(np.array([prompts[i] for i in group], np.int32))
        out = model.generate(idx, 4, temperature=0).numpy()[:, L:]
        for i, row in zip(group, out):
            answer = re.match(r"\d*", tok.decode(row)).group()
            right += answer == pairs[i][1]
    return right / n


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        )  # fmt: skip
        dirty = subprocess.run(
            ["git", "status", "--porcelain"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        return out.stdout.strip() + ("+改动" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "未知"


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--small", action="store_true", help="测试用的缩小版")
    ap.add_argument("--out", type=Path, default=None, help="输出文件")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    size = "small" if args.small else "full"
    cfg = SIZES[size]
    out = args.out or BASE_MODEL_PATH
    started = time.monotonic()

    train_docs, val_docs = documents(cfg, args.seed)
    no_digits = re.sub(r"\d", "", "\n".join(train_docs))
    tok = BPETokenizer.train(no_digits, cfg["vocab"], SPECIAL_TOKENS)
    ids, val_ids = token_ids(tok, train_docs), token_ids(tok, val_docs)
    B = cfg["block"]
    X, Y = next_token_windows(ids, B, stride=B // 2)
    Xv, Yv = next_token_windows(val_ids, B, stride=B)
    n_val = len(Xv) // cfg["batch"] * cfg["batch"]
    print(
        f"词表 {tok.vocab_size}，训练 {len(ids):,} 个词元"
        f"（{len(X)} 个窗口），验证 {len(val_ids):,} 个"
    )

    set_seed(args.seed)
    model = TinyLlama(
        tok.vocab_size, block_size=B, d_model=cfg["d_model"],
        num_heads=cfg["heads"], num_kv_heads=cfg["kv_heads"],
        num_layers=cfg["layers"],
    )  # fmt: skip
    opt = AdamW(get_parameters(model), lr=cfg["lr"], weight_decay=0.01)
    before = evaluate(
        model, (Xv[:n_val], Yv[:n_val]), batch_size=cfg["batch"]
    )
    hist = fit(
        model, (X, Y), optimizer=opt, epochs=cfg["epochs"],
        batch_size=cfg["batch"], metrics=(), seed=args.seed,
    )  # fmt: skip
    val = evaluate(model, (Xv[:n_val], Yv[:n_val]), batch_size=cfg["batch"])
    # 缩小版（测试用）不生成：省下编译生成用的内核
    acc = None if args.small else addition_accuracy(model, tok, 200)
    steps = cfg["epochs"] * (len(X) // cfg["batch"])
    result = {
        "val_loss_before": round(before["loss"], 4),
        "val_loss": round(val["loss"], 4),
        "addition_accuracy": None if acc is None else round(acc, 4),
        "train_loss_first": round(float(hist["loss"][0]), 4),
        "train_loss_last": round(float(hist["loss"][-1]), 4),
    }
    meta = {
        "name": f"tinymodels-base-{size}",
        "script": "scripts/make_base_model.py"
        + (" --small" if args.small else ""),
        "commit": git_commit(),
        "seed": args.seed,
        "data": (
            f"corpus_zh.txt 前 90% 段落 + task_text({cfg['task_lines']}, "
            f"seed={args.seed})；验证：后 10% 段落 + "
            f"task_text(seed={args.seed + 1000})"
        ),
        "training": {**cfg, "steps": steps, "optimizer": "AdamW(wd=0.01)"},
        "tokenizer": {
            "merges": [list(m) for m in tok.merges],
            "special_tokens": list(tok.special_tokens),
        },
        "results": result,
        "parameters": count_parameters(model),
        "seconds": round(time.monotonic() - started, 1),
    }
    save_checkpoint(model, out, meta)
    print(
        f"{count_parameters(model):,} 个参数，{steps} 步，"
        f"验证损失 {before['loss']:.3f} -> {val['loss']:.3f}"
        f"（困惑度 {math.exp(val['loss']):.1f}），"
        + ("" if acc is None else f"加法正确率 {acc:.0%}，")
        + f"{meta['seconds']:.0f} 秒 -> {out}"
    )
    return meta


if __name__ == "__main__":
    main()
