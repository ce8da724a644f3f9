// Bare node:http server used as the benchmark baseline (bench/registry/run.mjs).
// It reads the request body (like a real handler must), then answers a fixed JSON body:
//   GET  with serviceName=<find100 name> → the bytes of <find100 file> (same size as our find(100) reply)
//   GET  otherwise                      → the bytes of <find1 file>   (same size as our find(1) reply)
//   anything else (PUT heartbeat, POST)  → {"ok":true}
// usage: node baseline-server.mjs <port> <find1-body-file> <find100-body-file> <find100-service-name>
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [port, find1File, find100File, find100Name] = process.argv.slice(2);
const small = Buffer.from('{"ok":true}');
const find1 = readFileSync(find1File);
const find100 = readFileSync(find100File);
const marker = `serviceName=${find100Name}&`;

const server = createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    let body = small;
    if (req.method === 'GET') body = req.url.includes(marker) ? find100 : find1;
    res.writeHead(200, { 'Content-Type': 'application/json; charset=UTF-8', 'Content-Length': body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
const stop = () => server.close(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
