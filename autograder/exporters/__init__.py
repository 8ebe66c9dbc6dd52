"""Exporters: turn `SubmissionResult`s into gradebooks and LMS formats."""
