"""大规模训练一章的图（docs/llm/distributed/）。

由 ``scripts/diagrams.py`` 自动收集：``DIAGRAMS`` 里的每个函数返回一张
``Drawing``。图上的数都由代码算出：浮点格式的范围来自位数；张量并行的
形状来自随包附带的预训练 ``TinyLlama`` 的配置；流水线的时间表按依赖关系
模拟出来（与 parallelism.md 里的 ``gpipe`` 相同）。
"""

from __future__ import annotations

from diagrams import WIDTH, Drawing, text_width


def _float_info(exp_bits: int, man_bits: int) -> dict:
    """由位数算出：最大有限数、最小正规数、单位舍入误差 2^-(m+1)。"""
    bias = 2 ** (exp_bits - 1) - 1
    max_exp = 2**exp_bits - 2 - bias  # 全 1 的指数留给无穷大和 NaN
    return {
        "max": (2 - 2.0**-man_bits) * 2.0**max_exp,
        "tiny": 2.0 ** (1 - bias),
        "u": 2.0 ** -(man_bits + 1),
    }


def float_formats() -> Drawing:
    """fp32、fp16、bf16 的位划分与由位数算出的范围、精度。"""
    import numpy as np

    formats = [("fp32", 8, 23), ("fp16", 5, 10), ("bf16", 8, 7)]
    info = {name: _float_info(e, m) for name, e, m in formats}
    # 核对：fp32、fp16 与 NumPy 的 finfo 一致
    for name, dtype in (("fp32", np.float32), ("fp16", np.float16)):
        fi = np.finfo(dtype)
        assert info[name]["max"] == float(fi.max), name
        assert info[name]["tiny"] == float(fi.smallest_normal), name
        assert info[name]["u"] == float(fi.eps) / 2, name
    d = Drawing(
        "float-formats",
        215,
        "fp32：1 位符号、8 位指数、23 位尾数；fp16：1、5、10；bf16：1、8、7。"
        "bf16 的范围与 fp32 相同，精度比 fp16 差",
    )
    bit = 12.5  # 每一位的宽度
    x0, row = 70, 62
    d.text(x0, 20, "符号", size=12, anchor="start", muted=True)
    d.rect(x0 + 36, 9, 12, 12, "red", rx=0)
    d.text(x0 + 66, 20, "指数", size=12, anchor="start", muted=True)
    d.rect(x0 + 102, 9, 12, 12, "blue", rx=0)
    d.text(x0 + 132, 20, "尾数", size=12, anchor="start", muted=True)
    d.rect(x0 + 168, 9, 12, 12, "green", rx=0)
    for i, (name, e, m) in enumerate(formats):
        y = 40 + i * row
        d.text(x0 - 10, y + 17, name, anchor="end", bold=True)
        x = x0
        for n, tint in ((1, "red"), (e, "blue"), (m, "green")):
            d.rect(x, y, n * bit, 24, tint, rx=0, stroke_width=1)
            d.text(x + n * bit / 2, y + 17, str(n), size=12)
            x += n * bit
        it = info[name]
        d.text(
            x0,
            y + 42,
            f"最大 {it['max']:.3g}，最小正规数 {it['tiny']:.3g}，"
            f"单位舍入误差 u = 2^{{-{m + 1}}} ≈ {it['u']:.3g}",
            size=12,
            anchor="start",
            muted=True,
        )
    assert x0 + 32 * bit <= WIDTH
    return d


def tensor_parallel_swiglu() -> Drawing:
    """预训练 TinyLlama 第 1 层的 SwiGLU 切给 2 张卡：列切分接行切分。"""
    from tinymodels.checkpoint import read_checkpoint_metadata
    from tinymodels.models.llama import TinyLlama
    from tinymodels.pretrained import BASE_MODEL_PATH

    model = TinyLlama(**read_checkpoint_metadata(BASE_MODEL_PATH)["config"])
    ffn = model.blocks[0].ffn
    C, d_ff, P = model.d_model, model.d_ff, 2
    assert tuple(ffn.w1.weight.shape) == (d_ff, C)
    assert tuple(ffn.w2.weight.shape) == (C, d_ff) and d_ff % P == 0
    h = d_ff // P
    d = Drawing(
        "tensor-parallel-swiglu",
        200,
        f"SwiGLU（C = {C}，d_ff = {d_ff}）切给 {P} 张卡：每张卡存 W1、W3 的 "
        f"{h} 行和 W2 的 {h} 列，算出一份 (n, {C}) 的部分和，全归约相加",
    )
    d.text(
        WIDTH / 2,
        20,
        f"预训练 TinyLlama 第 1 层的 SwiGLU：W1、W3 为 {d_ff}×{C}，"
        f"W2 为 {C}×{d_ff}",
        size=13,
        bold=True,
    )
    d.box(52, 110, 76, 42, ["x", f"(n, {C})"], "gray", 13)
    for r in range(P):
        cy = 70 + r * 80
        d.text(143, cy - 28, f"卡 {r}", size=12, anchor="start", muted=True)
        d.line([(90, 110), (140, cy)])
        d.box(
            226, cy, 166, 46,
            [f"W1、W3：隐藏单元 {r * h}–{(r + 1) * h - 1}",
             f"（各 {h}×{C}）"],
            "blue", 12,
        )  # fmt: skip
        d.line([(309, cy), (332, cy)])
        d.box(
            380, cy, 92, 46, ["SiLU(·)⊙(·)", f"(n, {h})"], "gray", 12
        )  # fmt: skip
        d.line([(426, cy), (450, cy)])
        d.box(
            514, cy, 124, 46, [f"W2 对应的 {h} 列", f"→ 部分和 (n, {C})"],
            "orange", 12,
        )  # fmt: skip
        d.line([(576, cy), (612, 110 + (cy - 110) * 0.3)])
    d.op(624, 110, "+")
    d.text(624, 145, "全归约", size=12)
    d.text(624, 162, f"y：(n, {C})", size=12)
    d.text(
        WIDTH / 2,
        190,
        "非线性逐元素作用，各卡只用自己的隐藏单元：中间不通信",
        size=12,
        muted=True,
    )
    return d


