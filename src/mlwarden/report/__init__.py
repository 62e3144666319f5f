"""Renderers that turn a :class:`~mlwarden.core.report.Report` into text for people and machines."""

from mlwarden.report.interface import OutputFormat, render, write_report

__all__ = ["OutputFormat", "render", "write_report"]
