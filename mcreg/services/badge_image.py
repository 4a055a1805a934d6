"""The image an Open Badges 3.0 achievement carries: a small SVG badge, as a ``data:`` URI (the ELM export shows
the same badge, base64 in a ``MediaObject``).

Wallets and OB3 validators show an achievement's image. It travels inside the signed credential, so a
wallet never asks the registry to display it (nothing learns when a learner looks at a credential), it
survives a change of the registry's public URL, and the proof covers it. The badge says what the
credential is worth, ECTS credits and EQF level, drawn the same way for the same facts.
"""

from __future__ import annotations

import base64
from typing import Any
from xml.sax.saxutils import escape, quoteattr

_BADGE = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256" role="img" '
    "aria-label={label}>"
    '<circle cx="128" cy="128" r="124" fill="#003399"/>'
    '<circle cx="128" cy="128" r="104" fill="none" stroke="#ffcc00" stroke-width="6"/>'
    '<text x="128" y="{credits_y}" font-family="sans-serif" font-size="40" font-weight="bold" fill="#ffffff" '
    'text-anchor="middle">{credits}</text>'
    "{level}"
    "</svg>"
)
_LEVEL = (
    '<text x="128" y="164" font-family="sans-serif" font-size="28" fill="#ffcc00" text-anchor="middle">'
    "EQF {level}</text>"
)


def _caption(title: str, credits: str, eqf_level: int | None) -> str:
    return f"{title}: {credits}" + (f", EQF level {eqf_level}" if eqf_level is not None else "")


def badge_svg(title: str, credits: str, eqf_level: int | None) -> str:
    """The SVG badge of ``credits`` (``5 ECTS``) and EQF level, labelled with the title (the ELM export's image)."""
    return _BADGE.format(
        label=quoteattr(_caption(title, credits, eqf_level)),
        credits_y=120 if eqf_level is not None else 142,
        credits=escape(credits),
        level=_LEVEL.format(level=eqf_level) if eqf_level is not None else "",
    )


def badge_image(title: str, credits: str, eqf_level: int | None) -> dict[str, Any]:
    """The achievement's OB3 ``Image``: the SVG badge as a ``data:`` URI, captioned with its title."""
    encoded = base64.b64encode(badge_svg(title, credits, eqf_level).encode("utf-8")).decode("ascii")
    return {
        "id": f"data:image/svg+xml;base64,{encoded}",
        "type": "Image",
        "caption": _caption(title, credits, eqf_level),
    }
