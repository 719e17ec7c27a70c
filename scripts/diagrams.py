#!/usr/bin/env python3
"""从 tinymodels 的真实模型生成架构页面的示意图 docs/assets/diagrams/*.svg。

用法（在仓库根目录）::

    python scripts/diagrams.py          # 重新生成全部图
    python scripts/diagrams.py --check  # 只检查已提交的图是否过期

图上写的形状、尺寸和参数量都不是手写的：每张图先按文章里的配置实例化模型，
在很小的输入上做一次前向（tinygrad 是惰性的，只读 ``.shape`` 不会编译内核），
再把读到的数字画上去。模型一改，``tests/site/test_diagrams.py`` 就会指出哪张
图过期了。

SVG 直接写成文本：线条和文字用 ``currentColor``、填充用低不透明度的色块，内联
进页面（``--8<--`` 嵌入，见 CONTRIBUTING.md 的“图”一节）后随浅色/深色主题
变色。字号不小于 12（按 680 的 viewBox 宽度，桌面上 1:1 显示）。
"""

from __future__ import annotations

import argparse
import html
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from devtools.paths import DOCS, write_atomic  # noqa: E402

OUT_DIR = DOCS / "assets" / "diagrams"

#: 页面上的显示宽度（px）就是 viewBox 的宽度：桌面上 1:1，手机上等比缩小。
WIDTH = 680
FONT = 14
MATH = 15  # 带下标的符号用稍大的字，下标 12
MIN_FONT = 12

#: 色块：低不透明度，在白底和深色底上都看得清，文字始终是 currentColor。
TINT = {
    "blue": "#4f7cff",
    "green": "#2fa84f",
    "orange": "#f08c00",
    "purple": "#9c5bd6",
    "red": "#e5484d",
    "gray": "currentColor",
}
TINT_OPACITY = {"gray": 0.08}
DEFAULT_OPACITY = 0.22


def _fmt(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def text_width(s: str, size: float) -> float:
    """估计文字宽度：汉字与全角符号 1 em，其余约 0.58 em。"""
    plain = _SCRIPT.sub(r"\2", s)
    return sum(size if ord(c) > 0x2E80 else 0.58 * size for c in plain)


def shape_str(shape) -> str:
    return "(" + ", ".join(str(int(n)) for n in shape) + ")"


def by(shape) -> str:
    return "×".join(str(int(n)) for n in shape)


class Drawing:
    """一张 SVG 图：元素按调用顺序一行一个，输出确定。"""

    def __init__(self, name: str, height: int, title: str):
        self.name, self.height, self.title = name, height, title
        self.parts: list[str] = []

    # ------------------------------------------------------------ 基本元素
    def rect(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        tint: str | None = "gray",
        dash: bool = False,
        rx: float = 6,
        stroke: bool = True,
        opacity: float | None = None,
        stroke_width: float = 1.5,
    ) -> None:
        attrs = f'x="{_fmt(x)}" y="{_fmt(y)}" width="{_fmt(w)}" '
        attrs += f'height="{_fmt(h)}" rx="{_fmt(rx)}"'
        if tint is None:
            attrs += ' fill="none"'
        else:
            op = opacity or TINT_OPACITY.get(tint, DEFAULT_OPACITY)
            attrs += f' fill="{TINT[tint]}" fill-opacity="{_fmt(op)}"'
        if stroke:
            attrs += ' stroke="currentColor"'
            attrs += f' stroke-width="{_fmt(stroke_width)}"'
            if dash:
                attrs += ' stroke-dasharray="5 4"'
        self.parts.append(f"<rect {attrs}/>")

    def text(
        self,
        x: float,
        y: float,
        s: str,
        size: int = FONT,
        anchor: str = "middle",
        bold: bool = False,
        muted: bool = False,
        italic: bool = False,
    ) -> None:
        """一行文字；``h_{t-1}``、``ℝ^{16}`` 写成下标、上标。"""
        assert size >= MIN_FONT, (self.name, s, size)
        attrs = f'x="{_fmt(x)}" y="{_fmt(y)}"'
        if anchor != "start":
            attrs += f' text-anchor="{anchor}"'
        if size != FONT:
            attrs += f' font-size="{size}"'
        if bold:
            attrs += ' font-weight="bold"'
        if italic:
            attrs += ' font-style="italic"'
        if muted:
            attrs += ' fill-opacity="0.75"'
        self.parts.append(f"<text {attrs}>{_rich(s, size)}</text>")

    def line(
        self,
        points: list[tuple[float, float]],
        dash: bool = False,
        arrow: bool = True,
        width: float = 1.5,
    ) -> None:
        """折线；``arrow`` 时在终点画一个实心箭头。"""
        (x0, y0), (x1, y1) = points[-2], points[-1]
        norm = ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5
        ux, uy = (x1 - x0) / norm, (y1 - y0) / norm
        if arrow:  # 线停在箭头根部，免得线头从箭尖戳出来
            points = [*points[:-1], (x1 - 6 * ux, y1 - 6 * uy)]
        pts = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in points)
        attrs = f'points="{pts}" fill="none" stroke="currentColor" '
        attrs += f'stroke-width="{_fmt(width)}"'
        if dash:
            attrs += ' stroke-dasharray="5 4"'
        self.parts.append(f"<polyline {attrs}/>")
        if arrow:
            px, py = -uy, ux
            tri = [
                (x1, y1),
                (x1 - 9 * ux + 4.5 * px, y1 - 9 * uy + 4.5 * py),
                (x1 - 9 * ux - 4.5 * px, y1 - 9 * uy - 4.5 * py),
            ]
            pts = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in tri)
            self.parts.append(
                f'<polygon points="{pts}" fill="currentColor" stroke="none"/>'
            )

    def op(self, cx: float, cy: float, symbol: str, r: float = 11) -> None:
        """圆圈里的运算符：⊕（加）、⊙（逐元素乘）、tanh 之类。"""
        self.parts.append(
            f'<circle cx="{_fmt(cx)}" cy="{_fmt(cy)}" r="{_fmt(r)}" '
            'fill="currentColor" fill-opacity="0.08" stroke="currentColor" '
            'stroke-width="1.5"/>'
        )
        self.text(cx, cy + 5, symbol, size=MATH)

    def box(
        self,
        cx: float,
        cy: float,
        w: float,
        h: float,
        lines: list[str],
        tint: str = "gray",
        size: int = FONT,
        dash: bool = False,
    ) -> None:
        """以 (cx, cy) 为中心的圆角框，文字逐行居中；放不下就报错。"""
        self.rect(cx - w / 2, cy - h / 2, w, h, tint, dash=dash)
        gap = size + 4
        y0 = cy - gap * (len(lines) - 1) / 2 + size * 0.36
        for k, s in enumerate(lines):
            assert text_width(s, size) <= w - 6, (self.name, s, w)
            self.text(cx, y0 + k * gap, s, size=size)

    # ------------------------------------------------------------ 输出
    def svg(self) -> str:
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="kb-diagram" '
            f'viewBox="0 0 {WIDTH} {self.height}" width="{WIDTH}" '
            f'height="{self.height}" role="img" '
            f'aria-labelledby="kb-{self.name}-title" fill="currentColor" '
            f'font-size="{FONT}" font-family="sans-serif" '
            'style="font-family: var(--md-text-font-family, sans-serif)">'
        )
        title = (
            f'<title id="kb-{self.name}-title">{html.escape(self.title)}'
            "</title>"
        )
        return "\n".join([head, title, *self.parts, "</svg>"]) + "\n"


_SCRIPT = re.compile(r"([_^])\{([^}]*)\}")


def _rich(s: str, size: int) -> str:
    """把 ``x_{t-1}``、``ℝ^{64}`` 变成下标、上标的 tspan。

    只认花括号：``weight_ih`` 这样的代码名照原样显示。
    """
    out, pos, shift = [], 0, 0
    small = max(MIN_FONT, round(size * 0.8))
    for m in _SCRIPT.finditer(s):
        before = html.escape(s[pos : m.start()], quote=False)
        if before:
            out.append(
                f'<tspan dy="{-shift}">{before}</tspan>' if shift else before
            )
            shift = 0
        kind, body = m.group(1), html.escape(m.group(2), quote=False)
        new = round(size * 0.3) if kind == "_" else -round(size * 0.4)
        out.append(
            f'<tspan dy="{new - shift}" font-size="{small}">{body}</tspan>'
        )
        shift = new
        pos = m.end()
    rest = html.escape(s[pos:], quote=False)
    if rest:
        out.append(f'<tspan dy="{-shift}">{rest}</tspan>' if shift else rest)
    return "".join(out)


