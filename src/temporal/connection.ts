import { Client, Connection } from '@temporalio/client';
import { AppError } from '../errors.js';

export async function connectClient(address: string, namespace: string): Promise<Client> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: '5s' });
    return new Client({ connection, namespace });
  } catch (err) {
    throw new AppError('TEMPORAL_UNAVAILABLE', `cannot reach Temporal at ${address}: is srag up running (or TEMPORAL_ADDRESS right)?`, { cause: err });
  }
}
