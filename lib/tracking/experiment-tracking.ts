import { ArnFormat, IResource, Names, RemovalPolicy, Resource, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import { ProblemCollector } from '../private/errors';
import { SAGEMAKER_LONG_NAME } from '../private/sagemaker-names';
import { acknowledgeWildcards } from '../private/nag-acknowledgements';
import { ArtifactStorePrefix, IArtifactStore } from '../storage/artifact-store';

/** Which managed MLflow runs the experiment tracking. */
export class TrackingBackend {
  /**
   * A serverless SageMaker MLflow App: no instance to size or keep running, so nothing bills per
   * hour while nobody logs. The default.
   */
  public static readonly MLFLOW_APP = new TrackingBackend('app');

  /**
   * A SageMaker MLflow tracking server of the given size. It runs, and bills per hour, whether or
   * not anyone logs; the maturity report lists it among the always-on resources.
   */
  public static trackingServer(size: 'Small' | 'Medium' | 'Large' = 'Small'): TrackingBackend {
    return new TrackingBackend('server', size);
  }

  private constructor(
    /** @internal */
    public readonly _kind: 'app' | 'server',
    /** @internal */
    public readonly _size?: string,
  ) {}
}

/** Props of ExperimentTracking. */
export interface ExperimentTrackingProps {
  /** Where MLflow stores run artifacts: the store's `experiments/` prefix. */
  readonly artifactStore: IArtifactStore;

  /**
   * The managed MLflow flavour.
   *
   * @default TrackingBackend.MLFLOW_APP
   */
  readonly backend?: TrackingBackend;

  /**
   * Register models logged to MLflow in the SageMaker model registry automatically.
   *
   * @default false
   */
  readonly automaticModelRegistration?: boolean;

  /**
   * The app's or server's name (required by SageMaker; changing it replaces the tracking and its
   * experiment metadata).
   *
   * @default - derived from the construct path, stable across deployments
   */
  readonly name?: string;

  /**
   * What happens to the tracking app or server, and its experiment metadata, when it leaves the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Experiment tracking: a SageMaker managed MLflow App or tracking server, created here or imported. */
export interface IExperimentTracking extends IResource {
  /**
   * The ARN of the MLflow App or tracking server, to use as MLFLOW_TRACKING_URI.
   * @attribute
   */
  readonly trackingArn: string;

  /** Grants logging runs, metrics, parameters and models to this tracking, and reading them. */
  grantLogging(grantee: iam.IGrantable): iam.Grant;
}

/** The resource types of SageMaker's MLflow ARNs, `arn:<partition>:sagemaker:<region>:<account>:<type>/<id>`. */
const MLFLOW_APP_RESOURCE = 'mlflow-app';
const MLFLOW_TRACKING_SERVER_RESOURCE = 'mlflow-tracking-server';
/** The shape SageMaker's API reference gives for MLflow ARNs (e.g. TrackingServerArn, MlflowResourceArn). */
const MLFLOW_ARN = /^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:(mlflow-[a-z-]+)\/(.+)$/;

abstract class ExperimentTrackingBase extends Resource implements IExperimentTracking {
  public abstract readonly trackingArn: string;

  /**
   * Grants logging runs, metrics, parameters and models to this tracking, and reading them.
   * MLflow's REST API maps to dozens of `sagemaker-mlflow:` actions, so the grant is the whole
   * service prefix, on this one tracking resource.
   */
  public grantLogging(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['sagemaker-mlflow:*'],
      resourceArns: [this.trackingArn],
    });
    const principal = grantee.grantPrincipal as unknown as Construct;
    if (principal && 'node' in principal) {
      acknowledgeWildcards(
        principal,
        grant.principalStatements,
        'MLflow clients call dozens of sagemaker-mlflow actions through the MLflow REST API; the grant is limited ' +
          'to this single tracking app or server.',
      );
    }
    return grant;
  }
}

/** An MLflow App or tracking server known by its ARN, which decides its account and region. */
class ImportedExperimentTracking extends ExperimentTrackingBase {
  constructor(
    scope: Construct,
    id: string,
    public readonly trackingArn: string,
    resourceType: string,
    example: string,
  ) {
    const problems = new ProblemCollector(`ExperimentTracking '${scope.node.path}/${id}'`);
    const parsed = Token.isUnresolved(trackingArn) ? undefined : MLFLOW_ARN.exec(trackingArn);
    if (!Token.isUnresolved(trackingArn) && (!parsed || parsed[1] !== resourceType)) {
      problems.add('arn', trackingArn, `use the ARN of a ${resourceType}, e.g. ${example}`);
    }
    problems.throwIfAny();
    // Grants to another account's tracking are cross-account: the tracking lives where its ARN says.
    const env = parsed ? Stack.of(scope).splitArn(trackingArn, ArnFormat.SLASH_RESOURCE_NAME) : undefined;
    super(scope, id, { account: env?.account, region: env?.region });
  }
}

