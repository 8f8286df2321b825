"""What an import did, or would do: shared by every catalogue format."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

__all__ = ["ImportReport"]


@dataclass
class ImportReport:
    """The account an import gives of itself. ``mapped`` says what each source entry
    became; ``not_mapped`` says what was left out and why; ``created`` counts what was
    written (or would be, in a dry run)."""

    source: str
    dry_run: bool = False
    mapped: list[str] = field(default_factory=list)
    not_mapped: list[tuple[str, str]] = field(default_factory=list)  # (what, why)
    created: Counter = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)

    def map(self, text: str) -> None:
        self.mapped.append(text)

    def skip(self, what: str, why: str) -> None:
        self.not_mapped.append((what, why))

    def count(self, what: str, n: int = 1) -> None:
        self.created[what] += n

    def lines(self) -> list[str]:
        verb = "Would create" if self.dry_run else "Created"
        out = [f"Import from {self.source}{' (dry run: nothing was written)' if self.dry_run else ''}"]
        if self.created:
            out.append(f"{verb}: " + ", ".join(f"{n} {what}" for what, n in sorted(self.created.items())))
        else:
            out.append(f"{verb}: nothing")
        if self.mapped:
            out.append(f"Mapped ({len(self.mapped)}):")
            out.extend(f"  {text}" for text in self.mapped)
        if self.not_mapped:
            out.append(f"Not mapped ({len(self.not_mapped)}):")
            out.extend(f"  {what}: {why}" for what, why in self.not_mapped)
        if self.warnings:
            out.append(f"Warnings ({len(self.warnings)}):")
            out.extend(f"  {w}" for w in self.warnings)
        return out

    def as_dict(self) -> dict:
        return {"source": self.source, "dry_run": self.dry_run, "created": dict(self.created), "mapped": self.mapped,
                "not_mapped": [{"what": w, "why": y} for w, y in self.not_mapped], "warnings": self.warnings}
