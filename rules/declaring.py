"""The one-tap daily declaration: whether yesterday's answers may simply be declared again.

Only an entirely normal day is repeated (normal temperature, no symptoms, no contact, no travel, no
diagnosis); anything else takes the full flow. When the policy wants a reading every day
(``Policy.temperature_every_day``) the temperature is asked again and the rest repeated.
"""
from __future__ import annotations

from decimal import Decimal

from rules.model import Answers, Diagnosis, TravelRisk
from rules.policy import Policy


def lowest_temperature_threshold(policy: Policy) -> Decimal | None:
    thresholds = [tier.temperature_at_least for tier in (policy.red, policy.yellow) if tier.temperature_at_least is not None]
    return min(thresholds, default=None)


def entirely_normal(policy: Policy, answers: Answers) -> bool:
    """Every answer is the everyday one, and the temperature is under every tier's threshold."""
    threshold = lowest_temperature_threshold(policy)
    return (
        not answers.symptoms
        and not answers.close_contact
        and answers.travel is TravelRisk.NONE
        and not answers.visited
        and answers.diagnosis is Diagnosis.NONE
        and (threshold is None or answers.temperature < threshold)
    )


def may_repeat(policy: Policy, yesterday: Answers | None) -> bool:
    """Whether the one-tap "all the same as yesterday" may be offered."""
    return yesterday is not None and entirely_normal(policy, yesterday)


def repeated(yesterday: Answers, temperature: Decimal | None = None) -> Answers:
    """Yesterday's answers for today; with ``temperature`` (a reading taken today) in place of yesterday's."""
    return Answers(
        temperature=yesterday.temperature if temperature is None else temperature,
        symptoms=frozenset(),
        close_contact=False,
        travel=TravelRisk.NONE,
        diagnosis=Diagnosis.NONE,
    )
