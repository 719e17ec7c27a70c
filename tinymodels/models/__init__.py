"""tinymodels.models：可直接训练的模型。"""

from tinymodels.models.autoencoder import Autoencoder
from tinymodels.models.cnn import LeNet
from tinymodels.models.gan import GAN, Discriminator, Generator, train_gan
from tinymodels.models.gpt import TinyGPT
from tinymodels.models.llama import (
    KVCache,
    RMSNorm,
    SwiGLU,
    TinyLlama,
    apply_rope,
    rope_tables,
)
from tinymodels.models.mlp import MLP
from tinymodels.models.rnn import (
    GRUClassifier,
    LSTMClassifier,
    RNNClassifier,
    SequenceClassifier,
)
from tinymodels.models.transformer import TransformerEncoder

__all__ = [
    "MLP", "LeNet", "SequenceClassifier", "RNNClassifier", "LSTMClassifier",
    "GRUClassifier", "TransformerEncoder", "TinyGPT", "Autoencoder",
    "Generator", "Discriminator", "GAN", "train_gan", "TinyLlama", "RMSNorm",
    "SwiGLU", "KVCache", "rope_tables", "apply_rope",
]  # fmt: skip
