"""MkDocs 钩子：精简搜索索引，让中文术语保持完整。

Material 的搜索插件（``lang: zh``，装了 jieba）把每个页面按标题切成小节，用
jieba 分词（词与词之间插入零宽空格 U+200B），写进
``search/search_index.json``。
浏览器里的 lunr 再按 ``separator`` 把文字切成词。这个钩子做三件事：

1. **术语不被切开**（``on_config``）：把术语表 ``docs/glossary.md`` 各个术语表
   格第一列的中文术语（构建时读取，不另外维护词表）和 ``EXTRA_WORDS`` 里少数不
   在术语表里的词加进 jieba 的词典。“热力图”“过拟合”“位置编码”因此各是一个
   词，而不是“热 / 力图”。
2. **只索引正文**（``on_config`` 包装搜索插件取页面内容的入口）：搜索插件拿到
   的是 ``clean_html`` 过滤后的 HTML：没有代码块、输出块、代码块上的文件名、验
   证徽章、公式（TeX 原文或 KaTeX 生成的 HTML/MathML）、笔记本的代码单元格与输
   出、标题旁的 ¶ 链接。笔记本外层的 ``<div>`` 被拆掉，标题下的文字才归到这个
   标题的小节里。页面本身不受影响。
3. **索引变小**（``on_post_build``，在搜索插件写出索引之后）：
   ``rewrite_index`` 把标题改成纯文本，删掉与分隔符相邻的多余零宽空格，合
   并地址相同的条目，给笔记本页面降权（``NOTEBOOK_BOOST``），并以 UTF-8 原
   样写出：Material 用 ``json.dumps`` 的默认设置，把每个汉字和每个零宽空格
   都写成 6 个字节的 ``\\uXXXX``。

浏览器一侧（查询怎样切词、索引何时下载）见
``overrides/search-lazy.js``（内联进每页）与
``docs/assets/javascripts/search-worker.js``。
"""

from __future__ import annotations

import copy
import html
import json
import logging
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

_REPO = str(Path(__file__).resolve().parent.parent)
if _REPO not in sys.path:  # 钩子按文件路径加载，devtools 包需要仓库根目录
    sys.path.insert(0, _REPO)

from mkdocs.plugins import event_priority  # noqa: E402

from devtools.paths import DOCS  # noqa: E402

log = logging.getLogger("mkdocs.plugins.kb.search")

GLOSSARY = DOCS / "glossary.md"

#: 不在术语表里、但读者常搜、jieba 又会切错的词（jieba 自带的词典里没有
#: “热力图”，切成“热 / 力图”）。术语表里有的词不要写在这里；“注意力”不用写：
#: jieba 本来就不切开它，量过加不加结果一样。
EXTRA_WORDS = ("热力图",)

#: 加进 jieba 词典的词的最低词频。jieba 默认给的词频只保证这个词单独出现时
#: 不被切开，放在句子里仍会被邻近的字抢走（“每步只送入一个新词元” → “新词 /
#: 元”，“模型损失随参数量” → “随参 / 数量”）。在本站全部页面上量过：默认词频
#: 下术语表的词有 99 处被切开，2000 时 2 处。
MIN_FREQ = 2000

#: 笔记本页面在搜索结果里的权重。笔记本是文章的配套演示（每篇文章都链接到
#: 它）：同一个词，文章里讲解它的小节应当排在前面。Material 给页面条目的分数
#: 乘 5、给小节乘 2，所以笔记本页面标题的命中要乘一个小于 0.4 的数，才排到文
#: 章小节标题的命中后面；只有笔记本里才有的词（“热力图”）仍然先找到笔记本。
NOTEBOOK_BOOST = 0.3

ZWSP = "\u200b"

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


# ------------------------------------------------------------------ 术语词典


