"""`cockpit config example`: a commented config a new user can copy and edit.

A test parses it for every environment it defines, so it can never drift out of date.
"""

from __future__ import annotations

EXAMPLE_CONFIG = """\
# Cockpit config: ~/.config/cockpit/config.toml (or --config PATH, or $COCKPIT_CONFIG).
# Keep it private: chmod 600 ~/.config/cockpit/config.toml
#
# The config names secrets, it never holds their values. A secret NAME resolves from
#   1. the env var COCKPIT_SECRET_<NAME> (upper-cased, '-' and '.' become '_'),
#   2. the OS keyring: `cockpit secrets set NAME` (hidden prompt, or piped on stdin),
#   3. a hidden prompt at start-up, when stdin is a terminal.
# `cockpit doctor` checks every backend and secret below; `cockpit secrets list` shows
# where each secret comes from.
#
# Top-level sections are shared defaults; each [env.NAME] table overrides them key by
# key. Pick one with `cockpit --env staging` (or [environment] default below).
# A backend section that is absent leaves its panel "not configured".

[environment]
default = "staging"          # the one used without --env; prod is always explicit

[identity]
name = "Ada Lovelace"        # written into acks, silences and the incident timeline
email = "ada@example.com"

# [store]
# path = "/var/lib/cockpit/prod.sqlite3"   # default: ~/.local/share/cockpit/<env>.sqlite3

[ui]
theme = ""                   # a theme name; empty: the built-in dark theme
mouse = false                # keyboard first: mouse off keeps terminal copy/paste native
bell = true                  # ring the terminal bell on a new critical alert
desktop_notify = true
timezone = ""                # header clock and timeline times; empty: this machine's zone

[limits]
max_response_mb = 50         # a larger answer from any server is refused, not read into memory

[incident]
# how often customers must hear from us while an incident is open, per severity
update_cadence = { SEV1 = "30m", SEV2 = "1h" }

[runbooks]
# `o` on an alert: [runbooks.alerts] first, then <directory>/<alertname>.md, then the
# alert's runbook_url annotation when it is Markdown or plain text (http(s) or file://)
directory = "~/runbooks"
timeout = "5s"
max_bytes = 65536            # longer runbooks are cut, with a note
fetch_urls = true            # false: never fetch an http(s) runbook_url, only show it

[runbooks.alerts]
KycVendorTimeouts = "identity/vendor.md"    # relative to directory

[alertmanager]
ack_duration = "1h"          # an ack is a silence this long, matching the alert group
poll_interval = "10s"
timeout = "5s"

[kubernetes]
kubeconfig = "~/.kube/config"
timeout = "10s"
log_lines = 200

[rabbitmq]
username = "cockpit"
vhost = ""                   # empty: every vhost
poll_interval = "5s"
timeout = "5s"
peek_count = 10              # messages fetched when you open a queue

# queue depth thresholds, first matching glob wins
[[rabbitmq.thresholds]]
pattern = "orders*"
warn = 1000
crit = 10000

[[rabbitmq.thresholds]]
pattern = "*"
warn = 5000
crit = 50000

# Status page: a static HTML page written to a directory you serve...
[statuspage]
kind = "static"
directory = "~/.local/share/cockpit/statuspage"
title = "Example Inc. status"
components = ["API", "Checkout", "Dashboard"]
# what customers call each service (the `service` label): the customer-facing title and
# the update templates use these words, never an alert name or a label value
[statuspage.services]
checkout-api = "Checkout"
doc-scanner = "Identity verification"

# ...or Atlassian Statuspage (statuspage.io):
# [statuspage]
# kind = "statuspage"
# page_id = "abc123xyz"
# api_key_secret = "statuspage-api-key"
# components = ["API", "Checkout"]

# Paging: by default a page is an alert posted to Alertmanager, routed by its config.
[pager]
kind = "alertmanager"

# ...or PagerDuty Events API v2, one routing key (a secret name) per team:
# [pager]
# kind = "pagerduty"
# [pager.teams]
# payments = "pagerduty-payments"
# platform = "pagerduty-platform"

# Bug tickets for the developers (b): Jira Cloud REST v3, Basic auth email:API token.
# Data Center / Server: api_version = 2 and a personal access token (sent as Bearer).
[jira]
url = "https://acme.atlassian.net"
email = "oncall@example.com"
api_token_secret = "jira"    # COCKPIT_SECRET_JIRA or `cockpit secrets set jira`
project = "PAY"              # default project; a team's own project below
issue_type = "Bug"
labels = ["from-oncall"]
poll = "2m"                  # how often open tickets are re-read (status, comments)
# priorities = { SEV1 = "Highest", SEV2 = "High", SEV3 = "Medium", SEV4 = "Low" }
[jira.teams]
payments = "PAY"
platform = "PLAT"


[env.prod.alertmanager]
# several URLs of one HA cluster: alerts are counted once
urls = ["https://alertmanager-0.prod.example.com", "https://alertmanager-1.prod.example.com"]
ack_duration = "2h"

# or several independent clusters:
# [[env.prod.alertmanager.clusters]]
# name = "eu"
# urls = ["https://am.eu.prod.example.com"]
# [[env.prod.alertmanager.clusters]]
# name = "us"
# urls = ["https://am.us.prod.example.com"]

[env.prod.kubernetes]
context = "prod-eu"
namespaces = ["checkout", "payments"]   # empty: all namespaces

[env.prod.rabbitmq]
management_url = "https://rabbitmq.prod.example.com:15671"
amqp_url = "amqps://rabbitmq.prod.example.com:5671/"
password_secret = "rabbitmq-prod"       # COCKPIT_SECRET_RABBITMQ_PROD or the keyring
vhost = "/"

[env.prod.statuspage]
directory = "/srv/status"


[env.staging.alertmanager]
url = "http://127.0.0.1:9093"
ack_duration = "30m"

[env.staging.kubernetes]
context = "staging"
namespaces = []

[env.staging.rabbitmq]
management_url = "http://127.0.0.1:15672"
amqp_url = "amqp://127.0.0.1:5672/"
username = "guest"
password_secret = "rabbitmq-staging"    # COCKPIT_SECRET_RABBITMQ_STAGING or the keyring
"""
