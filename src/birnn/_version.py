"""birnn's version, importable by every part without importing the package."""

__version__ = "0.1.0"
