"""The house keeps its floors (docs/design.md): a room imports only rooms below it, never inside a
function, and only the telephony edge speaks Twilio. A change that breaks a wall fails here, naming it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Ground first. Rooms on the same floor do not import each other.
FLOORS: list[set[str]] = [
    {"clock", "tasks"},
    {"models"},
    {"migrations", "org"},
    {"words"},
    {"tickets"},
    {"oncall"},
    {"voice", "mail", "vonage_carrier"},
    {"dashboard", "devtools", "serving"},
    {"wsgi"},
]
FLOOR = {room: level for level, rooms in enumerate(FLOORS) for room in rooms}
# Outside the house: scripts that use it and nothing imports (their imports follow the environment they
# set), the tests, and the README's screenshot script.
APART = {"bench", "tests", "docs"}
NO_TWILIO = ("org", "words", "tickets", "oncall", "models.py")
TWILIO_WORDS = re.compile(r"CallSid|MessageSid|AnsweredBy|machine_detection|import twilio|from twilio")


def _modules() -> list[Path]:
    found = []
    for room in FLOOR:
        path = ROOT / f"{room}.py"
        if path.exists():
            found.append(path)
        elif (ROOT / room).is_dir():
            found += [p for p in (ROOT / room).rglob("*.py") if "versions" not in p.parts]
    return sorted(found)


def _room(path: Path) -> str:
    return path.relative_to(ROOT).parts[0].removesuffix(".py")


def _imported(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.ImportFrom):
        return [(node.module or "").split(".")[0]] if node.level == 0 else []
    return [alias.name.split(".")[0] for alias in node.names]


def _imports(path: Path) -> list[tuple[int, str, bool]]:
    """(line, room imported, inside a function) for every import of a project room."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                found.extend((child.lineno, room, in_function) for room in _imported(child) if room in FLOOR)
            inside = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            visit(child, inside)

    visit(tree, False)
    return found


def test_every_room_imports_only_the_rooms_below_it():
    upward = [
        f"{path.relative_to(ROOT)}:{line} imports {room} (floor {FLOOR[room]} ≥ {FLOOR[_room(path)]})"
        for path in _modules()
        for line, room, _ in _imports(path)
        if room != _room(path) and FLOOR[room] >= FLOOR[_room(path)]
    ]
    assert upward == []


def test_every_room_of_the_tree_has_a_floor():
    rooms = {p.stem for p in ROOT.glob("*.py")} | {
        p.name for p in ROOT.iterdir() if p.is_dir() and not p.name.startswith(".") and any(p.rglob("*.py"))
    }
    assert sorted(rooms - set(FLOOR) - APART) == [], "a new room: add it to FLOORS and to docs/design.md"


def test_no_project_import_hides_inside_a_function():
    hidden = [
        f"{path.relative_to(ROOT)}:{line} imports {room} inside a function"
        for path in _modules()
        for line, room, inside in _imports(path)
        if inside
    ]
    assert hidden == []


def test_only_the_telephony_edge_speaks_twilio():
    leaks = []
    for place in NO_TWILIO:
        paths = [ROOT / place] if place.endswith(".py") else sorted((ROOT / place).rglob("*.py"))
        for path in paths:
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if TWILIO_WORDS.search(line):
                    leaks.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert leaks == []
