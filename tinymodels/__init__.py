"""tinymodels：基于 tinygrad 的小型模型库（占位，最终导出由 data/train 负责人补全）。"""
__version__ = "0.1.0"
