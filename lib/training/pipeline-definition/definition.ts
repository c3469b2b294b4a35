import { Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { MlopsValidationError } from '../../private/errors';
import { PipelineReference, PipelineValue, referencesIn, valueTypeOf } from './expressions';
import { shapeProblems, STEP_ARGUMENT_SHAPES, STEP_REQUIRED_ARGUMENTS } from './argument-shapes';
import { ConditionStep, LambdaStep, PipelineParameter, PipelineStep, STEP_PROPERTY_ROOTS } from './steps';

/** The definition format version SageMaker accepts. */
export const PIPELINE_DEFINITION_VERSION = '2020-12-01';
/** SageMaker's limit on an inline pipeline definition, in bytes. */
export const MAX_DEFINITION_BYTES = 1024 * 1024;

const NAME = /^[A-Za-z0-9\-_]{1,64}$/;
const NUMERIC_COMPARISONS = new Set(['GreaterThan', 'GreaterThanOrEqualTo', 'LessThan', 'LessThanOrEqualTo']);

/** Props of a PipelineDefinition. */
export interface PipelineDefinitionProps {
  /** A name for error messages, usually the pipeline's. */
  readonly name: string;
  /** The pipeline's parameters. */
  readonly parameters?: PipelineParameter[];
  /** The top-level steps; a condition step's branches are nested in it. */
  readonly steps: PipelineStep[];
}

/**
 * A SageMaker Pipelines definition built from typed steps and parameters.
 *
 * The constructor checks what AWS's published definition schema requires (name patterns, required
 * fields, the version) and what the schema cannot see: unique step names across branches, every
 * reference pointing at an existing parameter, step, property or property file, comparisons of
 * compatible types, and no dependency cycles. A mistake fails synth naming the step and field.
 */
export class PipelineDefinition {
  public readonly name: string;
  public readonly parameters: PipelineParameter[];
  public readonly steps: PipelineStep[];

  constructor(props: PipelineDefinitionProps) {
    this.name = props.name;
    this.parameters = props.parameters ?? [];
    this.steps = props.steps;
    this.validate();
  }

  /** Every step, branches included, in definition order. */
  public allSteps(): PipelineStep[] {
    const visit = (s: PipelineStep): PipelineStep[] => [s, ...s.children().flatMap(visit)];
    return this.steps.flatMap(visit);
  }

  /** The definition JSON object (PascalCase), tokens unresolved. */
  public render(): Record<string, unknown> {
    return {
      Version: PIPELINE_DEFINITION_VERSION,
      Metadata: {},
      Parameters: this.parameters.map((p) => p.render()),
      Steps: this.steps.map((s) => s.render()),
    };
  }

  /**
   * The definition as a JSON string for `CfnPipeline`, with CDK tokens (image URIs, role and
   * bucket ARNs) resolved by `Stack.toJsonString`.
   *
   * @throws MlopsValidationError when the definition is larger than SageMaker's 1 MB limit
   */
  public toJsonString(scope: IConstruct): string {
    const body = this.render();
    const bytes = byteSizeOf(body);
    if (bytes > MAX_DEFINITION_BYTES) {
      throw new MlopsValidationError(`Pipeline definition '${this.name}'`, [
        `the definition is ${bytes} bytes, above SageMaker's ${MAX_DEFINITION_BYTES}-byte limit for an inline ` +
          'definition: let TrainingPipeline store it in S3, or move large arguments (e.g. inline scripts) to the ' +
          'artifact store and pass their S3 URIs',
      ]);
    }
    return Stack.of(scope).toJsonString(body);
  }

  /**
   * The rendered definition's size in bytes. CDK tokens count with their placeholder length, close
   * to the ARNs and names they stand for.
   */
  public byteSize(): number {
    return byteSizeOf(this.render());
  }

  private validate(): void {
    const problems: string[] = [];
    const steps = this.allSteps();
    const byName = new Map<string, PipelineStep>();
    const parameters = new Map<string, PipelineParameter>();

    if (steps.length === 0) {
      problems.push('steps is empty: a pipeline needs at least one step');
    }
    for (const p of this.parameters) {
      if (!NAME.test(p.name)) {
        problems.push(
          `parameter '${p.name}' has an invalid name: use 1-64 letters, digits, hyphens and underscores`,
        );
      }
      if (parameters.has(p.name)) {
        problems.push(`parameter '${p.name}' is defined twice: parameter names must be unique`);
      }
      parameters.set(p.name, p);
      const d = p.defaultValue;
      const ok =
        d === undefined ||
        (p.type === 'String' && typeof d === 'string') ||
        (p.type === 'Integer' && typeof d === 'number' && Number.isInteger(d)) ||
        (p.type === 'Float' && typeof d === 'number') ||
        (p.type === 'Boolean' && typeof d === 'boolean');
      if (!ok) {
        problems.push(
          `parameter '${p.name}' DefaultValue ${JSON.stringify(d)} is not a ${p.type}: give a ${p.type} default`,
        );
      }
    }
    for (const s of steps) {
      if (!NAME.test(s.name)) {
        problems.push(
          `step '${s.name}' has an invalid Name: use 1-64 letters, digits, hyphens and underscores`,
        );
      }
      if (byName.has(s.name)) {
        problems.push(
          `step '${s.name}' is defined twice: step names must be unique across the pipeline, branches included`,
        );
      }
      byName.set(s.name, s);
    }

    const edges = new Map<string, Set<string>>();
    for (const s of steps) {
      const deps = new Set<string>(s.dependsOn);
      for (const d of s.dependsOn) {
        if (!byName.has(d)) {
          problems.push(
            `step '${s.name}' DependsOn '${d}', which is not a step of this pipeline: add it or remove the dependency`,
          );
        }
      }
      for (const ref of referencesIn(s.arguments())) {
        const problem = this.checkReference(s, ref, byName, parameters);
        if (problem) {
          problems.push(problem);
        }
        if (ref.kind !== 'parameter') {
          deps.add(ref.step);
        }
      }
      if (s instanceof ConditionStep) {
        problems.push(...this.checkConditions(s));
      }
      for (const problem of shapeProblems(s.arguments(), STEP_ARGUMENT_SHAPES[s.type], 'Arguments')) {
        problems.push(`step '${s.name}' ${problem}`);
      }
      const args = s.arguments() as Record<string, unknown>;
      for (const key of STEP_REQUIRED_ARGUMENTS[s.type] ?? []) {
        if (args === null || typeof args !== 'object' || !(key in args)) {
          problems.push(`step '${s.name}' Arguments.${key} is missing: a ${s.type} step requires it`);
        }
      }
      edges.set(s.name, deps);
    }
    const cycle = findCycle(edges);
    if (cycle) {
      problems.push(
        `steps ${cycle.map((n) => `'${n}'`).join(' -> ')} form a cycle: a step cannot depend on itself, directly or through others`,
      );
    }
    if (problems.length > 0) {
      throw new MlopsValidationError(`Pipeline definition '${this.name}'`, problems);
    }
  }

  private checkReference(
    step: PipelineStep,
    ref: PipelineReference,
    steps: Map<string, PipelineStep>,
    parameters: Map<string, PipelineParameter>,
  ): string | undefined {
    if (ref.kind === 'parameter') {
      return parameters.has(ref.name)
        ? undefined
        : `step '${step.name}' Arguments refer to parameter '${ref.name}', which is not defined: add it to parameters`;
    }
    const target = steps.get(ref.step);
    if (!target) {
      return `step '${step.name}' Arguments refer to step '${ref.step}', which is not a step of this pipeline`;
    }
    if (ref.kind === 'propertyFile') {
      return target.propertyFileNames().includes(ref.propertyFile)
        ? undefined
        : `step '${step.name}' reads property file '${ref.propertyFile}' of step '${ref.step}', which declares ` +
            `${target.propertyFileNames().length ? target.propertyFileNames().join(', ') : 'no property files'}: declare it in propertyFiles`;
    }
    if (target instanceof LambdaStep) {
      const problem = target.outputReferenceProblem(ref.property);
      return problem ? `step '${step.name}' refers to Lambda step '${ref.step}' ${problem}` : undefined;
    }
    const root = ref.property.split(/[.[]/)[0];
    const roots = STEP_PROPERTY_ROOTS[target.type];
    return roots.includes(root)
      ? undefined
      : `step '${step.name}' refers to property '${ref.property}' of ${target.type} step '${ref.step}', ` +
          `which has ${roots.length ? roots.join(', ') : 'no properties'}`;
  }

  private checkConditions(step: ConditionStep): string[] {
    const problems: string[] = [];
    step.props.conditions.forEach((c, i) => {
      const types = [valueTypeOf(c.left as PipelineValue), valueTypeOf(c.right as PipelineValue)];
      if (NUMERIC_COMPARISONS.has(c.type) && types.some((t) => t === 'String' || t === 'Boolean')) {
        problems.push(
          `step '${step.name}' Conditions[${i}] ${c.type} compares ${types.join(' with ')}: ` +
            'compare numbers (Integer or Float parameters, numeric JsonGet values or literals)',
        );
      }
    });
    if (step.props.ifSteps.length === 0 && (step.props.elseSteps ?? []).length === 0) {
      problems.push(`step '${step.name}' has no IfSteps and no ElseSteps: give at least one branch a step`);
    }
    return problems;
  }
}

function byteSizeOf(body: unknown): number {
  return Buffer.byteLength(JSON.stringify(body), 'utf8');
}

/** A cycle in the dependency graph, as step names, or undefined. */
function findCycle(edges: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') {
      return undefined;
    }
    if (state.get(node) === 'visiting') {
      return [...path.slice(path.indexOf(node)), node];
    }
    state.set(node, 'visiting');
    path.push(node);
    for (const next of edges.get(node) ?? []) {
      const found = edges.has(next) ? visit(next) : undefined;
      if (found) {
        return found;
      }
    }
    path.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of edges.keys()) {
    const found = visit(node);
    if (found) {
      return found;
    }
  }
  return undefined;
}
