"""tinymodels：基于 tinygrad 的小而可读的模型库，本站的代码都运行在它上面。

常用入口都可以从顶层导入，例如 ``from tinymodels import LeNet, fit``。

核心库：``layers``（层）、``models``（模型）、``losses``（损失与指标）、
``data``（随包数据）、``train``（训练）、``checkpoint``（检查点）。
工具在 ``tinymodels.tools`` 里：命令行、内置模型配方、后端信息、一致性测试。
"""

from tinymodels import _tinygrad  # noqa: F401  CPU 上默认用轻量内核优化
from tinymodels.checkpoint import (
    CheckpointError,
    load_checkpoint,
    read_checkpoint_metadata,
    save_checkpoint,
)
from tinymodels.data import (
    BPETokenizer,
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
from tinymodels.layers import (
    GRU,
    LSTM,
    RNN,
    AvgPool2d,
    Conv2d,
    DecoderBlock,
    Dropout,
    Embedding,
    EncoderBlock,
    FeedForward,
    LayerNorm,
    Linear,
    MaxPool2d,
    MultiHeadAttention,
    PositionalEncoding,
    RNNCell,
    Sequential,
    causal_mask,
    padding_mask,
    scaled_dot_product_attention,
    sinusoidal_positional_encoding,
)
from tinymodels.losses import (
    accuracy,
    bce_with_logits,
    cross_entropy,
    mse_loss,
)
from tinymodels.models import (
    GAN,
    MLP,
    Autoencoder,
    Discriminator,
    Generator,
    GRUClassifier,
    KVCache,
    LeNet,
    LSTMClassifier,
    RMSNorm,
    RNNClassifier,
    SequenceClassifier,
    SwiGLU,
    TinyGPT,
    TinyLlama,
    TransformerEncoder,
    apply_rope,
    rope_tables,
    train_gan,
)
from tinymodels.sampling import next_token_probs, sample_next
from tinymodels.train import (
    History,
    TrainingDivergedError,
    evaluate,
    fit,
    realize_state,
    set_seed,
    train_step,
)
from tinymodels.utils import count_parameters, fast_compile, kernel_opts

__version__ = "0.2.0"

__all__ = [
    "__version__",
    # 层
    "Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "LayerNorm", "Embedding",
    "Dropout", "Sequential", "RNNCell", "RNN", "LSTM", "GRU",
    "MultiHeadAttention", "scaled_dot_product_attention", "causal_mask",
    "padding_mask", "sinusoidal_positional_encoding", "PositionalEncoding",
    "FeedForward", "EncoderBlock", "DecoderBlock",
    # 模型
    "MLP", "LeNet", "SequenceClassifier", "RNNClassifier", "LSTMClassifier",
    "GRUClassifier", "TransformerEncoder", "TinyGPT", "Autoencoder",
    "Generator", "Discriminator", "GAN", "train_gan", "TinyLlama", "RMSNorm",
    "SwiGLU", "KVCache", "rope_tables", "apply_rope",
    # 损失与指标
    "cross_entropy", "mse_loss", "bce_with_logits", "accuracy",
    # 数据
    "load_digits", "adding_problem", "reversal_task", "sorting_task",
    "gaussian_mixture", "mixture_centers", "CharTokenizer", "load_corpus",
    "next_token_windows", "batches", "BPETokenizer",
    # 采样
    "next_token_probs", "sample_next",
    # 训练与检查点
    "fit", "evaluate", "train_step", "realize_state", "set_seed", "History",
    "TrainingDivergedError", "save_checkpoint", "load_checkpoint",
    "read_checkpoint_metadata", "CheckpointError",
    # 工具
    "count_parameters", "fast_compile", "kernel_opts",
]  # fmt: skip
