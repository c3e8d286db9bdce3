"""The colour policy packaged with the code, read here at the edge and handed to ``rules`` as text.

``rules.policy`` only parses; the file itself (``rules/default_policy.toml``, kept beside the rules it
configures) is read once, on first use. ``HEALTHCODE_POLICY_FILE`` replaces it (``bot.bootstrap``).
"""
from __future__ import annotations

from functools import cache
from importlib import resources

from rules.policy import DEFAULT_POLICY_RESOURCE, Policy, parse_policy


@cache
def load_default_policy() -> Policy:
    text = resources.files("rules").joinpath(DEFAULT_POLICY_RESOURCE).read_text(encoding="utf-8")
    return parse_policy(text, f"rules/{DEFAULT_POLICY_RESOURCE}")
