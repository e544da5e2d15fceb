"""tfgan_app: train, evaluate and deploy GANs with TensorFlow 2 / Keras 3.

>>> from tfgan_app import GAN, architectures, data
>>> gan = GAN(architectures.dcgan_generator(100, (28, 28, 1)), architectures.dcgan_discriminator((28, 28, 1)))
>>> gan.compile(d_optimizer="adam", g_optimizer="adam", loss="non_saturating")
>>> gan.fit(data.load_dataset("mnist", batch_size=128).dataset, epochs=1)

`GAN` and `ConditionalGAN` are imported lazily so that `tfgan --help` and
`tfgan_app.errors` load without importing TensorFlow.

`import tfgan_app` is enough for `keras.saving.load_model("gan.keras")`: Keras finds custom classes only
in its registry, so the package registers its GAN classes, layers and losses (by importing
`tfgan_app.gans`) as soon as Keras and TensorFlow have finished importing — at once if they already
have, else from an import hook (`_RegisterWhenKerasLoads`) that costs nothing until then.
"""

import sys

__version__ = "0.1.0"
__all__ = ["GAN", "ConditionalGAN", "__version__"]

# The modules whose completed import may make registration possible (Keras' registry, the TF backend),
# and the package itself: registration waits until none of them is half-imported.
_WATCHED = ("keras", "tensorflow")
_registered = False


def __getattr__(name):
    if name in ("GAN", "ConditionalGAN"):
        from tfgan_app import gans  # pylint: disable=import-outside-toplevel  # lazy: `tfgan --help` needs no TF
        return getattr(gans, name)
    raise AttributeError(f"module 'tfgan_app' has no attribute {name!r}")


def _initializing(module_name: str) -> bool:
    """True while `module_name` is being imported (its module object exists but runs its body)."""
    module = sys.modules.get(module_name)
    return bool(getattr(getattr(module, "__spec__", None), "_initializing", False))


def _ready(package_initializing: bool = False) -> bool:
    """Keras and TensorFlow are fully imported and no tfgan_app module is half-imported (but this package
    itself when `package_initializing`: its own body may import its sub-modules)."""
    if not all(name in sys.modules and not _initializing(name) for name in _WATCHED):
        return False
    return not any(_initializing(name) for name in list(sys.modules)
                   if name.startswith(__name__ + ".") or (name == __name__ and not package_initializing))


def register_keras_objects(package_initializing: bool = False) -> bool:
    """Registers every GAN class, layer and loss with Keras once Keras is loaded; returns True once done.

    Called by the import hook after each watched import; a no-op until `_ready()` and after the first
    success.
    """
    global _registered  # pylint: disable=global-statement
    if _registered or not _ready(package_initializing):
        return _registered
    _registered = True
    # Importing the modules runs their `@keras.saving.register_keras_serializable` decorators.
    # pylint: disable-next=import-outside-toplevel,unused-import
    from tfgan_app import architectures, gans, losses  # noqa: F401
    return True


class _RegisterWhenKerasLoads:
    """A `sys.meta_path` finder that runs `register_keras_objects` after a watched module finishes importing.

    It finds nothing itself: it asks the other finders for the spec and wraps the loader's `exec_module`.
    """

    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        top = fullname.split(".")[0]
        if _registered or (fullname not in _WATCHED and top != __name__):
            return None
        for finder in sys.meta_path:
            if finder is cls or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _HookedLoader(spec.loader)
                return spec
        return None


class _HookedLoader:
    """Delegates to `loader`, then tries to register once the module body has run."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        module.__spec__._initializing = False  # importlib resets it only after exec_module returns
        register_keras_objects()

    def __getattr__(self, name):  # get_code, get_source, is_package, ... of the wrapped loader
        return getattr(self._loader, name)


if not register_keras_objects(package_initializing=True) and _RegisterWhenKerasLoads not in sys.meta_path:
    sys.meta_path.insert(0, _RegisterWhenKerasLoads)
