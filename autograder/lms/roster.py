"""The class roster for exports and uploads: the one `autograder.intake.roster` reads for grading."""

from __future__ import annotations

from autograder.intake.roster import Roster, RosterError, Student, read_roster

__all__ = ["Roster", "RosterError", "Student", "read_roster"]