/**
 * Experiment tracking (maturity level 2, capability `experiment-tracking`): SageMaker managed
 * MLflow with its artifacts in the artifact store. Steps and notebooks get `trackingArn` as their
 * MLflow tracking URI (with the sagemaker-mlflow plugin) and `grantLogging` for access.
 */
export class ExperimentTracking extends ExperimentTrackingBase {
  /**
   * Imports an existing serverless MLflow App, e.g. one shared by several stacks or accounts, by its
   * ARN: `arn:<partition>:sagemaker:<region>:<account>:mlflow-app/<id>`.
   */
  public static fromMlflowAppArn(scope: Construct, id: string, mlflowAppArn: string): IExperimentTracking {
    return new ImportedExperimentTracking(
      scope,
      id,
      mlflowAppArn,
      MLFLOW_APP_RESOURCE,
      'arn:aws:sagemaker:eu-west-1:123456789012:mlflow-app/app-ABCDEF123456',
    );
  }

  /**
   * Imports an existing MLflow tracking server by its ARN:
   * `arn:<partition>:sagemaker:<region>:<account>:mlflow-tracking-server/<name>`.
   */
  public static fromTrackingServerArn(
    scope: Construct,
    id: string,
    trackingServerArn: string,
  ): IExperimentTracking {
    return new ImportedExperimentTracking(
      scope,
      id,
      trackingServerArn,
      MLFLOW_TRACKING_SERVER_RESOURCE,
      'arn:aws:sagemaker:eu-west-1:123456789012:mlflow-tracking-server/team-tracking',
    );
  }

  public readonly trackingArn: string;
  /** The role MLflow uses to read and write its artifacts. */
  public readonly role: iam.Role;
  /** The underlying resource: an MLflow App or a tracking server. */
  public readonly resource: sagemaker.CfnMlflowApp | sagemaker.CfnMlflowTrackingServer;

  constructor(scope: Construct, id: string, props: ExperimentTrackingProps) {
    super(scope, id);
    const problems = new ProblemCollector(`ExperimentTracking '${this.node.path}'`);
    problems.checkPattern(
      'name',
      props.name,
      SAGEMAKER_LONG_NAME,
      'use letters, digits and hyphens, starting with a letter or digit',
    );
    const removal = problems.checkRetainOrDestroy(props.removalPolicy);
    problems.throwIfAny();

    const name =
      props.name ??
      Names.uniqueResourceName(this, { maxLength: 63, separator: '-', allowedSpecialCharacters: '-' });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
      description: `MLflow artifact access of ${name}`,
    });
    // Only the experiments prefix, not the whole bucket that AWS's examples grant.
    props.artifactStore.grantReadWrite(this.role, ArtifactStorePrefix.EXPERIMENTS.keyPattern);
    const artifactStoreUri = props.artifactStore.s3UrlFor(ArtifactStorePrefix.EXPERIMENTS);
    const backend = props.backend ?? TrackingBackend.MLFLOW_APP;

    if (backend._kind === 'app') {
      const app = new sagemaker.CfnMlflowApp(this, 'Resource', {
        name,
        artifactStoreUri,
        roleArn: this.role.roleArn,
        modelRegistrationMode: props.automaticModelRegistration
          ? 'AutoModelRegistrationEnabled'
          : 'AutoModelRegistrationDisabled',
      });
      this.trackingArn = app.attrArn;
      this.resource = app;
    } else {
      const server = new sagemaker.CfnMlflowTrackingServer(this, 'Resource', {
        trackingServerName: name,
        trackingServerSize: backend._size,
        artifactStoreUri,
        roleArn: this.role.roleArn,
        automaticModelRegistration: props.automaticModelRegistration ?? false,
      });
      this.trackingArn = server.attrTrackingServerArn;
      this.resource = server;
    }
    this.resource.applyRemovalPolicy(removal);
    // MLflow writes artifacts as soon as it starts, so the role's policy must exist first; the role
    // itself is already a dependency through its ARN.
    const policy = this.role.node.tryFindChild('DefaultPolicy');
    if (policy) {
      this.resource.node.addDependency(policy);
    }
  }

  /** The stack-unique name, for messages. */
  public get name(): string {
    const r = this.resource;
    return r instanceof sagemaker.CfnMlflowApp ? r.name : r.trackingServerName;
  }
}
