"""The strength report: what each mutant and probe did, per question, as plain pydantic models."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, computed_field

MutantStatus = Literal["killed", "survived", "equivalent", "equivalent but killed"]


class MutantOutcome(BaseModel):
    """One mutant of the solution and what the tests made of it."""

    id: str = Field(description="Stable id: `file::function::operator::hash`; use it to declare an equivalent mutant.")
    file: str
    function: str
    line: int
    operator: str
    mistake: str | None = Field(default=None, description="The deep-learning mistake it imitates, if it is one from the catalogue.")
    origin: Literal["generic", "catalogue"]
    question: str | None = Field(default=None, description="The question that grades the mutated function (`covers`).")
    status: MutantStatus
    killed_by: str | None = Field(default=None, description="The first test that took points, or how the run ended.")
    score: float
    seconds: float
    reason: str | None = Field(default=None, description="Why it is declared equivalent.")
    diff: str

    def __repr__(self) -> str:
        return f"MutantOutcome({self.id!r}, {self.status})"


class ProbeOutcome(BaseModel):
    """What one degenerate answer earned."""

    kind: str
    description: str
    functions: list[str]
    questions: list[str] = Field(description="Questions that grade the degraded functions; the probe is judged on these.")
    score: float = Field(description="Points earned on those questions.")
    max_score: float
    fraction: float
    total: float = Field(description="Points earned on the whole assignment.")
    passed: bool = Field(description="Whether it earned at most the allowed fraction.")


class QuestionStrength(BaseModel):
    """Mutation score of one question."""

    id: str
    mutants: int
    killed: int
    survived: int
    equivalent: int

    @computed_field
    @property
    def score(self) -> float | None:
        counted = self.killed + self.survived
        return self.killed / counted if counted else None


class StrengthReport(BaseModel):
    """The mutation analysis of one assignment's tests."""

    assignment: str
    version: str
    goal: float
    probe_max_fraction: float
    reference_score: float
    max_score: float
    reference_seconds: float
    deadline_s: float = Field(description="Wall-clock limit of one mutant's run; running past it kills the mutant.")
    wall_seconds: float = 0.0
    workers: int = 1
    questions: list[QuestionStrength] = Field(default_factory=list)
    mutants: list[MutantOutcome] = Field(default_factory=list)
    probes: list[ProbeOutcome] = Field(default_factory=list)
    stale_equivalents: list[str] = Field(default_factory=list, description="Declared equivalent ids that match no mutant any more.")

    @computed_field
    @property
    def killed(self) -> int:
        return sum(m.status == "killed" for m in self.mutants)

    @computed_field
    @property
    def survived(self) -> int:
        return sum(m.status == "survived" for m in self.mutants)

    @computed_field
    @property
    def score(self) -> float:
        """Return killed / (killed + survived); equivalent mutants are left out."""
        counted = self.killed + self.survived
        return self.killed / counted if counted else 1.0

    @property
    def problems(self) -> list[str]:
        """Return why the tests fall short of the spec's goals, one line each."""
        out = []
        if not self.killed + self.survived:
            out.append("no mutant was graded: check that the stubs' `YOUR CODE HERE` regions match the solution's functions")
        elif self.score < self.goal:
            out.append(f"mutation score {self.score:.1%} is below the goal {self.goal:.0%}: {self.survived} mutants survive")
        out += [f"probe `{p.kind}` earns {p.fraction:.1%} of {', '.join(p.questions)} (allowed {self.probe_max_fraction:.0%})"
                if p.functions and p.questions else f"probe `{p.kind}` degrades no student function any question covers: fix its `functions`"
                for p in self.probes if not p.passed]  # fmt: skip
        out += [f"mutant {m.id} is declared equivalent but the tests kill it ({m.killed_by}); remove the declaration"
                for m in self.mutants if m.status == "equivalent but killed"]  # fmt: skip
        return out

    def __repr__(self) -> str:
        return f"StrengthReport({self.assignment!r}, score={self.score:.3f}, mutants={len(self.mutants)}, survived={self.survived})"
