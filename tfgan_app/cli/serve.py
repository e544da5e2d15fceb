"""Serve exported models with the local TF Serving-compatible REST and gRPC server (development).

Hosts every model under --base (<base>/<name>/<version>/) on the same URLs,
JSON formats and gRPC services as TF Serving, with its version semantics: the
folder is polled every --file_system_poll_wait_seconds; a version is served
once it loaded and its warm-up ran; a broken version is reported (state END)
while the last good one keeps serving; a swapped-out or deleted version is unloaded
once no request uses it. Ctrl-C and SIGTERM stop accepting, let requests in flight
finish (--grace_period_seconds) and exit 0. Production uses the real server instead, e.g.
  tensorflow_model_server --port=8500 --rest_api_port=8501 --model_config_file=$PWD/export/models.config
(see export/README.md for the docker command).

Example: tfgan serve --base=export --rest_port=8501 --grpc_port=8500
"""

import os

from absl import flags

from tfgan_app.cli import foreground, quiet
from tfgan_app.errors import MissingResourceError, UsageError
from tfgan_app.names import (DEFAULT_GRACE_SECONDS, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_BATCH_SIZE,
                             DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_IMAGE_PIXELS, DEFAULT_POLL_WAIT_SECONDS)


def define_flags(fv: flags.FlagValues) -> None:
    """Defines the `tfgan serve` flags on `fv`."""
    flags.DEFINE_string("base", "export", "TF Serving base folder written by `tfgan export`.", flag_values=fv)
    flags.DEFINE_string("host", "127.0.0.1", "Interface to bind (0.0.0.0 to accept remote clients).",
                        flag_values=fv)
    flags.DEFINE_integer("rest_port", 8501, "REST API port (0: pick a free port).", flag_values=fv)
    flags.DEFINE_integer("grpc_port", 8500, "gRPC port (0: pick a free port).", flag_values=fv)
    flags.DEFINE_integer("max_batch_size", DEFAULT_MAX_BATCH_SIZE, "Largest batch / num_images per request.",
                         flag_values=fv)
    flags.DEFINE_float("file_system_poll_wait_seconds", DEFAULT_POLL_WAIT_SECONDS,
                       "Seconds between scans of --base for new, changed and deleted versions (TF Serving's flag; "
                       "0: scan once at start).", flag_values=fv)
    flags.DEFINE_integer("max_body_bytes", DEFAULT_MAX_BODY_BYTES,
                         "Largest REST body / gRPC message; larger REST bodies get 413.", flag_values=fv)
    flags.DEFINE_float("idle_timeout_seconds", DEFAULT_IDLE_TIMEOUT,
                       "Seconds after which an idle or stalled REST connection is closed.", flag_values=fv)
    flags.DEFINE_float("grace_period_seconds", DEFAULT_GRACE_SECONDS,
                       "On Ctrl-C or SIGTERM: stop accepting, then let requests in flight finish for at most this "
                       "many seconds before exiting 0.", flag_values=fv)
    flags.DEFINE_integer("max_image_pixels", DEFAULT_MAX_IMAGE_PIXELS,
                         "Most pixels a PNG/JPEG request input may declare in its header (checked before decoding) "
                         "when the model has no fixed image size; models with one (translate_png) take exactly "
                         "that size.", flag_values=fv)


def run(fv: flags.FlagValues) -> int:
    """Starts the server and blocks until Ctrl-C or SIGTERM, which both drain it (see `foreground`)."""
    if fv.rest_port and fv.rest_port == fv.grpc_port:
        raise UsageError(f"--rest_port and --grpc_port are both {fv.rest_port}; pass two different ports.")
    if os.path.exists(fv.base) and not os.path.isdir(fv.base):
        raise UsageError(f"Expected --base to be a folder (<base>/<name>/<version>/), received {fv.base!r}, which is "
                         "a file.")
    quiet.import_tensorflow()
    # deferred so --help does not import TensorFlow
    from tfgan_app.export.serving_config import list_models  # pylint: disable=import-outside-toplevel
    from tfgan_app.serving.server import LocalModelServer  # pylint: disable=import-outside-toplevel
    # Ports first (the server binds before loading), so a port in use is the first thing reported.
    server = LocalModelServer(fv.base, fv.host, fv.rest_port, fv.grpc_port, fv.max_batch_size,
                              poll_wait_seconds=fv.file_system_poll_wait_seconds, max_body_bytes=fv.max_body_bytes,
                              idle_timeout=fv.idle_timeout_seconds, grace_seconds=fv.grace_period_seconds,
                              max_image_pixels=fv.max_image_pixels).start()
    try:
        if not list_models(fv.base):
            raise MissingResourceError(f"No exported model under {fv.base!r} (expected <base>/<name>/<version>/"
                                       "saved_model.pb). Run `tfgan export --run_dir=DIR` first.")
        lines = []
        for name in server.repository.models():
            states = ", ".join(f"{s.version} {s.state}" + (f" ({s.error_message})" if s.state == "END" else "")
                               for s in server.repository.status(name))
            lines.append(f"model {name}: versions {states}  REST {server.rest_url}/v1/models/{name}:predict  "
                         f"gRPC {server.grpc_target}")
    except BaseException:
        server.stop()
        raise
    return foreground.run_until_interrupted(lines + [f"Latent explorer: {server.rest_url}/", "Serving."], server.stop)
