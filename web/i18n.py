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
