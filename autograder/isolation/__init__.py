"""Isolation: the submission process, its confinement, the zygote it forks from, and the wire between them."""
