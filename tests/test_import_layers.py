"""The package's layers import downward only, with no cycles (see docs/architecture.md, "Layers").

Every `import` / `from ... import` of a `tfgan_app` module is read with `ast`, function-local ones included,
so an upward import cannot hide inside a function. Function-local imports are allowed only for optional
third-party dependencies, with a comment on the line saying why ("# optional: ..."), and in the modules
that must load without TensorFlow, which defer their imports on purpose: the `cli` modules (`tfgan --help`)
and `LAZY_ALLOWED` (`import tfgan_app`, the explorer proxy, presets for `tfgan train --list_models`).
"""

import ast
import os

import tfgan_app

PACKAGE_DIR = os.path.dirname(tfgan_app.__file__)

# Bottom to top. A module may import its own top-level part and any part on a LOWER level; parts on one
# level are siblings that do not import each other (evaluation | export). docs/architecture.md's
# floors, with the order inside a floor made explicit where one part builds on another.
LAYERS = [
    {"errors", "names"},        # names: TF-free constants the CLI flags need
    {"images", "layers", "paths", "hardware", "tfserving"},  # hardware: the precision a run uses (TF deferred);
    # tfserving: TF Serving's REST/gRPC clients and tensor encoding (pure protocol)
    {"losses", "latent", "distribute", "data", "presets"},
    {"architectures"},          # builders validate their options with presets.check_options
    {"callbacks"},
    {"gans"},                   # GAN.fit attaches callbacks.SampleGrid
    {"artifacts"},
    {"evaluation", "export", "generation"},  # generation: image files from a generator (`tfgan generate`)
    {"serving"},
    {"training"},
    {"cli"},
]
# Modules (besides `cli`) that defer imports into functions because they must load without TensorFlow.
LAZY_ALLOWED = {"tfgan_app", "tfgan_app.serving.explorer", "tfgan_app.presets", "tfgan_app.hardware"}
LEVEL = {part: level for level, parts in enumerate(LAYERS) for part in parts}


def _module_name(path):
    rel = os.path.relpath(path, os.path.dirname(PACKAGE_DIR))[:-3].replace(os.sep, ".")
    return rel[:-len(".__init__")] if rel.endswith(".__init__") else rel


def _local_imports(path):
    """(line number, source line, imports tfgan_app?) of every import inside a function of `path`."""
    source = open(path).read()
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source, path)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import):
                    ours = any(a.name.split(".")[0] == "tfgan_app" for a in inner.names)
                elif isinstance(inner, ast.ImportFrom):
                    ours = inner.level > 0 or (inner.module or "").split(".")[0] == "tfgan_app"
                else:
                    continue
                found.append((inner.lineno, lines[inner.lineno - 1], ours))
    return sorted(set(found))


def _imports(path):
    """(imported module, line, function-local?) for each tfgan_app import in `path`."""
    tree = ast.parse(open(path).read(), path)
    local = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            local.update(id(n) for n in ast.walk(node) if isinstance(n, (ast.Import, ast.ImportFrom)))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "tfgan_app":
            for alias in node.names:  # `from tfgan_app import gans` imports tfgan_app.gans
                found.append((f"{node.module}.{alias.name}", node.lineno, id(node) in local))
        elif isinstance(node, ast.Import):
            found += [(a.name, node.lineno, id(node) in local) for a in node.names
                      if a.name.split(".")[0] == "tfgan_app"]
    return found


def _modules():
    for root, _, files in os.walk(PACKAGE_DIR):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(root, name)
                yield _module_name(path), path


def _part(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def _resolve(target, known):
    """The longest known module prefix of `target` (`tfgan_app.gans.GAN` -> `tfgan_app.gans`)."""
    while target not in known and "." in target:
        target = target.rsplit(".", 1)[0]
    return target


def test_every_part_has_a_layer():
    parts = {_part(m) for m, _ in _modules()} - {None}
    assert parts <= set(LEVEL), f"parts without a layer in LAYERS: {sorted(parts - set(LEVEL))}"


def test_imports_point_down_only():
    known = {m for m, _ in _modules()}
    upward = []
    for module, path in _modules():
        source = _part(module)
        for target, line, _ in _imports(path):
            target_part = _part(_resolve(target, known))
            if source is None or target_part is None or target_part == source:
                continue
            if LEVEL[target_part] >= LEVEL[source]:
                upward.append(f"{module}:{line} imports {target} ({source} L{LEVEL[source]} -> "
                              f"{target_part} L{LEVEL[target_part]})")
    assert not upward, "imports that do not point down:\n" + "\n".join(upward)


def test_no_import_cycles():
    known = {m for m, _ in _modules()}
    graph = {m: {_resolve(t, known) for t, _, _ in _imports(p)} - {m} for m, p in _modules()}
    graph = {m: {t for t in ts if t in known} for m, ts in graph.items()}
    state, stack, cycles = {}, [], []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2
    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_function_local_imports_only_for_optional_dependencies():
    offending = []
    for module, path in _modules():
        lazy_allowed = module in LAZY_ALLOWED or _part(module) == "cli"
        for line, text, ours in _local_imports(path):
            if lazy_allowed:
                continue
            if ours:
                offending.append(f"{module}:{line} imports a tfgan_app module inside a function: {text.strip()}")
            elif "# optional:" not in text:
                offending.append(f"{module}:{line} imports inside a function without '# optional: <why>': "
                                 f"{text.strip()}")
    assert not offending, "function-local imports:\n" + "\n".join(offending)


def test_checks_catch_what_they_claim(tmp_path):
    """The ast readers see function-local imports and tell ours from third-party ones, so the tests above
    cannot pass vacuously."""
    path = tmp_path / "m.py"
    path.write_text("import os\n\ndef f():\n    from tfgan_app import training\n    import numpy\n")
    assert _imports(str(path)) == [("tfgan_app.training", 4, True)]
    assert [(line, ours) for line, _, ours in _local_imports(str(path))] == [(4, True), (5, False)]


def test_the_documented_drawing_is_the_enforced_one():
    """docs/architecture.md's "Layers" drawing (top to bottom) names exactly the floors of LAYERS."""
    path = os.path.join(os.path.dirname(PACKAGE_DIR), "docs", "architecture.md")
    text = open(path, encoding="utf-8").read()
    block = text.split("## Layers", 1)[1].split("```", 2)[1]
    floors = []
    for line in block.strip().splitlines():
        names = line.split("  ")[0].split()  # the part names come before the first double space
        floors.append(set(names))
    assert floors[::-1] == LAYERS, f"docs/architecture.md draws {floors[::-1]}, the test enforces {LAYERS}"
