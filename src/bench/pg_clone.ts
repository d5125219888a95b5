// bench service's large PostgreSQL study: the first trials are filled through the service as trainers fill them, then
// copied in SQL to the size asked for. Through the service PostgreSQL takes ~2,000 trials a minute (five committed
// transactions per trial, each queued on the study's row), so 100,000 would take most of an hour.
import pg from 'pg';
import { redactUrl } from '../study/storage/pg_connect.js';
import { SCHEMA } from '../study/storage/pg_migrations.js';

/**
 * Copies the study's trials numbered 0..block-1 (and their values) as trials block.., 2 block.., until the study
 * holds `trials`; each copy gets its own revision stamp, as the stamping trigger would give it. The triggers are
 * off for the copy (session_replication_role = replica, which needs a superuser): stamped a row at a time, 100,000
 * inserts would update the study's row 100,000 times in one transaction, each walking the row's version chain.
 */
export async function cloneTrials(url: string, studyId: string, block: number, trials: number): Promise<void> {
  const copies = Math.ceil(trials / block) - 1;
  if (copies <= 0) return;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const su = (await client.query('SELECT rolsuper FROM pg_roles WHERE rolname = current_user')).rows[0] as { rolsuper: boolean } | undefined;
    if (!su?.rolsuper) throw new Error(`bench service --large-db: copying trials needs a superuser (to switch the triggers off); ${redactUrl(url)} connects as a role that is not one`);
    await client.query('BEGIN');
    await client.query('SET LOCAL session_replication_role = replica');
    const base = (await client.query(`SELECT revision FROM ${SCHEMA}.studies WHERE id = $1 FOR UPDATE`, [studyId])).rows[0] as { revision: string | number };
    const revision = Number(base.revision);
    // Copy k of trial n is trial k * block + n, stamped revision + (k - 1) * block + n + 1: one stamp per change.
    await client.query(
      `INSERT INTO ${SCHEMA}.trials (study_id, number, state, role, params, schedule, value, failure_reason, seed, metrics,
         created_at, started_at, finished_at, charged, rev)
       SELECT t.study_id, k * $2 + t.number, t.state, t.role, t.params, t.schedule, t.value, t.failure_reason, t.seed + k * $2, t.metrics,
         t.created_at, t.started_at, t.finished_at, t.charged, $4 + (k - 1) * $2 + t.number + 1
       FROM ${SCHEMA}.trials t CROSS JOIN generate_series(1, $3) k
       WHERE t.study_id = $1 AND t.number < $2 AND k * $2 + t.number < $5`,
      [studyId, block, copies, revision, trials],
    );
    await client.query(
      `INSERT INTO ${SCHEMA}.trial_values (trial_id, step, value, metrics)
       SELECT c.id, v.step, v.value, v.metrics
       FROM ${SCHEMA}.trials o JOIN ${SCHEMA}.trial_values v ON v.trial_id = o.id
         CROSS JOIN generate_series(1, $3) k
         JOIN ${SCHEMA}.trials c ON c.study_id = o.study_id AND c.number = k * $2 + o.number
       WHERE o.study_id = $1 AND o.number < $2`,
      [studyId, block, copies],
    );
    await client.query(`UPDATE ${SCHEMA}.studies SET revision = (SELECT max(rev) FROM ${SCHEMA}.trials WHERE study_id = $1) WHERE id = $1`, [studyId]);
    await client.query('COMMIT');
    await client.query(`ANALYZE ${SCHEMA}.trials; ANALYZE ${SCHEMA}.trial_values`);
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await client.end();
  }
}
