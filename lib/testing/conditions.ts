/**
 * Evaluates a template's CloudFormation conditions for given parameter values, the way
 * CloudFormation decides which resources a deployment creates. Supports the condition functions
 * (Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition) over literals, Ref to parameters and pseudo
 * parameters.
 */
export interface TemplateShape {
  Parameters?: Record<string, { Type?: string; Default?: string }>;
  Conditions?: Record<string, unknown>;
  Resources?: Record<string, { Type: string; Condition?: string }>;
}

/** Values of the stack parameters, the SSM parameters that SSM-typed ones read, and pseudo parameters. */
export interface ParameterValues {
  /** By stack parameter name; unset ones take their default. */
  readonly parameters?: Record<string, string>;
  /** By SSM parameter name, for stack parameters of type `AWS::SSM::Parameter::Value<...>`. */
  readonly ssm?: Record<string, string>;
  /** `AWS::Region`, `AWS::Partition`, ... */
  readonly pseudo?: Record<string, string>;
}

const DEFAULT_PSEUDO = {
  'AWS::Region': 'us-east-1',
  'AWS::Partition': 'aws',
  'AWS::AccountId': '123456789012',
};

export function evaluateConditions(
  template: TemplateShape,
  values: ParameterValues = {},
): Record<string, boolean> {
  const parameters = values.parameters ?? {};
  const ssm = values.ssm ?? {};
  const pseudo = { ...DEFAULT_PSEUDO, ...values.pseudo };
  const value = (v: unknown): unknown => {
    if (v !== null && typeof v === 'object' && 'Ref' in v) {
      const name = (v as { Ref: string }).Ref;
      if (name in parameters) return parameters[name];
      if (name in pseudo) return pseudo[name as keyof typeof pseudo];
      const p = template.Parameters?.[name];
      // An SSM-typed parameter's value is what the SSM parameter its default names holds.
      if (p?.Type?.startsWith('AWS::SSM::Parameter::Value') && p.Default !== undefined) {
        if (p.Default in ssm) return ssm[p.Default];
        throw new Error(
          `stack parameter ${name} reads SSM parameter ${p.Default}, whose value is not known: give it (by SSM parameter name)`,
        );
      }
      if (p?.Default !== undefined) return p.Default;
      throw new Error(`stack parameter ${name} has no default: give its value`);
    }
    return v;
  };
  const cache: Record<string, boolean> = {};
  const evaluate = (expression: unknown): boolean => {
    const [fn, args] = Object.entries(expression as Record<string, unknown>)[0];
    const list = args as unknown[];
    switch (fn) {
      case 'Fn::Equals':
        return JSON.stringify(value(list[0])) === JSON.stringify(value(list[1]));
      case 'Fn::Not':
        return !evaluate(list[0]);
      case 'Fn::And':
        return list.every(evaluate);
      case 'Fn::Or':
        return list.some(evaluate);
      case 'Condition':
        return named(args as string);
      default:
        throw new Error(`condition function ${fn} is not supported by this evaluator`);
    }
  };
  const named = (name: string): boolean => {
    if (!(name in cache)) {
      const expression = template.Conditions?.[name];
      if (expression === undefined) {
        throw new Error(`condition ${name} is not defined in the template`);
      }
      cache[name] = evaluate(expression);
    }
    return cache[name];
  };
  for (const name of Object.keys(template.Conditions ?? {})) {
    named(name);
  }
  return cache;
}

/** The resource types a deployment with these values creates, by logical id. */
export function createdResources(
  template: TemplateShape,
  values: ParameterValues = {},
): Record<string, string> {
  const conditions = evaluateConditions(template, values);
  return Object.fromEntries(
    Object.entries(template.Resources ?? {})
      .filter(([, r]) => r.Condition === undefined || conditions[r.Condition])
      .map(([id, r]) => [id, r.Type]),
  );
}
