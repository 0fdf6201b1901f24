"""Hypothesis property tests of what the store accepts, refuses and gives back (issue 7)."""
