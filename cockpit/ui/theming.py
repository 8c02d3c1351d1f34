"""Themes are data: themes/*.toml (shipped) and <config dir>/themes/*.toml (the user's),
validated into Textual themes. A broken file is reported and skipped; the cockpit
falls back to the default theme instead of failing to start.
"""

from __future__ import annotations

import os
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from textual.color import Color, ColorParseError
from textual.theme import Theme

DEFAULT_THEME = "dark"
ANSI_THEME = "ansi"
COLOR_KEYS = (
    "primary",
    "secondary",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
    "success",
    "warning",
    "error",
)


def shipped_theme_dirs() -> list[Path]:
    """The repo's themes/ (source checkout, editable install) or the installed copy."""
    here = Path(__file__).resolve().parents[2] / "themes"
    installed = Path(sys.prefix) / "share" / "cockpit" / "themes"
    return [d for d in (here, installed) if d.is_dir()]


@dataclass
class ThemeSet:
    themes: dict[str, Theme] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # one line per broken file


def parse_theme(data: dict[str, object], source: str) -> Theme:
    """Validate one theme table; raises ValueError naming the file and the key."""
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"{source}: name: expected a theme name")
    unknown = set(data) - {"name", "dark", "ansi", "colors", "variables"}
    if unknown:
        raise ValueError(f"{source}: {sorted(unknown)[0]}: unknown key")
    colors = data.get("colors", {})
    if not isinstance(colors, dict) or "primary" not in colors:
        raise ValueError(f"{source}: colors.primary: is required")
    for key, value in colors.items():
        if key not in COLOR_KEYS:
            raise ValueError(
                f"{source}: colors.{key}: unknown colour (known: {', '.join(COLOR_KEYS)})"
            )
        try:
            Color.parse(str(value))
        except ColorParseError:
            raise ValueError(f"{source}: colors.{key}: {value!r} is not a colour") from None
    variables = data.get("variables", {})
    if not isinstance(variables, dict):
        raise ValueError(f"{source}: variables: expected a table")
    dark, ansi = data.get("dark", True), data.get("ansi", False)
    if not isinstance(dark, bool) or not isinstance(ansi, bool):
        raise ValueError(f"{source}: dark/ansi: expected true or false")
    return Theme(
        name=name,
        dark=dark,
        ansi=ansi,
        variables={str(k): str(v) for k, v in variables.items()},
        **{k: str(v) for k, v in colors.items()},  # type: ignore[arg-type]
    )


def load_themes(extra_dirs: list[Path] | None = None) -> ThemeSet:
    result = ThemeSet()
    for directory in [*shipped_theme_dirs(), *(extra_dirs or [])]:
        if not directory.is_dir():
            continue
        for file in sorted(directory.glob("*.toml")):
            try:
                theme = parse_theme(tomllib.loads(file.read_text(encoding="utf-8")), str(file))
            except (ValueError, tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as exc:
                result.problems.append(f"theme {file} ignored: {exc}")
                continue
            result.themes[theme.name] = theme  # the user's file wins over a shipped one
    return result


def terminal_colors(env: dict[str, str] | os._Environ[str] | None = None) -> int:
    """How many colours the terminal can show, from what it tells us: 16777216, 256 or 16."""
    env = env if env is not None else os.environ
    if env.get("COLORTERM", "").lower() in {"truecolor", "24bit"}:
        return 16_777_216
    term = env.get("TERM", "")
    if "256color" in term or "truecolor" in term or "direct" in term:
        return 256
    return 16


def choose_theme(requested: str, available: dict[str, Theme], colors: int) -> tuple[str, str]:
    """(theme name, problem): the requested theme, else the 16-colour one on a 16-colour
    terminal, else the default; a problem line says why a request was not honoured."""
    if requested:
        if requested in available:
            return requested, ""
        fallback = ANSI_THEME if colors <= 16 and ANSI_THEME in available else DEFAULT_THEME
        known = ", ".join(sorted(available))
        return fallback, f"no theme named {requested!r} (known: {known}); using {fallback}"
    if colors <= 16 and ANSI_THEME in available:
        return ANSI_THEME, ""
    return (DEFAULT_THEME if DEFAULT_THEME in available else "textual-dark"), ""
