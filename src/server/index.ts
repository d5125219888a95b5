// Public names of the server package: the express app factory and the listening server.
export { createApp, type AppOptions } from './app.js';
export { createServer, resolveListenOptions, TOKEN_ENV, READ_TOKEN_ENV, SOURCE_MAPS_ENV, type ServerOptions, type RunningServer } from './listen.js';
export { parseAllowedHosts, LOOPBACK_NAMES } from './host_check.js';
export { HttpError, toErrorResponse, type ErrorBody } from './http_errors.js';
export { tokensEqual, isLoopback } from './auth.js';
export { formatEvent } from './sse.js';
export { MAX_ASK } from './requests.js';
