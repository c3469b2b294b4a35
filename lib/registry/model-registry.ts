import { Arn, ArnFormat, IResource, Names, RemovalPolicy, Resource, Stack, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import { ProblemCollector } from '../private/errors';
import { ACCOUNT, SAGEMAKER_NAME } from '../private/patterns';
import { acknowledgeGrantWildcards } from '../private/nag-acknowledgements';

/** The EventBridge detail type of model package changes (detail fields are PascalCase). */
export const MODEL_PACKAGE_STATE_CHANGE = 'SageMaker Model Package State Change';

/** A model registry: one SageMaker model package group. */
export interface IModelRegistry extends IResource {
  /** @attribute */
  readonly modelPackageGroupName: string;
  /** @attribute */
  readonly modelPackageGroupArn: string;

  /** Grants reading the group and its model packages. */
  grantRead(grantee: iam.IGrantable): iam.Grant;
  /** Grants registering new model package versions in the group. */
  grantRegister(grantee: iam.IGrantable): iam.Grant;
  /** Grants changing the approval status of the group's model packages. */
  grantApprove(grantee: iam.IGrantable): iam.Grant;
  /** A rule for every state change of the group's model packages. */
  onStateChange(id: string, options?: events.OnEventOptions): events.Rule;
  /** A rule for model packages of the group that become Approved. */
  onApproved(id: string, options?: events.OnEventOptions): events.Rule;
}

/** Props of a ModelRegistry. */
export interface ModelRegistryProps {
  /**
   * The model package group's name. It is the group's identity: changing it replaces the group and
   * orphans its versions, so leave it unset unless you adopt an existing naming scheme.
   *
   * @default - derived from the construct path, lower case (SageMaker lower-cases package ARNs)
   */
  readonly modelPackageGroupName?: string;

  /**
   * A description of the group.
   *
   * @default - none
   */
  readonly description?: string;

  /**
   * Accounts (for example those of the other environments) that may read the group and its
   * packages, through the group's resource policy.
   *
   * @default - none
   */
  readonly crossAccountReadAccounts?: string[];

  /**
   * What happens to the group, and with it the registered versions' record, when it leaves the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** `arn:<partition>:sagemaker:<region>:<account>:model-package-group/<name>`, as SageMaker returns it. */
const GROUP_ARN =
  /^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package-group\/([a-zA-Z0-9](-*[a-zA-Z0-9]){0,62})$/;

/**
 * A group name as it appears in ARNs. SageMaker lower-cases names in the ARNs it builds (IAM
 * compares ARNs case-sensitively), while the name itself, and the events' ModelPackageGroupName,
 * keep the case they were created with. Tokens are left as they are.
 */
function nameInArn(name: string): string {
  return Token.isUnresolved(name) ? name : name.toLowerCase();
}
const READ_ACTIONS = [
  'sagemaker:DescribeModelPackageGroup',
  'sagemaker:DescribeModelPackage',
  'sagemaker:ListModelPackages',
];

abstract class ModelRegistryBase extends Resource implements IModelRegistry {
  public abstract readonly modelPackageGroupName: string;
  public abstract readonly modelPackageGroupArn: string;

  /**
   * ARN pattern of the group's model package versions, in the group's account and region (another
   * account's, for a group imported by ARN).
   */
  protected get modelPackagesArn(): string {
    return Arn.format(
      {
        service: 'sagemaker',
        resource: 'model-package',
        resourceName: `${nameInArn(this.modelPackageGroupName)}/*`,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
        account: this.env.account,
        region: this.env.region,
      },
      Stack.of(this),
    );
  }

  /** What the rules match in `detail.ModelPackageGroupName`: the name, as created. */
  protected groupNameMatch(): unknown[] {
    return [this.modelPackageGroupName];
  }

  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.acknowledged(
      grantee,
      iam.Grant.addToPrincipal({
        grantee,
        actions: READ_ACTIONS,
        resourceArns: [this.modelPackageGroupArn, this.modelPackagesArn],
      }),
    );
  }

  public grantRegister(grantee: iam.IGrantable): iam.Grant {
    return this.acknowledged(
      grantee,
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['sagemaker:CreateModelPackage', 'sagemaker:DescribeModelPackageGroup'],
        resourceArns: [this.modelPackageGroupArn, this.modelPackagesArn],
      }),
    );
  }

  public grantApprove(grantee: iam.IGrantable): iam.Grant {
    return this.acknowledged(
      grantee,
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['sagemaker:UpdateModelPackage', 'sagemaker:DescribeModelPackage'],
        resourceArns: [this.modelPackagesArn],
      }),
    );
  }

  /** Versions get numbers at run time, so grants name the group's versions with a wildcard. */
  private acknowledged(grantee: iam.IGrantable, grant: iam.Grant): iam.Grant {
    acknowledgeGrantWildcards(
      grantee,
      grant,
      'Model package versions are numbered by SageMaker at registration; the grant is limited to the versions ' +
        'of this one model package group.',
    );
    return grant;
  }

  public onStateChange(id: string, options: events.OnEventOptions = {}): events.Rule {
    return this.rule(id, options, {});
  }

  public onApproved(id: string, options: events.OnEventOptions = {}): events.Rule {
    return this.rule(id, options, { ModelApprovalStatus: ['Approved'] });
  }

  private rule(id: string, options: events.OnEventOptions, detail: Record<string, unknown>): events.Rule {
    const rule = new events.Rule(this, id, {
      description: options.description,
      ruleName: options.ruleName,
      crossStackScope: options.crossStackScope,
      eventPattern: {
        ...options.eventPattern,
        source: ['aws.sagemaker'],
        detailType: [MODEL_PACKAGE_STATE_CHANGE],
        // Model package events use PascalCase detail fields (pipeline events use camelCase).
        detail: {
          ...options.eventPattern?.detail,
          ModelPackageGroupName: this.groupNameMatch(),
          ...detail,
        },
      },
    });
    if (options.target) {
      rule.addTarget(options.target);
    }
    return rule;
  }
}

