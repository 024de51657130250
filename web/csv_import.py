"""Reading a school's CSV export of leavers: encoding, delimiter, columns, and every row checked
before anything is written.

- Encoding: UTF-8 with or without BOM; else Windows-1252 (old Excel exports) with a warning; a
  file that is neither (or UTF-16) gets one clear error.
- Delimiter: ``;`` (Dutch Excel), ``,`` or tab, detected from the header line.
- Columns: Dutch or English names; missing required columns are named in the error. An optional
  ``afgerond`` column lists the timeline's tasks already done before the import (a caseload taken
  over mid-stream); every other past task becomes overdue at once, as ``enroll`` does it.
- Rows: bad or missing dates, an unknown or inactive school, a pupil twice in the file, and every
  rule of :func:`waakvlam.enrollment.check` give a per-row error; a pupil already enrolled is a note
  (enrolling is idempotent, so that row changes nothing).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from pydantic import ValidationError
from sqlmodel import Session

from config.timeline import Timeline
from waakvlam.enrollment import EnrollmentError, EnrollmentRequest, check

MAX_ROWS = 10_000
COLUMNS = {  # canonical name → accepted headers (lower case)
    "school_ref": {"leerlingnummer", "leerlingnr", "school_ref", "pupil_number"},
    "first_name": {"voornaam", "roepnaam", "first_name"},
    "last_name": {"achternaam", "last_name"},
    "birth_date": {"geboortedatum", "birth_date"},
    "leave_date": {"uitstroomdatum", "verwachte_uitstroomdatum", "leave_date"},
    "school_type": {"schoolsoort", "onderwijssoort", "school_type"},
    "school": {"school", "school_id", "brin", "instelling"},
    "vso_profile": {"uitstroomprofiel", "vso_profile"},
    # A caseload taken over mid-stream: the timeline's tasks already done before the import.
    "done": {"afgerond", "al_afgerond", "done", "done_before_enrollment"},
}
DUTCH = {
    "school_ref": "leerlingnummer",
    "first_name": "voornaam",
    "last_name": "achternaam",
    "birth_date": "geboortedatum",
    "leave_date": "uitstroomdatum",
    "school_type": "schoolsoort",
}
REQUIRED = ("school_ref", "first_name", "last_name", "birth_date", "leave_date", "school_type")
DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y")
PROFILES = {
    "arbeidsmarktgericht": "labour_market",
    "dagbesteding": "day_activity",
    "vervolgonderwijs": "further_education",
}


class ImportRefused(Exception):
    """The file as a whole cannot be read; ``message`` says why in plain words."""


@dataclass
class ImportRow:
    line: int
    request: EnrollmentRequest | None
    problems: list[str] = field(default_factory=list)
    existing: bool = False


@dataclass
class ImportPreview:
    rows: list[ImportRow]
    delimiter: str
    encoding: str
    warnings: list[str] = field(default_factory=list)

    @property
    def valid(self) -> list[ImportRow]:
        return [r for r in self.rows if not r.problems and r.request is not None]

    @property
    def invalid(self) -> list[ImportRow]:
        return [r for r in self.rows if r.problems]


def decode(data: bytes) -> tuple[str, str, list[str]]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:200]:
        raise ImportRefused("Het bestand is UTF-16; sla het op als CSV UTF-8.")
    try:
        return data.decode("utf-8-sig"), "utf-8", []
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise ImportRefused("Onbekende tekenset; sla het bestand op als CSV UTF-8.") from exc
    return (
        text,
        "cp1252",
        ["Het bestand is geen UTF-8; gelezen als Windows-1252 (controleer é, ë)."],
    )


def sniff_delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ";"


def parse_date(value: str) -> date | None:
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(value.strip(), pattern).date()
        except ValueError:
            continue
    return None


def _header_map(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, name in enumerate(header):
        clean = re.sub(r"[\s-]+", "_", name.strip().lower())
        for canonical, accepted in COLUMNS.items():
            if clean in accepted and canonical not in found:
                found[canonical] = index
    return found


def read_rows(text: str) -> tuple[str, dict[str, int], list[tuple[int, list[str]]]]:
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise ImportRefused("Het bestand is leeg.")
    delimiter = sniff_delimiter(lines[0])
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader)
    columns = _header_map(header)
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        names = ", ".join(DUTCH[c] for c in missing)
        raise ImportRefused(
            f"Kolommen ontbreken: {names}. Gevonden: {' | '.join(header)[:200]}. "
            "Gebruik ; of , als scheidingsteken."
        )
    rows = [(reader.line_num, r) for r in reader if any(cell.strip() for cell in r)]
    if len(rows) > MAX_ROWS:
        raise ImportRefused(f"Te veel regels ({len(rows)}); maximaal {MAX_ROWS} per bestand.")
    return delimiter, columns, rows


def _cell(cells: list[str], columns: dict[str, int], name: str) -> str:
    index = columns.get(name)
    return cells[index].strip() if index is not None and index < len(cells) else ""


def _school_of(value: str, schools: dict[str, str], default: str | None) -> str | None:
    """A school by id or by name (case-insensitive); the chosen school when the column is
    absent or empty. ``schools`` maps id and lower-cased name → id, for allowed schools only."""
    if not value:
        return default
    return schools.get(value) or schools.get(value.lower())


def done_tasks(cell: str) -> list[str]:
    """The task ids of an ``afgerond`` cell: separated by commas, spaces or ``|`` (a file
    separated by commas has them in quotes, or separated by spaces)."""
    return [task for task in re.split(r"[\s,|]+", cell) if task]


def check_row(
    line: int,
    cells: list[str],
    columns: dict[str, int],
    schools: dict[str, str],
    default_school: str | None,
    inactive_schools: frozenset[str] = frozenset(),
) -> ImportRow:
    def get(name: str) -> str:
        return _cell(cells, columns, name)

    problems: list[str] = []
    school_id = _school_of(get("school"), schools, default_school)
    if school_id is None:
        problems.append(f"school: onbekende school {get('school')!r}")
    elif school_id in inactive_schools:
        named = get("school") or school_id
        problems.append(f"school: school {named!r} is niet actief (meer)")
    dates: dict[str, date | None] = {}
    for name in ("birth_date", "leave_date"):
        raw = get(name)
        dates[name] = parse_date(raw) if raw else None
        if not raw:
            problems.append(f"{DUTCH[name]}: ontbreekt")
        elif dates[name] is None:
            problems.append(f"{DUTCH[name]}: onbekende datum {raw!r} (gebruik 31-12-2009)")
    for name in ("school_ref", "first_name", "last_name"):
        if not get(name):
            problems.append(f"{DUTCH[name]}: ontbreekt")
    if problems:
        return ImportRow(line, None, problems)
    profile = get("vso_profile").lower()
    try:
        request = EnrollmentRequest(
            school_id=school_id or "",
            school_ref=get("school_ref"),
            first_name=get("first_name"),
            last_name=get("last_name"),
            birth_date=dates["birth_date"],
            leave_date=dates["leave_date"],
            school_type=get("school_type"),
            vso_profile=PROFILES.get(profile, profile) or None,
            done_before_enrollment=done_tasks(get("done")),
        )
    except ValidationError as exc:
        fields = ", ".join(sorted({str(e["loc"][0]) for e in exc.errors()}))
        return ImportRow(line, None, [f"ongeldige waarde in: {fields}"])
    return ImportRow(line, request)


def preview(
    session: Session,
    data: bytes,
    *,
    schools: dict[str, str],
    default_school: str | None,
    timeline: Timeline,
    today: date,
    inactive_schools: frozenset[str] = frozenset(),
) -> ImportPreview:
    """Read and check the whole file; raises :class:`ImportRefused` for a file that cannot be
    read at all. Writes nothing."""
    text, encoding, warnings = decode(data)
    delimiter, columns, raw_rows = read_rows(text)
    rows = [
        check_row(line, cells, columns, schools, default_school, inactive_schools)
        for line, cells in raw_rows
    ]
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        if row.request is None:
            continue
        key = (row.request.school_id, row.request.school_ref)
        if key in seen:
            row.problems.append(f"dubbel: dezelfde leerling staat ook in regel {seen[key]}")
            continue
        seen[key] = row.line
        try:
            # The check looks the pupil up at its school too: enrolled before if found.
            row.existing = check(session, row.request, timeline, today) is not None
        except EnrollmentError as exc:
            row.problems.extend(exc.problems)
    return ImportPreview(rows, delimiter, encoding, warnings)
