"""模型与层的形状、参数检查和错误输入。

形状检查只构图不计算（tinygrad 是惰性的，``out.shape`` 不需要编译），所以这些测试几乎不花时间；
真正的计算与学习效果在 test_models_learning.py 中检验。
"""
from __future__ import annotations

import re

import numpy as np
import pytest
from tinygrad import Context, Tensor

from tinymodels import _checks
from tinymodels.layers import (GRU, LSTM, RNN, AvgPool2d, Conv2d, DecoderBlock, Dropout, Embedding, EncoderBlock,
                               FeedForward, LayerNorm, Linear, MaxPool2d, MultiHeadAttention, PositionalEncoding,
                               RNNCell, Sequential, causal_mask, get_activation, padding_mask,
                               scaled_dot_product_attention, sinusoidal_positional_encoding)
from tinymodels.models import (GAN, MLP, Autoencoder, Discriminator, Generator, GRUClassifier, LeNet, LSTMClassifier,
                               RNNClassifier, SequenceClassifier, TinyGPT, TransformerEncoder, train_gan)
from tinymodels.utils import BatchBuffer, count_parameters, read_scalar


def f32(*shape):
  return Tensor(np.zeros(shape, np.float32))


def i32(*shape):
  return Tensor(np.zeros(shape, np.int32))


# ---------------------------------------------------------------- 形状（惰性，不编译）

def test_model_output_shapes():
  assert MLP([64, 32, 10])(f32(5, 64)).shape == (5, 10)
  net = LeNet()
  assert net(f32(3, 1, 8, 8)).shape == (3, 10)
  assert [m.shape for m in net.features(f32(3, 1, 8, 8))] == [(3, 6, 8, 8), (3, 16, 4, 4)]
  assert net.flat_features == 16 * 2 * 2 and count_parameters(net) == 5750
  big = LeNet(in_channels=3, num_classes=5, input_size=(28, 20), channels=(6, 16), kernel_size=5, hidden=32)
  assert big.flat_features == 16 * 7 * 5 and big(f32(2, 3, 28, 20)).shape == (2, 5)
  for cls in (RNNClassifier, LSTMClassifier, GRUClassifier):
    assert cls(2, 8, 3)(f32(4, 6, 2)).shape == (4, 3)
  assert SequenceClassifier(2, 8, 1, cell="gru")(f32(4, 6, 2)).shape == (4, 1)
  enc = TransformerEncoder(10, 7)
  logits, weights = enc(i32(2, 8), return_attention=True)
  assert logits.shape == (2, 8, 7) and len(weights) == 2 and weights[0].shape == (2, 4, 8, 8)
  gpt = TinyGPT(20, block_size=16, d_model=32, num_heads=2)
  assert gpt(i32(3, 16)).shape == (3, 16, 20) and gpt(i32(3, 5)).shape == (3, 5, 20)
  ae = Autoencoder()
  assert ae.encode(f32(4, 64)).shape == (4, 8) and ae.decode(f32(4, 8)).shape == (4, 64) and ae(f32(4, 64)).shape == (4, 64)
  assert Autoencoder(10, (), 3)(f32(2, 10)).shape == (2, 10)
  gan = GAN(latent_dim=3, data_dim=64, hidden=32, output_activation="sigmoid")
  assert gan.generator(f32(5, 3)).shape == (5, 64) and gan.discriminator(f32(5, 64)).shape == (5, 1)
  assert gan(f32(5, 3)).shape == (5, 64)


