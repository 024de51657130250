"""Releases of ``TrajectoryWorkflow``: the versions of its code that issue different commands.

A trajectory lives for years, so the code must replay the history of every run that any earlier
release started. A run records the release it started under in its input
(``TrajectoryInput.release``) and takes that release's branches. It never needs
``workflow.patched`` for them: a patch check writes a marker into every new run and has the SDK
write the ``TemporalChangeVersion`` search attribute, a visibility write on the server for each
new trajectory (issue 8).

Runs started before releases were recorded carry release 0 and decide by their patch markers, as
they always did. Their next run (continue-as-new) starts under the current release.

To ship a change to the commands: add a release here, make ``CURRENT`` that release, branch on
``Release.takes(NEW)`` (a release-0 run keeps the old branch unless it has a patch for it), and
record its histories (``tests/workflows/histories/record.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from temporalio import workflow

# Messages go out as local activities; only the search attributes that changed are written. For
# release-0 runs, the patch LESS_SERVER_WORK of workflows/trajectory_effects.py decides.
LOCAL_SENDS = 2
# The youth, the case director and the next contact are taken from the trajectory's own state,
# without a resolve_recipients activity (a marker in the history, a round trip in the worker).
KNOWN_RECIPIENTS = 3

# A wake's messages and its projection go out together, in one local activity at the wake's end
# (``carry_out_wake``), instead of one local activity each: a new trajectory's first run is two
# activations of the worker instead of four, one marker in the history instead of three. A message
# that fails there is sent again on its own, with the retries it always had.
WAKE_AT_ONCE = 4

# A wake's projection holds only the tasks and consents that changed since the run's previous
# projection; the first of a run holds them all. A smaller payload to encode, encrypt and decode,
# and the read model's task rows are not read back to be compared (issue 8).
CHANGES_ONLY = 5

CURRENT = CHANGES_ONLY


@dataclass(frozen=True)
class Release:
    """The release a run started under."""

    started_under: int

    def takes(self, release: int, patch: str | None = None) -> bool:
        """Whether this run takes the branches of ``release``. A run from before releases were
        recorded asks its patch marker (``patch``) if the change had one, else keeps the old
        branch."""
        if self.started_under:
            return self.started_under >= release
        return patch is not None and workflow.patched(patch)
