/*
 * A synthesized CloudFormation template as the simulation "deploys" it: every resource gets the
 * physical name it would get from CloudFormation (its own name property when the template sets
 * one, else `<stack>-<logicalId>`), and intrinsic functions are resolved against those names, in
 * the emulator's account and region. Nothing is sent anywhere: the simulation creates in moto only
 * what the loop reads.
 */

/** moto's default account, and the region the simulation runs in. */
export const SIMULATED_ACCOUNT = '123456789012';
export const SIMULATED_REGION = 'us-east-1';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, Json>;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly Parameters?: Record<string, { Type: string; Default?: string }>;
  readonly Mappings?: Record<string, Record<string, Record<string, Json>>>;
}

/** The name properties CloudFormation's Ref returns for the resource types the loop reads. */
const NAME_PROPERTIES = [
  'BucketName',
  'PipelineName',
  'ModelPackageGroupName',
  'StateMachineName',
  'FunctionName',
  'TopicName',
  'AlarmName',
  'Name',
];

/** A stack's template with its resources' physical names, and the resolver of its intrinsics. */
export class DeployedTemplate {
  constructor(
    readonly stackName: string,
    readonly template: CfnTemplate,
  ) {}

  /** The resources of `type`, by logical id, whose logical id matches `pattern`. */
  resources(type: string, pattern: RegExp = /./): Array<[string, CfnResource]> {
    return Object.entries(this.template.Resources).filter(
      ([logicalId, resource]) => resource.Type === type && pattern.test(logicalId),
    );
  }

  /** The one resource of `type` whose logical id matches `pattern`; throws when there is not exactly one. */
  resource(type: string, pattern: RegExp): [string, CfnResource] {
    const found = this.resources(type, pattern);
    if (found.length !== 1) {
      throw new Error(
        `${this.stackName} has ${found.length} ${type} resources matching ${pattern}, not one: ` +
          `${found.map(([id]) => id).join(', ') || 'none'}`,
      );
    }
    return found[0];
  }

  /** What `Ref` of the resource returns: its name, or an ARN for the types whose Ref is an ARN. */
  physicalName(logicalId: string): string {
    const resource = this.template.Resources[logicalId];
    if (resource === undefined) {
      throw new Error(`${this.stackName} has no resource ${logicalId}`);
    }
    const named = NAME_PROPERTIES.map((p) => resource.Properties?.[p]).find((v) => v !== undefined);
    const name = named !== undefined ? String(this.resolve(named)) : this.generatedName(logicalId, resource);
    switch (resource.Type) {
      case 'AWS::SNS::Topic':
        return `arn:aws:sns:${SIMULATED_REGION}:${SIMULATED_ACCOUNT}:${name}`;
      case 'AWS::StepFunctions::StateMachine':
        return `arn:aws:states:${SIMULATED_REGION}:${SIMULATED_ACCOUNT}:stateMachine:${name}`;
      default:
        return name;
    }
  }

  /** What `Fn::GetAtt [logicalId, Arn]` returns (the only attribute the loop's definitions use). */
  arn(logicalId: string): string {
    const resource = this.template.Resources[logicalId];
    const name = this.physicalName(logicalId);
    switch (resource?.Type) {
      case 'AWS::Lambda::Function':
        return `arn:aws:lambda:${SIMULATED_REGION}:${SIMULATED_ACCOUNT}:function:${name}`;
      case 'AWS::S3::Bucket':
        return `arn:aws:s3:::${name}`;
      case 'AWS::IAM::Role':
        return `arn:aws:iam::${SIMULATED_ACCOUNT}:role/${name}`;
      case 'AWS::CloudWatch::Alarm':
        return `arn:aws:cloudwatch:${SIMULATED_REGION}:${SIMULATED_ACCOUNT}:alarm:${name}`;
      case 'AWS::KMS::Key':
        return `arn:aws:kms:${SIMULATED_REGION}:${SIMULATED_ACCOUNT}:key/${name}`;
      case 'AWS::SNS::Topic':
      case 'AWS::StepFunctions::StateMachine':
        return name;
      default:
        return `arn:aws:cloudformation:${SIMULATED_REGION}:${SIMULATED_ACCOUNT}:${name}`;
    }
  }

  /** The logical id behind a resolved Lambda function ARN, for routing a task to its handler. */
  functionLogicalId(functionArn: string): string {
    const [logicalId] =
      this.resources('AWS::Lambda::Function').find(([id]) => this.arn(id) === functionArn) ?? [];
    if (logicalId === undefined) {
      throw new Error(`${this.stackName} has no Lambda function with ARN ${functionArn}`);
    }
    return logicalId;
  }

  /** `value` with every intrinsic function resolved; throws on one the simulation does not know. */
  resolve(value: Json): Json {
    if (Array.isArray(value)) {
      return value.map((v) => this.resolve(v));
    }
    if (value === null || typeof value !== 'object') {
      return value;
    }
    const keys = Object.keys(value);
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'))) {
      return this.intrinsic(keys[0], value[keys[0]]);
    }
    return Object.fromEntries(keys.map((k) => [k, this.resolve(value[k])]));
  }

  private intrinsic(fn: string, args: Json): Json {
    switch (fn) {
      case 'Ref':
        return this.ref(String(args));
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = Array.isArray(args) ? args : String(args).split('.');
        if (attribute !== 'Arn') {
          throw new Error(`${this.stackName}: Fn::GetAtt ${logicalId}.${attribute} is not simulated`);
        }
        return this.arn(logicalId);
      }
      case 'Fn::Join': {
        const [separator, parts] = args as [string, Json[]];
        return this.resolve(parts)
          .map((p: Json) => String(p))
          .join(separator);
      }
      case 'Fn::FindInMap': {
        const [map, first, second] = this.resolve(args) as string[];
        const found = this.template.Mappings?.[map]?.[first]?.[second];
        if (found === undefined) {
          throw new Error(`${this.stackName}: Fn::FindInMap ${map}.${first}.${second} has no value`);
        }
        return found;
      }
      case 'Fn::Sub': {
        const [text, variables] = (Array.isArray(args) ? args : [args, {}]) as [string, Record<string, Json>];
        return text.replace(/\$\{([^}!][^}]*)\}/g, (_, name: string) => {
          if (name in variables) return String(this.resolve(variables[name]));
          const [logicalId, attribute] = name.split('.');
          return attribute === undefined
            ? this.ref(logicalId)
            : this.intrinsic('Fn::GetAtt', [logicalId, attribute]);
        });
      }
      case 'Fn::Select': {
        const [index, list] = this.resolve(args) as [number, Json[]];
        return list[Number(index)];
      }
      default:
        throw new Error(`${this.stackName}: ${fn} is not simulated`);
    }
  }

  private ref(name: string): string {
    switch (name) {
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::Region':
        return SIMULATED_REGION;
      case 'AWS::AccountId':
        return SIMULATED_ACCOUNT;
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return this.stackName;
    }
    const parameter = this.template.Parameters?.[name];
    if (parameter !== undefined) {
      return String(parameter.Default ?? '');
    }
    return this.physicalName(name);
  }

  /** CloudFormation's `<stack>-<logicalId>-<random>`, without the random part; buckets in lower case. */
  private generatedName(logicalId: string, resource: CfnResource): string {
    const name = `${this.stackName}-${logicalId}`;
    return resource.Type === 'AWS::S3::Bucket' ? name.toLowerCase().slice(0, 63) : name;
  }
}
