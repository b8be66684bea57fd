"""Textual widgets. They never run SQL: they ask the workbench facade."""
