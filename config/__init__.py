"""Configuration: runtime settings and the regional timeline (regionale tijdlijn)."""

from config.settings import Settings, SettingsError, load_settings
from config.timeline import Timeline, TimelineError, load_timeline

__all__ = [
    "Settings",
    "SettingsError",
    "Timeline",
    "TimelineError",
    "load_settings",
    "load_timeline",
]
