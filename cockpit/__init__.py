"""Cockpit: a full-screen terminal on-call cockpit."""

__version__ = "0.1.0"