# =================================================================== 各张图
# 每个函数按对应页面里的配置实例化模型，只读形状与参数量。


def cnn_conv() -> Drawing:
    """卷积核在补零后的输入上以步幅 S 滑动。

    配置同 cnn/index.md“用循环核对公式”一节。
    """
    from tinygrad import Tensor

    from tinymodels import Conv2d, count_parameters

    C_in, C_out, K, S, P, H = 3, 4, 3, 2, 1, 7
    conv = Conv2d(C_in, C_out, kernel_size=K, stride=S, padding=P)
    H_out, W_out = conv.output_size(H, H)
    y = conv(Tensor.zeros(1, C_in, H, H))
    assert tuple(y.shape[2:]) == (H_out, W_out)
    n_params = count_parameters(conv)

    d = Drawing(
        "cnn-conv",
        395,
        f"{K}×{K} 卷积核以步幅 {S} 在补零 {P} 圈的 {H}×{H} 输入上滑动，"
        f"得到 {H_out}×{W_out} 的输出",
    )
    cell, x0, y0 = 24, 30, 92
    n = H + 2 * P
    d.text(
        x0,
        30,
        f"补零后的输入 {n}×{n}（原图 {H}×{H}，P = {P}）",
        anchor="start",
        bold=True,
    )
    d.text(
        x0,
        48,
        f"每格是 {C_in} 个输入通道在同一位置的值",
        size=12,
        anchor="start",
        muted=True,
    )
    for r in range(n):
        for c in range(n):
            pad = min(r, c) < P or max(r, c) >= n - P
            d.rect(
                x0 + c * cell,
                y0 + r * cell,
                cell,
                cell,
                "gray",
                rx=0,
                opacity=0.02 if pad else 0.1,
                stroke_width=0.6,
                dash=pad,
            )
    # 第 (i, j) 个输出对应的窗口：行 S*i..S*i+K-1，列 S*j..S*j+K-1
    i, j = 0, 1
    d.rect(
        x0 + S * (j - 1) * cell,
        y0 + S * i * cell,
        K * cell,
        K * cell,
        None,
        dash=True,
        rx=2,
        stroke_width=2,
    )
    d.rect(
        x0 + S * j * cell,
        y0 + S * i * cell,
        K * cell,
        K * cell,
        "blue",
        rx=2,
        opacity=0.35,
        stroke_width=2.5,
    )
    top = y0 + S * i * cell - 8
    d.line(
        [
            (x0 + S * (j - 1) * cell + cell / 2, top),
            (x0 + S * j * cell + cell / 2, top),
        ]
    )
    d.text(
        x0 + S * (j - 0.5) * cell + cell / 2,
        top - 6,
        f"步幅 S = {S}",
        size=12,
    )
    d.text(
        x0 + n * cell / 2,
        y0 + n * cell + 22,
        f"虚线格：补的 0；蓝框：{K}×{K} 卷积核（K = {K}）",
        size=12,
        muted=True,
    )

    # 中间：逐项相乘再求和
    mx = x0 + n * cell + 20
    mid = y0 + (S * i + K / 2) * cell
    d.line([(mx, mid), (mx + 150, mid)])
    d.text(mx + 75, mid - 26, "逐项相乘再求和", size=13)
    d.text(mx + 75, mid - 9, f"（跨越全部 {C_in} 个通道）", size=12)
    d.text(mx + 75, mid + 20, f"加偏置，共 {C_out} 个卷积核", size=12)

    # 右侧：输出
    oc, ox = 34, mx + 170
    oy = y0 + 10
    d.text(ox, 30, f"输出 {H_out}×{W_out}", anchor="start", bold=True)
    d.text(
        ox,
        48,
        f"每个卷积核一张，共 {C_out} 张",
        size=12,
        anchor="start",
        muted=True,
    )
    for r in range(H_out):
        for c in range(W_out):
            hit = (r, c) == (i, j)
            d.rect(
                ox + c * oc,
                oy + r * oc,
                oc,
                oc,
                "blue" if hit else "gray",
                rx=0,
                opacity=0.35 if hit else 0.1,
                stroke_width=2.5 if hit else 0.6,
            )
    d.text(
        ox + (j + 0.5) * oc,
        oy + (i + 0.5) * oc + 5,
        f"({i}, {j})",
        size=12,
    )

    fy = y0 + n * cell + 52
    d.text(
        WIDTH / 2,
        fy,
        f"H_{{out}} = ⌊(H + 2P − K) / S⌋ + 1 = ⌊({H} + {2 * P} − {K}) / {S}"
        f"⌋ + 1 = {H_out}",
        size=MATH,
    )
    d.text(
        WIDTH / 2,
        fy + 22,
        f"Conv2d({C_in}, {C_out}, {K}, stride={S}, padding={P})："
        f"输入 {shape_str((1, C_in, H, H))} → 输出 {shape_str(y.shape)}，"
        f"参数 {n_params} 个",
        size=12,
        muted=True,
    )
    return d


def cnn_lenet() -> Drawing:
    """LeNet() 每一段之后的形状与参数量，全部来自一次前向。"""
    from tinygrad import Tensor

    from tinymodels import LeNet, count_parameters, set_seed

    set_seed(0)
    net = LeNet()
    x = Tensor.zeros(1, net.in_channels, *net.input_size)
    maps = net.features(x)
    stages = [("输入", "", tuple(x.shape[1:]), 0)]
    for k, (conv, m) in enumerate(zip(net.convs, maps), start=1):
        pooled = m.max_pool2d(kernel_size=2)
        stages.append(
            (
                f"卷积 {k}",
                "+ ReLU",
                tuple(m.shape[1:]),
                count_parameters(conv),
            )
        )
        stages.append(("最大池化", "2×2", tuple(pooled.shape[1:]), 0))
    flat = pooled.reshape(1, -1)
    assert flat.shape[1] == net.flat_features
    hidden = net.fc1(flat)
    logits = net(x)
    stages += [
        ("展平", "", tuple(flat.shape[1:]), 0),
        (
            "全连接 1",
            "+ ReLU",
            tuple(hidden.shape[1:]),
            count_parameters(net.fc1),
        ),
        (
            "全连接 2",
            "logits",
            tuple(logits.shape[1:]),
            count_parameters(net.fc2),
        ),
    ]
    total = count_parameters(net)
    assert sum(s[3] for s in stages) == total

    d = Drawing(
        "cnn-lenet",
        250,
        f"LeNet 逐层的形状：输入 {by(x.shape[1:])}，输出 "
        f"{logits.shape[1]} 个 logits，共 {total} 个参数",
    )
    d.text(
        WIDTH / 2,
        24,
        f"LeNet()：每个样本的形状 (C, H, W)（省略批维度 N），"
        f"共 {total} 个参数",
        bold=True,
    )
    col = WIDTH / len(stages)
    base = 150  # 图形的底边
    extent = []  # 每个图形的左右边界（相对中心），画箭头用
    for shape in (s[2] for s in stages):
        if len(shape) == 3:
            side = 8 * shape[1]
            extent.append((side / 2, side / 2 + 4 * (min(shape[0], 4) - 1)))
        else:
            extent.append((6, 6))
    for k, (name, sub, shape, n_params) in enumerate(stages):
        cx = col * (k + 0.5)
        if len(shape) == 3:  # 特征图：一叠正方形，边长与 H 成正比
            C, H, _ = shape
            side = 8 * H
            layers = min(C, 4)
            tint = "blue" if k and "卷积" in name else "gray"
            if k == 0:
                tint = "green"
            for q in reversed(range(layers)):
                off = 4 * q
                d.rect(
                    cx - side / 2 + off,
                    base - side - off,
                    side,
                    side,
                    tint,
                    rx=1,
                    stroke_width=1,
                )
        else:  # 向量：竖条，高度与长度成正比
            n = shape[0]
            tint = "orange" if "全连接" in name else "gray"
            d.rect(cx - 6, base - n, 12, n, tint, rx=1, stroke_width=1)
        if k + 1 < len(stages):
            a, b = cx + extent[k][1] + 4, cx + col - extent[k + 1][0] - 4
            d.line([(a, base - 8), (b, base - 8)])
        d.text(cx, base + 22, name, size=13, bold=True)
        d.text(cx, base + 39, sub, size=12, muted=True)
        d.text(cx, base + 58, by(shape), size=13)
        d.text(
            cx,
            base + 76,
            f"{n_params} 参数" if n_params else "无参数",
            size=12,
            muted=True,
        )
    return d


