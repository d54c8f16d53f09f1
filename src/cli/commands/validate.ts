import { Command } from 'commander';
import { loadPlan } from '../../coordinator/load-plan';
import { unsetApiKey } from '../../coordinator/unset-api-key';
import { EXIT } from '../../shared/errors';
import type { SetExitCode } from '../options';

export function validateCommand(setExitCode: SetExitCode): Command {
  return new Command('validate')
    .description('check a test plan; exit 0 when valid, 2 with every problem named when not')
    .argument('<plan>', 'plan file (YAML or JSON)')
    .action(async (planPath: string) => {
      const { plan } = await loadPlan(planPath);
      const names = plan.phases.map((phase) => phase.name).join(', ');
      console.log(
        `${planPath}: valid plan "${plan.name}" with ${plan.phases.length} phase${plan.phases.length === 1 ? '' : 's'} (${names})`,
      );
      // The plan may run elsewhere (workers have their own environment): a warning here, an error at run time.
      const unset = unsetApiKey(plan);
      if (unset) console.warn(`warning: target.apiKeyEnv names ${unset}, which is not set here: a local run would refuse to start`);
      setExitCode(EXIT.passed);
    });
}
