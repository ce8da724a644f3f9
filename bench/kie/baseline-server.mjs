// Bare node:http server used as the Kie benchmark baseline (bench/kie/run.mjs).
//   GET  /list…            → the bytes of <list-body-file> (same size as our list reply)
//   GET  /poll?i=N          → held until POST /wake?i=N (or forever): a held poll with no framework
//   POST /wake?i=N          → answers held poll N with the list body, then {"ok":true}
// usage: node baseline-server.mjs <port> <list-body-file>
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [port, listFile] = process.argv.slice(2);
const list = readFileSync(listFile);
const small = Buffer.from('{"ok":true}');
const held = new Map();

const send = (res, body, status = 200) => {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=UTF-8', 'Content-Length': body.length, 'X-Kie-Revision': '1' });
  res.end(body);
};

const server = createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    const url = new URL(req.url, 'http://x');
    const i = url.searchParams.get('i');
    if (url.pathname === '/poll') {
      held.set(i, res);
      res.on('close', () => held.get(i) === res && held.delete(i));
      return;
    }
    if (url.pathname === '/wake') {
      const waiter = held.get(i);
      held.delete(i);
      if (waiter) send(waiter, list);
      return send(res, small);
    }
    send(res, list);
  });
});
server.keepAliveTimeout = 60_000;
server.maxConnections = 100_000;
server.listen(Number(port), '127.0.0.1', 2048, () => process.stdout.write('ready\n'));
const stop = () => server.close(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