def rnn_unrolled() -> Drawing:
    """RNN 按时间展开：每一步用同一组 W_xh、W_hh（rnn-lstm/index.md）。"""
    from tinygrad import Tensor

    from tinymodels import RNN, count_parameters, set_seed

    set_seed(0)
    B, T, I, H = 4, 16, 2, 16
    rnn = RNN(I, H)
    outputs, h_T = rnn(Tensor.zeros(B, T, I))
    assert tuple(outputs.shape) == (B, T, H) and tuple(h_T.shape) == (B, H)
    w_xh, w_hh = tuple(rnn.weight_ih.shape), tuple(rnn.weight_hh.shape)

    d = Drawing(
        "rnn-unrolled",
        300,
        "RNN 按时间展开：每一步用同一组 W_xh、W_hh 把 x_t 和 h_t−1 变成 h_t",
    )
    # 左：折叠的写法
    fx, cy = 60, 140
    d.box(fx, cy, 70, 44, ["tanh"], "blue")
    d.line([(fx, 225), (fx, cy + 22)])
    d.text(fx, 246, "x_{t}", size=MATH, italic=True)
    d.line([(fx, cy - 22), (fx, 58)])
    d.text(fx, 48, "h_{t}", size=MATH, italic=True)
    d.line(
        [(fx + 35, cy - 8), (fx + 58, cy - 8), (fx + 58, cy + 36)],
        arrow=False,
    )
    d.line([(fx + 58, cy + 36), (fx + 20, cy + 36), (fx + 20, cy + 22)])
    d.text(fx + 62, cy + 14, "W_{hh}", size=MATH, anchor="start")
    d.text(fx - 8, 200, "W_{xh}", size=MATH, anchor="end")
    d.text(166, cy + 7, "=", size=22)

    # 右：展开
    steps = ["1", "2", "3", None, "T"]
    xs = [290, 385, 480, 548, 620]
    d.text(182, cy - 10, "h_{0} = 0", size=MATH, anchor="start", italic=True)
    prev = 182
    for s, x in zip(steps, xs):
        if s is None:
            d.text(x, cy + 5, "…", size=18)
            d.line([(prev, cy), (x - 14, cy)], arrow=False)
            prev = x + 14
            continue
        d.line([(prev, cy), (x - 28, cy)])
        d.box(x, cy, 56, 44, ["tanh"], "blue")
        d.line([(x, 225), (x, cy + 22)])
        d.text(x, 246, f"x_{{{s}}}", size=MATH, italic=True)
        d.line([(x, cy - 22), (x, 58)])
        d.text(x, 48, f"h_{{{s}}}", size=MATH, italic=True)
        d.text(x + 4, 200, "W_{xh}", size=12, anchor="start", muted=True)
        if s != "1":
            d.text((prev + x - 28) / 2, cy - 8, "W_{hh}", size=12, muted=True)
        prev = x + 28
    d.text(
        WIDTH / 2,
        276,
        f"每一步共用 W_{{xh}} {by(w_xh)}、W_{{hh}} {by(w_hh)} 和偏置"
        f"（共 {count_parameters(rnn)} 个参数）；x_{{t}} ∈ ℝ^{{{I}}}，"
        f"h_{{t}} ∈ ℝ^{{{H}}}",
        size=13,
    )
    d.text(
        WIDTH / 2,
        294,
        f"RNN({I}, {H}) 输入 {shape_str((B, T, I))} → outputs "
        f"{shape_str(outputs.shape)}、h_{{T}} {shape_str(h_T.shape)}",
        size=12,
        muted=True,
    )
    return d


def lstm_cell() -> Drawing:
    """一步 LSTM：四个门 i、f、g（= c̃）、o，细胞状态 c 沿上方的加法路径。"""
    from tinygrad import Tensor

    from tinymodels import LSTM, set_seed

    set_seed(0)
    B, I, H = 4, 2, 16
    lstm = LSTM(I, H)
    h, c = lstm.step(
        Tensor.zeros(B, I), Tensor.zeros(B, H), Tensor.zeros(B, H)
    )
    assert tuple(h.shape) == tuple(c.shape) == (B, H)
    w_x, w_h = tuple(lstm.weight_ih.shape), tuple(lstm.weight_hh.shape)
    assert w_x[0] == 4 * H

    d = Drawing(
        "lstm-cell",
        350,
        "LSTM 单元：遗忘门 f、输入门 i、候选值 c̃ 与输出门 o "
        "如何更新 c_t 与 h_t",
    )
    cy, gy, bus = 60, 190, 258
    # 细胞状态：上方的直通路径
    d.rect(20, 22, 602, 206, None, dash=True, rx=10, stroke_width=1)
    d.text(40, cy - 10, "c_{t−1}", size=MATH, anchor="start", italic=True)
    d.line([(40, cy), (209, cy)])
    d.op(220, cy, "⊙")
    d.line([(231, cy), (369, cy)])
    d.op(380, cy, "+")
    d.line([(391, cy), (640, cy)])
    d.text(645, cy + 5, "c_{t}", size=MATH, anchor="start", italic=True)
    d.text(
        300,
        cy - 12,
        "细胞状态：只有逐元素乘与加",
        size=12,
        muted=True,
    )

    # 四个门，顺序同 weight_ih 的拼接顺序 i, f, g, o
    gates = [
        (300, "i_{t}", "σ", "输入门"),
        (220, "f_{t}", "σ", "遗忘门"),
        (380, "c̃_{t}", "tanh", "候选值 g"),
        (470, "o_{t}", "σ", "输出门"),
    ]
    for x, sym, act, name in gates:
        d.box(x, gy, 66, 44, [name, act], "orange", size=13)
        d.line([(x, bus), (x, gy + 22)])
        d.text(x - 36, gy - 26, sym, size=MATH, anchor="end", italic=True)
    # f_t → ⊙ c_{t-1}
    d.line([(220, gy - 22), (220, cy + 11)])
    # i_t ⊙ c̃_t → +
    d.op(380, 125, "⊙")
    d.line([(380, gy - 22), (380, 136)])
    d.line([(300, gy - 22), (300, 125), (369, 125)])
    d.line([(380, 114), (380, cy + 11)])
    # c_t → tanh → ⊙ o_t → h_t
    d.line([(550, cy), (550, 103)])
    d.box(550, 120, 50, 30, ["tanh"], "purple")
    d.line([(550, 135), (550, 179)])
    d.op(550, 190, "⊙")
    d.line([(503, gy), (539, gy)])
    d.line([(561, gy), (640, gy)])
    d.text(645, gy + 5, "h_{t}", size=MATH, anchor="start", italic=True)

    # 输入：h_{t-1} 与 x_t 一起送进四个门
    d.text(40, bus - 10, "h_{t−1}", size=MATH, anchor="start", italic=True)
    d.line([(40, bus), (470, bus)], arrow=False)
    d.line([(150, 290), (150, bus)], arrow=False)
    d.text(142, 292, "x_{t}", size=MATH, anchor="end", italic=True)
    d.text(
        495,
        bus + 5,
        f"x_{{t}} ∈ ℝ^{{{I}}}，h_{{t}}、c_{{t}} ∈ ℝ^{{{H}}}",
        size=13,
        anchor="start",
    )
    d.text(
        WIDTH / 2,
        318,
        f"四个门的权重上下拼接：weight_ih {by(w_x)}、weight_hh {by(w_h)}"
        f"（4H = {w_x[0]}，顺序 i, f, g, o）",
        size=12,
        muted=True,
    )
    d.text(
        WIDTH / 2,
        340,
        f"σ：sigmoid　⊙：逐元素乘　LSTM({I}, {H}).step 输出 h、c 的形状"
        f" {shape_str(h.shape)}",
        size=12,
        muted=True,
    )
    return d


