"""离线包：解压后从 ``file://`` 打开也能读、能搜索的整站副本。

``bash scripts/build.sh --offline`` 设 ``KB_OFFLINE=true``，打开 mkdocs.yml
里 Material 自带的 ``offline`` 插件：它关掉目录式网址（链接指向
``.../index.html``），并把搜索索引内联进 ``search/search_index.js``
（``file://`` 下不能 fetch）。但它还会往每一页插入
``https://unpkg.com/iframe-worker/shim``（``file://`` 下浏览器不许启动
Web Worker，Material 的搜索靠这个 shim 用隐藏的 iframe 代替），除非
``extra.polyfills`` 里已经有一个 iframe-worker。

这个 MkDocs 钩子在 offline 插件之前把 ``extra.polyfills`` 指向站点自带的
一份（npm 锁定版本的 ``iframe-worker``，构建结束时从 node_modules 复制），
所以离线包不请求任何外部地址。普通构建里它什么也不做。

命令行：``python -m devtools.offline 站点目录 输出.zip`` 把构建好的离线站点
打成 zip，包里的顶层目录名取 zip 的文件名（不含 ``.zip``）。
"""

from __future__ import annotations

import shutil
import sys
import zipfile
from pathlib import Path

_REPO = str(Path(__file__).resolve().parent.parent)
if _REPO not in sys.path:  # 钩子按文件路径加载
    sys.path.insert(0, _REPO)

from mkdocs.plugins import event_priority  # noqa: E402

from devtools.paths import ROOT  # noqa: E402

#: npm 包 iframe-worker 里的 shim（unpkg 的 iframe-worker/shim 就是这个文件）
SHIM_SRC = ROOT / "node_modules" / "iframe-worker" / "shim" / "index.js"
#: 它在站点里的位置
SHIM_DEST = "assets/javascripts/iframe-worker-shim.js"


def _offline_enabled(config) -> bool:
    from material.plugins.offline.plugin import OfflinePlugin

    return any(
        isinstance(p, OfflinePlugin) and p.config.enabled
        for p in config["plugins"].values()
    )


@event_priority(100)  # 在 offline 插件（优先级 0）往 polyfills 里加 CDN 之前
def on_config(config):
    if _offline_enabled(config):
        config.extra["polyfills"] = [SHIM_DEST]
    return config


def on_post_build(config) -> None:
    if not _offline_enabled(config):
        return
    if not SHIM_SRC.is_file():
        raise SystemExit(
            f"找不到 {SHIM_SRC}：请先运行 bash scripts/bootstrap.sh docs"
            "（它执行 npm ci，安装 package.json 里锁定的 iframe-worker）。"
        )
    site = Path(config["site_dir"])
    # 只对服务器有用的文件：404 页用 site_url 的绝对路径，file:// 下全是坏
    # 链接；站点地图指向线上地址
    for name in ("404.html", "sitemap.xml", "sitemap.xml.gz"):
        (site / name).unlink(missing_ok=True)
    target = site / SHIM_DEST
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(SHIM_SRC, target)
    shutil.copy2(
        SHIM_SRC.parent.parent / "LICENSE",
        target.with_name("iframe-worker-LICENSE.txt"),
    )


def make_zip(site_dir: Path, out: Path) -> Path:
    """把 site_dir 打包成 out；包里的路径以 out 的文件名（不含后缀）开头。"""
    site_dir, out = Path(site_dir), Path(out)
    if not (site_dir / "index.html").is_file():
        raise SystemExit(f"{site_dir} 里没有 index.html：先构建离线站点")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(site_dir.rglob("*")):
            if path.is_file():
                arc = f"{out.stem}/{path.relative_to(site_dir).as_posix()}"
                zf.write(path, arc)
    tmp.replace(out)
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        usage = "用法：python -m devtools.offline 站点目录 输出.zip"
        print(usage, file=sys.stderr)
        return 2
    out = make_zip(Path(args[0]), Path(args[1]))
    size = out.stat().st_size / 2**20
    print(f"离线包：{out}（{size:.1f} MiB）；解压后打开其中的 index.html")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
