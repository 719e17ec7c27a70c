// 用本站自带的 KaTeX 渲染公式。只处理 arithmatex 生成的 .arithmatex 元素，
// 所以正文里的“价格从 $5 涨到 $10”不会被误当成公式。
// 笔记本页面（mkdocs-jupyter）里的 Markdown 单元格沿用 Jupyter 的 $...$ 写法，
// 只在这些单元格内部用 auto-render 渲染。
(function () {
  "use strict";

  function renderArithmatex(root) {
    root.querySelectorAll(".arithmatex").forEach(function (el) {
      if (el.dataset.katexDone) return;
      var tex = el.textContent.trim();
      var display = el.tagName === "DIV";
      // arithmatex generic 模式的输出形如 \(...\) 或 \[...\]
      if (tex.startsWith("\\(") || tex.startsWith("\\[")) tex = tex.slice(2, -2);
      try {
        katex.render(tex, el, { displayMode: display, throwOnError: true, strict: "warn" });
        el.dataset.katexDone = "1";
      } catch (err) {
        // 公式错误会出现在控制台，浏览器测试据此失败；页面上保留原文并标红。
        el.classList.add("katex-error-source");
        console.error("KaTeX 渲染失败：" + err.message + "，公式：" + tex);
      }
    });
  }

  function renderNotebooks(root) {
    root.querySelectorAll(".jupyter-wrapper .jp-RenderedMarkdown").forEach(function (el) {
      if (el.dataset.katexDone) return;
      renderMathInElement(el, {
        delimiters: [
          { left: "$$", right: "$$", display: true },
          { left: "$", right: "$", display: false },
          { left: "\\[", right: "\\]", display: true },
          { left: "\\(", right: "\\)", display: false },
        ],
        throwOnError: true,
        errorCallback: function (msg, err) {
          console.error("KaTeX 渲染失败：" + msg + " " + err);
        },
      });
      el.dataset.katexDone = "1";
    });
  }

  function renderAll() {
    renderArithmatex(document);
    renderNotebooks(document);
  }

  // Material 的 document$ 在启用即时加载时每次换页都会触发；没有它时按普通页面处理。
  if (typeof document$ !== "undefined") {
    document$.subscribe(renderAll);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", renderAll);
  } else {
    renderAll();
  }
})();