def attention_masks() -> Drawing:
    """因果掩码与填充掩码：哪些 (查询 i, 键 j) 可以看。"""
    import numpy as np

    from tinymodels import causal_mask, padding_mask

    T, lengths = 5, [5, 3]
    causal = causal_mask(T).numpy()  # True：可以看
    pad = padding_mask(lengths, max_len=T).numpy()  # True：这是填充
    b = 1
    pad_rows = np.broadcast_to(~pad[b], (T, T))
    grids = [
        ("因果掩码", f"causal_mask({T})", causal),
        ("填充掩码", f"第 {b + 1} 条序列，长度 {lengths[b]}", pad_rows),
        ("两者合用", "因果且不是填充", causal & pad_rows),
    ]
    d = Drawing(
        "attention-masks",
        290,
        f"{T}×{T} 的注意力掩码：因果掩码、填充掩码（长度 {lengths[b]}）"
        "与两者合用时可以看的位置",
    )
    cell = 28
    for g, (name, sub, allowed) in enumerate(grids):
        gx, gy = 50 + g * 225, 80
        d.text(gx + T * cell / 2, 24, name, bold=True)
        d.text(gx + T * cell / 2, 44, sub, size=12, muted=True)
        for j in range(T):
            d.text(gx + (j + 0.5) * cell, gy - 8, str(j), size=12, muted=True)
        for i in range(T):
            d.text(
                gx - 8,
                gy + (i + 0.5) * cell + 4,
                str(i),
                size=12,
                anchor="end",
                muted=True,
            )
            for j in range(T):
                ok = bool(allowed[i, j])
                d.rect(
                    gx + j * cell,
                    gy + i * cell,
                    cell,
                    cell,
                    "green" if ok else "gray",
                    rx=0,
                    opacity=0.45 if ok else 0.04,
                    stroke_width=0.8,
                )
                if not ok:
                    d.text(
                        gx + (j + 0.5) * cell,
                        gy + (i + 0.5) * cell + 5,
                        "×",
                        size=14,
                        muted=True,
                    )
        d.text(
            gx + T * cell / 2,
            gy + T * cell + 22,
            f"可以看 {int(allowed.sum())} / {T * T} 个位置",
            size=12,
        )
    d.rect(150, 256, 16, 16, "green", rx=0, opacity=0.45, stroke_width=0.8)
    d.text(172, 269, "可以看（分数保留）", size=12, anchor="start")
    d.rect(330, 256, 16, 16, "gray", rx=0, opacity=0.04, stroke_width=0.8)
    d.text(338, 269, "×", size=14, muted=True)
    d.text(352, 269, "禁止（分数换成 −∞，权重为 0）", size=12, anchor="start")
    d.text(WIDTH - 10, 269, "行：查询 i　列：键 j", size=12, anchor="end")
    return d


def transformer_block() -> Drawing:
    """Pre-LN 编码器块：x ← x + Attn(LN₁(x))，x ← x + FFN(LN₂(x))。"""
    from tinygrad import Tensor

    from tinymodels import EncoderBlock, count_parameters, set_seed

    set_seed(0)
    B, T, dm, h, d_ff = 2, 5, 16, 4, 32
    block = EncoderBlock(dm, h, d_ff)
    x = Tensor.zeros(B, T, dm)
    a = block.attn(block.ln1(x))
    x1 = x + a
    hidden = block.ff.fc1(block.ln2(x1))
    y = block(x)
    assert tuple(y.shape) == tuple(x.shape)
    p_attn, p_ff = count_parameters(block.attn), count_parameters(block.ff)
    p_ln = count_parameters(block.ln1)

    d = Drawing(
        "transformer-block",
        250,
        f"Pre-LN Transformer 块：先 LayerNorm 再进子层，残差直接相加；"
        f"形状 {shape_str(x.shape)} 进、{shape_str(y.shape)} 出",
    )
    d.text(
        WIDTH / 2,
        22,
        f"EncoderBlock({dm}, {h}, {d_ff})：形状 (B, T, d) = "
        f"{shape_str(x.shape)}，共 {count_parameters(block)} 个参数",
        bold=True,
    )
    cy = 140
    d.text(22, cy + 5, "x", size=MATH, italic=True)
    d.line([(32, cy), (70, cy)])
    d.box(95, cy, 50, 36, ["LN₁"], "gray")
    d.line([(120, cy), (145, cy)])
    d.box(205, cy, 120, 50, ["多头自注意力", f"h = {h}"], "blue")
    d.line([(265, cy), (289, cy)])
    d.op(300, cy, "+")
    d.line([(311, cy), (345, cy)])
    d.box(370, cy, 50, 36, ["LN₂"], "gray")
    d.line([(395, cy), (420, cy)])
    d.box(
        480,
        cy,
        120,
        50,
        ["前馈网络", f"{dm} → {hidden.shape[-1]} → {dm}"],
        "orange",
    )
    d.line([(540, cy), (564, cy)])
    d.op(575, cy, "+")
    d.line([(586, cy), (625, cy)])
    d.text(640, cy + 5, "y", size=MATH, italic=True)
    # 残差：绕过子层，直接加到输出上
    d.line([(50, cy), (50, 70), (300, 70), (300, cy - 11)])
    d.line([(330, cy), (330, 70), (575, 70), (575, cy - 11)])
    d.text(175, 62, "残差：x 原样加回", size=12, muted=True)
    d.text(452, 62, "残差", size=12, muted=True)
    # 形状与参数
    sy = cy + 48
    d.text(50, sy, shape_str(x.shape), size=12)
    d.text(205, sy, f"{p_attn} 参数", size=12, muted=True)
    d.text(95, sy + 18, f"{p_ln} 参数", size=12, muted=True)
    d.text(330, sy, shape_str(x1.shape), size=12)
    d.text(370, sy + 18, f"{p_ln} 参数", size=12, muted=True)
    d.text(480, sy, f"{p_ff} 参数", size=12, muted=True)
    d.text(
        480,
        sy + 18,
        f"隐藏层 {shape_str(hidden.shape)}",
        size=12,
        muted=True,
    )
    d.text(625, sy, shape_str(y.shape), size=12)
    d.text(
        WIDTH / 2,
        240,
        "每个子层：x ← x + 子层(LN(x))；输出与输入形状相同，块可以一层层堆叠",
        size=12,
        muted=True,
    )
    return d


def autoencoder() -> Drawing:
    """自编码器各层宽度 64 → 32 → 8 → 32 → 64（autoencoder-gan/index.md）。"""
    from tinygrad import Tensor

    from tinymodels import Autoencoder, count_parameters, set_seed

    set_seed(0)
    ae = Autoencoder(input_dim=64, hidden_dims=(32,), latent_dim=8)
    x = Tensor.zeros(1, ae.input_dim)
    z = ae.encode(x)
    x_hat = ae(x)
    assert tuple(x_hat.shape) == tuple(x.shape)
    layers = ae.encoder + ae.decoder
    widths = [layers[0].weight.shape[1]] + [L.weight.shape[0] for L in layers]
    assert widths[len(ae.encoder)] == z.shape[1]
    n_enc = len(ae.encoder)
    acts = ["ReLU"] * (n_enc - 1) + ["无激活"]
    acts += ["ReLU"] * (len(ae.decoder) - 1) + ["sigmoid"]

    d = Drawing(
        "autoencoder",
        290,
        "自编码器各层宽度："
        + " → ".join(str(w) for w in widths)
        + f"，瓶颈 z 为 {z.shape[1]} 维",
    )
    d.text(
        WIDTH / 2,
        22,
        f"Autoencoder({ae.input_dim}, {ae.hidden_dims}, {ae.latent_dim})："
        f"共 {count_parameters(ae)} 个参数",
        bold=True,
    )
    cy, scale = 135, 2.4
    gap = (WIDTH - 120) / (len(widths) - 1)
    xs = [60 + k * gap for k in range(len(widths))]
    for k in range(len(layers)):  # 层：两个宽度之间的梯形
        (xa, wa), (xb, wb) = (xs[k], widths[k]), (xs[k + 1], widths[k + 1])
        ha, hb = wa * scale / 2, wb * scale / 2
        pts = [
            (xa + 12, cy - ha),
            (xb - 12, cy - hb),
            (xb - 12, cy + hb),
            (xa + 12, cy + ha),
        ]
        tint = "blue" if k < n_enc else "orange"
        poly = " ".join(f"{_fmt(px)},{_fmt(py)}" for px, py in pts)
        d.parts.append(
            f'<polygon points="{poly}" fill="{TINT[tint]}" '
            'fill-opacity="0.16" stroke="none"/>'
        )
        d.text((xa + xb) / 2, cy + 4, "Linear", size=12)
        d.text((xa + xb) / 2, cy + 20, acts[k], size=12, muted=True)
    names = ["输入 x", *[""] * (len(widths) - 2), "重建 x̂"]
    names[n_enc] = "编码 z（瓶颈）"
    for k, (xk, w) in enumerate(zip(xs, widths)):
        hk = w * scale
        tint = "purple" if k == n_enc else "gray"
        d.rect(xk - 12, cy - hk / 2, 24, hk, tint, rx=2)
        d.text(xk, cy + hk / 2 + 18, str(w), size=13, bold=True)
        if names[k]:
            d.text(xk, cy + hk / 2 + 36, names[k], size=12)
    # 编码器、解码器的括号
    for (a, b), label in [
        ((xs[0], xs[n_enc]), "编码器 f_{φ}"),
        ((xs[n_enc], xs[-1]), "解码器 g_{θ}"),
    ]:
        d.line([(a, 50), (b, 50)], arrow=False, width=1)
        d.line([(a, 50), (a, 56)], arrow=False, width=1)
        d.line([(b, 50), (b, 56)], arrow=False, width=1)
        d.text((a + b) / 2, 44, label, size=13)
    d.text(
        WIDTH / 2,
        276,
        f"输入 {shape_str(x.shape)} → z {shape_str(z.shape)} → 重建 "
        f"{shape_str(x_hat.shape)}；损失 mse_loss(x̂, x)：标签就是输入本身",
        size=12,
        muted=True,
    )
    return d


