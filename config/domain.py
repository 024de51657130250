"""The shared vocabulary of the network: roles, phases, destinations, school types.

Enums only: these values travel through Temporal (workflow inputs, search attributes) and the
database, so they carry no personal data and their string values never change once shipped.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """Who owns a task. Resolved to a person through the network directory when it is due."""

    school = "school"  # school administration (enrollment, aftercare by the school)
    mentor = "mentor"
    internship_coordinator = "internship_coordinator"  # stagecoördinator
    case_director = "case_director"  # regisseur / talentmanager, one per youth
    municipality_coordinator = "municipality_coordinator"  # vangnet bij de gemeente
    network_coordinator = "network_coordinator"  # netwerkcoördinator: overdue escalations
    next_contact = "next_contact"  # the contact person at the destination
    youth = "youth"
    legal_representative = "legal_representative"  # ouder/voogd
    trusted_person = "trusted_person"  # vertrouwenspersoon
    jobcoach = "jobcoach"
    labour_expert = "labour_expert"  # arbeidsdeskundige (UWV)
    youth_coach = "youth_coach"
    care_provider = "care_provider"


class SchoolType(StrEnum):
    pro = "PrO"  # praktijkonderwijs
    vso = "VSO"  # voortgezet speciaal onderwijs
    entree = "Entree"  # MBO niveau 1


class VsoProfile(StrEnum):
    """The exit profile (uitstroomprofiel) of a VSO pupil."""

    labour_market = "labour_market"  # arbeidsmarktgericht
    day_activity = "day_activity"  # dagbesteding
    further_education = "further_education"  # vervolgonderwijs


class Phase(StrEnum):
    orientation = "orientation"  # oriëntatie: a year before leaving
    decision = "decision"  # besluitvorming: exit conversation, destination
    handover = "handover"  # warme overdracht
    aftercare = "aftercare"  # nazorg
    safety_net = "safety_net"  # vangnet
    waakvlam = "waakvlam"  # light contact with a youth who refuses help
    closed = "closed"


class Destination(StrEnum):
    work = "work"
    further_education = "further_education"
    day_activity = "day_activity"  # dagbesteding
    pathway = "pathway"  # toeleidingstraject


class TaskKind(StrEnum):
    task = "task"
    destination = "destination"  # confirm the destination; none → safety net
    handover = "handover"  # warm handover at leaving
    checkin = "checkin"  # aftercare check-in
    consent = "consent"
    safety_net = "safety_net"
    support = "support"  # follow-up of an at-risk check-in
    waakvlam_checkin = "waakvlam_checkin"
    move_handover = "move_handover"  # handover to another region


class Anchor(StrEnum):
    """What a timeline offset is measured from."""

    leave = "leave"  # the expected leave date T (uitstroomdatum)
    enrollment = "enrollment"


class CheckinStatus(StrEnum):
    at_destination = "at_destination"
    at_risk = "at_risk"
    dropped_out = "dropped_out"


class Language(StrEnum):
    nl = "nl"
    en = "en"
