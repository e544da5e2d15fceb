"""Issue #26 item 5: the public API documents itself, Keras style.

Every class and function that `tfgan_app` or one of its sub-packages exports (`__all__`) has a docstring with
`Args:` (when it takes arguments), `Returns:` (functions that return something), `Raises:` (when its own body
raises) and an example (`Example:` / `>>>`).
"""

import ast
import importlib
import inspect
import pkgutil
import textwrap

import pytest

import tfgan_app


def _public_objects():
    packages = ["tfgan_app"] + [f"tfgan_app.{m.name}" for m in pkgutil.iter_modules(tfgan_app.__path__) if m.ispkg]
    found = {}
    for name in packages:
        module = importlib.import_module(name)
        for symbol in getattr(module, "__all__", []):
            obj = getattr(module, symbol, None)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                found.setdefault(f"{obj.__module__}.{obj.__qualname__}", obj)
    return found


PUBLIC = _public_objects()


def _parameters(obj):
    target = obj.__init__ if inspect.isclass(obj) else obj
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return []
    return [p for p in signature.parameters.values()
            if p.name not in ("self", "cls") and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def _raises(function) -> bool:
    """Whether `function`'s own body (not nested functions) has a `raise` statement."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError):
        return False
    body = tree.body[0]
    stack = list(body.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Raise):
            return True
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))
    return False


def missing_sections(obj) -> list:
    """The docstring sections `obj` lacks (an exception class needs only its docstring, as in Keras)."""
    doc = inspect.getdoc(obj) or ""
    if inspect.isclass(obj) and issubclass(obj, BaseException):
        return [] if doc and obj.__doc__ else ["docstring"]
    if inspect.isclass(obj) and obj.__init__ is not object.__init__ and "__init__" in vars(obj):
        doc += "\n" + (inspect.getdoc(obj.__init__) or "")
    missing = []
    if _parameters(obj) and "Args:" not in doc:
        missing.append("Args")
    if inspect.isfunction(obj):
        returns = inspect.signature(obj).return_annotation
        if returns not in (None, "None", inspect.Signature.empty) and "Returns:" not in doc \
                and "Yields:" not in doc:
            missing.append("Returns")
    raises = _raises(obj.__init__ if inspect.isclass(obj) and "__init__" in vars(obj) else obj)
    if raises and "Raises:" not in doc:
        missing.append("Raises")
    if ">>>" not in doc and "Example" not in doc:
        missing.append("Example")
    return missing


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_definition_is_documented(name):
    missing = missing_sections(PUBLIC[name])
    assert not missing, f"{name}: docstring lacks {', '.join(missing)}"


def test_the_check_sees_a_missing_section():
    """Control: an undocumented function is caught, a documented one is not."""
    def bare(x: int) -> int:
        """Doubles."""
        if x < 0:
            raise ValueError(x)
        return 2 * x

    def documented(x: int) -> int:
        """Doubles.

        Args:
          x: a number.

        Returns:
          2x.

        Raises:
          ValueError: for a negative x.

        Example:
        >>> documented(2)
        4
        """
        if x < 0:
            raise ValueError(x)
        return 2 * x

    assert missing_sections(bare) == ["Args", "Returns", "Raises", "Example"]
    assert missing_sections(documented) == []
    assert len(PUBLIC) > 90  # the packages' __all__ were read
