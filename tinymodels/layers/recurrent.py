"""循环层：RNNCell、RNN、LSTM、GRU（单层、单向、batch_first）。

参数名、形状、初值分布与门的顺序都和 PyTorch 第 0 层相同（那边叫
``weight_ih_l0``，这里叫 ``weight_ih``），可以直接拷贝权重对照：

* RNN：``h = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)``
* LSTM：门按 ``i, f, g, o`` 排列，``c = f*c + i*g``，``h = o*tanh(c)``
* GRU：门按 ``r, z, n`` 排列，
  ``n = tanh(x W_in^T + b_in + r*(h W_hn^T + b_hn))``，``h = (1-z)*n + z*h``

这些层相信调用者（不检查形状）；检查在模型的入口处做。
``tinygrad.nn`` 只有单步的 ``LSTMCell``，没有整条序列的循环层，所以自己写。
"""

from __future__ import annotations

import math

from tinygrad import Tensor

from tinymodels._contract import require
from tinymodels.layers import init

__all__ = ["GRU", "LSTM", "RNN", "RNNCell"]


class _Recurrent:
    """共同部分：PyTorch 的参数布局与初值，以及所有时间步的输入投影。"""

    n_gates = 1

    def __init__(self, input_size: int, hidden_size: int):
        self.input_size, self.hidden_size = input_size, hidden_size
        # PyTorch 的默认初值：所有参数 ~ U(-1/√H, 1/√H)；按这个顺序抽样
        k, G = 1 / math.sqrt(hidden_size), self.n_gates * hidden_size
        self.weight_ih = init.uniform((G, input_size), k)  # (G, I)
        self.weight_hh = init.uniform((G, hidden_size), k)  # (G, H)
        self.bias_ih = init.uniform((G,), k)
        self.bias_hh = init.uniform((G,), k)

    def _project(self, x: Tensor, bias: Tensor) -> list[Tensor]:
        """``x_t W_ih^T + bias``，对所有 t 一次算完，按时间切开。"""
        B, T, I = x.shape
        # 速度：所有时间步的输入投影合成一次矩阵乘法，循环里只剩 h W_hh^T
        xw = (x.reshape(B * T, I) @ self.weight_ih.T + bias).reshape(B, T, -1)
        xw = xw.permute(1, 0, 2).contiguous()  # (T, B, G)：每步在内存中连续
        return [xw[t] for t in range(T)]  # T 个 (B, G)


class RNNCell(_Recurrent):
    """单步 Elman RNN：``h = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)``。

    Args:
        input_size: 输入特征数 ``I``。
        hidden_size: 隐状态维度 ``H``。
        nonlinearity: ``"tanh"``（默认）或 ``"relu"``。
    """

    def __init__(
        self, input_size: int, hidden_size: int, nonlinearity: str = "tanh"
    ):
        # 不拦下的话，写错的名字会悄悄变成 relu
        require(
            nonlinearity in ("tanh", "relu"),
            "RNNCell: nonlinearity 应为 'tanh' 或 'relu'，"
            f"实际为 {nonlinearity!r}",
        )
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size)

    def __call__(self, x_t: Tensor, h: Tensor | None = None) -> Tensor:
        """计算一步。

        Args:
            x_t: 当前输入 ``(B, I)``。
            h: 上一步隐状态 ``(B, H)``；``None`` 表示全零。

        Returns:
            Tensor: 新隐状态 ``(B, H)``。
        """
        a = x_t.linear(self.weight_ih.T, self.bias_ih) + self.bias_hh
        if h is not None:
            a = a + h @ self.weight_hh.T
        return a.tanh() if self.nonlinearity == "tanh" else a.relu()


