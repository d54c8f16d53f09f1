/**
 * One webhook call with bounded retries, through undici's RetryAgent: each attempt waits at most
 * `timeoutMs` (to connect, for the headers, for the body), a timeout, a refused connection, HTTP
 * 429 or 5xx is tried again after 0.5 s, 1 s, 2 s... (or the server's Retry-After, at most 5 s),
 * and the whole call is cut off once every attempt could have run. It never throws: it says what
 * happened, without the URL (a webhook's URL is its secret).
 */
import { Agent, errors, request, RetryAgent } from 'undici';

export interface WebhookDelivery {
  delivered: boolean;
  /** Why not, when not: "HTTP 500", "UND_ERR_HEADERS_TIMEOUT", ... never the URL. */
  problem?: string;
  /** The HTTP status of the last answer, when there was one. */
  status?: number;
}

const FIRST_PAUSE_MS = 500;
const LONGEST_PAUSE_MS = 5000;
const RETRIED_STATUS_CODES = [429, 500, 502, 503, 504];
/** Network failures worth another attempt: the defaults of undici's RetryHandler, and its timeouts. */
const RETRIED_ERROR_CODES = [
  'ECONNRESET',
  'ECONNREFUSED',
  'ENOTFOUND',
  'ENETDOWN',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EHOSTUNREACH',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
];

/** The longest a call can take: every attempt timing out, and every pause between them at its longest. */
export function deliveryBoundMs(timeoutMs: number, attempts: number): number {
  return attempts * timeoutMs + (attempts - 1) * LONGEST_PAUSE_MS;
}

/** What went wrong, in words that cannot hold the URL: a status or an error code, never a message. */
function describeFailure(error: unknown): { problem: string; status?: number } {
  if (error instanceof errors.RequestRetryError) return { problem: `HTTP ${error.statusCode}`, status: error.statusCode };
  if (error instanceof Error && error.name === 'TimeoutError') return { problem: 'no answer within the time allowed for all attempts' };
  const code = (error as { code?: unknown } | null)?.code;
  return { problem: typeof code === 'string' ? code : error instanceof Error ? error.name : 'unknown error' };
}

export async function postWebhook(url: string, body: string, options: { timeoutMs: number; attempts: number }): Promise<WebhookDelivery> {
  const { timeoutMs, attempts } = options;
  const agent = new Agent({ connectTimeout: timeoutMs, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  const dispatcher = new RetryAgent(agent, {
    maxRetries: attempts - 1,
    minTimeout: FIRST_PAUSE_MS,
    maxTimeout: LONGEST_PAUSE_MS,
    timeoutFactor: 2,
    methods: ['POST'],
    statusCodes: RETRIED_STATUS_CODES,
    errorCodes: RETRIED_ERROR_CODES,
  });
  try {
    const response = await request(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
      dispatcher,
      signal: AbortSignal.timeout(deliveryBoundMs(timeoutMs, attempts) + FIRST_PAUSE_MS),
    });
    // The answer's body is not needed, but it is read so that the connection is released.
    await response.body.dump({ limit: 64 * 1024 });
    const { statusCode } = response;
    if (statusCode >= 200 && statusCode < 300) return { delivered: true, status: statusCode };
    return { delivered: false, problem: `HTTP ${statusCode}`, status: statusCode };
  } catch (error) {
    return { delivered: false, ...describeFailure(error) };
  } finally {
    await dispatcher.destroy().catch(() => undefined);
  }
}