def gan_loop() -> Drawing:
    """GAN 的交替训练：先更新判别器，再更新生成器（二维混合高斯的配置）。"""
    from tinygrad import Tensor

    from tinymodels import GAN, count_parameters, set_seed

    set_seed(0)
    gan = GAN(latent_dim=2, data_dim=2, hidden=(128,))
    G, D = gan.generator, gan.discriminator
    fake = G(Tensor.zeros(1, gan.latent_dim))
    s = D(fake)
    g_sizes = [G.layers[0].weight.shape[1]]
    g_sizes += [L.weight.shape[0] for L in G.layers]
    d_sizes = [D.layers[0].weight.shape[1]]
    d_sizes += [L.weight.shape[0] for L in D.layers]
    assert fake.shape[1] == gan.data_dim and s.shape[1] == 1

    d = Drawing(
        "gan-loop",
        330,
        "GAN 的一步训练：判别器区分真样本与 G(z)，"
        "生成器想让 D 把 G(z) 判成真",
    )
    m = gan.latent_dim
    d.box(70, 70, 110, 50, ["噪声 z", f"N(0, I)，{m} 维"], "gray", size=13)
    d.line([(125, 70), (170, 70)])
    d.box(
        235,
        70,
        130,
        50,
        ["生成器 G", " → ".join(map(str, g_sizes))],
        "purple",
    )
    d.line([(300, 70), (350, 70)])
    d.box(
        420,
        70,
        140,
        50,
        ["假样本 G(z)", f"形状 {shape_str(fake.shape)}"],
        "gray",
        size=13,
    )
    d.box(
        420,
        170,
        140,
        50,
        ["真样本 x", "8 个高斯的混合"],
        "green",
        size=13,
    )
    d.box(
        600,
        120,
        110,
        56,
        ["判别器 D", " → ".join(map(str, d_sizes))],
        "blue",
    )
    d.line([(490, 70), (520, 70), (520, 110), (545, 110)])
    d.line([(490, 170), (520, 170), (520, 130), (545, 130)])
    d.line([(600, 148), (600, 240)])
    d.text(
        606,
        200,
        f"logit s {shape_str(s.shape)}",
        size=12,
        anchor="start",
        muted=True,
    )
    # 两个损失
    d.box(
        470,
        270,
        330,
        50,
        [
            "① 更新 D：BCE(D(x), 1) + BCE(D(G(z)), 0)",
            "G(z) 先 detach：梯度不进 G",
        ],
        "blue",
        size=13,
    )
    d.box(
        150,
        270,
        270,
        50,
        ["② 更新 G：BCE(D(G(z)), 1)", "非饱和损失；只用 G 的优化器"],
        "purple",
        size=13,
    )
    d.line([(305, 270), (285, 270)])
    d.line([(150, 245), (150, 150), (235, 150), (235, 95)], dash=True)
    d.text(
        243,
        130,
        "梯度穿过 D 流回 G",
        size=12,
        anchor="start",
        muted=True,
    )
    d.text(
        WIDTH / 2,
        320,
        f"GAN(latent_dim={m}, data_dim={gan.data_dim}, hidden={G.hidden})："
        f"G {count_parameters(G)} 个参数，D {count_parameters(D)} 个参数",
        size=12,
        muted=True,
    )
    return d


def gpt_stack() -> Drawing:
    """TinyGPT 的整体结构与形状（tiny-gpt.md 里的配置与语料）。"""
    from tinygrad import Tensor, dtypes

    from tinymodels import (
        CharTokenizer,
        TinyGPT,
        count_parameters,
        load_corpus,
        set_seed,
    )

    V = CharTokenizer(load_corpus()[:15000]).vocab_size
    set_seed(0)
    model = TinyGPT(V, block_size=16, d_model=32, num_heads=4, num_layers=1)
    B, T = 16, model.block_size
    idx = Tensor.zeros(B, T, dtype=dtypes.int32)
    x = model.tok_emb[idx] + model.pos_emb[:T]
    block = model.blocks[0]
    hidden = block.mlp.fc1(block.ln2(x))
    logits = model(idx)
    C = model.d_model
    assert tuple(logits.shape) == (B, T, V)

    d = Drawing(
        "gpt-stack",
        385,
        f"TinyGPT 的结构：词嵌入加位置嵌入，{model.num_layers} 个 Pre-LN "
        "解码器块，最后的 LayerNorm 与输出头，得到 "
        f"{shape_str(logits.shape)} 的 logits",
    )
    d.text(
        WIDTH / 2,
        22,
        f"TinyGPT(V={V}, block_size={T}, d_model={C}, num_heads="
        f"{model.num_heads}, num_layers={model.num_layers})",
        bold=True,
        size=13,
    )
    cy = 95
    d.box(45, cy, 76, 50, ["词元 idx", shape_str(idx.shape)], "gray", size=13)
    d.line([(83, cy), (83, 70), (100, 70)])
    d.line([(83, cy), (83, 122), (100, 122)])
    d.box(
        160,
        70,
        118,
        42,
        ["词嵌入 E[idx]", f"E：{by(model.tok_emb.shape)}"],
        "green",
        size=12,
    )
    d.box(
        160,
        122,
        118,
        42,
        ["位置嵌入 P[:T]", f"P：{by(model.pos_emb.shape)}"],
        "green",
        size=12,
    )
    d.line([(219, 70), (240, 70), (240, cy - 11)])
    d.line([(219, 122), (240, 122), (240, cy + 11)])
    d.op(240, cy, "+")
    d.line([(251, cy), (282, cy)])
    d.box(
        340,
        cy,
        112,
        54,
        [f"解码器块 × {model.num_layers}", shape_str(x.shape)],
        "blue",
        size=13,
    )
    d.line([(396, cy), (420, cy)])
    d.box(445, cy, 46, 36, ["LN_{f}"], "gray", size=13)
    d.line([(468, cy), (488, cy)])
    d.box(
        521,
        cy,
        62,
        50,
        ["输出头", f"{C}→{V}"],
        "orange",
        size=12,
    )
    d.line([(552, cy), (572, cy)])
    d.box(
        624,
        cy,
        104,
        50,
        ["logits", shape_str(logits.shape)],
        "gray",
        size=12,
    )
    d.text(
        WIDTH / 2,
        374,
        f"共 {count_parameters(model):,} 个参数；位置 t 的 logits 只依赖"
        "第 0..t 个词元（因果掩码），用来预测第 t+1 个",
        size=12,
        muted=True,
    )

    # 下方：放大一个块
    top = 180
    d.rect(20, top, 640, 170, None, dash=True, rx=10, stroke_width=1)
    d.line([(284, 122), (20, top)], arrow=False, width=0.8)
    d.line([(396, 122), (660, top)], arrow=False, width=0.8)
    d.text(
        36,
        top + 22,
        f"一个块（Pre-LN），形状 (B, T, C) = {shape_str(x.shape)} 进出不变",
        size=13,
        anchor="start",
        bold=True,
    )
    by_ = top + 95
    d.line([(40, by_), (70, by_)])
    d.box(95, by_, 50, 34, ["LN₁"], "gray")
    d.line([(120, by_), (140, by_)])
    d.box(
        205,
        by_,
        130,
        50,
        [
            "因果自注意力",
            f"h = {model.num_heads}，d_{{h}} = {C // model.num_heads}",
        ],
        "blue",
        size=13,
    )
    d.line([(270, by_), (289, by_)])
    d.op(300, by_, "+")
    d.line([(311, by_), (345, by_)])
    d.box(370, by_, 50, 34, ["LN₂"], "gray")
    d.line([(395, by_), (415, by_)])
    d.box(
        480,
        by_,
        130,
        50,
        ["MLP", f"{C} → {hidden.shape[-1]} → {C}"],
        "orange",
        size=13,
    )
    d.line([(545, by_), (564, by_)])
    d.op(575, by_, "+")
    d.line([(586, by_), (640, by_)])
    d.line([(55, by_), (55, by_ - 48), (300, by_ - 48), (300, by_ - 11)])
    d.line([(330, by_), (330, by_ - 48), (575, by_ - 48), (575, by_ - 11)])
    d.text(175, by_ - 54, "残差", size=12, muted=True)
    d.text(452, by_ - 54, "残差", size=12, muted=True)
    d.text(
        480,
        by_ + 44,
        f"隐藏层 {shape_str(hidden.shape)}",
        size=12,
        muted=True,
    )
    d.text(
        205,
        by_ + 44,
        f"qkv 一次算出：{C} → {block.attn.qkv.weight.shape[0]}",
        size=12,
        muted=True,
    )
    return d


