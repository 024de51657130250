"""``TrajectoryWorkflow`` inside the SDK's sandbox, for the determinism tests only.

The worker runs the trajectory outside the sandbox (see ``workflows/trajectory.py``). This module
imports ``workflows.trajectory`` plainly (not passed through), so the sandbox loads that module
afresh for each run and checks every call its own lines make, as it did before.
"""

from temporalio import workflow

from workflows.trajectory import TrajectoryWorkflow
from workflows.trajectory_models import TrajectoryInput, TrajectoryOutcome


@workflow.defn(name="TrajectoryWorkflow", sandboxed=True)
class SandboxedTrajectoryWorkflow(TrajectoryWorkflow):
    @workflow.run
    async def run(self, start: TrajectoryInput) -> TrajectoryOutcome:
        return await super().run(start)
