// A TLS-terminating reverse proxy, the way Gatehouse is deployed: HTTPS on
// the issuer's port, plain HTTP to the server on loopback. The certification
// plans require every endpoint in discovery to be https, so the plans run
// against an https issuer.
//
// Usage: node tls_proxy.mjs LISTEN_PORT UPSTREAM_URL CERT_FILE KEY_FILE

import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';

const [port, upstream, certFile, keyFile] = process.argv.slice(2);
if (!port || !upstream || !certFile || !keyFile) {
  console.error('usage: node tls_proxy.mjs LISTEN_PORT UPSTREAM_URL CERT_FILE KEY_FILE');
  process.exit(2);
}
const target = new URL(upstream);

const server = https.createServer(
  { cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) },
  (req, res) => {
    const forward = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode, answer.rawHeaders);
        answer.pipe(res);
      },
    );
    forward.on('error', (err) => {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`upstream unreachable: ${err.message}`);
    });
    req.pipe(forward);
  },
);
server.listen(Number(port), '127.0.0.1');