# ------------------------------------------------- 分词（tokenization.md）
#: 手算例子的词频表：每行一个词，词与词之间的换行自成一段
BPE_WORDS = {"data": 6, "date": 4, "gate": 3, "later": 2}


def bpe_merges() -> Drawing:
    """手算例子的前 5 次合并：每行是那次合并之后各个词的切分。

    切分与每对的次数都由 BPETokenizer 训练、编码得到，不是手写的。
    """
    from tinymodels import BPETokenizer

    steps = 5
    text = "\n".join(w for w, n in BPE_WORDS.items() for _ in range(n))
    tok = BPETokenizer.train(text, 256 + steps)
    words = list(BPE_WORDS)
    d = Drawing(
        "bpe-merges",
        68 + 42 * (steps + 1),
        "BPE 在 data、date、gate、later 上的前 5 次合并：每行是合并之后"
        "各个词被切成的词元",
    )
    col0, col_w, top = 248, 106, 60
    for j, w in enumerate(words):
        cx = col0 + col_w * (j + 0.5)
        d.text(cx, 24, f"{w} × {BPE_WORDS[w]}", bold=True)
    d.text(16, 24, "合并（这一对的次数）", anchor="start", bold=True)
    for k in range(steps + 1):
        y = top + 42 * k
        sub = BPETokenizer(tok.merges[:k])
        if k == 0:
            label = "开始：每个字节一个词元"
        else:
            # 合并前（前 k−1 次合并之后）这一对在词频表里出现的次数
            prev = BPETokenizer(tok.merges[: k - 1])
            pair = tok.merges[k - 1]
            count = sum(
                n * list(zip(ids, ids[1:])).count(pair)
                for w, n in BPE_WORDS.items()
                for ids in [prev.encode(w)]
            )
            a, b = (tok.vocab[t].decode() for t in pair)
            label = f"第 {k} 次：{a} + {b} → {a + b}（{count}）"
        assert text_width(label, 13) <= col0 - 24, label
        d.text(16, y + 5, label, size=13, anchor="start")
        for j, w in enumerate(words):
            ids = sub.encode(w)
            widths = [8 + 8 * len(sub.vocab[t]) for t in ids]
            total = sum(widths) + 3 * (len(ids) - 1)
            assert total <= col_w - 6, (w, k)
            x = col0 + col_w * (j + 0.5) - total / 2
            for t, bw in zip(ids, widths):
                new = k > 0 and t == 256 + k - 1  # 这一步刚合成的词元
                d.rect(x, y - 12, bw, 24, "orange" if new else "gray", rx=4)
                d.text(x + bw / 2, y + 5, sub.vocab[t].decode(), size=13)
                x += bw + 3
    d.text(
        WIDTH / 2,
        68 + 42 * (steps + 1) - 14,
        "橙色是这一步新合成的词元；date 被切成 dat + e，因为 dat 先学到",
        size=12,
        muted=True,
    )
    return d


def bpe_tokens_per_char() -> Drawing:
    """词表大小与每个字符的词元数：语料前 80% 训练，后 20% 上计数。

    与 tokenization.md 里的代码用同一个划分；更大的词表就是同一次训练
    多用几条合并规则（BPE 的合并是贪心的，前 k 条与只学 k 条相同）。
    """
    import math

    from tinymodels import BPETokenizer, load_corpus

    text = load_corpus()
    cut = len(text) * 4 // 5
    train, held = text[:cut], text[cut:]
    sizes = [256, 320, 384, 512, 768, 1024, 1536, 2048]
    big = BPETokenizer.train(train, sizes[-1])
    han = re.findall("[\u4e00-\u9fff]+", held)  # 连续的汉字
    n_han = sum(map(len, han))
    per_han, per_char = [], []
    for v in sizes:
        tok = BPETokenizer(big.merges[: v - 256])
        per_han.append(sum(len(tok.encode(s)) for s in han) / n_han)
        per_char.append(len(tok.encode(held)) / len(held))

    height = 330
    d = Drawing(
        "bpe-tokens-per-char",
        height,
        "词表从 256 增大到 2048 时，每个汉字平均用的词元数从 3 降到 "
        f"{per_han[-1]:.2f}",
    )
    x0, x1, y0, y1 = 70, 630, 272, 76  # 绘图区：左右、下上
    lo, hi = math.log2(sizes[0]), math.log2(sizes[-1])

    def px(v: float) -> float:
        return x0 + (math.log2(v) - lo) / (hi - lo) * (x1 - x0)

    def py(r: float) -> float:
        return y0 - r / 3.0 * (y0 - y1)

    for r in (0, 1, 2, 3):  # 横向网格线
        d.line([(x0, py(r)), (x1, py(r))], arrow=False, width=0.5)
        d.text(x0 - 8, py(r) + 5, str(r), size=12, anchor="end")
    for v in (256, 512, 1024, 2048):
        d.text(px(v), y0 + 20, str(v), size=12)
    d.text((x0 + x1) / 2, y0 + 44, "词表大小（对数刻度）", size=13)
    d.text(x0 - 52, 30, "每个字符的词元数", size=13, anchor="start")
    d.line(
        [(px(v), py(r)) for v, r in zip(sizes, per_han)], arrow=False, width=2
    )
    d.line(
        [(px(v), py(r)) for v, r in zip(sizes, per_char)],
        dash=True,
        arrow=False,
        width=2,
    )
    for v, r in zip(sizes, per_han):
        d.parts.append(
            f'<circle cx="{_fmt(px(v))}" cy="{_fmt(py(r))}" r="4" '
            'fill="currentColor" stroke="none"/>'
        )
        if v in (256, 512, 1024, 2048):
            d.text(px(v), py(r) - 10, f"{r:.2f}", size=12)
    # 图例
    lx, ly = 400, 26
    d.line([(lx, ly), (lx + 34, ly)], arrow=False, width=2)
    d.text(lx + 42, ly + 5, "只数汉字", size=13, anchor="start")
    d.line(
        [(lx, ly + 24), (lx + 34, ly + 24)], dash=True, arrow=False, width=2
    )
    d.text(
        lx + 42, ly + 29, "全部文字（含字母、空白）", size=13, anchor="start"
    )
    d.text(
        x0 + 6, py(1) - 6, "字符级分词：每字 1 个", size=12, anchor="start"
    )
    return d


