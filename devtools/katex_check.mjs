// 用锁定版本的 KaTeX（node_modules/katex）逐个渲染公式，报告无效的 LaTeX。
// 输入（stdin）：JSON 数组 [{"tex": "...", "display": true}, ...]
// 输出（stdout）：等长的 JSON 数组，每项为 null（正常）或 KaTeX 的错误信息。
import katex from "katex";

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const formulas = JSON.parse(input);
  const results = formulas.map(({ tex, display }) => {
    try {
      // strict: "error" 让“数学模式里直接写中文”之类的问题也报错（应写成 \text{中文}）。
      katex.renderToString(tex, { displayMode: display, throwOnError: true, strict: "error" });
      return null;
    } catch (err) {
      return String(err.message || err).replace(/\s+/g, " ");
    }
  });
  process.stdout.write(JSON.stringify({ katex: katex.version, results }));
});
