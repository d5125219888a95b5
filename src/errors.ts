// Typed errors shared by every layer: a stable code for API clients, the offending field, and a fix for people.

/** Base class: every error renorm-tune raises on purpose carries a stable `code` and an HTTP status. */
export class RenormTuneError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, message: string, status = 500) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
  }
}

/** A config, schedule, space or request field is wrong. `field` is a dotted path such as `scenario.batchSize`. */
export class ConfigError extends RenormTuneError {
  readonly field: string;
  readonly fix: string | undefined;
  constructor(field: string, problem: string, fix?: string) {
    super('INVALID_CONFIG', `${field}: ${problem}${fix ? ` (fix: ${fix})` : ''}`, 400);
    this.field = field;
    this.fix = fix;
  }
}

/**
 * A field of an ask, report, tell, release or heartbeat request is wrong: a ConfigError (it names the field and the
 * fix) with the request's own code (INVALID_ASK, INVALID_REPORT, INVALID_TELL, INVALID_RELEASE, INVALID_HEARTBEAT),
 * so a client can tell its report from its config.
 */
export class RequestError extends ConfigError {
  override readonly code: string;
  constructor(code: string, field: string, problem: string, fix?: string) {
    super(field, problem, fix);
    this.code = code;
  }

  /** The same error (field, message, fix) under the request's code. */
  static recode(code: string, err: ConfigError): RequestError {
    const out = new RequestError(code, err.field, '', err.fix);
    out.message = err.message;
    return out;
  }
}

/** A data file (IDX, JSON dataset) is missing or corrupt. `file` names it. */
export class DataError extends RenormTuneError {
  readonly file: string;
  constructor(file: string, problem: string) {
    super('INVALID_DATA', `${file}: ${problem}`, 400);
    this.file = file;
  }
}

/** A requested backend is not installed or failed to initialise. */
export class BackendError extends RenormTuneError {
  constructor(message: string) {
    super('BACKEND_UNAVAILABLE', message, 400);
  }
}

/** A database that holds no renorm-tune schema yet (a SQLite file not yet created): no coordinator has run on it. */
export class SchemaMissingError extends DataError {}

/** Something the caller referred to does not exist (study, trial id). */
export class NotFoundError extends RenormTuneError {
  constructor(what: string) {
    super('NOT_FOUND', `${what} not found`, 404);
  }
}

/** The request is well-formed but conflicts with stored state (telling a finished trial twice). */
export class ConflictError extends RenormTuneError {
  constructor(message: string) {
    super('CONFLICT', message, 409);
  }
}
