"""The commit rule (app/commits.py) holds: no `commit()` call outside the places that own one."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("app", "tenants", "worker")


def _may_commit(path: Path, root: Path) -> bool:
    relative = path.relative_to(root)
    return (
        path.name in ("tasks.py", "cli.py")  # a task or a CLI command is a request of its own
        or relative == Path("app/commits.py")  # the request's commit and the named exceptions
        or relative.parts[:2] == ("app", "demo")  # seeds the demo's database
    )


def commits_outside_the_rule(root: Path = ROOT) -> list[str]:
    found = []
    for package in PRODUCT:
        for path in sorted((root / package).rglob("*.py")):
            if _may_commit(path, root):
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                called = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                if called and node.func.attr == "commit":
                    found.append(f"{path.relative_to(root)}:{node.lineno}")
    return found


def test_services_and_views_never_commit():
    assert commits_outside_the_rule() == []


def test_the_check_sees_a_commit_where_none_belongs(tmp_path):
    """A commit planted in a service or a view is found; the same call in a task is not."""
    commit = "def f(db):\n    db.session.commit()\n"
    for name in ("app/billing/actions.py", "app/portal/views.py", "app/billing/tasks.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(commit)
    (tmp_path / "tenants").mkdir()
    (tmp_path / "worker").mkdir()
    assert commits_outside_the_rule(tmp_path) == [
        "app/billing/actions.py:2",
        "app/portal/views.py:2",
    ]