def _gpipe(p: int, m: int, tf: int = 1, tb: int = 2) -> dict:
    """与 parallelism.md 的 gpipe 相同：{(段, "F"/"B", j): (开始, 结束)}。"""
    ops, free = {}, [0] * p
    order = [("F", j, s) for j in range(m) for s in range(p)]
    order += [("B", j, s) for j in range(m)[::-1] for s in range(p)[::-1]]
    for kind, j, s in order:
        if kind == "F":
            ready = ops[s - 1, "F", j][1] if s > 0 else 0
        else:
            ready = ops[(s + 1, "B", j) if s < p - 1 else (s, "F", j)][1]
        start = max(free[s], ready)
        free[s] = start + (tf if kind == "F" else tb)
        ops[s, kind, j] = (start, free[s])
    return ops


def pipeline_gpipe() -> Drawing:
    """p = 4、m = 8 的 GPipe 时间表：前向、反向与气泡。"""
    p, m, tf, tb = 4, 8, 1, 2
    ops = _gpipe(p, m, tf, tb)
    T = max(end for _, end in ops.values())
    busy = sum(b - a for a, b in ops.values())
    bubble = 1 - busy / (p * T)
    assert T == (m + p - 1) * (tf + tb)
    assert abs(bubble - (p - 1) / (m + p - 1)) < 1e-12
    d = Drawing(
        "pipeline-gpipe",
        200,
        f"GPipe 时间表：{p} 段、{m} 个微批量，总时间 {T} 个单位，"
        f"气泡占 {bubble:.1%}",
    )
    x0, y0, row, u = 70, 36, 30, 600 / T
    title = (
        f"p = {p}，m = {m}，t_{{f}} = {tf}，t_{{b}} = {tb}：总时间 {T}，"
        f"气泡 (p − 1)/(m + p − 1) = {bubble:.1%}"
    )
    assert text_width(title, 13) < WIDTH - 20
    d.text(WIDTH / 2, 20, title, size=13, bold=True)
    for s in range(p):
        y = y0 + s * row
        d.text(x0 - 8, y + 17, f"第 {s + 1} 段", size=12, anchor="end")
        d.rect(x0, y, T * u, row - 6, "gray", rx=0, opacity=0.04,
               stroke_width=0.5, dash=True)  # fmt: skip
    for (s, kind, j), (a, b) in ops.items():
        y = y0 + s * row
        tint = "blue" if kind == "F" else "green"
        d.rect(x0 + a * u, y, (b - a) * u, row - 6, tint, rx=0,
               stroke_width=0.8)  # fmt: skip
        d.text(x0 + (a + b) / 2 * u, y + 16, str(j + 1), size=12)
    ya = y0 + p * row + 4
    d.line([(x0, ya), (x0 + T * u + 8, ya)])
    for t in range(0, T + 1, 3):
        d.text(x0 + t * u, ya + 16, str(t), size=12, muted=True)
    d.text(x0 + T * u, ya + 34, "时间", size=12, anchor="end", muted=True)
    d.rect(x0, ya + 24, 14, 14, "blue", rx=0)
    d.text(x0 + 20, ya + 36, "前向", size=12, anchor="start")
    d.rect(x0 + 64, ya + 24, 14, 14, "green", rx=0)
    d.text(x0 + 84, ya + 36, "反向（数字是微批量）", size=12, anchor="start")
    return d


DIAGRAMS = {
    "float-formats": float_formats,
    "tensor-parallel-swiglu": tensor_parallel_swiglu,
    "pipeline-gpipe": pipeline_gpipe,
}
