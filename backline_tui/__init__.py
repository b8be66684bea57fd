"""Backline: a keyboard-driven terminal workbench for backline support engineers."""

__version__ = "0.1.0"
