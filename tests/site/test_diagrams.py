"""架构页面的示意图（scripts/diagrams.py）：已提交的 SVG 与真实模型一致。

图上的形状与参数量是从 tinymodels 的模型读出来的。模型一改，重新生成的图就
与提交的不同，这里指出哪张图过期了：运行 ``python scripts/diagrams.py``。
"""

from __future__ import annotations

import importlib.util
import re
import xml.etree.ElementTree as ET

import pytest

from devtools.paths import DOCS, ROOT

DIAGRAM_DIR = DOCS / "assets" / "diagrams"

#: 每个架构与大模型页面至少有一张图
PAGES = [
    "architectures/cnn/index.md",
    "architectures/cnn/lenet.md",
    "architectures/rnn-lstm/index.md",
    "architectures/rnn-lstm/lstm.md",
    "architectures/attention-transformer/index.md",
    "architectures/attention-transformer/transformer-block.md",
    "architectures/autoencoder-gan/index.md",
    "architectures/autoencoder-gan/gan.md",
    "llm/tokenization/index.md",
    "llm/tokenization/corpus.md",
    "llm/tiny-gpt/index.md",
    "llm/modern-decoder/index.md",
    "llm/inference/index.md",
    "llm/inference/sampling.md",
    "llm/scaling-laws/debates.md",
    "llm/moe/index.md",
    "llm/moe/aux-loss.md",
    "llm/distributed/mixed-precision.md",
    "llm/distributed/parallelism.md",
    "llm/sft/index.md",
    "llm/lora/index.md",
    "llm/alignment/index.md",
    "llm/alignment/dpo.md",
    "llm/grpo/index.md",
    "llm/grpo/training.md",
    "llm/evaluation/index.md",
    "llm/evaluation/benchmarks.md",
]

_INCLUDE = re.compile(r'^--8<-- "docs/assets/diagrams/([\w-]+\.svg)"$', re.M)


def _load():
    spec = importlib.util.spec_from_file_location(
        "diagrams", ROOT / "scripts" / "diagrams.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def drawn() -> dict[str, str]:
    return _load().render_all()


def test_committed_diagrams_match_the_models(drawn):
    stale = _load().stale(drawn)
    assert not stale, (
        "这些图与模型不一致（或缺失、多余），请运行 "
        "python scripts/diagrams.py 重新生成：" + "、".join(stale)
    )


def test_every_architecture_page_shows_a_diagram_with_a_caption(drawn):
    used = set()
    for page in PAGES:
        text = (DOCS / page).read_text(encoding="utf-8")
        names = _INCLUDE.findall(text)
        assert names, f"docs/{page} 没有嵌入任何示意图"
        for name in names:
            assert name in drawn, f"docs/{page} 嵌入了不存在的图 {name}"
            block = re.search(
                r'<figure class="kb-diagram">\n--8<-- "docs/assets/diagrams/'
                + re.escape(name)
                + r'"\n<figcaption>[^\n<]\S.*</figcaption>\n</figure>',
                text,
            )
            assert block, (
                f'docs/{page}：{name} 要放在 <figure class="kb-diagram"> '
                "里，下一行是一句 <figcaption>"
            )
        used |= set(names)
    assert used == set(drawn), f"没有页面用到的图：{set(drawn) - used}"


def test_diagrams_follow_the_theme_and_stay_readable(drawn):
    for name, svg in drawn.items():
        root = ET.fromstring(svg)
        assert root.get("viewBox", "").startswith("0 0 680 "), name
        assert root.get("fill") == "currentColor", name
        assert "\n\n" not in svg, f"{name}：空行会打断 Markdown 的 HTML 块"
        # 颜色只用 currentColor 与半透明的色块：不写死黑、白
        for color in re.findall(r'(?:fill|stroke)="([^"]+)"', svg):
            assert color not in {"#000", "#000000", "black", "#fff", "white"}
        sizes = [int(s) for s in re.findall(r'font-size="(\d+)"', svg)]
        assert min(sizes) >= 12, f"{name}：字号小于 12"
        assert not re.search(r"<script|href=|url\(", svg), name
