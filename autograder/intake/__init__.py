"""Intake: turn what a student handed in into a staged folder of importable modules."""
