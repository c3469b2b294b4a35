// Free of imports: a construct that wires the retrain trigger (a rule's event pattern, a
// schedule's input) can use these without loading the AWS SDK.

/** The `detail-type` of CloudWatch's alarm events (source `aws.cloudwatch`). */
export const ALARM_DETAIL_TYPE = 'CloudWatch Alarm State Change';
/** The `detail-type` of EventBridge's scheduled rule events (source `aws.events`), and of SCHEDULER_INPUT. */
export const SCHEDULED_DETAIL_TYPE = 'Scheduled Event';
/** The `source` of SCHEDULER_INPUT. */
export const SCHEDULER_SOURCE = 'aws.scheduler';

/**
 * The input an EventBridge Scheduler schedule gives the retrain trigger: an EventBridge scheduled
 * event in shape, filled from Scheduler's context attributes. Scheduler invokes a Lambda target
 * with its configured input and no envelope of its own. The scheduled time is the same for every
 * attempt of one scheduled invocation; the execution id is not, so it is not the idempotency key.
 */
export const SCHEDULER_INPUT = {
  version: '0',
  id: '<aws.scheduler.execution-id>',
  'detail-type': SCHEDULED_DETAIL_TYPE,
  source: SCHEDULER_SOURCE,
  time: '<aws.scheduler.scheduled-time>',
  resources: ['<aws.scheduler.schedule-arn>'],
  detail: { attemptNumber: '<aws.scheduler.attempt-number>' },
} as const;