def glossary_words(text: str) -> list[str]:
    """术语表各表格第一列里的中文词（至少两个汉字）。

    “查询、键、值”“Pre-LN 与 Post-LN”这样的条目按非汉字拆开，只留汉字部分；
    单个汉字（“轮”“值”）不加：单字本来就是一个词。
    """
    from devtools.terminology import glossary_terms

    words: list[str] = []
    for _, term in glossary_terms(text):
        for part in re.split(r"[^\u3400-\u9fff]+|与|和", term):
            if len(part) >= 2 and _HAN.fullmatch(part) and part not in words:
                words.append(part)
    return words


def load_words(glossary: Path = GLOSSARY) -> list[str]:
    """把术语表里的词和 EXTRA_WORDS 加进 jieba（进程内全局的默认分词器）。"""
    import jieba

    jieba.setLogLevel(
        logging.WARNING
    )  # 不在每次构建时打印“Building prefix dict”
    words = glossary_words(glossary.read_text(encoding="utf-8"))
    words += [w for w in EXTRA_WORDS if w not in words]
    for word in words:
        freq = max(jieba.suggest_freq(word, False), MIN_FREQ)
        jieba.add_word(word, freq)
    return words


# ------------------------------------------------------------ 给索引的 HTML

#: 整个元素（连同内容）不进索引的标签
DROP_TAGS = frozenset(
    {
        "pre",
        "script",
        "style",
        "svg",
        "math",
        "noscript",
        "template",
        "textarea",
        "button",
        "clipboard-copy",
        "object",
        "iframe",
        "img",
    }
)

#: 带有其中任一 class 的元素（连同内容）不进索引
DROP_CLASSES = frozenset(
    {
        # 代码块、行号、代码块标题（片段文件名）、复制按钮
        "highlight",
        "highlighttable",
        "linenodiv",
        "filename",
        "md-clipboard",
        "md-code__nav",
        # 公式：pymdownx.arithmatex 的 TeX 原文，或 KaTeX 渲染出的 HTML/MathML
        "arithmatex",
        "katex",
        "katex-display",
        "katex-mathml",
        "katex-html",
        "MathJax",
        "MathJax_Preview",
        # 标题旁的永久链接（¶）、脚注的返回链接
        "headerlink",
        "anchor-link",
        "footnote-backref",
        # 验证徽章、页面顶部的验证汇总、验证状态表、首页卡片上的元信息
        "kb-anchor",
        "kb-summary",
        "kb-status",
        "kb-meta",
        "kb-nb-download",
        # 笔记本：代码单元格（含输出）、输入/输出提示符、输出区
        "jp-CodeCell",
        "jp-InputPrompt",
        "jp-OutputPrompt",
        "jp-OutputArea",
        "jp-Editor",
    }
)

#: class 以这些前缀开头的元素也不进索引（徽章的各个部件）
DROP_CLASS_PREFIXES = ("kb-badge", "katex")

_VOID = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    }
)

#: 笔记本 Markdown 单元格里的公式是原样的 TeX：$...$、$$...$$、\(...\)、
#: \[...\]。
#: 单个 $ 两侧必须紧挨着非空白字符，“价格从 $5 涨到 $10”不算公式。
_TEX = re.compile(
    r"\$\$.+?\$\$"
    r"|\\\[.+?\\\]"
    r"|\\\(.+?\\\)"
    r"|(?<![\\$\w])\$(?=[^\s$])[^$\n]{0,300}?(?<=[^\s\\$])\$(?!\w)",
    re.DOTALL,
)


def _dropped(tag: str, attrs: list[tuple[str, str | None]]) -> bool:
    if tag in DROP_TAGS:
        return True
    for name, value in attrs:
        if name == "class" and value:
            for cls in value.split():
                if cls in DROP_CLASSES or cls.startswith(DROP_CLASS_PREFIXES):
                    return True
    return False


