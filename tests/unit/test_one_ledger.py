"""Stock has one writer: no module but inventory/ledger.py changes on_hand or allocated or writes a movement,
so that "stock equals the sum of its movements" is kept in one place (migrations and tests aside)."""
from __future__ import annotations

import ast
from pathlib import Path

SHOP = Path(__file__).resolve().parents[2] / "shop"
LEDGER = SHOP / "inventory" / "ledger.py"
LEVELS = {"on_hand", "allocated"}
STOCK_MODELS = {"Stock", "StockMovement"}
# A movement's columns by name (a row's dict key, an INSERT's column list): how rows are written through Core.
MOVEMENT_COLUMNS = {"on_hand_delta", "allocated_delta"}


def _name(node: ast.AST) -> str:
    """The name a node ends in: `StockMovement` for StockMovement, Stock.__table__ gives `Stock`."""
    while isinstance(node, ast.Attribute) and node.attr in {"__table__", "c"}:
        node = node.value
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def _targets(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.AugAssign | ast.AnnAssign):
        targets = [node.target]
    else:
        return []
    flat: list[ast.AST] = []
    for target in targets:
        flat += target.elts if isinstance(target, ast.Tuple | ast.List) else [target]
    return flat


def stock_writes(source: str) -> list[str]:
    """Where `source` writes stock itself: assigns a level, passes one as a keyword (Stock(on_hand=...),
    update(...).values(allocated=...)), builds a StockMovement, INSERTs/UPDATEs either table, or names a
    movement's columns as a row's keys or an INSERT's columns."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and node.value in MOVEMENT_COLUMNS:
            found.append(f"line {node.lineno}: '{node.value}'")
        for target in _targets(node):
            if isinstance(target, ast.Attribute) and target.attr in LEVELS:
                found.append(f"line {node.lineno}: assigns .{target.attr}")
        if not isinstance(node, ast.Call):
            continue
        found += [f"line {node.lineno}: {k.arg}=" for k in node.keywords if k.arg in LEVELS | MOVEMENT_COLUMNS]
        if _name(node.func) == "StockMovement":
            found.append(f"line {node.lineno}: StockMovement(...)")
        if _name(node.func) in {"insert", "update"} and node.args and _name(node.args[0]) in STOCK_MODELS:
            found.append(f"line {node.lineno}: {_name(node.func)}({_name(node.args[0])})")
    return found


def test_only_the_ledger_writes_stock_or_its_movements():
    found = [f"{path.relative_to(SHOP)} {where}"
             for path in sorted(SHOP.rglob("*.py")) if path != LEDGER
             for where in stock_writes(path.read_text())]
    assert found == []


def test_the_check_sees_every_way_of_writing_stock():
    """The check itself finds what it looks for (and the ledger does write stock)."""
    written = """
stock.on_hand += 1
a.stock.allocated -= q
stock.on_hand, stock.allocated = 1, 2
Stock(batch=b, on_hand=3)
db.session.add(StockMovement(stock=s))
update(Stock.__table__).values(x=1)
insert(StockMovement.__table__)
rows = [{"stock_id": 1, "allocated_delta": 2}]
insert(movements).values(on_hand_delta=1)
"""
    assert len(stock_writes(written)) == 10
    assert stock_writes("stock.on_hand - stock.allocated\nselect(Stock)\nLot(s.on_hand)\n") == []
    assert stock_writes(LEDGER.read_text())
