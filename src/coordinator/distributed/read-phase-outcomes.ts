import { Job, type Queue } from 'bullmq';
import { phaseJobId } from '../../shared/queue-layout';
import type { PhaseOutcome } from './phase-outcome';

/** Each phase's outcome of a run, read by its phase job id; undefined for a phase that returned none. */
export async function readPhaseOutcomes(phaseQueue: Queue, runId: string, phaseCount: number): Promise<Array<PhaseOutcome | undefined>> {
  return Promise.all(
    Array.from({ length: phaseCount }, async (_, index) => {
      const job = await Job.fromId(phaseQueue, phaseJobId(runId, index));
      return (job?.returnvalue as PhaseOutcome | null | undefined) ?? undefined;
    }),
  );
}
