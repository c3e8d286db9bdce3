"""Correction requests (纠错) and complaints (投诉、检举): what can be disputed, the states a request
passes through, how an accepted correction rewrites one day's answers, and when a request is overdue.
Pure: the services hand it parsed data.

A person disputes their code by naming what is wrong: the colour, a declaration of a given day, a
travel or risk-area judgement, or a decision. A reviewer accepts (correcting that day's declaration, or
recording a decision) or rejects. A correction of a day never raises the day's risk: it puts the answers
the reviewer found wrong back to their normal value, and the code is evaluated again from the corrected
declarations, so a corrected day counts in the recovery streak like any normal day.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from rules.authority import Authority
from rules.model import Answers, Diagnosis, TravelRisk
from rules.policy import Policy
from rules.regions import RegionTable

REASON_MAX = 500  # characters of a person's reason, and of a reviewer's
COMPLAINT_TEXT_MAX = 1000
NORMAL_TEMPERATURE = Decimal("36.5")  # what a corrected temperature becomes


class Disputed(StrEnum):
    """What a person says is wrong with their code."""

    COLOUR = "colour"
    DECLARATION = "declaration"  # a given day's answers (a mis-tap such as "confirmed case")
    TRAVEL = "travel"  # a travel or risk-area judgement of a given day
    DECISION = "decision"  # a health-authority decision

    @property
    def names_a_day(self) -> bool:
        return self in (Disputed.DECLARATION, Disputed.TRAVEL)


class RequestState(StrEnum):
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    ACCEPTED = "accepted"
    REJECTED = "rejected"

    @property
    def open(self) -> bool:
        return self in (RequestState.SUBMITTED, RequestState.IN_REVIEW)


class WrongAnswer(StrEnum):
    """Which of a day's answers the reviewer found wrong; ``ALL`` puts the whole day back to normal."""

    DIAGNOSIS = "diagnosis"
    CONTACT = "contact"
    TRAVEL = "travel"
    SYMPTOMS = "symptoms"
    TEMPERATURE = "temperature"
    ALL = "all"


def fever_threshold(policy: Policy) -> Decimal | None:
    """The lowest temperature any tier of the policy counts as abnormal (None: temperature counts nowhere)."""
    thresholds = [tier.temperature_at_least for tier in (policy.red, policy.yellow) if tier.temperature_at_least is not None]
    return min(thresholds, default=None)


def corrected_answers(answers: Answers, wrong: WrongAnswer, policy: Policy) -> Answers:
    """The day's answers with ``wrong`` put back to normal; nothing else changes.

    A temperature the policy counts as abnormal becomes ``NORMAL_TEMPERATURE`` (or just below the
    threshold, should a policy set it lower); a normal one is kept. Visited risk areas go with the
    travel answer (the listed level of the day judged them).
    """
    if wrong is WrongAnswer.ALL:
        answers = corrected_answers(answers, WrongAnswer.TEMPERATURE, policy)
        return replace(answers, symptoms=frozenset(), close_contact=False, travel=TravelRisk.NONE,
                       diagnosis=Diagnosis.NONE, visited=frozenset())
    if wrong is WrongAnswer.DIAGNOSIS:
        return replace(answers, diagnosis=Diagnosis.NONE)
    if wrong is WrongAnswer.CONTACT:
        return replace(answers, close_contact=False)
    if wrong is WrongAnswer.TRAVEL:
        return replace(answers, travel=TravelRisk.NONE, visited=frozenset())
    if wrong is WrongAnswer.SYMPTOMS:
        return replace(answers, symptoms=frozenset())
    threshold = fever_threshold(policy)
    if threshold is not None and answers.temperature >= threshold:
        return replace(answers, temperature=min(NORMAL_TEMPERATURE, threshold - Decimal("0.1")))
    return answers


class Overdue(StrEnum):
    """How late an open request is: on time, past the deadline (remind), past twice it (escalate)."""

    ON_TIME = "on_time"
    REMIND = "remind"
    ESCALATE = "escalate"


def overdue(filed_at: datetime, now: datetime, sla: timedelta) -> Overdue:
    """Past ``sla`` the reviewers in scope are reminded; past twice ``sla`` it goes a level up."""
    waited = now - filed_at
    if waited >= 2 * sla:
        return Overdue.ESCALATE
    if waited >= sla:
        return Overdue.REMIND
    return Overdue.ON_TIME


def first_level(holders: list[Authority]) -> list[Authority]:
    """Those who get a new request: the holders at the nearest level (``holders`` comes nearest first)."""
    if not holders:
        return []
    return [holder for holder in holders if holder.scope == holders[0].scope]


def next_level(holders: list[Authority], table: RegionTable) -> list[Authority]:
    """The level above the first: of the holders whose scope strictly contains the first level's scope,
    those at the nearest such scope. Empty when the first level is already the widest (the root)."""
    if not holders:
        return []
    first_scope = holders[0].scope
    above = [holder for holder in holders
             if holder.scope != first_scope and table.lies_within(first_scope, holder.scope)]
    if not above:
        return []
    nearest = min(above, key=lambda holder: len(table.path(holder.scope)) * -1)
    return [holder for holder in above if holder.scope == nearest.scope]


class ComplaintCategory(StrEnum):
    DEMANDS_MORE = "demands_more"  # an organisation demanding more than the code
    DATA_MISUSE = "data_misuse"
    CHECKPOINT_REFUSED = "checkpoint_refused"  # a checkpoint refusing a valid code
    DISCRIMINATION = "discrimination"
    OTHER = "other"


class CaseState(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"


def may_move(current: CaseState, wanted: CaseState) -> bool:
    """open → in progress → closed; a case may also be closed straight from open, never reopened."""
    return (current, wanted) in {(CaseState.OPEN, CaseState.IN_PROGRESS), (CaseState.OPEN, CaseState.CLOSED),
                                 (CaseState.IN_PROGRESS, CaseState.CLOSED)}
