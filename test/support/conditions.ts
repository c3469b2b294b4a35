/**
 * Evaluates a template's CloudFormation conditions for given parameter values, the way
 * CloudFormation decides which resources a deployment creates. Supports the condition functions
 * (Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition) over Ref to parameters and pseudo parameters.
 */
type Template = {
  Parameters?: Record<string, { Type?: string; Default?: string }>;
  Conditions?: Record<string, unknown>;
  Resources: Record<string, { Type: string; Condition?: string }>;
};

export function evaluateConditions(
  template: unknown,
  parameters: Record<string, string>,
  ssm: Record<string, string> = {},
  pseudo: Record<string, string> = { 'AWS::Region': 'us-east-1', 'AWS::Partition': 'aws' },
): Record<string, boolean> {
  const t = template as Template;
  const value = (v: unknown): unknown => {
    if (v !== null && typeof v === 'object' && 'Ref' in v) {
      const name = (v as { Ref: string }).Ref;
      if (name in parameters) return parameters[name];
      if (name in pseudo) return pseudo[name];
      const p = t.Parameters?.[name];
      // An SSM-typed parameter's value is what the SSM parameter its default names holds.
      if (p?.Type?.startsWith('AWS::SSM::Parameter::Value') && p.Default !== undefined) {
        if (p.Default in ssm) return ssm[p.Default];
        throw new Error(`no value for SSM parameter ${p.Default} (stack parameter ${name})`);
      }
      if (p?.Default !== undefined) return p.Default;
      throw new Error(`no value for parameter ${name}`);
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
        throw new Error(`unsupported condition function ${fn}`);
    }
  };
  const named = (name: string): boolean => {
    if (!(name in cache)) {
      cache[name] = evaluate(t.Conditions![name]);
    }
    return cache[name];
  };
  for (const name of Object.keys(t.Conditions ?? {})) {
    named(name);
  }
  return cache;
}

/**
 * The resource types a deployment with these stack parameter values (and SSM parameter values, by
 * SSM parameter name) creates, by logical id.
 */
export function createdResources(
  template: unknown,
  parameters: Record<string, string>,
  ssm: Record<string, string> = {},
): Record<string, string> {
  const t = template as Template;
  const conditions = evaluateConditions(template, parameters, ssm);
  return Object.fromEntries(
    Object.entries(t.Resources)
      .filter(([, r]) => r.Condition === undefined || conditions[r.Condition])
      .map(([id, r]) => [id, r.Type]),
  );
}