# ------------------------------------------------ 推理：KV 缓存与采样
# （docs/llm/inference.md；配置与页面相同）
INFERENCE_CONFIG = dict(
    vocab_size=64, block_size=32, num_heads=4, num_kv_heads=2
)


def kv_cache() -> Drawing:
    """预填充与解码：缓存的形状、写入的行、解码一步的 q。"""
    from tinygrad import Tensor, dtypes

    from tinymodels.models.llama import TinyLlama

    model = TinyLlama(**INFERENCE_CONFIG)
    T0, B = 8, 1
    cache = model.new_cache(batch_size=B)
    k_shape = tuple(cache.k[0].shape)
    idx = Tensor.zeros(B, T0, dtype=dtypes.int32)
    logits = model(idx)  # 惰性：只读形状
    one = Tensor.zeros(B, 1, dtype=dtypes.int32)
    attn = model.blocks[0].attn
    x1 = model.tok_emb[one]
    q1 = attn.wq(x1).reshape(B, 1, attn.h, attn.d_h).transpose(1, 2)
    step_logits = model.head(x1)
    V, T_max, L = model.vocab_size, model.block_size, model.num_layers
    assert k_shape == (B, model.num_kv_heads, T_max, model.d_h)

    d = Drawing(
        "kv-cache",
        330,
        f"预填充 {T0} 个位置写满缓存的前 {T0} 行，解码一步只算一个位置、"
        f"写第 {T0} 行；每层缓存 k、v 各 {shape_str(k_shape)}",
    )
    d.text(
        WIDTH / 2,
        22,
        f"TinyLlama(V={V}, block_size={T_max}, d_model={model.d_model}, "
        f"h={model.num_heads}, n_kv={model.num_kv_heads}, L={L})",
        bold=True,
        size=13,
    )
    # 上：预填充
    y1 = 75
    d.text(20, y1 - 26, "预填充（一次）", anchor="start", bold=True, size=13)
    d.box(85, y1, 120, 42, ["提示 idx", shape_str(idx.shape)], "gray", 13)
    d.line([(145, y1), (200, y1)])
    d.box(290, y1, 180, 42, [f"前向：{T0} 个位置并行"], "blue", 13)
    d.line([(380, y1), (440, y1)])
    d.box(535, y1, 190, 42, ["logits", shape_str(logits.shape)], "gray", 13)
    # 中：一层的缓存，T_max 个格子
    cx0, cy, cw = 70, 150, 17
    d.text(
        280,
        cy - 12,
        f"一层的 k 缓存 {shape_str(k_shape)}（v 同形；共 {L} 层 × 2）："
        "每格一个位置",
        anchor="start",
        size=12,
    )
    for j in range(T_max):
        tint, op = ("green", 0.45) if j < T0 else ("gray", 0.04)
        if j == T0:
            tint, op = "orange", 0.5
        d.rect(
            cx0 + j * cw, cy, cw, 26, tint, rx=0, opacity=op, stroke_width=0.8
        )
    for j in (0, T0, T_max - 1):
        d.text(cx0 + (j + 0.5) * cw, cy + 44, str(j), size=12, muted=True)
    d.line([(290, y1 + 21), (cx0 + T0 * cw / 2, cy - 4)])
    d.text(
        215,
        118,
        f"写入第 0..{T0 - 1} 行",
        size=12,
        anchor="end",
    )
    # 下：解码一步
    y2 = 265
    d.text(
        20, y2 - 30, "解码（每步一次）", anchor="start", bold=True, size=13
    )
    d.box(85, y2, 120, 42, ["新词元", shape_str(one.shape)], "gray", 13)
    d.line([(145, y2), (200, y2)])
    d.box(
        290,
        y2,
        180,
        42,
        ["前向：1 个位置", f"q {shape_str(q1.shape)}"],
        "orange",
        13,
    )
    d.line([(380, y2), (440, y2)])
    d.box(
        535,
        y2,
        190,
        42,
        ["logits", shape_str(step_logits.shape[:1] + (1, V))],
        "gray",
        13,
    )
    hx = cx0 + (T0 + 0.5) * cw
    d.line([(270, y2 - 21), (hx, cy + 30)])
    d.line([(330, y2 - 21), (cx0 + 4 * cw, cy + 30)], dash=True)
    d.text(
        cx0 + 6 * cw + 120,
        cy + 62,
        f"写第 {T0} 行；q 与第 0..{T0} 行做注意力（虚线）",
        size=12,
        anchor="start",
        muted=True,
    )
    d.text(
        WIDTH / 2,
        320,
        f"缓存 {cache.nbytes:,} 字节 = 2 × {L} 层 × {model.num_kv_heads} 头"
        f" × {model.d_h} × {T_max} 位置 × 4 字节",
        size=12,
        muted=True,
    )
    return d


def kv_speedup() -> Drawing:
    """画 benchmarks/kv_cache.json 的测量：每词元耗时与加速比（不计时）。"""
    import json
    import math

    data = json.loads(
        (DOCS.parent / "benchmarks" / "kv_cache.json").read_text("utf-8")
    )
    rows = data["rows"]
    d = Drawing(
        "kv-speedup",
        330,
        "TinyLlama 解码每个词元的耗时：无缓存随上下文长度变慢，有缓存几乎"
        "不变；加速比 "
        + "、".join(f"T={r['T']} 时 {r['speedup']:.1f} 倍" for r in rows),
    )
    x0, y0, w, h = 80, 40, 560, 210  # 绘图区
    lo = 10 ** math.floor(math.log10(min(r["cache_ms"] for r in rows)))
    hi = 10 ** math.ceil(math.log10(max(r["no_cache_ms"] for r in rows)))

    def ypos(ms: float) -> float:
        return y0 + h - h * math.log10(ms / lo) / math.log10(hi / lo)

    tick = lo
    while tick <= hi * 1.001:
        yy = ypos(tick)
        d.line([(x0, yy), (x0 + w, yy)], arrow=False, width=0.5, dash=True)
        d.text(x0 - 6, yy + 4, f"{tick:g}", size=12, anchor="end")
        tick *= 10
    d.text(20, y0 - 14, "CPU ms / 词元（对数刻度）", size=12, anchor="start")
    slot = w / len(rows)
    for i, r in enumerate(rows):
        cx = x0 + (i + 0.5) * slot
        for off, key, tint in (
            (-15, "no_cache_ms", "red"),
            (15, "cache_ms", "blue"),
        ):
            top = ypos(r[key])
            d.rect(cx + off - 13, top, 26, y0 + h - top, tint, rx=0)
        d.text(
            cx,
            ypos(r["no_cache_ms"]) - 8,
            f"×{r['speedup']:.1f}",
            size=12,
            bold=True,
        )
        d.text(cx, y0 + h + 18, f"T = {r['T']}", size=12)
    d.line([(x0, y0 + h), (x0 + w, y0 + h)], arrow=False)
    d.rect(x0 + 10, y0 + 4, 14, 14, "red", rx=0)
    d.text(x0 + 30, y0 + 16, "无缓存", size=12, anchor="start")
    d.rect(x0 + 90, y0 + 4, 14, 14, "blue", rx=0)
    d.text(x0 + 110, y0 + 16, "有 KV 缓存", size=12, anchor="start")
    load = "/".join(f"{v:g}" for v in data["load_before"])
    d.text(
        WIDTH / 2,
        y0 + h + 44,
        f"{data['cpu']}，{data['cores']} 核，DEV={data['device']}，"
        f"tinygrad {data['tinygrad']}",
        size=12,
        muted=True,
    )
    d.text(
        WIDTH / 2,
        y0 + h + 62,
        f"{data['date']} 测量，开始时负载（1/5/15 分钟）{load}；"
        "benchmarks/bench_kv_cache.py",
        size=12,
        muted=True,
    )
    return d


