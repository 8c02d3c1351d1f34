"""What customers and paged teams read: customer words, templates, warnings, pager words."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from cockpit.config import Config, PagerConfig, StatusPageConfig, demo_config
from cockpit.domain import Alert, AlertGroup, Incident, IncidentStatus, Severity, frozen_map
from cockpit.incident.wording import (
    customer_template,
    customer_warnings,
    internal_terms,
    pager_words,
    suggest_customer_title,
    update_cadence,
    with_next_update,
)

CONFIG = replace(
    demo_config(),
    statuspage=StatusPageConfig(
        components=("API=8kbf7d35c070", "Checkout"),
        services={"doc-scanner": "Identity verification", "checkout-api": "Checkout"},
    ),
)
CHECKOUT = AlertGroup(
    key="g",
    labels=frozen_map({"alertname": "CheckoutLatencyHigh", "team": "payments"}),
    alerts=(
        Alert(
            "fp",
            frozen_map(
                {
                    "alertname": "CheckoutLatencyHigh",
                    "team": "payments",
                    "service": "checkout-api",
                    "route": "/checkout/confirm",
                    "severity": "critical",
                }
            ),
            frozen_map(
                {"summary": "Checkout p99 latency on /checkout/confirm is 4.2s (SLO 800ms)"}
            ),
        ),
    ),
)


def incident(**fields: object) -> Incident:
    base = Incident(
        "INC-2026-0001",
        "CheckoutLatencyHigh",
        Severity.SEV1,
        IncidentStatus.INVESTIGATING,
        "alice",
        datetime(2026, 11, 25, 3, tzinfo=UTC),
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def test_customer_title_comes_from_the_config_never_from_the_alert() -> None:
    assert suggest_customer_title(CONFIG, "doc-scanner") == "Problems with Identity verification"
    assert suggest_customer_title(CONFIG, "checkout-api") == "Problems with Checkout"
    # an unmapped service: the incident's components, else a generic title
    assert suggest_customer_title(CONFIG, "payments-api", ("API=8kbf7d35c070",)) == (
        "Problems with API"
    )
    assert suggest_customer_title(CONFIG, "payments-api") == "Service disruption"
    single = replace(CONFIG, statuspage=StatusPageConfig(components=("Checkout",)))
    assert suggest_customer_title(single, "") == "Problems with Checkout"


def test_each_status_has_its_own_message_in_customer_words() -> None:
    inc = incident(service="checkout-api", customer_title="Problems with Checkout")
    texts = {s: customer_template(CONFIG, s, inc) for s in IncidentStatus}
    assert texts[IncidentStatus.INVESTIGATING].startswith(
        "We are investigating reports of problems with Checkout."
    )
    assert texts[IncidentStatus.RESOLVED].startswith("This incident has been resolved: Checkout")
    assert len(set(texts.values())) == 4
    for text in texts.values():
        assert "CheckoutLatencyHigh" not in text and "checkout-api" not in text
    custom = replace(
        CONFIG,
        statuspage=replace(CONFIG.statuspage, templates={"resolved": "{title}: fixed. {x}"}),
    )
    assert customer_template(custom, "resolved", inc) == "{title}: fixed. {x}"  # no crash
    custom = replace(
        CONFIG, statuspage=replace(CONFIG.statuspage, templates={"resolved": "{title}: fixed."})
    )
    assert customer_template(custom, "resolved", inc) == "Problems with Checkout: fixed."


def test_preview_warns_on_alert_names_label_values_and_figures() -> None:
    terms = internal_terms([CHECKOUT], CONFIG)
    assert "Checkout" not in terms and "checkout-api" in terms and "critical" not in terms
    warnings = customer_warnings(
        "We are investigating problems with CheckoutLatencyHigh: checkout-api p99 is 4.2s "
        "(SLO 800ms) on /checkout/confirm",
        terms,
    )
    text = "\n".join(warnings)
    for word in ("CheckoutLatencyHigh", "checkout-api", "/checkout/confirm", "4.2s", "800ms"):
        assert repr(word) in text, word
    assert customer_warnings("We are investigating problems with Checkout.", terms) == []


def test_next_update_is_promised_at_the_end_and_cadence_defaults() -> None:
    due = datetime(2026, 11, 25, 3, 40, tzinfo=UTC)
    assert with_next_update("We are on it.", due) == "We are on it.\n\nNext update by 03:40 UTC."
    assert with_next_update("Fixed.", None) == "Fixed."
    assert update_cadence(CONFIG, Severity.SEV1) == timedelta(minutes=30)
    assert update_cadence(CONFIG, Severity.SEV2) == timedelta(minutes=30)
    assert update_cadence(CONFIG, Severity.SEV3) is None


def test_the_pager_is_named_in_words() -> None:
    pd = replace(CONFIG, pager=PagerConfig(kind="pagerduty", teams={"payments": "pd-pay"}))
    assert pager_words(pd, "pagerduty", "payments") == (
        "PagerDuty, routing key of team payments",
        "",
    )
    _words, problem = pager_words(pd, "pagerduty", "search")
    assert "no PagerDuty routing key for team 'search'" in problem and "payments" in problem
    am = replace(CONFIG, pager=PagerConfig(kind="alertmanager"))
    assert pager_words(am, "pager", "payments")[0].startswith("Alertmanager route team=payments")
    assert pager_words(am, "pager", "  ")[1] == "name the team to page"
    assert isinstance(CONFIG, Config)
