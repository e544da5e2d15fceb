"""The latent explorer: a static web page on the TF Serving REST API, and a dev proxy to a real server.

The page (`tfgan_app/serving/explorer/`: plain HTML/JS/CSS, no build step, nothing
fetched from the internet) generates on the device with LiteRT.js when its `models.json` lists
"device" models (the static site of `tfgan export --web`, `tfgan_app/serving/web.py`); served
here it talks only to TF Serving's REST API (`GET /v1/models/<name>`,
`.../metadata`, `POST ...:predict`), so it works on `tfgan serve` and next to a real
`tensorflow_model_server`. TF Serving has no "list models" call, so the page reads the
model names from `/explorer/models.json`, which whoever serves the page provides.

* `static_response(path, models)` answers the page's URLs (`/`, `/explorer/...`) for any
  HTTP server; `tfgan serve` hooks it into its REST port.
* `ExplorerProxy` serves the page and forwards `/v1/...` to a TF Serving REST address
  (`tfgan explore --server=http://HOST:8501`).

This module imports no TensorFlow, so `tfgan explore` starts fast.

Example:
>>> static_response("/", ["dcgan_mnist"])[:2]
(200, 'text/html; charset=utf-8')
>>> with ExplorerProxy("http://127.0.0.1:8501", models=["dcgan_mnist"], port=0) as proxy:
...     print(proxy.url)
"""

import http.client
import json
import os
import string
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, List, Optional, Sequence, Tuple, Union

from absl import logging

from tfgan_app.errors import UsageError

STATIC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "explorer")
PREFIX = "/explorer/"
MODELS_JSON = "models.json"
# The only files served: a fixed allow-list, so no request path can reach another file.
FILES = {"index.html": "text/html; charset=utf-8", "explorer.js": "text/javascript; charset=utf-8",
         "explorer.css": "text/css; charset=utf-8", "latents.js": "text/javascript; charset=utf-8"}
# Sent with every explorer response: no content sniffing, and the page may only load its own files
# and talk to its own origin (the REST API, or the proxy in front of it).
HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache",
           "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; "
                                      "base-uri 'none'; frame-ancestors 'none'"}
MAX_BODY_BYTES = 32 * 1024 * 1024  # as the local server's REST limit
DEFAULT_TIMEOUT = 60.0

Response = Tuple[int, str, bytes]
Models = Union[Sequence[str], Callable[[], Sequence[str]]]


def static_response(path: str, models: Models) -> Optional[Response]:
    """The explorer's answer to `GET path`, or None when `path` is not an explorer URL.

    Args:
        path: request target, e.g. `/`, `/explorer/explorer.js?v=1` (the query is ignored).
        models: model names for `/explorer/models.json`, or a function returning them
            (called only for that URL, so a server can list its repository per request).

    Returns:
        `(status, content_type, body)`: 200 with the file, or 404 for an unknown
        `/explorer/...` file (only the files in `FILES` are ever read).

    Example:
    >>> status, content_type, body = static_response("/explorer/models.json", ["a", "b"])
    >>> json.loads(body)
    {'models': ['a', 'b']}
    """
    route = urllib.parse.urlsplit(path).path
    if route in ("/", "/explorer", "/index.html"):
        route = PREFIX + "index.html"
    if not route.startswith(PREFIX):
        return None
    name = route[len(PREFIX):] or "index.html"
    if name == MODELS_JSON:
        names = models() if callable(models) else models
        return 200, "application/json", json.dumps({"models": [str(n) for n in names]}).encode("utf-8")
    if name not in FILES:
        return 404, "text/plain; charset=utf-8", f"Not found: {route}".encode("utf-8")
    with open(os.path.join(STATIC_DIR, name), "rb") as f:
        return 200, FILES[name], f.read()


def write_response(handler: BaseHTTPRequestHandler, response: Response) -> None:
    """Sends `(status, content_type, body)` plus `HEADERS` on a `BaseHTTPRequestHandler`."""
    status, content_type, body = response
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for key, value in HEADERS.items():
        handler.send_header(key, value)
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(body)


def parse_server_url(url: str) -> urllib.parse.SplitResult:
    """Checks a TF Serving REST address like `http://host:8501`; raises `UsageError` otherwise."""
    parts = urllib.parse.urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path.strip("/") or parts.query:
        raise UsageError(f"Expected the TF Serving REST address as http://HOST:PORT (e.g. http://127.0.0.1:8501), "
                         f"received --server={url!r}.")
    return parts


def _ascii_target(path: str) -> str:
    """The request target with every non-ASCII byte percent-encoded (`http.client` sends ASCII only).

    `http.server` decodes the request line as ISO-8859-1, so `GET /v1/models/m\\xe9` arrives as `'/v1/models/mé'`;
    it is forwarded as `/v1/models/m%E9` and the server answers it (404), as TF Serving would.
    """
    return urllib.parse.quote_from_bytes(path.encode("latin-1", "replace"), safe=string.punctuation)


