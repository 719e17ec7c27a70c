# 在本站自己的中文语料上训练一个 1024 词元的字节级 BPE：
# 看它最先学到什么、学出了哪些长词元，再在没见过的文字上编码。
from tinymodels import BPETokenizer, load_corpus

text = load_corpus()
# 前 80% 训练，后 20% 留作“没见过的文字”
cut = len(text) * 4 // 5
train, held = text[:cut], text[cut:]

tok = BPETokenizer.train(train, vocab_size=1024)


def show(i: int) -> str:
    """词元的文字；不是完整的 UTF-8 字符时，显示它的字节。"""
    b = tok.vocab[i]
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return "<" + b.hex(" ") + ">"


first = [show(256 + r) for r in range(12)]
print("最先学到的 12 个词元：")
print(" | ".join(first[:6]))
print(" | ".join(first[6:]))
# 最先的合并大多在拼汉字的字节：“的”= e7 9a 84，先学 e7 9a，再拼上 84
assert "的" in first and "<e7 9a>" in first

# 能完整解码的词元里，字数最多的 10 个
whole = [show(i) for i in range(256, tok.vocab_size) if show(i)[0] != "<"]
longest = sorted(whole, key=len)[::-1][:10]
print("最长的 10 个：")
print(" | ".join(longest[:5]))
print(" | ".join(longest[5:]))
# 合并只看字节，不管字的边界：有的词元是半个字，甚至一个半字
partial = [i for i in range(256, tok.vocab_size) if show(i)[0] == "<"]
widest = max(partial, key=lambda i: len(tok.vocab[i]))
print(f"{len(partial)} 个词元不是完整的字，最长的是 {show(widest)}")

ids = tok.encode(held)
print(f"没见过的后 20%：{len(held)} 个字符 → {len(ids)} 个词元")
assert tok.decode(ids) == held  # 无损：解码回来一字不差
assert len(ids) < len(held)  # 平均不到一个字符一个词元
