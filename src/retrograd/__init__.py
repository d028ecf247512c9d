"""retrograd: reverse-mode automatic differentiation over a dynamic graph, with PyTorch's API."""
__version__ = "0.1.0"
