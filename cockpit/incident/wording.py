"""What each reader is told: customers (status page), paged teams, the engineer.

Customers read the customer-facing title and the status templates, in words from the
config (`[statuspage] components`, `[statuspage.services] doc-scanner = "Identity
verification"`), never an alert name, a label value or a raw figure. `customer_warnings`
is what the preview says when a message still carries internal words. Paged teams are
told which pager reaches them in words ("PagerDuty, routing key of team payments").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from cockpit.config import Config
from cockpit.domain import AlertGroup, Incident, IncidentStatus, Severity

DEFAULT_TEMPLATES = {
    IncidentStatus.INVESTIGATING.value: "We are investigating reports of problems with "
    "{affected}. We are sorry for the trouble and will keep you posted.",
    IncidentStatus.IDENTIFIED.value: "We have identified the cause of the problems with "
    "{affected} and are working on a fix.",
    IncidentStatus.MONITORING.value: "A fix has been applied to {affected} and we are "
    "monitoring the results.",
    IncidentStatus.RESOLVED.value: "This incident has been resolved: {affected} is working "
    "normally again. We apologise for the disruption.",
}
GENERIC_AFFECTED = "our service"
GENERIC_TITLE = "Service disruption"

# label values that are not internal (everybody says "critical")
_PLAIN_LABELS = ("severity", "priority", "prometheus", "receiver")
_FIGURE = re.compile(
    r"(?<![\w.])(\d+(?:\.\d+)?\s?(?:ms|s|%|rps|qps|req/s|MB|GB|Mi|Gi)|p\d{2,3}|SLO)(?![\w])"
)
_WORD = re.compile(r"[\w/][\w.:/-]*\w|\w")


def component_name(entry: str) -> str:
    """A config entry "API=8kbf7d35c070" names the component "API" (the id is for Statuspage)."""
    return entry.partition("=")[0].strip()


def affected_words(config: Config, service: str = "", components: Iterable[str] = ()) -> str:
    """What customers call the affected part: the service's mapped words, else the
    incident's components, else the only configured one, else "our service" (naming
    every configured component would claim more is broken than is)."""
    mapped = config.statuspage.services.get(service) if service else None
    if mapped:
        return mapped
    names = [component_name(c) for c in components if component_name(c)]
    configured = [component_name(c) for c in config.statuspage.components if component_name(c)]
    if not names and len(configured) == 1:
        names = configured
    if names:
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return GENERIC_AFFECTED


def default_components(config: Config, incident: Incident) -> tuple[str, ...]:
    """The components an update names by default: the incident's own, else the configured
    component customers know its service by; never every configured component."""
    if incident.components:
        return incident.components
    words = config.statuspage.services.get(incident.service, "") if incident.service else ""
    for entry in config.statuspage.components:
        if words and component_name(entry).lower() == words.lower():
            return (entry,)
    return ()


def suggest_customer_title(
    config: Config, service: str = "", components: Iterable[str] = ()
) -> str:
    """The prefilled customer-facing title: from the config's customer words only."""
    mapped = config.statuspage.services.get(service) if service else None
    if mapped:
        return f"Problems with {mapped}"
    words = affected_words(config, "", components)
    return GENERIC_TITLE if words == GENERIC_AFFECTED else f"Problems with {words}"


def customer_template(config: Config, status: IncidentStatus | str, incident: Incident) -> str:
    """The message for this status, in customer words ({affected}, {title} = the
    customer-facing title); a template from [statuspage.templates] wins."""
    key = status.value if isinstance(status, IncidentStatus) else status
    template = config.statuspage.templates.get(key) or DEFAULT_TEMPLATES.get(key, "")
    values = {
        "affected": affected_words(config, incident.service, incident.components),
        "title": incident.public_title,
    }
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):  # a user template with another placeholder
        return template


def internal_terms(groups: Iterable[AlertGroup], config: Config | None = None) -> set[str]:
    """Alert names and label values the cockpit knows of: words customers must not read.
    Customer words from the config (services, components) are not internal."""
    terms: set[str] = set()
    for group in groups:
        terms.add(group.name)
        for alert in group.alerts:
            for name, value in alert.labels.items():
                if name not in _PLAIN_LABELS and len(value) >= 3 and not value.isdigit():
                    terms.add(value)
    if config is not None:
        allowed = {w.lower() for w in config.statuspage.services.values()}
        allowed |= {component_name(c).lower() for c in config.statuspage.components}
        terms = {t for t in terms if t.lower() not in allowed}
    return terms


def customer_warnings(text: str, terms: Iterable[str]) -> list[str]:
    """One line per internal word found in a customer message (case-insensitive, whole
    words): alert names, label values, raw figures such as 4.2s or p99."""
    lowered = {t.lower(): t for t in terms if t}
    words = {w.lower() for w in _WORD.findall(text)}
    found = sorted({lowered[w] for w in words if w in lowered})
    # multi-word values ("Checkout API") are matched as phrases
    found += sorted(
        t for k, t in lowered.items() if " " in k and k in text.lower() and t not in found
    )
    out = [f"internal name or label value {term!r}: customers do not know it" for term in found]
    figures = sorted({m.group(1) for m in _FIGURE.finditer(text)})
    out += [f"raw figure {figure!r}: say what customers notice instead" for figure in figures]
    return out


# --------------------------------------------------------------------------- cadence


def update_cadence(config: Config, severity: Severity) -> timedelta | None:
    """How soon customers must hear from us again ([incident] update_cadence; default 30
    minutes for SEV1 and SEV2, no promise for SEV3/SEV4)."""
    return config.incident.update_cadence.get(severity.value)


def next_update_line(due: datetime) -> str:
    return f"Next update by {due.astimezone(UTC):%H:%M} UTC."


def with_next_update(body: str, due: datetime | None) -> str:
    """The message customers read, with the promise of the next update at its end."""
    body = body.strip()
    if due is None:
        return body
    return f"{body}\n\n{next_update_line(due)}"


# --------------------------------------------------------------------------- paging


def pager_words(config: Config, pager_name: str, team: str) -> tuple[str, str]:
    """(how the page reaches the team, a problem that stops it or ""), in words the
    confirmation shows: "PagerDuty, routing key of team payments"."""
    team = team.strip()
    if not team:
        return "", "name the team to page"
    kind = config.pager.kind if config.pager else ""
    if kind == "pagerduty":
        assert config.pager is not None
        if team not in config.pager.teams:
            known = ", ".join(sorted(config.pager.teams)) or "none"
            return (
                f"PagerDuty has no routing key for team {team}",
                f"no PagerDuty routing key for team {team!r} in [pager.teams] (known: {known})",
            )
        return f"PagerDuty, routing key of team {team}", ""
    if kind == "alertmanager":
        return f"Alertmanager route team={team} (alert CockpitEscalation)", ""
    return f"{pager_name or 'the pager'}, team {team}", ""
