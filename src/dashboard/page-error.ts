/**
 * A request the dashboard cannot answer with a page: an invalid run id (400), an unknown run or
 * page (404), Redis away (503). Its message is ours, written for the person reading the page, and
 * never carries a stack.
 */
export class PageError extends Error {
  constructor(
    /** The HTTP status to answer with. */
    readonly status: 400 | 404 | 503,
    message: string,
  ) {
    super(message);
    this.name = 'PageError';
  }
}
