"""Administrators (the roots in HEALTHCODE_ADMIN_IDS and those appointed over a region), one feature per area:

- ``approvals``: organisations waiting for approval (/orgs_pending, approve / reject);
- ``broadcasts``: compose a notice to everyone, a region, an organisation or a code colour (/broadcast);
- ``broadcast_progress``: a sent broadcast's progress, stop and resend (/broadcast_status, /broadcast_cancel);
- ``statistics``: the day's counts and the colour chart (/stats);
- ``decisions``: a health-authority decision that forces a colour (/override);
- ``risk_areas``: the dated list of medium- and high-risk areas (/riskareas);
- ``imports``: a list of resident IDs or mobile numbers matched at once, a decision each (/import).

Each declares ``requires=authority(Role...)`` on every command, button and flow, so the dispatcher refuses
(and audits) everyone else, also when the role is withdrawn half way through a flow, and leaves the
role and scope in ``turn.authority``; each then acts only inside that scope (storage filters by its
region codes in SQL; a root administrator's is unrestricted). Every change an administrator makes is
audited too (who, what, when; no personal data).
"""
from __future__ import annotations

# Importing the package registers the broadcast and decision renderers (bench/broadcast.py relies on it).
from bot.services.administration import (
    approvals, broadcast_progress, broadcasts, decisions, risk_areas, statistics,
)
from bot.services.administration import imports
from bot.services.administration.statistics import colour_history

FEATURES = (approvals.FEATURE, broadcasts.FEATURE, broadcast_progress.FEATURE, statistics.FEATURE, decisions.FEATURE,
            risk_areas.FEATURE, imports.FEATURE)

__all__ = ["FEATURES", "approvals", "broadcast_progress", "broadcasts", "colour_history", "decisions", "imports", "risk_areas", "statistics"]
