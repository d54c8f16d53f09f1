/**
 * A lean OpenAI-compatible target for the throughput workload of `bench:scale`: the built-in mock
 * spends about as much CPU per request as a grym-perf worker (~80 us on this machine), so four
 * workers at 25 % of a core would need a whole core of mock and the mock, not the workers, would
 * be the limit. This server answers every POST with the same short, non-streamed chat completion
 * (4 tokens, with `usage`) and nothing else: no tokenizing, no timing, no model state.
 *
 * `node -e LEAN_OPENAI_TARGET host port`: prints `listening host:port`. `GET /stats` answers
 * `{"generations": n}`, the chat completions answered so far (the same field as the mock's /stats).
 */
export const LEAN_OPENAI_TARGET = `
const http = require('http');
const [host, port] = process.argv.slice(1);
const answer = Buffer.from(JSON.stringify({
  id: 'lean', object: 'chat.completion', created: 0, model: 'short',
  choices: [{ index: 0, message: { role: 'assistant', content: 'one two three four' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 8, completion_tokens: 4, total_tokens: 12 },
}));
const headers = { 'content-type': 'application/json', 'content-length': answer.length };
let generations = 0;
const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stats') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ generations }));
    return;
  }
  req.resume();
  req.on('end', () => {
    generations++;
    res.writeHead(200, headers);
    res.end(answer);
  });
});
server.keepAliveTimeout = 60000;
server.listen(Number(port), host, () => console.log('listening ' + host + ':' + server.address().port));
`;