class RNN(_Recurrent):
    """单层 Elman RNN，等价于 ``torch.nn.RNN(I, H, batch_first=True)``。

    Args:
        input_size: 输入特征数 ``I``。
        hidden_size: 隐状态维度 ``H``。
    """

    def step(self, x_t: Tensor, h: Tensor) -> Tensor:
        """单步更新，便于在文章里手算一步。

        Args:
            x_t: 当前输入 ``(B, I)``。
            h: 上一步隐状态 ``(B, H)``。

        Returns:
            Tensor: 新隐状态 ``(B, H)``。
        """
        W_ih, W_hh = self.weight_ih, self.weight_hh
        a = x_t @ W_ih.T + self.bias_ih + h @ W_hh.T + self.bias_hh
        return a.tanh()

    def __call__(
        self, x: Tensor, h0: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """对整条序列运行。

        Args:
            x: 输入序列 ``(B, T, I)``。
            h0: 初始隐状态 ``(B, H)``；``None`` 表示全零。

        Returns:
            tuple: 每步的隐状态 ``(B, T, H)`` 与最后的 ``h_T`` ``(B, H)``。
        """
        h, hs = h0, []
        for xw_t in self._project(x, self.bias_ih + self.bias_hh):
            a = xw_t if h is None else xw_t + h @ self.weight_hh.T  # (B, H)
            # 速度：每步物化状态，否则展开的图会重算之前所有时间步
            h = a.tanh().contiguous()
            hs.append(h)
        return Tensor.stack(*hs, dim=1), h  # (B, T, H), (B, H)


class LSTM(_Recurrent):
    """单层 LSTM，等价于 ``torch.nn.LSTM(I, H, batch_first=True)``。

    ``weight_ih`` ``(4H, I)``、``weight_hh`` ``(4H, H)`` 按 ``i, f, g, o``
    上下拼接，与 PyTorch 的 ``*_l0`` 参数一一对应。

    Args:
        input_size: 输入特征数 ``I``。
        hidden_size: 隐状态维度 ``H``。
    """

    n_gates = 4

    def _cell(self, gates: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        """由门的预激活 ``(B, 4H)`` 与旧 ``c`` 算出新的 ``(h, c)``。"""
        i, f, g, o = gates.chunk(4, dim=1)  # 各 (B, H)
        i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
        # c 为全零时 f*c 也为零，省掉
        c = (i * g if c is None else f * c + i * g).contiguous()
        h = (o * c.tanh()).contiguous()  # 速度：每步物化状态
        return h, c

    def step(
        self, x_t: Tensor, h: Tensor, c: Tensor
    ) -> tuple[Tensor, Tensor]:
        """单步更新，便于在文章里逐门手算。

        Args:
            x_t: 当前输入 ``(B, I)``。
            h: 上一步隐状态 ``(B, H)``。
            c: 上一步细胞状态 ``(B, H)``。

        Returns:
            tuple[Tensor, Tensor]: 新的 ``(h, c)``，各 ``(B, H)``。
        """
        W_ih, W_hh = self.weight_ih, self.weight_hh
        gates = x_t @ W_ih.T + self.bias_ih + h @ W_hh.T + self.bias_hh
        return self._cell(gates, c)

    def __call__(
        self, x: Tensor, state: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """对整条序列运行。

        Args:
            x: 输入序列 ``(B, T, I)``。
            state: 初始 ``(h0, c0)``，各 ``(B, H)``；``None`` 表示全零。

        Returns:
            tuple: 每步的 ``h`` ``(B, T, H)`` 与最后的 ``(h_T, c_T)``。
        """
        h, c = (None, None) if state is None else state
        hs = []
        for xw_t in self._project(x, self.bias_ih + self.bias_hh):
            gates = xw_t if h is None else xw_t + h @ self.weight_hh.T
            h, c = self._cell(gates, c)  # (B, 4H) -> (B, H), (B, H)
            hs.append(h)
        return Tensor.stack(*hs, dim=1), (h, c)


class GRU(_Recurrent):
    """单层 GRU，等价于 ``torch.nn.GRU(I, H, batch_first=True)``。

    门按 ``r, z, n`` 排列，与 PyTorch 相同。

    Args:
        input_size: 输入特征数 ``I``。
        hidden_size: 隐状态维度 ``H``。
    """

    n_gates = 3

    def __call__(
        self, x: Tensor, h0: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """对整条序列运行，参数与返回值同 ``RNN.__call__``。"""
        h, hs = h0, []
        # b_hn 被 r 乘，不能与 b_in 合并，所以投影里只加 b_ih
        for xw_t in self._project(x, self.bias_ih):
            x_r, x_z, x_n = xw_t.chunk(3, dim=-1)  # 各 (B, H)
            # h 为全零时 h W_hh^T 也为零：第一步省掉一次矩阵乘法
            hw = self.bias_hh
            if h is not None:
                hw = h @ self.weight_hh.T + self.bias_hh  # (B, 3H)
            h_r, h_z, h_n = hw.chunk(3, dim=-1)
            r = (x_r + h_r).sigmoid()
            z = (x_z + h_z).sigmoid()
            n = (x_n + r * h_n).tanh()
            h = (1 - z) * n if h is None else (1 - z) * n + z * h
            h = h.contiguous()  # 速度：每步物化状态
            hs.append(h)
        return Tensor.stack(*hs, dim=1), h
