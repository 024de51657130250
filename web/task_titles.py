"""Task titles for pages: from the region's timeline when the task is one of its rules, else a
title per kind of task (check-ins, consent, safety net…) in the reader's language."""

from __future__ import annotations

from config.domain import Language, TaskKind
from config.timeline import Timeline

BY_KIND: dict[TaskKind, tuple[str, str]] = {
    TaskKind.task: ("Taak", "Task"),
    TaskKind.destination: ("Bestemming bevestigen", "Confirm the destination"),
    TaskKind.handover: ("Warme overdracht", "Warm handover"),
    TaskKind.checkin: ("Nazorgcontact", "Aftercare check-in"),
    TaskKind.consent: ("Toestemming van de jongere", "The youth's consent"),
    TaskKind.safety_net: ("Vangnet: nieuw perspectief", "Safety net: a new perspective"),
    TaskKind.support: ("Ondersteuning na een risico", "Support after a risk"),
    TaskKind.waakvlam_checkin: ("Waakvlam-contact", "Waakvlam check-in"),
    TaskKind.move_handover: ("Overdracht aan andere regio", "Handover to another region"),
}


def task_title(timeline: Timeline, rule_id: str, kind: TaskKind, language: Language) -> str:
    try:
        rule = timeline.rule(rule_id)
    except KeyError:
        nl, en = BY_KIND[kind]
        return en if language is Language.en else nl
    return rule.title_en if language is Language.en else rule.title_nl