/** Where an imported model package group is: its name, account and region. */
export interface ModelRegistryAttributes {
  /** The group's name, as created. */
  readonly modelPackageGroupName: string;
  /**
   * The group's account.
   *
   * @default - this stack's account
   */
  readonly account?: string;
  /**
   * The group's region.
   *
   * @default - this stack's region
   */
  readonly region?: string;
}

/**
 * The platform's model registry (maturity level 2, capability `model-registry`): a SageMaker model
 * package group, retained by default, with typed grants and EventBridge rules for its packages'
 * state changes, and an optional read policy for other accounts.
 */
export class ModelRegistry extends ModelRegistryBase {
  /**
   * Imports a model package group of this stack's account and region by name, as it was created:
   * ARNs use it lower-cased (as SageMaker writes them), event rules as given.
   */
  public static fromModelPackageGroupName(scope: Construct, id: string, name: string): IModelRegistry {
    class Import extends ModelRegistryBase {
      public readonly modelPackageGroupName = name;
      public readonly modelPackageGroupArn = Stack.of(scope).formatArn({
        service: 'sagemaker',
        resource: 'model-package-group',
        resourceName: nameInArn(name),
      });
    }
    return new Import(scope, id);
  }

  /**
   * Imports a model package group by name, in the account and region given (each defaulting to
   * this stack's), e.g. the registry of another environment whose releases this one serves. Unlike
   * an import by ARN, the name stays as given, so event rules match it exactly.
   */
  public static fromModelPackageGroupAttributes(
    scope: Construct,
    id: string,
    attrs: ModelRegistryAttributes,
  ): IModelRegistry {
    class Import extends ModelRegistryBase {
      public readonly modelPackageGroupName = attrs.modelPackageGroupName;
      public readonly modelPackageGroupArn = Stack.of(scope).formatArn({
        service: 'sagemaker',
        account: attrs.account,
        region: attrs.region,
        resource: 'model-package-group',
        resourceName: nameInArn(attrs.modelPackageGroupName),
      });
    }
    return new Import(scope, id, { account: attrs.account, region: attrs.region });
  }

