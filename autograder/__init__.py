"""Autograder for deep-learning course assignments: specs, sandboxed grading, LMS exports."""

__version__ = "0.1.0"

__all__ = ["__version__"]