class _Cleaner(HTMLParser):
    """逐个标记复制 HTML，跳过要丢掉的元素（连同它的全部内容）。"""

    def __init__(self, unwrap_divs: bool, strip_tex: bool):
        super().__init__(convert_charrefs=False)
        self.out: list[str] = []
        self.unwrap_divs = unwrap_divs
        self.strip_tex = strip_tex
        self.skip_tag: str | None = None  # 正在跳过的元素的标签
        self.skip_depth = 0  # 其中同名标签的嵌套层数

    def handle_starttag(self, tag, attrs):
        if self.skip_tag is not None:
            if tag == self.skip_tag and tag not in _VOID:
                self.skip_depth += 1
            return
        if _dropped(tag, attrs):
            if tag not in _VOID:
                self.skip_tag, self.skip_depth = tag, 1
            return
        if self.unwrap_divs and tag == "div":
            self.out.append(" ")
            return
        self.out.append(self.get_starttag_text() or "")

    def handle_startendtag(self, tag, attrs):
        if self.skip_tag is None and not _dropped(tag, attrs):
            self.out.append(self.get_starttag_text() or "")

    def handle_endtag(self, tag):
        if self.skip_tag is not None:
            if tag == self.skip_tag:
                self.skip_depth -= 1
                if self.skip_depth == 0:
                    self.skip_tag = None
            return
        if self.unwrap_divs and tag == "div":
            self.out.append(" ")
            return
        self.out.append(f"</{tag}>")

    def handle_data(self, data):
        if self.skip_tag is None:
            self.out.append(data)

    def handle_entityref(self, name):
        if self.skip_tag is None:
            self.out.append(f"&{name};")

    def handle_charref(self, name):
        if self.skip_tag is None:
            self.out.append(f"&#{name};")

    def text(self) -> str:
        out = "".join(self.out)
        if self.strip_tex:
            # 公式可能跨越 &lt; 这样的实体，在完整的字符串上删
            out = _TEX.sub(" ", out)
        return out


def clean_html(content: str, notebook: bool = False) -> str:
    """给搜索插件的 HTML：去掉代码、输出、公式、徽章等（见 DROP_*）。

    ``notebook=True``（mkdocs-jupyter 的页面）时还拆掉所有 ``<div>``，并删掉
    Markdown 单元格里原样的 TeX：笔记本的每个单元格套着好几层 ``<div>``，标题
    在里面，Material 的解析器一离开这些 ``<div>`` 就把后面的文字算回页面开头的
    小节。
    """
    parser = _Cleaner(unwrap_divs=notebook, strip_tex=notebook)
    parser.feed(content)
    parser.close()
    return parser.text()


def _is_notebook(page) -> bool:
    return page.file.src_uri.endswith(".py")


def _wrap_search_index(config) -> None:
    """让搜索插件索引 clean_html 之后的内容，而不是页面原样的 HTML。

    搜索插件在 ``on_page_context`` 里调用
    ``search_index.add_entry_from_context(page)``；这里把 page 换成一个内容已
    过滤的浅拷贝。接口变了（Material 升级）时发出警告：严格模式下构建失败，而
    不是悄悄地又把代码索引进去。
    """
    plugins = config.plugins
    plugin = plugins.get("material/search") or plugins.get("search")
    if plugin is None or not plugin.config.get("enabled", True):
        return
    index = getattr(plugin, "search_index", None)
    add = getattr(index, "add_entry_from_context", None)
    if add is None:
        log.warning(
            "search_hooks: 找不到搜索插件的"
            " search_index.add_entry_from_context"
            "（Material 的内部接口变了？），搜索索引没有经过过滤"
        )
        return
    if getattr(add, "kb_clean", False):
        return

    def add_entry_from_context(page):
        proxy = copy.copy(page)
        proxy.content = clean_html(page.content or "", _is_notebook(page))
        return add(proxy)

    add_entry_from_context.kb_clean = True
    index.add_entry_from_context = add_entry_from_context


# ------------------------------------------------------------ 改写索引文件

_TAG = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"[ \t\r\n\f]+")
_EMPTY_TAG = re.compile(r"<(p|li|ul|ol|code|sub|sup)>[\s\u200b]*</\1>")


