import { Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** One model of an environment, as the maturity report lists it. */
export interface ModelSummary {
  /** The model's name within its environment. */
  readonly name: string;
  /** The SageMaker pipeline that trains it. */
  readonly pipelineName: string;
  /** The model package group its versions are registered in. */
  readonly modelPackageGroupName: string;
  /** The endpoint of its serving slot (which exists once a model is released). */
  readonly endpointName: string;
  /** How its serving slot serves. */
  readonly servingMode: 'serverless' | 'realTime';
}

/** Models per construct that holds one. */
const models = new WeakMap<IConstruct, ModelSummary>();

/** A name for the report: a token (set at deploy time) cannot be printed. */
function printable(value: string): string {
  return Token.isUnresolved(value) ? '(resolved at deploy time)' : value;
}

/** Records that `scope` holds one model; its resources are the constructs below `scope`. */
export function registerModel(scope: IConstruct, summary: ModelSummary): void {
  models.set(scope, {
    name: summary.name,
    pipelineName: printable(summary.pipelineName),
    modelPackageGroupName: printable(summary.modelPackageGroupName),
    endpointName: printable(summary.endpointName),
    servingMode: summary.servingMode,
  });
}

/** Scopes outside a model's own that hold its resources (e.g. its slot in a serving stack). */
const owners = new WeakMap<IConstruct, string>();

/** Records that the constructs below `scope` belong to the model named `name`, registered elsewhere. */
export function attributeToModel(scope: IConstruct, name: string): void {
  owners.set(scope, name);
}

/** The model registered on `construct` itself, if any. */
export function modelRegisteredOn(construct: IConstruct): ModelSummary | undefined {
  return models.get(construct);
}

/** The name of the model `construct` belongs to: the nearest registered scope above it, if any. */
export function modelOf(construct: IConstruct): string | undefined {
  const scopes = construct.node.scopes;
  for (let i = scopes.length - 1; i >= 0; i--) {
    const model = models.get(scopes[i])?.name ?? owners.get(scopes[i]);
    if (model !== undefined) {
      return model;
    }
  }
  return undefined;
}
