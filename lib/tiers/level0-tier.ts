import { RemovalPolicy } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { Capability } from '../maturity/capability';
import { MaturityContract } from '../maturity/maturity-contract';
import { ArtifactStore, ArtifactStoreProps } from '../storage/artifact-store';
import { Workspace, WorkspaceProps } from '../workspace/workspace';

/** Props of the Level 0 tier. */
export interface Level0TierProps {
  /**
   * What happens to the artifact store, its key and the workspace's home directories when they
   * leave the stack. With DESTROY the artifact store's buckets are also emptied on deletion.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Options of the artifact store; `removalPolicy` here wins over the tier's.
   *
   * @default - an ArtifactStore with its defaults and the tier's removal policy
   */
  readonly artifactStoreOptions?: ArtifactStoreProps;

  /**
   * Whether to create a notebook workspace (SageMaker Studio domain) in this tier. Turn it off
   * where nobody experiments, e.g. prod, and share the capability from the environment that has one.
   *
   * @default true
   */
  readonly enableWorkspace?: boolean;

  /**
   * Options of the workspace; ignored when `enableWorkspace` is false.
   *
   * @default - a Workspace with its defaults, encrypted with the artifact store's key
   */
  readonly workspaceOptions?: WorkspaceProps;
}

/**
 * Level 0 of the MLOps maturity model ("no MLOps"): an encrypted, versioned artifact store and a
 * notebook workspace with read-write access to it.
 *
 * Registers the `artifact-store` and, with the workspace, `notebook-workspace` capabilities.
 */
export class Level0Tier extends Construct {
  public readonly artifactStore: ArtifactStore;
  /** The workspace, when enabled. */
  public readonly workspace?: Workspace;

  constructor(scope: Construct, id: string, props: Level0TierProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const destroy = removalPolicy === RemovalPolicy.DESTROY;

    this.artifactStore = new ArtifactStore(this, 'ArtifactStore', {
      removalPolicy,
      autoDeleteObjects: destroy,
      ...props.artifactStoreOptions,
    });
    MaturityContract.provide(this.artifactStore, Capability.ARTIFACT_STORE);

    if (props.enableWorkspace ?? true) {
      this.workspace = new Workspace(this, 'Workspace', {
        removalPolicy,
        // One key for the tier: each customer-managed key bills monthly, and both hold the same data.
        encryptionKey: this.artifactStore.encryptionKey,
        ...props.workspaceOptions,
      });
      this.artifactStore.grantReadWrite(this.workspace);
      MaturityContract.provide(this.workspace, Capability.NOTEBOOK_WORKSPACE);
    }
  }
}
