"""Package an assignment for where it is graded: the otter-grader / Gradescope autograder zip."""
