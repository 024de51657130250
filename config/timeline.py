"""The regional timeline (regionale tijdlijn): a validated TOML file per region.

The timeline is data the network agrees on: which tasks, when (relative to the expected leave date
T), who owns them, when reminders go out and when an overdue task escalates to the coordinator.
A trajectory keeps the version it started with; see ``TrajectoryWorkflow.migrate_timeline``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    model_validator,
)

from config.domain import Anchor, Role, TaskKind

Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,47}$")]
DaysBefore = Annotated[int, Field(ge=0, le=365)]


class TimelineError(Exception):
    """A timeline file that cannot be used; ``problems`` holds one located line per error."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: {len(problems)} problem(s)\n" + "\n".join(problems))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Defaults(_Strict):
    reminders_days_before: list[DaysBefore] = [14, 3]
    escalate_after_days: int = Field(default=7, ge=1, le=90)
    escalate_to: Role = Role.network_coordinator


class TaskRule(_Strict):
    """One task of the timeline, due at ``anchor + offset``."""

    id: Slug
    title_nl: str = Field(min_length=1)
    title_en: str = Field(min_length=1)
    owner: Role
    kind: TaskKind = TaskKind.task
    anchor: Anchor = Anchor.leave
    offset_months: int = Field(default=0, ge=-24, le=120)
    offset_days: int = Field(default=0, ge=-366, le=366)
    reminders_days_before: list[DaysBefore] | None = None
    escalate_after_days: int | None = Field(default=None, ge=1, le=90)
    with_parents: bool = False
    # Only for youth below this age on the enrollment date (e.g. the legal representative's
    # consent, needed under 16); otherwise the task is not applicable.
    applies_below_age: int | None = Field(default=None, ge=1, le=30)

    @property
    def offset_total_days_estimate(self) -> int:
        return self.offset_months * 30 + self.offset_days


class Phases(_Strict):
    """Phase boundaries, in months relative to T (handover starts at T)."""

    decision_from_months: int = Field(default=-3, ge=-24, le=0)
    aftercare_from_days: int = Field(default=14, ge=0, le=120)


class Aftercare(_Strict):
    checkin_months: list[Annotated[int, Field(ge=1, le=120)]] = [1, 3, 6, 12, 18, 24]
    owner: Role = Role.next_contact
    reminders_days_before: list[DaysBefore] = [7]
    escalate_after_days: int = Field(default=14, ge=1, le=90)
    duration_months: int = Field(default=24, ge=0, le=120)
    support_owner: Role = Role.case_director
    support_within_days: int = Field(default=10, ge=1, le=90)


class Consent(_Strict):
    own_consent_age: int = Field(default=16, ge=12, le=18)
    adult_age: int = Field(default=18, ge=16, le=21)
    answer_within_days: int = Field(default=28, ge=1, le=180)
    reminders_days_before: list[DaysBefore] = [21, 14, 7]
    in_person_owner: Role = Role.case_director


class SafetyNet(_Strict):
    owner: Role = Role.municipality_coordinator
    also: list[Role] = [Role.case_director]
    new_perspective_working_days: int = Field(default=5, ge=1, le=60)


class Waakvlam(_Strict):
    owner: Role = Role.trusted_person
    checkin_interval_months: int = Field(default=3, ge=1, le=12)


class Closing(_Strict):
    close_at_age: int = Field(default=27, ge=18, le=30)
    move_handover_owner: Role = Role.case_director
    move_handover_within_days: int = Field(default=10, ge=1, le=60)


