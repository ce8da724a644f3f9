import http from 'node:http';
import net from 'node:net';

/** A load balancer for tests: every request (and WebSocket) goes to the next server in turn. */
export interface RoundRobin {
  /** Base URL of the balancer, e.g. `http://127.0.0.1:41234`. */
  url: string;
  close(): Promise<void>;
}

/**
 * Starts an HTTP proxy on a free loopback port that sends each request to the next of
 * `targets()` (base URLs), so that one client's consecutive requests — even on one
 * keep-alive connection — reach different servers. Headers keep their case both ways (the
 * registry's revision headers are checked byte for byte); the Host header is the
 * balancer's, as behind a real load balancer; a client that goes away takes its upstream
 * request with it (held long polls are released); WebSocket upgrades are piped through.
 */
export async function startRoundRobin(targets: () => string[]): Promise<RoundRobin> {
  let next = 0;
  const pick = (): URL => {
    const list = targets();
    return new URL(list[next++ % list.length]!);
  };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    const target = pick();
    const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.rawHeaders, agent }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.statusMessage, up.rawHeaders);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (req, socket, head) => {
    const target = pick();
    const up = net.connect(Number(target.port), target.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      up.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) up.write(head);
      socket.pipe(up).pipe(socket);
    });
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
    socket.on('close', () => up.destroy());
    sockets.add(socket as net.Socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
