#!/usr/bin/env bash
# 贡献者的检查命令：默认只检查改动过的页面；--all 检查全站；也可以直接给出页面路径。
# 每个问题一行：文件:行号: 规则: 说明。退出码 0 没问题，1 有问题，2 用法错误。
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# 只需要文档环境（.venv 的 docs 依赖、KaTeX）、bubblewrap 和代码块的 .venv-blocks：不装 torch、Chromium、PoCL。
bash scripts/bootstrap.sh docs >&2
export NO_MKDOCS_2_WARNING=1 MPLBACKEND=Agg
# 代码块在沙箱里运行，内核缓存是 .cache/tinygrad-blocks/（devtools/sandbox.py）；笔记本也一样。
export DEV="${DEV:-CPU}"
exec .venv/bin/python -m devtools.check "$@"
