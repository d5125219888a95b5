// PLACEHOLDER: the PostgreSQL Storage is being written (issue 8); this stub only names what is missing.
import { ConfigError } from '../../errors.js';
import type { Storage } from '../types.js';
import type { OpenStorageOptions } from './index.js';

export class PgStorage {
  static async connect(url: string, _opts: OpenStorageOptions = {}): Promise<Storage> {
    throw new ConfigError('--db', `PostgreSQL storage is not available in this build (${url.replace(/\/\/[^@]*@/, '//***@')})`, 'use a SQLite file');
  }
}
