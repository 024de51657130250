"""The regional timeline file: the shipped default is valid; every error is reported, located."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path
from unittest import mock

import pytest
from pydantic import ValidationError

import config.timeline as timeline_module
from config.domain import SchoolType
from config.settings import DEFAULT_TIMELINE
from config.timeline import Timeline, TimelineError, load_timeline, parse_timeline
from workflows.trajectory_attributes import initial_state
from workflows.trajectory_models import Enrollment, TrajectoryState

DEFAULT_TEXT = DEFAULT_TIMELINE.read_text(encoding="utf-8")


def problems_of(text: str) -> list[str]:
    with pytest.raises(TimelineError) as caught:
        parse_timeline(text, "region.toml")
    return caught.value.problems


def test_the_shipped_default_timeline_is_the_design_timeline() -> None:
    timeline = load_timeline(DEFAULT_TIMELINE)
    offsets = {rule.id: rule.offset_months for rule in timeline.task}
    assert offsets["future_conversation"] == -12
    assert offsets["pupil_profile"] == -10
    assert offsets["internship_choice"] == -9
    assert offsets["case_meeting"] == -6
    assert offsets["exit_conversation"] == -3
    assert offsets["destination_confirmed"] == -1
    assert timeline.aftercare.checkin_months == [1, 3, 6, 12, 18, 24]
    assert (timeline.consent.own_consent_age, timeline.consent.adult_age) == (16, 18)
    assert timeline.closing.close_at_age == 27
    assert timeline.safety_net.new_perspective_working_days == 5


def test_an_unknown_role_is_named_with_its_task() -> None:
    text = DEFAULT_TEXT.replace('owner = "internship_coordinator"', 'owner = "stagebegeleider"')
    assert problems_of(text) == [
        "region.toml: task[3] (internship_choice).owner: unknown role 'stagebegeleider'"
    ]


def test_a_negative_reminder_is_refused() -> None:
    text = DEFAULT_TEXT.replace(
        "reminders_days_before = [14, 7, 3]", "reminders_days_before = [14, -7]"
    )
    assert problems_of(text) == [
        "region.toml: task[6] (destination_confirmed).reminders_days_before[1]: "
        "must not be negative (got -7)"
    ]


def test_a_task_after_the_end_and_a_duplicate_id_are_both_reported() -> None:
    text = DEFAULT_TEXT.replace('id = "case_meeting"', 'id = "pupil_profile"').replace(
        'kind = "handover"\noffset_days = 14', 'kind = "handover"\noffset_months = 30'
    )
    assert problems_of(text) == [
        "region.toml: task[4] (pupil_profile).id: duplicate id, first used at task[2]",
        "region.toml: task[7] (warm_handover).offset_months: due after the end of aftercare "
        "(T+24 months)",
    ]


def test_field_errors_and_cross_field_errors_come_in_one_report() -> None:
    text = (
        DEFAULT_TEXT.replace('owner = "mentor"\nkind', 'owner = "mentr"\nkind')
        .replace("checkin_months = [1, 3, 6, 12, 18, 24]", "checkin_months = [1, 3, 6, 12, 18, 36]")
        .replace("colour", "x")
        .replace("[consent]\n", "[consent]\nunknown_key = 1\n")
    )
    found = problems_of(text)
    assert "region.toml: task[7] (warm_handover).owner: unknown role 'mentr'" in found
    assert "region.toml: consent.unknown_key: unknown key" in found
    assert (
        "region.toml: aftercare.checkin_months: check-in at 36 months is after the end of "
        "aftercare (24 months)"
    ) in found


def test_broken_toml_says_where() -> None:
    found = problems_of('id = "x"\nversion = \n')
    assert len(found) == 1 and "not valid TOML" in found[0] and "line 2" in found[0]


def test_timeline_check_command(tmp_path: Path) -> None:
    good = subprocess.run(
        [sys.executable, "-m", "waakvlam.cli", "timeline", "check", str(DEFAULT_TIMELINE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert good.returncode == 0 and "ok: timeline 'default' version 1" in good.stdout
    broken = tmp_path / "broken.toml"
    broken.write_text(DEFAULT_TEXT.replace('owner = "mentor"\nkind', 'owner = "mentr"\nkind'))
    bad = subprocess.run(
        [sys.executable, "-m", "waakvlam.cli", "timeline", "check", str(broken)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 1
    assert "task[7] (warm_handover).owner: unknown role 'mentr'" in bad.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "waakvlam.cli", "timeline", "check", str(tmp_path / "nope.toml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 1 and "cannot read" in missing.stderr


def test_a_timeline_is_checked_once_not_again_in_every_model_that_holds_it() -> None:
    """The cross-field checks dump the whole timeline; a trajectory's state, the enrollment and
    their copies each hold the (frozen) timeline and must not run them again."""
    timeline = load_timeline(DEFAULT_TIMELINE)
    enrollment = Enrollment(
        trajectory_id="trj_0123456789abcdef", youth_id="yth_1", school_id="org_1",
        school_type=SchoolType.pro, birth_date=date(2009, 3, 15), leave_date=date(2027, 7, 1),
        enrolled_on=date(2026, 7, 1), timeline=timeline,
    )  # fmt: skip
    with mock.patch.object(
        timeline_module, "coherence_problems", wraps=timeline_module.coherence_problems
    ) as checks:
        state = initial_state(enrollment)
        TrajectoryState.model_validate(state.model_copy())
        assert checks.call_count == 0
        TrajectoryState.model_validate_json(state.model_dump_json())
        assert checks.call_count == 2, "read from JSON, the state's and the enrollment's copy"


def test_a_timeline_read_from_data_is_still_checked_across_fields() -> None:
    data = load_timeline(DEFAULT_TIMELINE).model_dump(mode="json")
    data["task"].append(dict(data["task"][0]))
    with pytest.raises(ValidationError, match="duplicate id"):
        Timeline.model_validate(data)