  /**
   * Imports a model package group by ARN, e.g. a shared registry in another account:
   * `arn:<partition>:sagemaker:<region>:<account>:model-package-group/<name>`. The group's account
   * and region come from the ARN, so grants name that account's model packages.
   *
   * The ARN holds the name lower-cased; SageMaker's events carry it as created. The rules of an
   * import by ARN therefore match the name in any case.
   */
  public static fromModelPackageGroupArn(scope: Construct, id: string, arn: string): IModelRegistry {
    const problems = new ProblemCollector(`ModelRegistry '${scope.node.path}/${id}'`);
    problems.checkPattern(
      'modelPackageGroupArn',
      arn,
      GROUP_ARN,
      'use the ARN of a model package group, e.g. ' +
        'arn:aws:sagemaker:eu-west-1:123456789012:model-package-group/taxi-duration',
    );
    problems.throwIfAny();
    const literal = !Token.isUnresolved(arn);
    const parts = Arn.split(literal ? nameInArn(arn) : arn, ArnFormat.SLASH_RESOURCE_NAME);
    const name = parts.resourceName!;

    class Import extends ModelRegistryBase {
      public readonly modelPackageGroupName = name;
      public readonly modelPackageGroupArn = literal ? nameInArn(arn) : arn;
      protected override groupNameMatch(): unknown[] {
        return literal ? events.Match.equalsIgnoreCase(name) : [name];
      }
    }
    return new Import(scope, id, { account: parts.account, region: parts.region });
  }

  public readonly modelPackageGroupName: string;
  public readonly modelPackageGroupArn: string;
  public readonly group: sagemaker.CfnModelPackageGroup;

  constructor(scope: Construct, id: string, props: ModelRegistryProps = {}) {
    super(scope, id);
    validateProps(this, props);
    const name =
      props.modelPackageGroupName ??
      Names.uniqueResourceName(this, {
        maxLength: 63,
        separator: '-',
        allowedSpecialCharacters: '-',
      }).toLowerCase();

    this.group = new sagemaker.CfnModelPackageGroup(this, 'Resource', {
      modelPackageGroupName: name,
      modelPackageGroupDescription: props.description,
    });
    this.group.applyRemovalPolicy(props.removalPolicy ?? RemovalPolicy.RETAIN);
    // The literal name, not the attribute: package ARNs (lower-cased) and event patterns are built from it.
    this.modelPackageGroupName = name;
    this.modelPackageGroupArn = this.group.attrModelPackageGroupArn;

    const accounts = props.crossAccountReadAccounts ?? [];
    if (accounts.length > 0) {
      const stack = Stack.of(this);
      this.group.modelPackageGroupPolicy = {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'CrossAccountRead',
            Effect: 'Allow',
            Principal: { AWS: accounts.map((a) => `arn:${stack.partition}:iam::${a}:root`) },
            Action: READ_ACTIONS,
            Resource: [
              stack.formatArn({
                service: 'sagemaker',
                resource: 'model-package-group',
                resourceName: nameInArn(name),
              }),
              this.modelPackagesArn,
            ],
          },
        ],
      };
    }
  }
}

function validateProps(scope: Construct, props: ModelRegistryProps): void {
  const problems = new ProblemCollector(`ModelRegistry '${scope.node.path}'`);
  problems.checkPattern(
    'modelPackageGroupName',
    props.modelPackageGroupName,
    SAGEMAKER_NAME,
    'use 1-63 letters, digits and hyphens, starting with a letter or digit',
  );
  for (const account of props.crossAccountReadAccounts ?? []) {
    if (!Token.isUnresolved(account) && !ACCOUNT.test(account)) {
      problems.add('crossAccountReadAccounts', account, 'use 12-digit AWS account ids');
    }
  }
  problems.checkRetainOrDestroy(props.removalPolicy);
  problems.throwIfAny();
}
