"""The htjax version (one place; imported by ``htjax`` and by code that must not import the package)."""

__version__ = "0.1.0"