class _ProxyServer(ThreadingHTTPServer):
    """`ThreadingHTTPServer` whose unexpected handler errors are one log line, not a traceback on stderr."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        error = sys.exc_info()[1]
        logging.warning("explore: a request from %s failed: %s: %s", client_address[0], type(error).__name__, error)


class _ProxyHandler(BaseHTTPRequestHandler):
    """Serves the page and forwards `/v1/...` to `self.server.upstream` (a `SplitResult`)."""

    protocol_version = "HTTP/1.1"
    timeout = DEFAULT_TIMEOUT  # a client that stops sending cannot hold a thread forever

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        logging.debug("explore %s - " + format, self.client_address[0], *args)

    def _error(self, status: int, message: str) -> None:
        write_response(self, (status, "application/json", json.dumps({"error": message}).encode("utf-8")))

    def do_GET(self):  # pylint: disable=invalid-name
        static = static_response(self.path, self.server.models)
        if static is not None:
            write_response(self, static)
        elif self.path.startswith("/v1/"):
            self._forward(None)
        else:
            self._error(404, f"Not found: {self.path}. The explorer is at / and the TF Serving API under /v1/.")

    def do_POST(self):  # pylint: disable=invalid-name
        try:
            length = int(self.headers.get("Content-Length") or -1)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY_BYTES:
            self.close_connection = True  # the unread body would corrupt a kept-alive connection
            self._error(400, f"Request body must have a Content-Length of at most {MAX_BODY_BYTES} bytes, "
                             f"received {self.headers.get('Content-Length')!r}.")
            return
        body = self.rfile.read(length)
        if not self.path.startswith("/v1/"):
            self._error(404, f"Only the TF Serving API under /v1/ accepts POST, received {self.path}.")
            return
        self._forward(body)

    def _forward(self, body: Optional[bytes]) -> None:
        upstream = self.server.upstream
        connection_class = http.client.HTTPSConnection if upstream.scheme == "https" else http.client.HTTPConnection
        connection = connection_class(upstream.hostname, upstream.port, timeout=self.server.timeout_seconds)
        try:
            headers = {"Content-Type": self.headers.get("Content-Type", "application/json")}
            connection.request("POST" if body is not None else "GET", _ascii_target(self.path), body=body,
                               headers=headers)
            reply = connection.getresponse()
            length = int(reply.getheader("Content-Length") or -1)
            if length > MAX_BODY_BYTES:
                raise OSError(f"the reply of {length} bytes exceeds the proxy's limit of {MAX_BODY_BYTES}")
            data = reply.read(MAX_BODY_BYTES + 1)
            if len(data) > MAX_BODY_BYTES:
                raise OSError(f"the reply exceeds the proxy's limit of {MAX_BODY_BYTES} bytes")
            write_response(self, (reply.status, reply.getheader("Content-Type", "application/json"), data))
        except (OSError, http.client.HTTPException) as e:
            self._error(502, f"Cannot reach the TF Serving REST API at {upstream.geturl()}: {e}")
        finally:
            connection.close()


class ExplorerProxy:
    """Serves the explorer page and forwards the TF Serving REST API of `server` (development use).

    Built on the standard library's `ThreadingHTTPServer` (one thread per connection, socket
    timeouts, a body limit): the proxy only relays a handful of small JSON requests from one
    browser, so it needs no third-party web framework.

    Args:
        server: REST address of TF Serving (or `tfgan serve`), e.g. `http://127.0.0.1:8501`.
        models: model names the page offers (TF Serving cannot list them).
        host: interface to bind (loopback by default).
        port: port of the page (0 picks a free one).
        timeout: seconds to wait for the upstream server per request.
    """

    def __init__(self, server: str, models: Sequence[str] = (), host: str = "127.0.0.1", port: int = 8080,
                 timeout: float = DEFAULT_TIMEOUT):
        self.upstream = parse_server_url(server)
        self.models: List[str] = list(models)
        self.host, self.port, self.timeout = host, port, timeout
        self._http: Optional[_ProxyServer] = None
        self._thread: Optional[threading.Thread] = None

    @property
    def url(self) -> str:
        """`http://host:port/` of the page."""
        return f"http://{self.host}:{self.port}/"

    def start(self) -> "ExplorerProxy":
        """Binds the port and serves in a background thread.

        Raises:
            UsageError: the port is in use or the host is not a local address.
        """
        try:
            self._http = _ProxyServer((self.host, self.port), _ProxyHandler)
        except (OSError, OverflowError) as e:  # EADDRINUSE, EADDRNOTAVAIL, gaierror; OverflowError: port > 65535
            reason = getattr(e, "strerror", None) or e
            raise UsageError(f"Cannot bind the explorer page to {self.host}:{self.port}: {reason}. Stop the other "
                             "server or pass another --port (0 picks a free one) or --host.") from e
        self._http.upstream, self._http.models, self._http.timeout_seconds = self.upstream, self.models, self.timeout
        self.port = self._http.server_address[1]
        self._thread = threading.Thread(target=self._http.serve_forever, name="tfgan-explore", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stops serving and waits for the thread."""
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._thread.join(timeout=10)
            self._http = None

    def __enter__(self) -> "ExplorerProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def models_from_config(path: str) -> List[str]:
    """Model names in a TF Serving `models.config` (as `tfgan export` writes it).

    Parsed with the `ModelServerConfig` proto module alone (`tfgan_app.export.serving_config` would load
    TensorFlow through its package), so `tfgan explore --models_config` starts without TensorFlow.

    Raises:
        UsageError: the file cannot be read or is not a `ModelServerConfig` text proto.
    """
    from google.protobuf import text_format  # lazy: only --models_config needs the protos
    from tensorflow_serving.config import model_server_config_pb2  # lazy: TF-free, but only --models_config needs it
    try:
        with open(path) as f:
            config = text_format.Parse(f.read(), model_server_config_pb2.ModelServerConfig())
    except OSError as e:
        raise UsageError(f"Cannot read the model config {path!r}: {e}") from e
    except (text_format.ParseError, UnicodeDecodeError) as e:
        raise UsageError(f"Expected a TF Serving ModelServerConfig text proto in {path!r}: {e}") from e
    return [entry.name for entry in config.model_config_list.config]