def test_layer_output_shapes():
  out, h = RNN(3, 5)(f32(2, 4, 3))
  assert out.shape == (2, 4, 5) and h.shape == (2, 5)
  out, (h, c) = LSTM(3, 5)(f32(2, 4, 3))
  assert out.shape == (2, 4, 5) and h.shape == c.shape == (2, 5)
  out, h = GRU(3, 5)(f32(2, 4, 3), f32(2, 5))
  assert out.shape == (2, 4, 5) and h.shape == (2, 5)
  assert RNNCell(3, 5)(f32(2, 3), f32(2, 5)).shape == (2, 5)
  assert RNN(3, 5).step(f32(2, 3), f32(2, 5)).shape == (2, 5)
  mha = MultiHeadAttention(8, 2)
  out, w = mha(f32(2, 3, 8), f32(2, 6, 8), need_weights=True)
  assert out.shape == (2, 3, 8) and w.shape == (2, 2, 3, 6)
  x, w = EncoderBlock(8, 2, 16)(f32(2, 5, 8), need_weights=True)
  assert x.shape == (2, 5, 8) and w.shape == (2, 2, 5, 5)
  dec = DecoderBlock(8, 2, 16, cross_attention=True)
  x, (sw, cw) = dec(f32(2, 5, 8), memory=f32(2, 7, 8), need_weights=True)
  assert x.shape == (2, 5, 8) and sw.shape == (2, 2, 5, 5) and cw.shape == (2, 2, 5, 7)
  assert DecoderBlock(8, 2, 16)(f32(2, 5, 8)).shape == (2, 5, 8)
  assert FeedForward(8, 16)(f32(2, 5, 8)).shape == (2, 5, 8)
  assert Conv2d(1, 4, 3, stride=2, padding=1)(f32(2, 1, 8, 8)).shape == (2, 4, 4, 4)
  assert MaxPool2d(2)(f32(2, 3, 5, 5)).shape == (2, 3, 2, 2) and AvgPool2d(2, 1)(f32(1, 1, 3, 3)).shape == (1, 1, 2, 2)
  assert Embedding(10, 4)(i32(2, 3)).shape == (2, 3, 4)
  assert Sequential(Linear(4, 3), get_activation("tanh"))(f32(2, 4)).shape == (2, 3)
  assert sinusoidal_positional_encoding(7, 6).shape == (7, 6)
  assert scaled_dot_product_attention(f32(2, 3, 4), f32(2, 5, 4), f32(2, 5, 6)).shape == (2, 3, 6)


def test_count_parameters():
  assert count_parameters(MLP([64, 32, 10])) == 64 * 32 + 32 + 32 * 10 + 10
  H, I = 5, 3
  assert count_parameters(LSTM(I, H)) == 4 * H * (I + H) + 8 * H
  enc = TransformerEncoder(10, 7, d_model=8, num_heads=2, num_layers=1, d_ff=16, max_len=4)
  # 位置编码表是缓冲区（is_param=False），不计入
  d = 8
  block = 2 * 2 * d + 4 * (d * d + d) + (d * 16 + 16) + (16 * d + d)
  assert count_parameters(enc) == 10 * d + block + 2 * d + d * 7 + 7


def test_init_follows_tensor_manual_seed():
  Tensor.manual_seed(123)
  a = MLP([3, 4, 2])
  Tensor.manual_seed(123)
  b = MLP([3, 4, 2])
  c = MLP([3, 4, 2])
  wa, wb, wc = (m.layers[0].weight.numpy() for m in (a, b, c))
  np.testing.assert_array_equal(wa, wb)
  assert not np.array_equal(wa, wc)


def test_batch_buffer_and_read_scalar():
  buf = BatchBuffer((2, 3))
  x = buf.write(np.arange(6).reshape(2, 3))
  np.testing.assert_array_equal(x.numpy(), np.arange(6).reshape(2, 3))
  y = buf.write(np.ones((2, 3)))
  np.testing.assert_array_equal(y.numpy(), np.ones((2, 3)))
  ibuf = BatchBuffer((4,), dtype="int32")
  np.testing.assert_array_equal(ibuf.write(np.array([1, 2, 3, 4])).numpy(), [1, 2, 3, 4])
  assert read_scalar(Tensor([2.5]).realize()) == 2.5
  with pytest.raises(ValueError, match=r"BatchBuffer.write: 输入 array 的形状应为 \(2, 3\)，实际为 \(3, 2\)"):
    buf.write(np.ones((3, 2)))
  with pytest.raises(ValueError, match=r"read_scalar: 输入 t 应只有一个元素，实际形状为 \(2, 3\)"):
    read_scalar(x)


