"""Message templates: one sandboxed, autoescaping Jinja2 environment, built once.

Each message kind has one file per language, ``templates/<lang>/<kind>.jinja``, with four blocks:
``subject``, ``text`` (plain-text email), ``html`` (email body, autoescaped, wrapped in
``_layout.html.jinja``) and ``sms``. A region may put edited copies in its own directory, which
is searched first; the sandbox keeps such templates from reaching Python internals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, Template
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from config.domain import Language
from notifications.gsm import measure, to_gsm7

TEMPLATE_DIR = Path(__file__).parent / "templates"
BLOCKS = ("subject", "text", "html", "sms")

_MONTHS = {
    Language.nl: (
        "januari februari maart april mei juni juli augustus september oktober november december"
    ).split(),
    Language.en: (
        "January February March April May June July August September October November December"
    ).split(),
}


class TemplateProblem(Exception):
    """A template is missing, lacks a block, or renders an SMS longer than allowed.
    The message is a code plus the template name (no personal data)."""


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str
    sms: str
    sms_segments: int


def format_date(day: date, language: Language) -> str:
    return f"{day.day} {_MONTHS[language][day.month - 1]} {day.year}"


class MessageTemplates:
    def __init__(self, *, region_dir: Path | None = None, sms_max_segments: int = 3) -> None:
        loaders = [FileSystemLoader(region_dir)] if region_dir is not None else []
        loaders.append(FileSystemLoader(TEMPLATE_DIR))
        self.env = SandboxedEnvironment(
            loader=ChoiceLoader(loaders),
            autoescape=True,
            undefined=StrictUndefined,
            keep_trailing_newline=False,
        )
        self.sms_max_segments = sms_max_segments

    def render(self, kind: str, language: Language, context: Mapping[str, Any]) -> RenderedMessage:
        name = f"{language.value}/{kind}.jinja"
        try:
            template = self.env.get_template(name)
        except Exception as exc:  # TemplateNotFound, TemplateSyntaxError
            raise TemplateProblem(f"template_missing:{name}") from exc
        missing = [block for block in BLOCKS if block not in template.blocks]
        if missing:
            raise TemplateProblem(f"template_block_missing:{name}:{','.join(missing)}")
        values = dict(context, lang=language.value)
        subject = " ".join(self._plain(template, "subject", values).split())
        text = self._plain(template, "text", values).strip() + "\n"
        sms = to_gsm7(" ".join(self._plain(template, "sms", values).split()))
        size = measure(sms)
        if size.segments > self.sms_max_segments:
            raise TemplateProblem(f"sms_too_long:{name}:{size.segments}")
        content = Markup(self._block(template, "html", values).strip())
        layout = self.env.get_template("_layout.html.jinja")
        html = layout.render(values, content=content, subject=subject)
        return RenderedMessage(subject, text, html, sms, size.segments)

    def _block(self, template: Template, block: str, values: dict[str, Any]) -> str:
        context = template.new_context(values)
        return "".join(template.blocks[block](context))

    def _plain(self, template: Template, block: str, values: dict[str, Any]) -> str:
        # Rendered with autoescape like everything else, then unescaped: plain text and SMS
        # show "&" as "&", never "&amp;".
        return Markup(self._block(template, block, values)).unescape()
