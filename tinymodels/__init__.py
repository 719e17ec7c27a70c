"""tinymodels：基于 tinygrad 的小而可读的深度学习模型库，本站每一段代码都运行在它之上。

常用入口都可以直接从顶层导入，例如::

    from tinymodels import LeNet, load_digits, fit, evaluate, save_checkpoint

子模块：``tinymodels.layers``（层）、``tinymodels.models``（模型）、``tinymodels.losses``（损失与指标）、
``tinymodels.data``（随包数据）、``tinymodels.train``（训练循环）、``tinymodels.checkpoint``（检查点）、
``tinymodels.device``（设备）、``tinymodels.zoo``（命令行用的内置模型配方）、``tinymodels.utils``。
"""
__version__ = "0.1.0"

from tinymodels.checkpoint import CheckpointError, load_checkpoint, read_checkpoint_metadata, save_checkpoint
from tinymodels.data import (CharTokenizer, adding_problem, batches, gaussian_mixture, load_corpus, load_digits,
                             mixture_centers, next_token_windows, reversal_task, sorting_task)
from tinymodels.device import (DeviceUnavailableError, backend_status, default_device, resolve_device,
                               use_device)
from tinymodels.layers import (GRU, LSTM, RNN, AvgPool2d, Conv2d, DecoderBlock, Dropout, Embedding, EncoderBlock,
                               FeedForward, LayerNorm, Linear, MaxPool2d, MultiHeadAttention, PositionalEncoding,
                               RNNCell, Sequential, causal_mask, padding_mask, scaled_dot_product_attention,
                               sinusoidal_positional_encoding)
from tinymodels.losses import accuracy, bce_with_logits, cross_entropy, mse_loss
from tinymodels.models import (GAN, MLP, Autoencoder, Discriminator, Generator, GRUClassifier, LeNet, LSTMClassifier,
                               RNNClassifier, SequenceClassifier, TinyGPT, TransformerEncoder, train_gan)
from tinymodels.train import History, TrainingDivergedError, evaluate, fit, realize_state, set_seed
from tinymodels.utils import count_parameters, fast_compile
from tinymodels.zoo import get_recipe, list_models

__all__ = [
    "__version__",
    # 层
    "Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "LayerNorm", "Embedding", "Dropout", "Sequential",
    "RNNCell", "RNN", "LSTM", "GRU", "MultiHeadAttention", "scaled_dot_product_attention", "causal_mask",
    "padding_mask", "sinusoidal_positional_encoding", "PositionalEncoding", "FeedForward", "EncoderBlock",
    "DecoderBlock",
    # 模型
    "MLP", "LeNet", "SequenceClassifier", "RNNClassifier", "LSTMClassifier", "GRUClassifier", "TransformerEncoder",
    "TinyGPT", "Autoencoder", "Generator", "Discriminator", "GAN", "train_gan",
    # 损失与指标
    "cross_entropy", "mse_loss", "bce_with_logits", "accuracy",
    # 数据
    "load_digits", "adding_problem", "reversal_task", "sorting_task", "gaussian_mixture", "mixture_centers",
    "CharTokenizer", "load_corpus", "next_token_windows", "batches",
    # 训练、检查点、设备
    "fit", "evaluate", "realize_state", "set_seed", "History", "TrainingDivergedError",
    "save_checkpoint", "load_checkpoint", "read_checkpoint_metadata", "CheckpointError",
    "backend_status", "default_device", "resolve_device", "use_device", "DeviceUnavailableError",
    # 工具
    "count_parameters", "fast_compile", "list_models", "get_recipe",
]
