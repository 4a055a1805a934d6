"""A synthetic European registry for demonstrations and load tests (``mcreg demo``)."""

from mcreg.demo.builder import build_demo

__all__ = ["build_demo"]
