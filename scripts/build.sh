#!/usr/bin/env bash
# 构建静态网站到 site/（严格模式：任何警告都会失败）。发布工作流用的就是它。
# 离线包：scripts/build.sh --offline 构建到 site-offline/（链接指向 .../index.html，搜索索引内联），再打成
# dist/tinymodels-kb-offline.zip：解压后直接打开 index.html（file://）就能读、能搜索，不联网（devtools/offline.py）。
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/docs-env.sh"
if [ "${1:-}" = --offline ]; then
  shift
  rm -rf site-offline
  KB_OFFLINE=true .venv/bin/mkdocs build --strict --site-dir site-offline "$@"
  exec .venv/bin/python -m devtools.offline site-offline dist/tinymodels-kb-offline.zip
fi
exec .venv/bin/mkdocs build --strict "$@"