def test_dropout_off_at_eval_on_under_context():
  x = Tensor(np.ones((64, 64), np.float32))
  drop = Dropout(0.5)
  np.testing.assert_array_equal(drop(x).numpy(), 1.0)  # 默认（评估）：恒等
  with Context(TRAINING=1):
    y = drop(x).numpy()
  zeros = (y == 0).mean()
  assert 0.4 < zeros < 0.6, zeros  # 约一半被置零
  np.testing.assert_allclose(y[y != 0], 2.0)  # 其余放大 1/(1-p)
  assert Dropout(0.0)(x) is x
  # MLP 的 dropout 同样只在训练上下文中生效
  mlp = MLP([64, 64], dropout=0.5)
  with Context(TRAINING=0):
    np.testing.assert_array_equal(mlp(x).numpy(), mlp(x).numpy())


# ---------------------------------------------------------------- 错误输入：每个公开入口都给出写明期望与实际的 ValueError

BAD_CALLS = [
  # (说明, 调用, 错误消息中必须出现的片段（正则）)
  ("LeNet 输入少了通道维", lambda: LeNet()(f32(32, 64)), r"LeNet: 输入 x 的形状应为 \(batch, 1, 8, 8\)，实际为 \(32, 64\)"),
  ("LeNet 输入尺寸不对", lambda: LeNet()(f32(2, 1, 28, 28)), r"\(batch, 1, 8, 8\)，实际为 \(2, 1, 28, 28\)"),
  ("LeNet 整数输入", lambda: LeNet()(i32(2, 1, 8, 8)), r"LeNet: 输入 x 的数据类型应为浮点.*实际为 dtypes.int"),
  ("LeNet.features 形状", lambda: LeNet().features(f32(2, 8, 8)), r"\(batch, 1, 8, 8\)，实际为 \(2, 8, 8\)"),
  ("LeNet 输入太小", lambda: LeNet(input_size=(2, 2)), r"input_size=\(2, 2\) 太小"),
  ("LeNet input_size 类型", lambda: LeNet(input_size=8), r"input_size 应为含恰好 2 个正整数的列表或元组，实际为 8"),
  ("LeNet channels 为空", lambda: LeNet(channels=()), r"channels 应为含至少 1 个正整数"),
  ("MLP 特征数不对", lambda: MLP([64, 10])(f32(4, 32)), r"MLP: 输入 x 的形状应为 \(batch, 64\)，实际为 \(4, 32\)"),
  ("MLP sizes 太短", lambda: MLP([64]), r"MLP: 参数 sizes 应为含至少 2 个正整数的列表或元组，实际为 \[64\]"),
  ("MLP 激活名", lambda: MLP([4, 2], activation="swish"), r"MLP: 参数 activation 应为 'relu'.* 之一，实际为 'swish'"),
  ("MLP dropout", lambda: MLP([4, 2], dropout=1.0), r"MLP: 参数 dropout 应在区间 \[0, 1\) 内，实际为 1.0"),
  ("RNN 输入不是三维", lambda: RNN(3, 5)(f32(2, 3)), r"RNN: 输入 x 的形状应为 \(batch, T, 3\)，实际为 \(2, 3\)"),
  ("RNN h0 形状", lambda: RNN(3, 5)(f32(2, 4, 3), f32(2, 4)), r"RNN: 输入 h0 的形状应为 \(2, 5\)，实际为 \(2, 4\)"),
  ("RNN.step h", lambda: RNN(3, 5).step(f32(2, 3), f32(3, 5)), r"输入 h 的形状应为 \(2, 5\)，实际为 \(3, 5\)"),
  ("RNNCell x_t", lambda: RNNCell(3, 5)(f32(2, 4)), r"RNNCell: 输入 x_t 的形状应为 \(batch, 3\)，实际为 \(2, 4\)"),
  ("RNNCell 非线性", lambda: RNNCell(3, 5, nonlinearity="gelu"), r"nonlinearity 应为 'tanh', 'relu' 之一"),
  ("LSTM 特征数", lambda: LSTM(3, 5)(f32(2, 4, 2)), r"LSTM: 输入 x 的形状应为 \(batch, T, 3\)，实际为 \(2, 4, 2\)"),
  ("LSTM state 不是二元组", lambda: LSTM(3, 5)(f32(2, 4, 3), f32(2, 5)), r"LSTM: 参数 state 应为 \(h0, c0\) 二元组"),
  ("LSTM c0 形状", lambda: LSTM(3, 5)(f32(2, 4, 3), (f32(2, 5), f32(1, 5))), r"输入 c0 的形状应为 \(2, 5\)，实际为 \(1, 5\)"),
  ("LSTM.step x_t", lambda: LSTM(3, 5).step(f32(2, 3, 1), f32(2, 5), f32(2, 5)), r"x_t 的形状应为 \(batch, 3\)，实际为 \(2, 3, 1\)"),
  ("LSTM hidden_size", lambda: LSTM(3, 0), r"LSTM: 参数 hidden_size 应为正整数，实际为 0"),
  ("GRU 整数输入", lambda: GRU(3, 5)(i32(2, 4, 3)), r"GRU: 输入 x 的数据类型应为浮点"),
  ("SequenceClassifier cell", lambda: SequenceClassifier(2, 8, 1, cell="transformer"), r"cell 应为 'rnn', 'lstm', 'gru' 之一"),
  ("LSTMClassifier 输入", lambda: LSTMClassifier(2, 8, 1)(f32(4, 10)), r"LSTMClassifier: 输入 x 的形状应为 \(batch, T, 2\)，实际为 \(4, 10\)"),
  ("RNNClassifier num_outputs", lambda: RNNClassifier(2, 8, -1), r"num_outputs 应为正整数，实际为 -1"),
  ("Linear 特征数", lambda: Linear(4, 3)(f32(2, 5)), r"Linear: 输入 x 的形状应为 \(\.\.\., 4\)，实际为 \(2, 5\)"),
  ("Linear bias 类型", lambda: Linear(4, 3, bias=1), r"Linear: 参数 bias 应为 True 或 False，实际为 1"),
  ("Conv2d 通道数", lambda: Conv2d(3, 4, 3)(f32(2, 1, 8, 8)), r"Conv2d: 输入 x 的形状应为 \(batch, 3, H, W\)，实际为 \(2, 1, 8, 8\)"),
  ("Conv2d 太小", lambda: Conv2d(1, 4, 5)(f32(2, 1, 3, 3)), r"太小.*形状为 \(2, 1, 3, 3\)"),
  ("Conv2d kernel", lambda: Conv2d(1, 4, 2.5), r"kernel_size 应为正整数，实际为 2.5"),
  ("MaxPool2d 维数", lambda: MaxPool2d(2)(f32(2, 8, 8)), r"MaxPool2d: 输入 x 应为 4 维张量，实际为 3 维，形状 \(2, 8, 8\)"),
  ("AvgPool2d 太小", lambda: AvgPool2d(3)(f32(1, 1, 2, 2)), r"AvgPool2d: 输入 x 的空间尺寸应不小于池化窗口 3，实际形状为 \(1, 1, 2, 2\)"),
  ("LayerNorm 维度", lambda: LayerNorm(8)(f32(2, 4)), r"LayerNorm: 输入 x 的形状应为 \(\.\.\., 8\)，实际为 \(2, 4\)"),
  ("Embedding 浮点编号", lambda: Embedding(10, 4)(f32(2, 3)), r"Embedding: 输入 idx 的数据类型应为整数.*实际为 dtypes.float"),
  ("Dropout p", lambda: Dropout(1.5), r"Dropout: 参数 p 应在区间 \[0, 1\) 内，实际为 1.5"),
  ("Sequential 非函数", lambda: Sequential(Linear(2, 2), 3), r"Sequential: 参数 layers\[1\] 应为可调用对象"),
  ("sdpa key 维度", lambda: scaled_dot_product_attention(f32(2, 3, 4), f32(2, 3, 5), f32(2, 3, 4)),
   r"key 的形状应为 \(2, 3, 4\).*实际为 \(2, 3, 5\)"),
  ("sdpa 因果长度", lambda: scaled_dot_product_attention(f32(2, 3, 4), f32(2, 5, 4), f32(2, 5, 4), is_causal=True),
   r"is_causal=True 要求 query 与 key 长度相同，实际 Tq=3、Tk=5"),
  ("sdpa mask 形状", lambda: scaled_dot_product_attention(f32(2, 3, 4), f32(2, 3, 4), f32(2, 3, 4), attn_mask=f32(4, 4)),
   r"attn_mask 的形状应能广播到 \(2, 3, 3\)，实际为 \(4, 4\)"),
  ("causal_mask T", lambda: causal_mask(0), r"causal_mask: 参数 T 应为正整数，实际为 0"),
  ("padding_mask 越界", lambda: padding_mask([3, 5], max_len=4), r"lengths 的最大值 5 超过了 max_len=4"),
  ("padding_mask 类型", lambda: padding_mask([[1, 2]]), r"lengths 应为非空的一维非负整数序列"),
  ("MHA 维度整除", lambda: MultiHeadAttention(10, 3), r"d_model=10 应能被 num_heads=3 整除"),
  ("MHA query 维度", lambda: MultiHeadAttention(8, 2)(f32(2, 3, 6)), r"query 的形状应为 \(batch, Tq, 8\)，实际为 \(2, 3, 6\)"),
  ("MHA key 批大小", lambda: MultiHeadAttention(8, 2)(f32(2, 3, 8), f32(3, 3, 8)), r"key 的形状应为 \(2, Tk, 8\)，实际为 \(3, 3, 8\)"),
  ("MHA mask 形状", lambda: MultiHeadAttention(8, 2)(f32(2, 3, 8), key_padding_mask=padding_mask([1, 2, 3], 3)),
   r"key_padding_mask 的形状应为 \(2, 3\)，实际为 \(3, 3\)"),
  ("MHA mask 类型", lambda: MultiHeadAttention(8, 2)(f32(2, 3, 8), key_padding_mask=f32(2, 3)), r"key_padding_mask 的数据类型应为 bool"),
  ("MHA 因果长度", lambda: MultiHeadAttention(8, 2)(f32(2, 3, 8), f32(2, 4, 8), causal=True), r"Tq=3、Tk=4"),
  ("PE 超长", lambda: PositionalEncoding(8, max_len=4)(f32(1, 5, 8)), r"长度应不超过 max_len=4，实际形状为 \(1, 5, 8\)"),
  ("sinusoidal d_model", lambda: sinusoidal_positional_encoding(4, 0), r"d_model 应为正整数，实际为 0"),
  ("FeedForward 维度", lambda: FeedForward(8, 16)(f32(2, 6)), r"FeedForward: 输入 x 的形状应为 \(\.\.\., 8\)，实际为 \(2, 6\)"),
  ("EncoderBlock 维度", lambda: EncoderBlock(8, 2, 16)(f32(2, 5)), r"EncoderBlock: 输入 x 的形状应为 \(batch, T, 8\)，实际为 \(2, 5\)"),
  ("EncoderBlock 整除", lambda: EncoderBlock(8, 3, 16), r"d_model=8 应能被 num_heads=3 整除"),
  ("DecoderBlock 缺 memory", lambda: DecoderBlock(8, 2, 16, cross_attention=True)(f32(2, 5, 8)), r"必须给出 memory"),
  ("DecoderBlock 多余 memory", lambda: DecoderBlock(8, 2, 16)(f32(2, 5, 8), f32(2, 3, 8)), r"不应传入 memory，实际形状为 \(2, 3, 8\)"),
  ("DecoderBlock memory 形状", lambda: DecoderBlock(8, 2, 16, cross_attention=True)(f32(2, 5, 8), f32(2, 3, 4)),
   r"memory 的形状应为 \(2, S, 8\)，实际为 \(2, 3, 4\)"),
  ("TransformerEncoder 浮点 token", lambda: TransformerEncoder(10, 10)(f32(2, 8)), r"tokens 的数据类型应为整数"),
  ("TransformerEncoder 超长", lambda: TransformerEncoder(10, 10)(i32(2, 17)), r"tokens 的形状应为 \(batch, T<=16\)，实际为 \(2, 17\)"),
  ("TransformerEncoder 维数", lambda: TransformerEncoder(10, 10)(i32(2, 8, 1)), r"tokens 的形状应为 \(batch, T\)，实际为 \(2, 8, 1\)"),
  ("TransformerEncoder 头数", lambda: TransformerEncoder(10, 10, d_model=30), r"d_model=30 应能被 num_heads=4 整除"),
  ("TinyGPT 超长", lambda: TinyGPT(20, block_size=8)(i32(1, 9)), r"1 <= T <= block_size=8，实际为 \(1, 9\)"),
  ("TinyGPT 浮点", lambda: TinyGPT(20)(f32(1, 4)), r"TinyGPT: 输入 idx 的数据类型应为整数"),
  ("TinyGPT 一维", lambda: TinyGPT(20)(i32(4)), r"TinyGPT: 输入 idx 的形状应为 \(batch, T\)，实际为 \(4,\)"),
  ("TinyGPT vocab", lambda: TinyGPT(0), r"vocab_size 应为正整数，实际为 0"),
  ("generate 温度", lambda: TinyGPT(20).generate(i32(1, 3), 5, temperature=0), r"temperature 应为有限正数，实际为 0"),
  ("generate top_k 太大", lambda: TinyGPT(20).generate(i32(1, 3), 5, top_k=21), r"top_k 应为 \[1, 20\] 内的整数，实际为 21"),
  ("generate top_k 为 0", lambda: TinyGPT(20).generate(i32(1, 3), 5, top_k=0), r"top_k 应为 \[1, 20\] 内的整数，实际为 0"),
  ("generate 个数", lambda: TinyGPT(20).generate(i32(1, 3), -1), r"max_new_tokens 应为非负整数，实际为 -1"),
  ("generate 形状", lambda: TinyGPT(20).generate(i32(3), 2), r"TinyGPT.generate: 输入 idx 的形状应为 \(batch, T\)，实际为 \(3,\)"),
  ("Autoencoder 维度", lambda: Autoencoder()(f32(4, 8, 8)), r"Autoencoder: 输入 x 的形状应为 \(batch, 64\)，实际为 \(4, 8, 8\)"),
  ("Autoencoder.decode", lambda: Autoencoder().decode(f32(4, 64)), r"Autoencoder.decode: 输入 z 的形状应为 \(batch, 8\)，实际为 \(4, 64\)"),
  ("Autoencoder.encode", lambda: Autoencoder().encode(i32(4, 64)), r"Autoencoder.encode: 输入 x 的数据类型应为浮点"),
  ("Autoencoder hidden", lambda: Autoencoder(hidden_dims=(32, 0)), r"hidden_dims 应为含至少 0 个正整数的列表或元组，实际为 \(32, 0\)"),
  ("Generator z", lambda: Generator(2, 2)(f32(4, 3)), r"Generator: 输入 z 的形状应为 \(batch, 2\)，实际为 \(4, 3\)"),
  ("Generator 输出激活", lambda: Generator(2, 2, output_activation="relu"), r"output_activation 应为 'identity', 'sigmoid', 'tanh' 之一"),
  ("Discriminator x", lambda: Discriminator(2)(f32(4, 64)), r"Discriminator: 输入 x 的形状应为 \(batch, 2\)，实际为 \(4, 64\)"),
  ("Discriminator hidden", lambda: Discriminator(2, hidden=0), r"hidden 应为正整数，实际为 0"),
  ("GAN sample n", lambda: GAN().sample(0), r"GAN.sample: 参数 n 应为正整数，实际为 0"),
  ("GAN latent", lambda: GAN(latent_dim=-2), r"GAN: 参数 latent_dim 应为正整数，实际为 -2"),
  ("GAN 训练 数据形状", lambda: train_gan(GAN(), np.zeros((100, 3)), steps=1), r"train_gan: 输入 data 的形状应为 \(N, 2\)，实际为 \(100, 3\)"),
  ("GAN 训练 数据太少", lambda: train_gan(GAN(), np.zeros((10, 2)), steps=1, batch_size=64), r"N=10 应不少于 batch_size=64"),
  ("GAN 训练 steps", lambda: train_gan(GAN(), np.zeros((100, 2)), steps=0), r"steps 应为正整数，实际为 0"),
  ("GAN 训练 lr", lambda: train_gan(GAN(), np.zeros((100, 2)), steps=1, lr=-1.0), r"lr 应为有限正数，实际为 -1.0"),
  ("GAN 训练 对象", lambda: train_gan(MLP([2, 2]), np.zeros((100, 2)), steps=1), r"参数 gan 应为 GAN 实例，实际为 MLP"),
  ("GAN 训练 调度", lambda: train_gan(GAN(), np.zeros((100, 2)), steps=1, lr_schedule="step"), r"lr_schedule 应为 'cosine', 'constant' 之一"),
  ("非张量输入", lambda: MLP([4, 2])(np.zeros((2, 4), np.float32)), r"MLP: 输入 x 应为 tinygrad Tensor，实际为 numpy.ndarray"),
]


