import { Token } from 'aws-cdk-lib';
import { ProblemCollector } from './errors';
import { SAGEMAKER_NAME } from './patterns';

/** How a role names an environment's endpoints: by name, or by the literal start of their names. */
export interface EndpointNaming {
  readonly endpointNames?: string[];
  readonly endpointNamePrefix?: string;
}

/** What an endpoint name may start with: SageMaker's name characters, ending anywhere. */
const ENDPOINT_NAME_PREFIX = /^[a-zA-Z0-9][a-zA-Z0-9-]{0,61}$/;

/**
 * The endpoint name patterns of `naming`, lower-cased as IAM matches SageMaker ARNs (SageMaker
 * writes them in lower case), and the names of their alarms: those named after the endpoint.
 */
export function endpointPatterns(naming: EndpointNaming): { endpoints: string[]; alarms: string[] } {
  return naming.endpointNames
    ? {
        endpoints: naming.endpointNames.map((n) => (Token.isUnresolved(n) ? n : n.toLowerCase())),
        alarms: naming.endpointNames.map((n) => `${n}-*`),
      }
    : {
        endpoints: [`${naming.endpointNamePrefix!.toLowerCase()}*`],
        alarms: [`${naming.endpointNamePrefix}*`],
      };
}

/** Records the problems of `naming`: exactly one of names and prefix, each well formed. */
export function checkEndpointNaming(problems: ProblemCollector, naming: EndpointNaming, whose: string): void {
  if ((naming.endpointNames === undefined) === (naming.endpointNamePrefix === undefined)) {
    problems.add(
      'endpointNames',
      naming.endpointNames,
      `give ${whose} endpoint names, or endpointNamePrefix (e.g. 'mlops-staging-'), not both`,
    );
  }
  if (naming.endpointNames !== undefined && naming.endpointNames.length === 0) {
    problems.add('endpointNames', [], 'name at least one endpoint, or give endpointNamePrefix');
  }
  for (const name of naming.endpointNames ?? []) {
    problems.checkPattern(
      'endpointNames',
      name,
      SAGEMAKER_NAME,
      'use endpoint names of up to 63 letters, digits and hyphens, starting with a letter or digit',
    );
  }
  problems.checkPattern(
    'endpointNamePrefix',
    naming.endpointNamePrefix,
    ENDPOINT_NAME_PREFIX,
    "use the literal start of the endpoint names, e.g. 'mlops-staging-': letters, digits and hyphens, no wildcard",
  );
}
