"""Deployed code (functions/, layers/) imports no development tool: the local Shopify and NOMI
sandboxes, the local stack, the CLI, benchmarks and chaos stay out of what `sam build` ships."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEV_TOOLS = {"sandbox", "shopify_sandbox", "local", "cli", "bench", "chaos"}


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_deployed_code_imports_no_development_tool():
    files = [p for folder in ("functions", "layers") for p in (ROOT / folder).rglob("*.py")]
    offenders = {str(p.relative_to(ROOT)): sorted(_imported_roots(p) & DEV_TOOLS) for p in files}
    assert files
    assert {k: v for k, v in offenders.items() if v} == {}