def sampling_modes() -> Drawing:
    """同一组 logits 在五种采样设置下的分布（用 next_token_probs 算）。"""
    import numpy as np

    from tinymodels import next_token_probs

    z = np.array([[2.0, 1.0, 0.5, 0.5, -1.0, 0.0]])  # 与页面相同
    modes = [
        ("贪心 τ=0", {"temperature": 0}),
        ("τ=1", {}),
        ("τ=0.5", {"temperature": 0.5}),
        ("top-k k=3", {"top_k": 3}),
        ("top-p p=0.6", {"top_p": 0.6}),
    ]
    d = Drawing(
        "sampling-modes",
        200,
        "6 个词元的 logits (2, 1, 0.5, 0.5, −1, 0) 在贪心、温度 1、温度 "
        "0.5、top-k 3、top-p 0.6 下的概率",
    )
    pw, base, hmax = 128, 150, 110
    for m, (name, kw) in enumerate(modes):
        p = next_token_probs(z, **kw)[0]
        px = 12 + m * (pw + 5)
        for i, v in enumerate(p):
            bx = px + 8 + i * 19
            if v > 0:
                d.rect(bx, base - hmax * v, 15, hmax * v, "blue", rx=0)
            d.text(bx + 7.5, base + 16, str(i), size=12, muted=True)
        d.line([(px + 4, base), (px + pw - 4, base)], arrow=False, width=1)
        d.text(px + pw / 2, base + 38, name, size=13, bold=True)
        d.text(px + pw / 2, 28, f"最大 {p.max():.2f}", size=12, muted=True)
    return d


def modern_block() -> Drawing:
    """TinyLlama 的一个块：RMSNorm、RoPE、GQA、SwiGLU（modern-decoder）。"""
    from tinygrad import Tensor

    from tinymodels import count_parameters, set_seed
    from tinymodels.models.llama import Block, rope_tables

    set_seed(0)
    B, T, dm, h, h_kv, d_ff = 2, 16, 32, 4, 2, 88
    block = Block(dm, h, h_kv, d_ff, 1e-5)
    x = Tensor.zeros(B, T, dm)
    cos, sin = rope_tables(dm // h, T)
    mask = Tensor.ones(T, T, dtype="bool").tril()
    y = block(x, cos, sin, mask)  # 只取形状，不计算
    a = block.attn
    k = a.wk(x).reshape(B, T, h_kv, a.d_h).transpose(1, 2)
    q = a.wq(x).reshape(B, T, h, a.d_h).transpose(1, 2)
    assert tuple(y.shape) == tuple(x.shape)
    p_attn, p_ffn = count_parameters(a), count_parameters(block.ffn)
    p_norm = count_parameters(block.attn_norm)

    d = Drawing(
        "modern-block",
        270,
        f"现代解码器块：RMSNorm、带 RoPE 的分组查询注意力、SwiGLU；"
        f"形状 {shape_str(x.shape)} 进、{shape_str(y.shape)} 出",
    )
    d.text(
        WIDTH / 2,
        22,
        f"TinyLlama 的一个块（C = {dm}，h = {h}，h_kv = {h_kv}，"
        f"d_ff = {d_ff}）：共 {count_parameters(block)} 个参数",
        bold=True,
    )
    cy = 140
    d.text(18, cy + 5, "x", size=MATH, italic=True)
    d.line([(28, cy), (58, cy)])
    d.box(92, cy, 64, 36, ["RMSNorm"], "gray", size=12)
    d.line([(124, cy), (142, cy)])
    d.box(
        215, cy, 142, 70,
        ["因果自注意力", f"q：{h} 头，k/v：{h_kv} 组", "q、k 先做 RoPE"],
        "blue", size=12,
    )  # fmt: skip
    d.line([(286, cy), (300, cy)])
    d.op(311, cy, "+")
    d.line([(322, cy), (340, cy)])
    d.box(374, cy, 64, 36, ["RMSNorm"], "gray", size=12)
    d.line([(406, cy), (424, cy)])
    d.box(
        497, cy, 142, 70,
        ["SwiGLU", f"{dm} → 2×{d_ff} → {dm}", "W₂(SiLU(W₁x)⊙W₃x)"],
        "orange", size=12,
    )  # fmt: skip
    d.line([(568, cy), (582, cy)])
    d.op(593, cy, "+")
    d.line([(604, cy), (640, cy)])
    d.text(655, cy + 5, "y", size=MATH, italic=True)
    # 残差：绕过子层，直接加到输出上
    d.line([(42, cy), (42, 70), (311, 70), (311, cy - 11)])
    d.line([(331, cy), (331, 70), (593, 70), (593, cy - 11)])
    d.text(176, 62, "残差：x 原样加回", size=12, muted=True)
    d.text(462, 62, "残差", size=12, muted=True)
    sy = cy + 56
    d.text(42, sy, shape_str(x.shape), size=12)
    d.text(92, sy - 20, f"{p_norm} 参数", size=12, muted=True)
    d.text(215, sy, f"{p_attn} 参数", size=12, muted=True)
    d.text(
        215, sy + 18,
        f"q {shape_str(q.shape)}，k {shape_str(k.shape)}",
        size=12, muted=True,
    )  # fmt: skip
    d.text(374, sy - 20, f"{p_norm} 参数", size=12, muted=True)
    d.text(497, sy, f"{p_ffn} 参数", size=12, muted=True)
    d.text(630, sy, shape_str(y.shape), size=12)
    d.text(
        WIDTH / 2,
        258,
        "与 TinyGPT 的块比：没有偏置，没有位置嵌入（位置由 RoPE 转进 q、k）",
        size=12,
        muted=True,
    )
    return d


#: 文件名（不含 .svg）→ 生成函数；页面用 --8<-- 嵌入这些文件。
DIAGRAMS: dict[str, Callable[[], Drawing]] = {
    "cnn-conv": cnn_conv,
    "cnn-lenet": cnn_lenet,
    "rnn-unrolled": rnn_unrolled,
    "lstm-cell": lstm_cell,
    "attention-masks": attention_masks,
    "transformer-block": transformer_block,
    "autoencoder": autoencoder,
    "gan-loop": gan_loop,
    "gpt-stack": gpt_stack,
    "bpe-merges": bpe_merges,
    "bpe-tokens-per-char": bpe_tokens_per_char,
    "kv-cache": kv_cache,
    "kv-speedup": kv_speedup,
    "sampling-modes": sampling_modes,
    "modern-block": modern_block,
}


def _topic_modules() -> dict[str, Callable[[], Drawing]]:
    """``scripts/diagrams_*.py`` 里的图：每个主题一个模块，模块里的
    ``DIAGRAMS`` 字典（文件名 → 函数）合并进来；它们 ``from diagrams import
    Drawing`` 等复用这里的画法。"""
    import importlib

    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    found: dict[str, Callable[[], Drawing]] = {}
    for path in sorted(Path(here).glob("diagrams_*.py")):
        module = importlib.import_module(path.stem)
        for name, make in module.DIAGRAMS.items():
            assert name not in DIAGRAMS and name not in found, name
            found[name] = make
    return found


def render_all() -> dict[str, str]:
    """全部图：文件名 → SVG 文本（只在内存里生成，不写文件）。"""
    os.environ.setdefault("DEV", "CPU")
    out = {}
    for name, make in {**DIAGRAMS, **_topic_modules()}.items():
        drawing = make()
        assert drawing.name == name, (drawing.name, name)
        out[f"{name}.svg"] = drawing.svg()
    return out


def stale(drawn: dict[str, str] | None = None) -> list[str]:
    """与重新生成的结果不同（或缺失、多余）的图，相对仓库根目录的路径。"""
    drawn = render_all() if drawn is None else drawn
    bad = [
        name
        for name, svg in drawn.items()
        if not (OUT_DIR / name).is_file()
        or (OUT_DIR / name).read_text(encoding="utf-8") != svg
    ]
    bad += [p.name for p in OUT_DIR.glob("*.svg") if p.name not in drawn]
    return [f"docs/assets/diagrams/{name}" for name in sorted(bad)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="只检查，不写文件"
    )
    args = parser.parse_args(argv)
    drawn = render_all()
    if args.check:
        bad = stale(drawn)
        for path in bad:
            print(f"{path}: 过期，请运行 python scripts/diagrams.py")
        return 1 if bad else 0
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for name, svg in drawn.items():
        write_atomic(OUT_DIR / name, svg)
    for p in OUT_DIR.glob("*.svg"):
        if p.name not in drawn:
            p.unlink()
    print(f"已生成 {len(drawn)} 张图：{OUT_DIR}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