@pytest.mark.parametrize("what,call,pattern", BAD_CALLS, ids=[b[0] for b in BAD_CALLS])
def test_bad_input_raises_clear_value_error(what, call, pattern):
  with pytest.raises(ValueError) as excinfo:
    call()
  assert re.search(pattern, str(excinfo.value)), f"{what}: 消息 {str(excinfo.value)!r} 不含 {pattern!r}"


def test_check_helpers():
  assert _checks.format_shape((None, "batch", 3)) == "(*, batch, 3)"
  assert _checks.check_positive_int(3, "n") == 3
  for bad in (True, 0, -1, 2.0, "3", None):
    with pytest.raises(ValueError, match="n 应为正整数"):
      _checks.check_positive_int(bad, "n", "f")
  assert _checks.check_probability(0.0, "p") == 0.0
  assert _checks.check_probability(1, "p", allow_one=True) == 1.0
  with pytest.raises(ValueError, match=r"p 应在区间 \[0, 1\] 内，实际为 nan"):
    _checks.check_probability(float("nan"), "p", allow_one=True)
  with pytest.raises(ValueError, match=r"f: 输入 x 的第 1 维应为 3，即形状 \(\*, 3\)，实际形状为 \(2, 4\)"):
    _checks.check_dim(f32(2, 4), 1, 3, "x", "f")
  with pytest.raises(ValueError, match=r"f: 输入 x 的特征维应为 3"):
    _checks.check_dim(f32(2, 4), -1, 3, "x", "f", label="特征维")
