"""Typed search attributes for operations (Temporal visibility): enums, dates and counts only."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

PHASE = SearchAttributeKey.for_keyword("WaakvlamPhase")
SCHOOL_TYPE = SearchAttributeKey.for_keyword("WaakvlamSchoolType")
TIMELINE = SearchAttributeKey.for_keyword("WaakvlamTimeline")
LEAVE_DATE = SearchAttributeKey.for_datetime("WaakvlamLeaveDate")
NEXT_DUE = SearchAttributeKey.for_datetime("WaakvlamNextDue")
OVERDUE_COUNT = SearchAttributeKey.for_int("WaakvlamOverdueCount")
FLAGS = SearchAttributeKey.for_keyword_list("WaakvlamFlags")

ALL = (PHASE, SCHOOL_TYPE, TIMELINE, LEAVE_DATE, NEXT_DUE, OVERDUE_COUNT, FLAGS)
