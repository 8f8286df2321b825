"""Accessibility checks with axe-core, read from the project's own ``node_modules`` (never
from the network): ``npm ci`` at the project root installs the version pinned in
package.json. Without it the checks are skipped, unless ``OSOM_REQUIRE_AXE`` is set (CI
sets it), when they fail."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

__all__ = ["AXE_FILE", "SERIOUS", "describe", "require_axe", "serious_violations"]

AXE_FILE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")

# Every rule axe runs by default (WCAG 2.0–2.2 A and AA, and its best practices); the
# result keeps what a person needs to find the problem.
_RUN = """
async () => {
  const results = await axe.run(document, {resultTypes: ['violations']});
  return results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html.slice(0, 200),
                              summary: (n.failureSummary || '').replace(/\\s+/g, ' ')})),
  }));
}
"""


def require_axe() -> Path:
    """The axe-core script, or a skip (a failure when OSOM_REQUIRE_AXE is set) without it."""
    if AXE_FILE.is_file():
        return AXE_FILE
    message = f"axe-core is not installed ({AXE_FILE} is missing): run `npm ci` in the project's folder."
    if os.environ.get("OSOM_REQUIRE_AXE"):
        pytest.fail(message)
    pytest.skip(message)


def serious_violations(page) -> list[dict]:
    """Run axe on the page as it is now; the serious and critical violations it finds."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(require_axe()))
    return [v for v in page.evaluate(_RUN) if v["impact"] in SERIOUS]


def describe(where: str, violations: list[dict]) -> list[str]:
    """One line per violation and target node, for a failure message."""
    lines = []
    for v in violations:
        lines.append(f"{where}: {v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:5]:
            lines.append(f"    {node['target']}  {node['html']}\n      {node['summary']}")
        if len(v["nodes"]) > 5:
            lines.append(f"    … and {len(v['nodes']) - 5} more")
    return lines
