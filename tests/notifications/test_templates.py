"""Every message kind renders in Dutch and English; SMS texts fit the segment limit; HTML is
escaped; region templates are sandboxed."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2.exceptions import SecurityError

from config.domain import Language
from notifications.requests import MessageKind
from notifications.templates import MessageTemplates, TemplateProblem

CONTEXT = {
    "first_name": "Anna",
    "region": "Noord-Limburg",
    "task": "Uitstroomgesprek: kernbeslissingen en bestemming",
    "due": "23 september 2027",
    "ack_code": "4821",
    "link": "https://waakvlam.example.nl/a/" + "x" * 120,
    "day": "9 maart 2027",
    "items": [{"subject": "Herinnering: Toekomstgesprek", "link": "https://w.example/a/1"}],
    "responder": "Bram",
    "audience": "caller",
}


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("kind", list(MessageKind))
def test_every_kind_renders_in_every_language_within_the_sms_limit(
    kind: MessageKind, language: Language
) -> None:
    rendered = MessageTemplates(sms_max_segments=3).render(kind.value, language, CONTEXT)
    assert rendered.subject and rendered.text.strip() and rendered.sms
    assert f'lang="{language.value}"' in rendered.html
    assert "Anna" in rendered.text
    assert rendered.sms_segments <= 3


def test_a_missing_translation_fails(tmp_path: Path) -> None:
    templates = MessageTemplates(region_dir=tmp_path)
    with pytest.raises(TemplateProblem, match="template_missing:en/welcome"):
        templates.render("welcome", Language.en, CONTEXT)


def test_an_sms_over_the_segment_limit_fails(tmp_path: Path) -> None:
    (tmp_path / "nl").mkdir()
    (tmp_path / "nl" / "task_reminder.jinja").write_text(
        "{% block subject %}s{% endblock %}{% block text %}t{% endblock %}"
        "{% block html %}h{% endblock %}{% block sms %}" + "lang " * 100 + "{% endblock %}"
    )
    with pytest.raises(TemplateProblem, match="sms_too_long"):
        MessageTemplates(region_dir=tmp_path, sms_max_segments=3).render(
            "task_reminder", Language.nl, CONTEXT
        )


def test_html_is_autoescaped_and_plain_text_is_not() -> None:
    context = CONTEXT | {"first_name": "Anna & <script>"}
    rendered = MessageTemplates().render("task_reminder", Language.nl, context)
    assert "Anna &amp; &lt;script&gt;" in rendered.html
    assert "Hallo Anna & <script>," in rendered.text


def test_region_templates_are_sandboxed(tmp_path: Path) -> None:
    (tmp_path / "nl").mkdir()
    (tmp_path / "nl" / "task_reminder.jinja").write_text(
        "{% block subject %}{{ first_name.__class__.__mro__[1].__subclasses__() }}{% endblock %}"
        "{% block text %}t{% endblock %}{% block html %}h{% endblock %}"
        "{% block sms %}s{% endblock %}"
    )
    with pytest.raises(SecurityError):
        MessageTemplates(region_dir=tmp_path).render("task_reminder", Language.nl, CONTEXT)


def test_every_template_file_has_its_translation_and_renders() -> None:
    root = Path(__file__).parents[2] / "notifications" / "templates"
    names = {path.stem for lang in Language for path in (root / lang.value).glob("*.jinja")}
    templates = MessageTemplates()
    for name in sorted(names):
        for language in Language:
            assert (root / language.value / f"{name}.jinja").exists(), f"{language}/{name}"
            assert templates.render(name, language, CONTEXT).subject


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("audience", ["caller", "paged"])
def test_page_acknowledged_names_who_took_it(language: Language, audience: str) -> None:
    context = CONTEXT | {"audience": audience}
    rendered = MessageTemplates(sms_max_segments=3).render("page_acknowledged", language, context)
    assert "Bram" in rendered.text and "Bram" in rendered.sms and "Bram" in rendered.subject
