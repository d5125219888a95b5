// Two API servers in front of one PostgreSQL database, as the service's PostgreSQL tests use them: a service and a store connection each.
import { StudyService, type ServiceOptions } from '../../../src/study/service.js';
import { PgStorage } from '../../../src/study/storage/postgres.js';
import { fakeDeps } from './fakes.js';

export interface TwoServers {
  a: StudyService;
  b: StudyService;
  sa: PgStorage;
  sb: PgStorage;
  /** Closes both services and their connections. */
  close(): Promise<void>;
}

export async function twoServers(url: string, opts: ServiceOptions = {}): Promise<TwoServers> {
  const [sa, sb] = [await PgStorage.connect(url), await PgStorage.connect(url)];
  const [a, b] = [new StudyService(sa, fakeDeps(), opts), new StudyService(sb, fakeDeps(), opts)];
  return {
    a, b, sa, sb,
    close: async () => {
      a.close();
      b.close();
      await sa.close();
      await sb.close();
    },
  };
}
