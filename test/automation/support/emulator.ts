import { startMotoServer } from '../../../bin/simulation/moto-server';

/** A moto server (AWS API emulator, pinned in requirements-emulator.txt) on a free local port. */
export interface Emulator {
  readonly endpoint: string;
  stop(): void;
}

/** The project's one moto server harness (bin/simulation/moto-server.ts), as these tests name it. */
export async function startEmulator(): Promise<Emulator> {
  const moto = await startMotoServer();
  return { endpoint: moto.url, stop: moto.stop };
}
