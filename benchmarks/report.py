"""What every benchmark writes: ``results.json`` (the command, its arguments, one record per
configuration) and ``results.md`` (the same records as a Markdown table), plus progress lines."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def progress(text: str) -> None:
    """One progress line on stderr (stdout keeps the final table)."""
    print(text, file=sys.stderr, flush=True)


def markdown_table(records: Sequence[Mapping[str, Any]], columns: Sequence[tuple[str, str]] = ()) -> str:
    """``columns`` as (heading, key) pairs; by default every key of the first record."""
    if not records:
        return ""
    columns = columns or [(key, key) for key in records[0]]
    lines = [
        "| " + " | ".join(head for head, _ in columns) + " |",
        "|" + "|".join("---" for _ in columns) + "|",
    ]
    for record in records:
        cells = [record[key] for _, key in columns]
        lines.append("| " + " | ".join(_cell(v) for v in cells) + " |")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "NO"
    return f"{value:,}" if isinstance(value, int | float) else str(value)


def write_results(
    out: Path, command: str, args: argparse.Namespace, records: Sequence[Mapping[str, Any]], table: str
) -> None:
    """Write results.json and results.md under ``out``; print the table."""
    out.mkdir(parents=True, exist_ok=True)
    meta = {
        "command": command,
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
    }
    (out / "results.json").write_text(json.dumps({**meta, "records": list(records)}, indent=2))
    (out / "results.md").write_text(f"Command: `{command}`\n\n{table}\n")
    print(table)
    progress(f"wrote {out}/results.json and results.md")


def command_line(program: str, argv: Sequence[str] | None) -> str:
    return " ".join([program, *(sys.argv[1:] if argv is None else argv)])
