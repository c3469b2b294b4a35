// The level-4 engines: the approval gate (challenger against champion) and the retrain trigger
// (alarms and schedules against the guardrails), shared by their Lambda handlers and the
// simulation of the loop.
export * from './approval-gate';
export * from './evaluation-report';
export * from './retrain-trigger';
export { EnvironmentProblems, EvaluationReportError, type EvaluationReportErrorCode } from './errors';
export * from './online-gate';
