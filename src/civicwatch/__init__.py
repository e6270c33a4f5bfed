"""civicwatch: monitor civic space from the reports monitors read."""

__version__ = "0.1.0"

__all__ = ["__version__"]
