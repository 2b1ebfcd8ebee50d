"""The words every command uses for what a write did (or, in a dry run, would do) to one thing."""

from __future__ import annotations

CREATED = "created"
UPDATED = "updated"
UNCHANGED = "unchanged"  # already as wanted: nothing written
FAILED = "failed"
NOT_APPLIED = "not applied"  # left out because an earlier write failed

# How a dry run says them: what would be done.
DRY_RUN_WORDS = {CREATED: "to create", UPDATED: "to update", UNCHANGED: UNCHANGED}
