"""站点的开发工具（不随 tinymodels 发布）：代码块解析、公式检查、MkDocs 钩子等。"""
