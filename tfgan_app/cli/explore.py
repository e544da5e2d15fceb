"""Serve the latent explorer page next to a TF Serving REST API (e.g. a real tensorflow_model_server).

The page talks only to the TF Serving REST API; this command serves it on --port and
forwards /v1/... to --server. TF Serving cannot list its models, so name them with
--models or point --models_config at the models.config the server was started with.
`tfgan serve` already shows the page at its REST address; this is for other servers.

Example: tfgan explore --server=http://127.0.0.1:8501 --port=8080 --models_config=export/models.config
"""

from absl import flags

from tfgan_app.cli import foreground


def define_flags(fv: flags.FlagValues) -> None:
    """Defines the `tfgan explore` flags on `fv`."""
    flags.DEFINE_string("server", "http://127.0.0.1:8501", "REST address of TF Serving (or `tfgan serve`).",
                        flag_values=fv)
    flags.DEFINE_string("host", "127.0.0.1", "Interface to bind the page to (0.0.0.0 to accept remote clients).",
                        flag_values=fv)
    flags.DEFINE_integer("port", 8080, "Port of the page (0: pick a free port).", flag_values=fv)
    flags.DEFINE_list("models", [], "Model names the page offers, e.g. dcgan_mnist,pix2pix_edges.", flag_values=fv)
    flags.DEFINE_string("models_config", None, "TF Serving models.config to read the model names from "
                        "(instead of --models).", flag_values=fv)
    flags.DEFINE_float("timeout", 60.0, "Seconds to wait for the server per request.", flag_values=fv)


def run(fv: flags.FlagValues) -> int:
    """Starts the page and proxy and blocks until interrupted (Ctrl-C or SIGTERM); imports no TensorFlow."""
    from tfgan_app.errors import UsageError  # lazy: --help needs no TF
    from tfgan_app.paths import check_model_name  # lazy: --help needs no TF
    from tfgan_app.serving.explorer import ExplorerProxy, models_from_config  # lazy: --help needs no TF

    if fv.models and fv.models_config:
        raise UsageError("Pass either --models or --models_config, not both.")
    models = models_from_config(fv.models_config) if fv.models_config else [check_model_name(m) for m in fv.models]
    proxy = ExplorerProxy(fv.server, models, fv.host, fv.port, fv.timeout).start()
    listed = ", ".join(models) if models else "none listed (type a name on the page)"
    line = f"Explorer at {proxy.url} for {proxy.upstream.geturl()}; models: {listed}"
    return foreground.run_until_interrupted([line], proxy.stop)
