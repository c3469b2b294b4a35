import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';

/**
 * A workflow state that publishes the text at `messagePath` to `topic` and passes its input on
 * unchanged; without a topic, a Pass state of the same id, so that the workflow's shape is the same
 * with and without notifications.
 */
export function notifyState(
  scope: Construct,
  id: string,
  topic: sns.ITopic | undefined,
  messagePath: string,
  subject: string,
): sfn.INextable & sfn.IChainable {
  return topic
    ? new tasks.SnsPublish(scope, id, {
        topic,
        subject,
        message: sfn.TaskInput.fromJsonPathAt(messagePath),
        resultPath: sfn.JsonPath.DISCARD,
      })
    : new sfn.Pass(scope, id, { resultPath: sfn.JsonPath.DISCARD });
}
