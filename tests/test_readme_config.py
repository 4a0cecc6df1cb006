"""The README's Configuration table names exactly the environment variables the code reads."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("app", "tenants", "worker", "stripe_emulator")  # the emulator: development only
# config.py's readers; their first argument is the variable's name.
SETTING_READERS = {"_str", "_int", "_bool", "_list", "_per_tenant_ints"}
# urllib.request.getproxies() (the Stripe transport) reads the proxy variables.
PROXY_VARIABLES = {"HTTPS_PROXY", "NO_PROXY"}


def _is_environ(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ"


def _called_name(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)


def names_read_in(source: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            called = _called_name(node)
            environ_get = called == "get" and _is_environ(node.func.value)
            if called in SETTING_READERS or called == "getenv" or environ_get:
                first = node.args[0] if node.args else None
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    names.add(first.value)
            if called == "getproxies":
                names |= PROXY_VARIABLES
        elif (
            isinstance(node, ast.Subscript)
            and _is_environ(node.value)
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, str)
        ):
            names.add(node.slice.value)
    return names


def variables_read() -> set[str]:
    files = list(ROOT.glob("*.py"))
    for package in PACKAGES:
        files += (ROOT / package).rglob("*.py")
    names = set()
    for path in files:
        names |= names_read_in(path.read_text())
    names |= set(re.findall(r"\$\{(\w+)", (ROOT / "Procfile").read_text()))
    return names


def variables_documented() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    names = set()
    for row in section.splitlines():
        if row.startswith("| `"):
            first_cell = row.split("|")[1]
            names |= set(re.findall(r"`([A-Z][A-Z0-9_]+)`", first_cell))
    return names


def test_the_reader_finds_every_way_the_code_reads_a_variable():
    source = (
        "import os, urllib.request\n"
        "a = _str('A')\nb = _int('B', 1)\nc = os.environ.get('C')\nd = os.environ['D']\n"
        "e = os.getenv('E')\nurllib.request.getproxies()\nf = os.environ.get(name)\n"
    )
    assert names_read_in(source) == {"A", "B", "C", "D", "E"} | PROXY_VARIABLES


def test_the_configuration_table_lists_every_variable_the_code_reads_and_no_other():
    read, documented = variables_read(), variables_documented()
    assert {"SECRET_KEY", "STRIPE_JS_URL", "PREFERRED_URL_SCHEME", "PORT"} <= read  # the scan works
    assert read - documented == set(), "read by the code but missing from README's Configuration"
    assert documented - read == set(), "in README's Configuration but read nowhere"