class Timeline(_Strict):
    """A region's timeline, identified by ``id`` and ``version``."""

    id: Slug
    version: int = Field(ge=1)
    name: str = Field(min_length=1)
    defaults: Defaults = Defaults()
    phases: Phases = Phases()
    aftercare: Aftercare = Aftercare()
    consent: Consent = Consent()
    safety_net: SafetyNet = SafetyNet()
    waakvlam: Waakvlam = Waakvlam()
    closing: Closing = Closing()
    task: list[TaskRule] = Field(min_length=1)

    @model_validator(mode="wrap")
    @classmethod
    def _coherent(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Timeline:
        """The checks across fields, once per timeline: a Timeline (frozen, so unchanged since
        its own validation) handed to another model is taken as it is. An "after" validator ran
        again for every model built around one: the enrollment, each trajectory's state and its
        copies, a whole dump of the timeline each time."""
        if isinstance(data, cls):
            return data
        timeline = handler(data)
        problems = coherence_problems(timeline.model_dump(mode="json"))
        if problems:
            raise ValueError("\n".join(problems))
        return timeline  # type: ignore[no-any-return]

    def reminders_for(self, rule: TaskRule) -> list[int]:
        chosen = rule.reminders_days_before
        return sorted(
            set(self.defaults.reminders_days_before if chosen is None else chosen), reverse=True
        )

    def escalation_days_for(self, rule: TaskRule) -> int:
        return rule.escalate_after_days or self.defaults.escalate_after_days

    def rule(self, task_id: str) -> TaskRule:
        for rule in self.task:
            if rule.id == task_id:
                return rule
        raise KeyError(task_id)


def _section(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name)
    return value if isinstance(value, dict) else {}


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def coherence_problems(data: dict[str, Any]) -> list[str]:
    """Problems that span several fields. Works on raw TOML data too, so that a file with field
    errors still gets every cross-field problem reported in the same run."""
    problems: list[str] = []
    aftercare = _section(data, "aftercare")
    end_months = _int(aftercare.get("duration_months"), 24)
    raw_tasks = data.get("task")
    tasks: list[Any] = raw_tasks if isinstance(raw_tasks, list) else []
    seen: dict[str, int] = {}
    destinations = 0
    for index, rule in enumerate(tasks):
        if not isinstance(rule, dict):
            continue
        where = f"task[{index}] ({rule.get('id')})"
        task_id = rule.get("id")
        if isinstance(task_id, str):
            if task_id in seen:
                problems.append(f"{where}.id: duplicate id, first used at task[{seen[task_id]}]")
            seen.setdefault(task_id, index)
        months, days = _int(rule.get("offset_months"), 0), _int(rule.get("offset_days"), 0)
        if rule.get("anchor", "leave") == "leave" and months * 31 + days > end_months * 31:
            problems.append(
                f"{where}.offset_months: due after the end of aftercare (T+{end_months} months)"
            )
        kind = rule.get("kind", "task")
        if kind in ("checkin", "safety_net", "consent"):
            problems.append(
                f"{where}.kind: '{kind}' tasks come from their own section, not from [[task]]"
            )
        destinations += kind == "destination"
    if tasks and destinations != 1:
        problems.append(
            f"task: exactly one task of kind 'destination' is required, found {destinations}"
        )
    consent = _section(data, "consent")
    if _int(consent.get("adult_age"), 18) <= _int(consent.get("own_consent_age"), 16):
        problems.append("consent.adult_age: must be above consent.own_consent_age")
    checkins = aftercare.get("checkin_months", [1, 3, 6, 12, 18, 24])
    if isinstance(checkins, list) and all(isinstance(m, int) for m in checkins):
        for months in checkins:
            if months > end_months:
                problems.append(
                    f"aftercare.checkin_months: check-in at {months} months is after the end "
                    f"of aftercare ({end_months} months)"
                )
        if sorted(set(checkins)) != checkins:
            problems.append("aftercare.checkin_months: must be increasing without repeats")
    return problems


def _locate(loc: Sequence[int | str], data: dict[str, Any]) -> str:
    """Turn a pydantic location into the path a person finds in the TOML file."""
    parts: list[str] = []
    node: Any = data
    for item in loc:
        if isinstance(item, int):
            label = f"[{item}]"
            if isinstance(node, list) and item < len(node):
                node = node[item]
                if isinstance(node, dict) and isinstance(node.get("id"), str):
                    label += f" ({node['id']})"
            parts.append(label)
        else:
            parts.append(("." if parts else "") + item)
            node = node.get(item) if isinstance(node, dict) else None
    return "".join(parts) or "(file)"


def _friendly(error: Any) -> str:
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    if error.get("type") == "enum" and "owner" in [str(p) for p in error.get("loc", ())][-1:]:
        return f"unknown role {error.get('input')!r}"
    if error.get("type") == "enum":
        return f"unknown value {error.get('input')!r} ({message})"
    if error.get("type") == "greater_than_equal" and error.get("input", 0) < 0:
        return f"must not be negative (got {error.get('input')})"
    if error.get("type") == "extra_forbidden":
        return "unknown key"
    return message


def parse_timeline(text: str, source: str = "<timeline>") -> Timeline:
    """Parse and validate a timeline; raise :class:`TimelineError` listing every problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TimelineError(source, [f"{source}: not valid TOML: {exc}"]) from None
    try:
        return Timeline.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{source}: {_locate(error['loc'], data)}: {_friendly(error)}"
            for error in exc.errors()
            if error.get("loc")
        ]
        problems.extend(f"{source}: {line}" for line in coherence_problems(data))
        raise TimelineError(source, problems) from None


def load_timeline(path: Path) -> Timeline:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TimelineError(str(path), [f"{path}: cannot read: {exc.strerror}"]) from None
    return parse_timeline(text, str(path))
