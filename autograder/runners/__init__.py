"""Runners: where a referee runs (this machine today)."""
