"""OpenStage example service: answers on $PORT with its name, version and instance id."""
import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(os.environ.get("PORT", "8080"))
NAME = os.environ.get("CAS_COMPONENT_NAME", "python-hello")
VERSION = os.environ.get("CAS_INSTANCE_VERSION", "1.0.0")
INSTANCE = os.environ.get("CAS_INSTANCE_ID", f"{NAME}-{os.getpid()}")


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            body, kind = b"ok", "text/plain"
        else:
            body = json.dumps({"service": NAME, "version": VERSION, "instance": INSTANCE, "pid": os.getpid()}).encode()
            kind = "application/json"
        self.send_response(200)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
print(f"{NAME} {VERSION} listening on {PORT}", flush=True)
ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