def squeeze_zwsp(text: str, separator: re.Pattern) -> str:
    """删掉不起分隔作用的零宽空格。

    零宽空格只在两个都不是分隔符的字符之间才有用（“梯度\\u200b下降”、
    “用\\u200btinygrad”）；挨着空格、标点、标签（lunr 在标签处本来就断开）或
    字符串两端的，以及连续的多个，都删掉。
    """

    def keep(m: re.Match) -> str:
        start, end = m.span()
        prev = text[start - 1] if start else ""
        nxt = text[end] if end < len(text) else ""
        if (
            not prev
            or not nxt
            or prev in "<>"
            or nxt in "<>"
            or separator.fullmatch(prev)
            or separator.fullmatch(nxt)
        ):
            return ""
        return ZWSP

    return re.sub(f"{ZWSP}+", keep, text)


def clean_title(title: str, separator: re.Pattern) -> str:
    """标题：只留文字（无标签、无 ¶），空白压成一个空格。"""
    text = _TAG.sub("", title).replace("¶", "")
    text = html.unescape(text)
    text = html.escape(_SPACES.sub(" ", text).strip(), quote=False)
    return squeeze_zwsp(text, separator).strip(ZWSP + " ")


#: 删掉公式后，标点前后留下的空格（“若 \(x\)，” → “若 ，” → “若，”）
_SPACE_PUNCT = re.compile(
    r"[ \u200b]+(?=[，。；：、！？）」』”])|(?<=[（「『“])[ \u200b]+"
)


def clean_text(text: str, separator: re.Pattern) -> str:
    text = _SPACES.sub(" ", text)
    text = _SPACE_PUNCT.sub("", text)
    previous = None
    while previous != text:
        previous, text = text, _EMPTY_TAG.sub("", text)
    text = re.sub(r"> <", "><", text)
    return squeeze_zwsp(text, separator).strip()


def rewrite_index(data: dict, boosts: dict[str, float] | None = None) -> dict:
    """改写 Material 写出的索引（``{"config": ..., "docs": [...]}``）。

    同一地址的条目（笔记本的页首与一级标题）合并成一条：标题取第一个非空的，
    正文连在一起。``boosts``：页面地址 → 权重，乘到这个页面的每个条目上。
    """
    boosts = boosts or {}
    separator = re.compile(data["config"]["separator"])
    docs: list[dict] = []
    by_location: dict[str, dict] = {}
    for entry in data["docs"]:
        entry = dict(entry)
        entry["title"] = clean_title(entry.get("title", ""), separator)
        entry["text"] = clean_text(entry.get("text", ""), separator)
        page = entry["location"].split("#", 1)[0]
        same = by_location.get(entry["location"])
        first = by_location.get(page)
        if (
            same is None
            and first is not None
            and first is docs[-1]
            and not first["text"]
            and entry["title"] == first["title"]
        ):
            # 页面条目之后紧跟着与页面同名的一级标题（笔记本）：是同一节
            same = first
        if same is not None:
            same["title"] = same["title"] or entry["title"]
            same["text"] = " ".join(
                t for t in (same["text"], entry["text"]) if t
            )
            continue
        if page in boosts:
            entry["boost"] = entry.get("boost", 1) * boosts[page]
        by_location[entry["location"]] = entry
        docs.append(entry)
    return {**data, "docs": docs}


def dumps(data: dict) -> bytes:
    """紧凑的 UTF-8 JSON（汉字原样写出）。"""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8"
    )


# ------------------------------------------------------------------- 事件


_BOOSTS: dict[str, float] = {}  # 本次构建：页面地址 → 搜索权重


@event_priority(-50)  # 在搜索插件的 on_config（创建 search_index）之后
def on_config(config):
    _BOOSTS.clear()
    load_words()
    _wrap_search_index(config)
    return config


def on_page_context(context, page, config, nav):
    if _is_notebook(page):
        _BOOSTS[page.url] = NOTEBOOK_BOOST
    return context


@event_priority(
    -90
)  # 搜索插件（0）写出索引之后、offline 插件（-100）内联它之前
def on_post_build(config) -> None:
    path = Path(config["site_dir"]) / "search" / "search_index.json"
    if not path.is_file():
        return
    data = json.loads(path.read_text(encoding="utf-8"))
    data = rewrite_index(data, _BOOSTS)
    path.write_bytes(dumps(data))
