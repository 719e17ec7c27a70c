"""tinymodels.layers：构建模型用的层，参数名与 PyTorch 对齐。"""

from tinymodels.layers import init
from tinymodels.layers.attention import (
    MultiHeadAttention,
    causal_mask,
    padding_mask,
    scaled_dot_product_attention,
)
from tinymodels.layers.basic import (
    ACTIVATIONS,
    AvgPool2d,
    Conv2d,
    Dropout,
    Embedding,
    LayerNorm,
    Linear,
    MaxPool2d,
    Sequential,
    get_activation,
)
from tinymodels.layers.recurrent import GRU, LSTM, RNN, RNNCell
from tinymodels.layers.transformer import (
    DecoderBlock,
    EncoderBlock,
    FeedForward,
    PositionalEncoding,
    sinusoidal_positional_encoding,
)

__all__ = [
    "init", "Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "LayerNorm",
    "Embedding", "Dropout", "Sequential", "get_activation", "ACTIVATIONS",
    "RNNCell", "RNN", "LSTM", "GRU", "scaled_dot_product_attention",
    "causal_mask", "padding_mask", "MultiHeadAttention",
    "sinusoidal_positional_encoding", "PositionalEncoding", "FeedForward",
    "EncoderBlock", "DecoderBlock",
]  # fmt: skip
