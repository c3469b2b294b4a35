/**
 * Keeps the handlers' JSON log lines (Powertools writes them to stdout and the console) out of the
 * test output. Call in `beforeEach`; `jest.restoreAllMocks()` in `afterEach` undoes it.
 */
export function quietHandlerLogs(): void {
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  jest.spyOn(console, 'info').mockImplementation(() => undefined);
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
}
