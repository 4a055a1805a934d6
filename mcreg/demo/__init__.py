"""A synthetic European registry for demonstrations and load tests (``mcreg demo``)."""

from mcreg.demo.builder import DemoSummary, build_demo
from mcreg.demo.story import ISSUING_FROM, ISSUING_UNTIL

__all__ = ["ISSUING_FROM", "ISSUING_UNTIL", "DemoSummary", "build_demo"]
