#!/usr/bin/env bash
# 构建静态网站到 site/（严格模式：任何警告都会失败）。发布工作流用的就是它。
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/docs-env.sh"
exec .venv/bin/mkdocs build --strict "$@"
