// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

/** A pipeline step of a parsed definition body. */
export type StepBody = Json;

/**
 * The definition body of a synthesized `AWS::SageMaker::Pipeline` resource, parsed, with
 * CloudFormation intrinsics inside it replaced by placeholder text.
 */
export function pipelineDefinitionBody(pipeline: { Properties?: Record<string, unknown> }): {
  Version: string;
  Parameters: Json[];
  Steps: StepBody[];
} {
  const flatten = (v: unknown): string => {
    if (typeof v === 'string') return v;
    const [fn, args] = Object.entries(v as Record<string, unknown>)[0];
    if (fn === 'Fn::Join') {
      const [sep, parts] = args as [string, unknown[]];
      return parts.map(flatten).join(sep);
    }
    return `PLACEHOLDER-${fn.replace(/\W/g, '')}`;
  };
  const body = (pipeline.Properties!.PipelineDefinition as { PipelineDefinitionBody: unknown })
    .PipelineDefinitionBody;
  return JSON.parse(flatten(body));
}

/** Every step of a body, condition branches included, in definition order. */
export function allStepBodies(body: { Steps: StepBody[] }): StepBody[] {
  const all: StepBody[] = [];
  const visit = (s: StepBody) => {
    all.push(s);
    [...(s.Arguments.IfSteps ?? []), ...(s.Arguments.ElseSteps ?? [])].forEach(visit);
  };
  body.Steps.forEach(visit);
  return all;
}
