"""Serve exported models with the local TF Serving-compatible REST and gRPC server (development).

Hosts every model under --base (<base>/<name>/<version>/, newest version by
default) on the same URLs, JSON formats and gRPC services as TF Serving.
Production uses the real server instead, e.g.
  tensorflow_model_server --port=8500 --rest_api_port=8501 --model_config_file=$PWD/export/models.config
(see export/README.md for the docker command).

Example: tfgan serve --base=export --rest_port=8501 --grpc_port=8500
"""

import os
import socket
import threading

from absl import flags

from tfgan_app.errors import MissingResourceError, UsageError
from tfgan_app.export.serving_config import list_models, list_versions
from tfgan_app.serving.repository import DEFAULT_MAX_BATCH_SIZE
from tfgan_app.serving.server import LocalModelServer


def define_flags(fv: flags.FlagValues) -> None:
    """Defines the `tfgan serve` flags on `fv`."""
    flags.DEFINE_string("base", "export", "TF Serving base folder written by `tfgan export`.", flag_values=fv)
    flags.DEFINE_string("host", "127.0.0.1", "Interface to bind (0.0.0.0 to accept remote clients).",
                        flag_values=fv)
    flags.DEFINE_integer("rest_port", 8501, "REST API port (0: pick a free port).", flag_values=fv)
    flags.DEFINE_integer("grpc_port", 8500, "gRPC port (0: pick a free port).", flag_values=fv)
    flags.DEFINE_integer("max_batch_size", DEFAULT_MAX_BATCH_SIZE, "Largest batch / num_images per request.",
                         flag_values=fv)


def check_port_free(host: str, port: int, flag: str) -> None:
    """Raises `UsageError` if `port` on `host` cannot be bound (port 0, "pick a free one", always can).

    Probes with a plain listening socket: gRPC binds with SO_REUSEPORT and would silently share a port
    with another gRPC server, and the REST server's own error is a bare `OSError` traceback.
    """
    if not port:
        return
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as e:
        raise UsageError(f"Cannot resolve --host={host!r}: {e}.") from e
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do: ignore TIME_WAIT
        try:
            probe.bind(address)
            probe.listen(1)
        except OSError as e:
            raise UsageError(f"Cannot serve on {flag}={port} at {host}: {e.strerror or e} (is another server, e.g. "
                             f"an earlier `tfgan serve` or tensorflow_model_server, using it?). Stop it or pass "
                             f"another {flag} (0 picks a free port).") from e


def run(fv: flags.FlagValues) -> int:
    """Starts the server and blocks until interrupted (Ctrl-C)."""
    if fv.rest_port and fv.rest_port == fv.grpc_port:
        raise UsageError(f"--rest_port and --grpc_port are both {fv.rest_port}; pass two different ports.")
    check_port_free(fv.host, fv.rest_port, "--rest_port")
    check_port_free(fv.host, fv.grpc_port, "--grpc_port")
    models = list_models(fv.base)
    if not models:
        raise MissingResourceError(f"No exported model under {fv.base!r} (expected <base>/<name>/<version>/"
                                   "saved_model.pb). Run `tfgan export --run_dir=DIR` first.")
    server = LocalModelServer(fv.base, fv.host, fv.rest_port, fv.grpc_port, fv.max_batch_size).start()
    try:
        for name in models:
            print(f"model {name}: versions {list_versions(os.path.join(fv.base, name))}  "
                  f"REST {server.rest_url}/v1/models/{name}:predict  gRPC {server.grpc_target}")
        print("Serving; press Ctrl-C to stop.", flush=True)
        threading.Event().wait()
    finally:
        server.stop()
    return 0
