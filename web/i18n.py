"""Words of the web app in Dutch (first) and English. A page asks ``t("key")``; the language
comes from ``?lang=en`` (remembered in a cookie) and defaults to Dutch."""

from __future__ import annotations

from fastapi import Request

from config.domain import Language

LANG_COOKIE = "wv_lang"

WORDS: dict[str, tuple[str, str]] = {
    "app.tagline": ("Iedere jongere in beeld", "Every young person in view"),
    "nav.dashboard": ("Overzicht", "Dashboard"),
    "nav.enroll": ("Aanmelden", "Enroll"),
    "nav.import": ("Importeren", "Import"),
    "nav.directory": ("Wie bel ik waarvoor", "Who to call"),
    "nav.signout": ("Afmelden", "Sign out"),
    "signin.title": ("Inloggen", "Sign in"),
    "signin.intro": (
        "Vul je e-mailadres in. Je krijgt een link waarmee je één keer inlogt.",
        "Enter your email address. You will get a link that signs you in once.",
    ),
    "signin.email": ("E-mailadres", "Email address"),
    "signin.send": ("Stuur mij een inloglink", "Send me a sign-in link"),
    "signin.sent": (
        "Als dit adres bij ons bekend is, staat er nu een inloglink in je mail. "
        "De link werkt 15 minuten en één keer.",
        "If we know this address, a sign-in link is in your mail now. "
        "It works for 15 minutes, once.",
    ),
    "signin.confirm": ("Inloggen bij Waakvlam", "Sign in to Waakvlam"),
    "signin.button": ("Inloggen", "Sign in"),
    "signin.bad": (
        "Deze inloglink werkt niet (meer). Vraag een nieuwe aan.",
        "This sign-in link does not work (any more). Ask for a new one.",
    ),
    "limit.title": ("Even wachten", "Please wait"),
    "limit.text": (
        "Te veel verzoeken in korte tijd. Probeer het over een paar minuten opnieuw.",
        "Too many requests in a short time. Try again in a few minutes.",
    ),
    "forbidden.title": ("Geen toegang", "No access"),
    "forbidden.text": (
        "Deze pagina hoort niet bij jouw rol of caseload.",
        "This page is not part of your role or caseload.",
    ),
    "csrf.text": (
        "Het formulier was verlopen. Ga terug en probeer het opnieuw.",
        "The form had expired. Go back and try again.",
    ),
    "dash.title": ("Overzicht", "Dashboard"),
    "dash.caseload": ("Mijn caseload", "My caseload"),
    "dash.open": ("Open trajecten", "Open trajectories"),
    "dash.stalled": ("Vastgelopen trajecten", "Stalled trajectories"),
    "dash.stalled.note": (
        "Langst zonder contact en meest achterstallig bovenaan.",
        "Longest without contact and most overdue first.",
    ),
    "dash.no_destination": ("Zonder bestemming", "Without a destination"),
    "dash.consent_pending": ("Toestemming open", "Consent pending"),
    "dash.waakvlam": ("Waakvlam", "Waakvlam (refuses help)"),
    "dash.safety_net": ("Vangnet", "Safety net"),
    "dash.escalations": ("Open oproepen", "Open escalations"),
    "dash.unanswered": ("onbeantwoord", "unanswered"),
    "dash.by_phase": ("Per fase", "By phase"),
    "dash.by_destination": ("Per bestemming", "By destination"),
    "dash.by_school_type": ("Per schoolsoort", "By school type"),
    "dash.sluitend": ("Sluitend per school", "Closed-loop rate by school"),
    "dash.reference": ("peildatum", "reference date"),
    "dash.overdue_org": ("Achterstallige taken per organisatie", "Overdue tasks per organisation"),
    "dash.export": ("Jaarcijfers (CSV)", "Yearly figures (CSV)"),
    "dash.filter": ("Filter", "Filter"),
    "dash.all": ("alle", "all"),
    "col.youth": ("Jongere", "Youth"),
    "col.school": ("School", "School"),
    "col.phase": ("Fase", "Phase"),
    "col.last_contact": ("Laatste contact", "Last contact"),
    "col.overdue": ("Achterstallig", "Overdue"),
    "col.leave": ("Uitstroom", "Leaves"),
    "col.task": ("Taak", "Task"),
    "col.due": ("Uiterlijk", "Due"),
    "col.status": ("Status", "Status"),
    "col.leavers": ("Uitstromers", "Leavers"),
    "col.rate": ("Sluitend", "Closed-loop"),
    "never": ("nooit", "never"),
    "traj.title": ("Traject", "Trajectory"),
    "traj.timeline": ("Tijdlijn", "Timeline"),
    "traj.complete": ("Afgerond", "Done"),
    "traj.done_msg": ("Taak afgerond.", "Task completed."),
    "traj.already": ("Dit was al gedaan.", "This was already done."),
    "traj.rejected": ("Dit kan niet (meer): ", "This is not possible (any more): "),
    "traj.offline": (
        "De procesmotor is nu niet bereikbaar; probeer het later opnieuw.",
        "The workflow engine cannot be reached now; try again later.",
    ),
    "action.title": ("Eén klik", "One click"),
    "action.confirm": ("Bevestigen", "Confirm"),
    "action.done": ("Dank je, het is vastgelegd.", "Thank you, it has been recorded."),
    "action.already": ("Dit was al vastgelegd.", "This had already been recorded."),
    "action.link_expired": ("Deze link is verlopen.", "This link has expired."),
    "action.link_already_used": ("Deze link is al gebruikt.", "This link has been used."),
    "action.link_tampered": ("Deze link is niet geldig.", "This link is not valid."),
    "action.link_wrong_purpose": ("Deze link is niet geldig.", "This link is not valid."),
    "action.link_invalid": ("Deze link is niet geldig.", "This link is not valid."),
    "action.nothing_changed": ("Er is niets veranderd.", "Nothing has changed."),
    "enroll.title": ("Jongere aanmelden", "Enroll a young person"),
    "enroll.ok": ("Aangemeld; het traject loopt.", "Enrolled; the trajectory has started."),
    "enroll.exists": ("Deze leerling was al aangemeld.", "This pupil was already enrolled."),
    "import.title": ("Uitstromers importeren (CSV)", "Import leavers (CSV)"),
    "import.preview": ("Voorbeeld", "Preview"),
    "import.clean": ("Alle regels zijn in orde.", "Every row is valid."),
    "import.errors": ("regels met fouten", "rows with errors"),
    "import.commit_all": ("Importeer alle regels", "Import all rows"),
    "import.commit_valid": (
        "Importeer alleen de goede regels",
        "Import only the valid rows",
    ),
    "import.done": ("Import klaar", "Import done"),
    "dir.title": ("Wie bel ik waarvoor", "Who to call for what"),
    "dir.on_call": ("Nu bereikbaar", "On call now"),
    "dir.add_org": ("Organisatie toevoegen", "Add organisation"),
    "dir.add_person": ("Persoon toevoegen", "Add person"),
    "dir.add_role": ("Rol toekennen", "Assign role"),
    "dir.add_token": ("API-sleutel voor een school", "API token for a school"),
    "dir.token_once": (
        "Bewaar deze sleutel nu; hij wordt niet nog eens getoond:",
        "Keep this token now; it will not be shown again:",
    ),
    "save": ("Opslaan", "Save"),
    "dir.saved": ("Opgeslagen.", "Saved."),
    "dir.edit": ("Wijzigen", "Edit"),
    "dir.remove": ("Verwijderen", "Remove"),
    "dir.delete": ("Verwijderen", "Delete"),
    "dir.region": ("hele regio", "whole region"),
    "dir.people": ("Mensen", "People"),
    "dir.roles": ("Rollen", "Roles"),
    "dir.inactive": ("niet actief", "inactive"),
    "dir.deactivate": ("Op niet actief zetten", "Deactivate"),
    "dir.reactivate": ("Weer actief maken", "Reactivate"),
    "dir.deactivate_note": (
        "Niet actief: kan niet meer inloggen, krijgt geen taken en geen oproepen meer. "
        "De geschiedenis blijft bewaard.",
        "Inactive: can no longer sign in, gets no tasks and no pages. History is kept.",
    ),
    "dir.remove_org_note": (
        "Zonder actieve mensen en lopende trajecten kan een organisatie weg. Heeft ze "
        "geschiedenis (oud-medewerkers, afgesloten trajecten, jongeren, rollen of roosters), dan "
        "wordt ze op niet actief gezet en blijft die geschiedenis bewaard.",
        "An organisation without active people and open trajectories can be removed. If it has "
        "history (former staff, closed trajectories, youth, roles or rotations), it is made "
        "inactive instead and that history is kept.",
    ),
    "dir.inactive_org_note": (
        "Niet actief: staat niet meer in de keuzelijsten, en haar API-sleutels kunnen niet meer "
        "aanmelden. Cijfers en geschiedenis blijven bewaard.",
        "Inactive: no longer offered in the pickers, and its API tokens can no longer enroll. "
        "Figures and history are kept.",
    ),
    "dir.mobile_verified": ("Nummer bevestigd.", "Number verified."),
    "dir.mobile_unverified": (
        "Nummer nog niet bevestigd: er gaan pas sms-oproepen naartoe als de eigenaar de code "
        "heeft bevestigd.",
        "Number not verified yet: SMS pages go to it only once its owner has confirmed the code.",
    ),
    "dir.add_rotation": ("Dienstrooster toevoegen", "Add on-call rotation"),
    "dir.tokens": ("API-sleutels", "API tokens"),
    "dir.revoke": ("Intrekken", "Revoke"),
    "dir.revoked": ("ingetrokken", "revoked"),
    "dir.err.invalid": ("Controleer deze velden:", "Check these fields:"),
    "dir.err.conflict": (
        "Dit bestaat al; er is niets veranderd.",
        "This already exists; nothing has changed.",
    ),
    "dir.err.unknown_organisation": ("Onbekende organisatie.", "Unknown organisation."),
    "dir.err.unknown_person": ("Onbekende persoon.", "Unknown person."),
    "dir.err.unknown_role": ("Onbekende roltoekenning.", "Unknown role assignment."),
    "dir.err.unknown_school": ("Onbekende school.", "Unknown school."),
    "dir.err.unknown_token": ("Onbekende API-sleutel.", "Unknown API token."),
    "dir.err.unknown_rotation": ("Onbekend dienstrooster.", "Unknown rotation."),
    "dir.err.unknown_member": ("Deze persoon staat niet in dit rooster.", "Not in this rotation."),
    "dir.err.unknown_override": ("Onbekende uitzondering.", "Unknown override."),
    "dir.err.org_has_people": (
        "Deze organisatie heeft nog actieve mensen. Verplaats hen naar een andere organisatie of "
        "zet hen eerst op niet actief; er is niets veranderd.",
        "This organisation still has active people. Move them to another organisation or "
        "deactivate them first; nothing has changed.",
    ),
    "dir.err.org_has_trajectories": (
        "Deze organisatie heeft nog lopende trajecten; sluit die eerst af of kies een andere "
        "bestemming. Er is niets veranderd.",
        "This organisation still has open trajectories; close them or choose another destination "
        "first. Nothing has changed.",
    ),
    "dir.err.inactive_organisation": (
        "Deze organisatie is niet actief; kies een actieve of maak haar eerst weer actief. Er is "
        "niets veranderd:",
        "This organisation is inactive; choose an active one or reactivate it first. Nothing "
        "has changed:",
    ),
    "dir.err.email_taken": (
        "Dit e-mailadres hoort al bij een andere actieve persoon.",
        "This email address already belongs to another active person.",
    ),
    "dir.err.not_yourself": (
        "Dat kun je niet bij jezelf doen; vraag een andere coördinator.",
        "You cannot do that to yourself; ask another coordinator.",
    ),
    "dir.err.rotation_in_use": (
        "Dit rooster wordt gebruikt door een escalatiebeleid of een open oproep en kan niet weg; "
        "er is niets veranderd.",
        "This rotation is used by an escalation policy or an open call and cannot be deleted; "
        "nothing has changed.",
    ),
    "dir.err.already_member": ("Deze persoon staat al in het rooster.", "Already a member."),
    "dir.err.inactive_person": ("Deze persoon is niet actief.", "This person is inactive."),
    "dir.err.member_order": (
        "Geef alle leden van het rooster precies één keer.",
        "Give every member of the rotation exactly once.",
    ),
    "dir.err.end_before_start": (
        "Het einde moet na het begin liggen:",
        "The end must come after the start:",
    ),
    "dir.err.unknown_policy": ("Onbekend escalatiebeleid.", "Unknown escalation policy."),
    "dir.err.default_policy": (
        "Dit is het standaardbeleid: een oproep zonder eigen beleid gebruikt het. Het kan niet "
        "weg; pas het aan. Er is niets veranderd.",
        "This is the default policy: a call for help without a policy of its own uses it. It "
        "cannot be deleted; edit it instead. Nothing has changed.",
    ),
    "dir.err.coordinator_step_ref": (
        "Een stap naar de coördinator noemt geen rooster of persoon; kies bij 'wie' niemand. "
        "Er is niets veranderd:",
        "A step to the coordinator names no rotation or person; choose nobody as 'who'. "
        "Nothing has changed:",
    ),
    "pol.title": ("Escalatiebeleid", "Escalation policies"),
    "pol.add": ("Escalatiebeleid toevoegen", "Add escalation policy"),
    "pol.default": ("standaard", "default"),
    "pol.default_note": (
        "Het standaardbeleid kan niet weg: een oproep zonder eigen beleid gebruikt het.",
        "The default policy cannot be deleted: a call without a policy of its own uses it.",
    ),
    "pol.steps": ("Wie wordt opgeroepen, in deze volgorde", "Who is paged, in this order"),
    "pol.step": ("Stap", "Step"),
    "pol.minutes": ("min. wachten", "min. wait"),
    "pol.repeat": ("Herhalen als niemand reageert", "Repeat when nobody answers"),
    "pol.nobody": ("niemand (coördinator)", "nobody (coordinator)"),
    "pol.note": (
        "Een oproep legt het beleid vast als hij begint: een wijziging geldt voor nieuwe "
        "oproepen. Is de laatste stap niet de coördinator, dan wordt die nog één keer opgeroepen.",
        "A call freezes the policy when it starts: a change applies to new calls. If the last "
        "step is not the coordinator, the coordinator is paged once more.",
    ),
    "pol.target.rotation": ("wie dienst heeft in rooster", "on call in rotation"),
    "pol.target.person": ("persoon", "person"),
    "pol.target.coordinator": ("netwerkcoördinator", "network coordinator"),
    "rot.kind.weekly": ("per week", "weekly"),
    "rot.kind.daily": ("per dag", "daily"),
    "rot.kind.custom": ("eigen dienstlengte", "custom shift length"),
    "rot.hours": ("uur", "hours"),
    "rot.next_shifts": ("Komende diensten", "Next shifts"),
    "rot.members": ("Volgorde van het rooster", "Turn order"),
    "rot.add_member": ("Toevoegen aan rooster", "Add to rotation"),
    "rot.up": ("omhoog", "up"),
    "rot.down": ("omlaag", "down"),
    "rot.remove": ("eruit", "remove"),
    "rot.overrides": ("Uitzonderingen", "Overrides"),
    "rot.add_override": ("Uitzondering toevoegen", "Add override"),
    "rot.override.replace": ("vervangt", "replaces"),
    "rot.override.add": ("extra bereikbaar", "also on call"),
    "rot.override.remove": ("niet bereikbaar", "off call"),
    "field.name": ("Naam", "Name"),
    "field.kind": ("Soort", "Kind"),
    "field.school_type": ("Schoolsoort", "School type"),
    "field.municipality": ("Gemeente", "Municipality"),
    "field.phone": ("Telefoon", "Phone"),
    "field.email": ("E-mail", "Email"),
    "field.mobile": ("Mobiel nummer (sms)", "Mobile number (SMS)"),
    "field.language": ("Taal", "Language"),
    "field.organisation_id": ("Organisatie", "Organisation"),
    "field.first_name": ("Voornaam", "First name"),
    "field.last_name": ("Achternaam", "Last name"),
    "field.professional_id": ("Persoon", "Person"),
    "field.replaces_professional_id": ("In plaats van", "Instead of"),
    "field.role": ("Rol", "Role"),
    "field.scope_organisation_id": ("Voor organisatie", "For organisation"),
    "field.school_id": ("School", "School"),
    "field.token_name": ("Naam van het systeem", "Name of the system"),
    "field.shift_hours": ("Dienstlengte (uren)", "Shift length (hours)"),
    "field.start": ("Begin (overdrachtsmoment)", "Start (hand-off time)"),
    "field.end": ("Einde", "End"),
    "field.time_zone": ("Tijdzone", "Time zone"),
    "field.member_ids": ("Volgorde", "Order"),
    "field.repeat": ("Herhalen (keer)", "Repeat (times)"),
    "field.steps": ("Stappen", "Steps"),
    "field.step_target": ("Wie", "Who"),
    "field.step_ref": ("Rooster of persoon", "Rotation or person"),
    "field.wait_minutes": ("Wachten (minuten)", "Wait (minutes)"),
    "traj.dropout": ("Uitval melden", "Report a dropout"),
    "checkin.at_destination": ("gaat goed", "doing well"),
    "checkin.at_risk": ("zorgen: risico", "worried: at risk"),
    "checkin.dropped_out": ("uitgevallen", "dropped out"),
    "dropout.contract_ended": ("contract beëindigd", "contract ended"),
    "dropout.left_education": ("gestopt met opleiding", "left education"),
    "dropout.left_day_activity": ("gestopt met dagbesteding", "left day activity"),
    "dropout.other": ("anders", "other"),
    "phase.orientation": ("Oriëntatie", "Orientation"),
    "phase.decision": ("Besluitvorming", "Decision"),
    "phase.handover": ("Warme overdracht", "Handover"),
    "phase.aftercare": ("Nazorg", "Aftercare"),
    "phase.safety_net": ("Vangnet", "Safety net"),
    "phase.waakvlam": ("Waakvlam", "Waakvlam"),
    "phase.closed": ("Afgesloten", "Closed"),
    "dest.work": ("Werk", "Work"),
    "dest.further_education": ("Vervolgonderwijs", "Further education"),
    "dest.day_activity": ("Dagbesteding", "Day activity"),
    "dest.pathway": ("Toeleidingstraject", "Pathway"),
    "dest.none": ("Nog geen", "None yet"),
    "status.upcoming": ("gepland", "planned"),
    "status.open": ("open", "open"),
    "status.overdue": ("te laat", "overdue"),
    "status.done": ("gedaan", "done"),
    "status.not_applicable": ("n.v.t.", "n/a"),
    "status.cancelled": ("vervallen", "cancelled"),
}


def language_of(request: Request) -> Language:
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return Language.en if asked == "en" else Language.nl


def translate(language: Language, key: str) -> str:
    pair = WORDS.get(key)
    if pair is None:
        return key
    return pair[1] if language is Language.en else pair[0]
