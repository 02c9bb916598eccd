"""Helpers for Scientific Spaces, Runnable."""
__version__ = "0.1.0"
