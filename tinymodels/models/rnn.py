"""序列分类 / 回归：循环网络读完整条序列，用最后的隐状态 ``h_T`` 做预测。"""

from __future__ import annotations

from tinygrad import Tensor

from tinymodels._contract import expect, require
from tinymodels.layers.basic import Linear
from tinymodels.layers.recurrent import GRU, LSTM, RNN

__all__ = [
    "GRUClassifier",
    "LSTMClassifier",
    "RNNClassifier",
    "SequenceClassifier",
]  # fmt: skip

_CELLS = {"rnn": RNN, "lstm": LSTM, "gru": GRU}


class SequenceClassifier:
    """循环网络 + 线性输出头：``y = Linear(h_T)``。

    ``num_outputs=1`` 配 ``mse_loss`` 做回归（如加法问题），否则输出分类
    logits，配 ``cross_entropy``。

    Args:
        input_size: 每个时间步的特征数 ``I``。
        hidden_size: 隐状态维度 ``H``。
        num_outputs: 输出维度（类别数；回归时为 1）。
        cell: ``"rnn"``、``"lstm"``（默认）或 ``"gru"``。
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_outputs: int,
        cell: str = "lstm",
    ):
        where = type(self).__name__
        require(
            cell in _CELLS,
            f"{where}: cell 应为 'rnn'、'lstm' 或 'gru'，实际为 {cell!r}",
        )
        # 负数尺寸在 NumPy 初始化里报错时，消息不说是哪个参数
        require(
            min(input_size, hidden_size, num_outputs) > 0,
            f"{where}: input_size、hidden_size、num_outputs 应为正整数，"
            f"实际为 {input_size}、{hidden_size}、{num_outputs}",
        )
        self.input_size, self.hidden_size = input_size, hidden_size
        self.num_outputs, self.cell = num_outputs, cell
        self.rnn = _CELLS[cell](input_size, hidden_size)
        self.head = Linear(hidden_size, num_outputs)

    def __call__(self, x: Tensor) -> Tensor:
        """前向计算。

        Args:
            x: 浮点张量 ``(B, T, I)``。

        Returns:
            Tensor: ``(B, num_outputs)``。
        """
        where = type(self).__name__
        expect(x, "B T I", "x", where, I=self.input_size)
        _, state = self.rnn(x)
        h_T = state[0] if self.cell == "lstm" else state  # LSTM 还有 c_T
        return self.head(h_T)  # (B, num_outputs)


class RNNClassifier(SequenceClassifier):
    """``SequenceClassifier(..., cell="rnn")``。

    Args:
        input_size: 每个时间步的特征数。
        hidden_size: 隐状态维度。
        num_outputs: 输出维度。
    """

    def __init__(self, input_size: int, hidden_size: int, num_outputs: int):
        super().__init__(input_size, hidden_size, num_outputs, cell="rnn")


class LSTMClassifier(SequenceClassifier):
    """``SequenceClassifier(..., cell="lstm")``。

    Args:
        input_size: 每个时间步的特征数。
        hidden_size: 隐状态维度。
        num_outputs: 输出维度。
    """

    def __init__(self, input_size: int, hidden_size: int, num_outputs: int):
        super().__init__(input_size, hidden_size, num_outputs, cell="lstm")


class GRUClassifier(SequenceClassifier):
    """``SequenceClassifier(..., cell="gru")``。

    Args:
        input_size: 每个时间步的特征数。
        hidden_size: 隐状态维度。
        num_outputs: 输出维度。
    """

    def __init__(self, input_size: int, hidden_size: int, num_outputs: int):
        super().__init__(input_size, hidden_size, num_outputs, cell="gru")
