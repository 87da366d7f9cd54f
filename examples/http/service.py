"""A small local HTTP service for the HTTP Task example: POST /score with an order as JSON
answers {"order_id", "score"}. Binds 127.0.0.1 on a free port and prints the port."""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        if self.path != "/score":
            self.send_error(404)
            return
        if self.headers.get("x-api-key") != "example-key":
            self.send_error(401)
            return
        order = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
        body = json.dumps({"order_id": order["order_id"], "score": int(order["price"]) * int(order["quantity"]) % 97})
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
sys.stdout.close()
server.serve_forever()
