"""One way for the coordinator to change the directory, from a form or from the JSON API.

A change is a function of a database session that checks, writes and audits; it either commits
whole or, when it raises :class:`Refused` (or the database refuses a duplicate), writes nothing.
A form shows the refusal on the page again (with a 4xx status); the JSON API answers it as
``{"detail": {"error": code, "fields": [...]}}``. Input is checked by pydantic models shared by
both, so the form and the API accept exactly the same.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi import HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from notifications.inbound import e164
from web.security import CSRF_FIELD
from web.site import ctx

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MOBILE = re.compile(r"^\+[1-9][0-9]{7,14}$")
EARLIEST, LATEST = 2000, 2100  # moments outside these years are typing errors


class Refused(Exception):
    """The change cannot be made; ``code`` names why (``dir.err.<code>`` on the page)."""

    def __init__(self, code: str, status: int = 422, fields: tuple[str, ...] = ()) -> None:
        super().__init__(code)
        self.code, self.status, self.fields = code, status, fields


def parse(model: type[M], values: Mapping[str, Any]) -> M:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        fields = tuple(sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]}))
        raise Refused("invalid", 422, fields) from exc


def apply(request: Request, change: Callable[[Session], T]) -> T:
    """Run one change in one transaction: all of it is committed, or nothing."""
    with Session(ctx(request).container.engine) as session:
        try:
            result = change(session)
            session.commit()
        except IntegrityError as exc:
            raise Refused("conflict", 409) from exc
    return result


async def api_change(request: Request, change: Callable[[Session], T]) -> T:
    try:
        return await run_in_threadpool(apply, request, change)
    except Refused as refused:
        detail = {"error": refused.code, "fields": list(refused.fields)}
        raise HTTPException(refused.status, detail) from refused


async def form_values(request: Request) -> dict[str, str]:
    """A form's fields without the CSRF token; an empty field counts as not given."""
    form = await request.form()
    values = {k: str(v).strip() for k, v in form.items() if k != CSRF_FIELD}
    return {k: v for k, v in values.items() if v}


async def form_change(
    request: Request,
    change: Callable[[dict[str, str], Session], object],
    page: Callable[[Refused | None], Response],
) -> Response:
    """A form post: apply the change to the form's fields (it may refuse), then show the page
    again with what happened."""
    values = await form_values(request)
    try:
        await run_in_threadpool(apply, request, lambda session: change(values, session))
    except Refused as refused:
        return page(refused)
    return page(None)


def problem_text(refused: Refused | None, t: Callable[[str], str]) -> str:
    if refused is None:
        return ""
    text = t(f"dir.err.{refused.code}")
    if refused.fields:
        text += " " + ", ".join(t(f"field.{f}") for f in refused.fields)
    return text


# Validators shared by the models of the directory and the rotations.


def check_email(value: str) -> str:
    value = value.strip().lower()
    if not EMAIL.match(value):
        raise ValueError("not an email address")
    return value


def check_mobile(value: str) -> str:
    """A mobile number in E.164; a Dutch 06 number is read as +316."""
    number = e164(value)
    if number.startswith("0") and not number.startswith("00"):
        number = "+31" + number[1:]
    if not MOBILE.match(number):
        raise ValueError("not a mobile number")
    return number


def check_time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except Exception as exc:  # unknown, or not a zone name at all ("../x", NUL)
        raise ValueError("unknown time zone") from exc
    return value


def check_moment(value: datetime) -> datetime:
    if not EARLIEST <= value.year <= LATEST:
        raise ValueError(f"a moment between {EARLIEST} and {LATEST}")
    return value
