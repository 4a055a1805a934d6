"""A synthetic European registry for demonstrations and load tests (``mcreg demo``)."""

from mcreg.demo.builder import DemoSummary, build_demo
from mcreg.demo.story import ISSUING_FROM, ISSUING_UNTIL, STORY_ENDS
from mcreg.demo.verdicts import VerdictMix, verdict_mix

__all__ = ["ISSUING_FROM", "ISSUING_UNTIL", "STORY_ENDS", "DemoSummary", "VerdictMix", "build_demo", "verdict_mix"]
