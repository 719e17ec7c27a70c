#!/usr/bin/env bash
# 新文章脚手架：生成页面、代码片段、nav 条目和术语表条目。用法见 CONTRIBUTING.md。
#   bash scripts/new-article.sh basics/softmax --title "Softmax 与交叉熵" --section 基础 --term "数值稳定性=numerical stability"
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/bootstrap.sh docs >&2
exec .venv/bin/python -m devtools.new_article "$@"
