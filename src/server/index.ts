// Public names of the server package: the express app factory and the listening server.
export { createApp, type AppOptions } from './app.js';
export { createServer, resolveListenOptions, TOKEN_ENV, type ServerOptions, type RunningServer } from './listen.js';
export { HttpError, toErrorResponse, type ErrorBody } from './http_errors.js';
export { tokensEqual, isLoopback } from './auth.js';
export { formatEvent } from './sse.js';
export { MAX_ASK } from './requests.js';
