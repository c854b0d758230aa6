"""Whether a SQL statement would reach one shard if tenant tables were distributed by region.

On Citus (README, "Tenancy and the scale-out plan") every tenant table is
distributed by ``region_id`` and co-located, and a few global tables are
reference tables (:data:`REFERENCE_TABLES`, copied whole to every node). Citus
sends a statement to the one node holding a region's shard only when it can see,
in the statement itself, which region it is about. So every reference to a
tenant table must be pinned to one region value:

- directly: ``t.region_id = $1`` (a parameter or a literal, one value), or
- through equalities on ``region_id``: ``JOIN u ON u.region_id = t.region_id AND …``
  with ``t`` pinned, in the same query, an outer query (a correlated subquery)
  or a derived table / CTE whose ``region_id`` column is pinned;
- an INSERT names ``region_id`` (one value a row, or a SELECT so pinned), and an
  UPDATE never changes it (the distribution column cannot change on Citus);
- ``ON CONFLICT (…)`` names ``region_id`` (Citus has only unique keys that hold it).

``region_id IN (a, b)``, ``= ANY($1)``, ``OR`` of two regions, a subquery's value,
or no filter at all reach several shards and are reported. Only data statements
(SELECT, INSERT, UPDATE, DELETE, MERGE) are judged; DDL, SET, transaction control
and the like are not routed by region.

The parser is PostgreSQL's own (``pglast``, libpg_query), so whatever PostgreSQL
accepts is read the way PostgreSQL reads it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from pglast import ast, parse_sql
from pglast.enums import A_Expr_Kind, BoolExprType
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.sql.expression import Executable

from inspections.ingest import pending as ingest
from inspections.notifications import dispatcher, outbox
from shared.models import Base

DISTRIBUTION_COLUMN = "region_id"

# Global tables, copied whole to every Citus node: any statement may read or write them.
REFERENCE_TABLES: dict[str, str] = {
    "regions": "the tenant list itself; every tenant table's region_id refers to it",
    "people": (
        "sign-in finds an account by username before its region is known, so usernames are "
        "unique across regions; small (hundreds of accounts a district)"
    ),
    "units": (
        "people.unit_id refers to it, and Citus allows no foreign key from a reference "
        "table to a distributed one; small (dozens a district), read with nearly every case"
    ),
    "open311_api_keys": (
        "an integrator's key is looked up by its hash before its region is known, so "
        "key_hash is unique across regions; a handful a district"
    ),
}


@dataclass(frozen=True)
class CrossRegion:
    """A product statement allowed to reach every shard, and why. It is matched by its
    structure (parameter values, literals and the length of an IN list do not matter)."""

    statement: Executable
    reason: str

    @property
    def sql(self) -> str:
        """The statement as the server receives it from asyncpg (``$1`` parameters)."""
        return str(self.statement.compile(dialect=_ASYNCPG))


_ASYNCPG = asyncpg_dialect()


# Statements that cross regions on purpose, taken from the product itself. Keep this
# short: on Citus each runs on every shard. README, "Tenancy and the scale-out plan".
CROSS_REGION: tuple[CrossRegion, ...] = (
    CrossRegion(
        outbox.REGIONS_WITH_WORK,
        "the notification fan-out finds the regions with new events (every poll, a few times "
        "a second when idle); a read without locks, then each region's work is routed",
    ),
    CrossRegion(
        dispatcher.REGIONS_DUE,
        "the webhook sender finds the regions with due deliveries; a read without locks, "
        "then each region's claim (FOR UPDATE SKIP LOCKED) is routed to its shard",
    ),
    CrossRegion(
        ingest.REGIONS_WITH_PENDING,
        "the retry of pending inspections (accepted while the registry was down) finds the "
        "regions that have some; a read without locks, then each claim is routed",
    ),
    CrossRegion(
        dispatcher.PENDING_STATS,
        "the service's /metrics gauges (deliveries pending, oldest pending event) are about "
        "every region; read every few seconds, without locks",
    ),
)


def _region_columns() -> dict[str, str]:
    """Tables whose rows name a region, and the column that does."""
    columns = {"regions": "id"}
    for table in Base.metadata.sorted_tables:
        if DISTRIBUTION_COLUMN in table.c:
            columns[table.name] = DISTRIBUTION_COLUMN
    return columns


_REGION_COLUMNS = _region_columns()


def tenant_tables() -> frozenset[str]:
    """Every model table with a ``region_id`` column that is not a reference table."""
    return frozenset(
        table.name
        for table in Base.metadata.sorted_tables
        if DISTRIBUTION_COLUMN in table.c and table.name not in REFERENCE_TABLES
    )


@dataclass(frozen=True)
class Problem:
    """Why one statement would not be routed to one shard."""

    table: str
    reason: str

    def __str__(self) -> str:
        return f"{self.table}: {self.reason}"


def problems(sql: str, tenants: Iterable[str] | None = None) -> list[Problem]:
    """What keeps ``sql`` from being routed to one shard (empty: it can be)."""
    checker = _Checker(frozenset(tenants) if tenants is not None else tenant_tables())
    for raw in parse_sql(sql):
        checker.statement(raw.stmt)
    return checker.found


# --- the walk -----------------------------------------------------------------------------

_PINNED = "<one region value>"


class _Classes:
    """Union-find over region terms: a column ``(scope, alias)`` or the one value ``_PINNED``."""

    def __init__(self) -> None:
        self.parent: dict[object, object] = {}

    def find(self, term: object) -> object:
        self.parent.setdefault(term, term)
        while self.parent[term] != term:
            self.parent[term] = self.parent[self.parent[term]]
            term = self.parent[term]
        return term

    def union(self, a: object, b: object) -> None:
        self.parent[self.find(a)] = self.find(b)

    def pinned(self, term: object) -> bool:
        return self.find(term) == self.find(_PINNED)


@dataclass
class _Scope:
    """One query level: what its FROM names, and which of its region columns are pinned."""

    outer: _Scope | None
    # alias -> tenant table name, for tenant tables in this level's FROM (each must be pinned)
    tenants: dict[str, str] = field(default_factory=dict)
    # alias -> the column naming its region, for other tables that have one
    # (``regions.id``, a reference table's ``region_id``): they carry a pin, need none
    carriers: dict[str, str] = field(default_factory=dict)
    # alias -> whether that derived table / CTE exposes a pinned region_id
    derived: dict[str, bool] = field(default_factory=dict)
    # every alias named in this level's FROM (tables of any kind, functions, subqueries)
    names: set[str] = field(default_factory=set)
    classes: _Classes = field(default_factory=_Classes)
    # LATERAL sub-selects, checked once this level's own pins are known
    laterals: list[ast.Node] = field(default_factory=list)

    def resolve(self, ref: ast.ColumnRef) -> object | None:
        """The region term a column reference stands for, or None if it names no region."""
        fields = [f.sval for f in ref.fields if isinstance(f, ast.String)]
        if not fields:
            return None
        column, qualifier = fields[-1], (fields[-2] if len(fields) >= 2 else None)
        scope: _Scope | None = self
        while scope is not None:
            term = scope._term(qualifier, column)
            if term is not None:
                if scope is self:
                    return term
                # A correlated reference: pinned if the outer level pinned it.
                return _PINNED if scope.classes.pinned(term) else ("outer", id(scope), term)
            if qualifier is not None and qualifier in scope.names:
                return None  # some other column of a table of this level
            scope = scope.outer
        return None

    def _term(self, qualifier: str | None, column: str) -> object | None:
        if qualifier is None:
            if column != DISTRIBUTION_COLUMN:
                return None
            candidates = [
                *self.tenants,
                *(a for a, c in self.carriers.items() if c == DISTRIBUTION_COLUMN),
                *self.derived,
            ]
            if len(candidates) != 1:
                return None
            qualifier = candidates[0]
        if qualifier in self.tenants or qualifier in self.derived:
            if column != DISTRIBUTION_COLUMN:
                return None
            if qualifier in self.derived and self.derived[qualifier]:
                return _PINNED
            return (id(self), qualifier)
        if self.carriers.get(qualifier) == column:
            return (id(self), qualifier)
        return None


def _alias_of(node: ast.RangeVar) -> str:
    return node.alias.aliasname if node.alias else node.relname


def _is_value(node: ast.Node | None) -> bool:
    """A single value known before the query runs: a parameter or a literal (maybe cast)."""
    while isinstance(node, ast.TypeCast):
        node = node.arg
    return isinstance(node, ast.ParamRef | ast.A_Const)


def _strip_casts(node: ast.Node | None) -> ast.Node | None:
    while isinstance(node, ast.TypeCast):
        node = node.arg
    return node


def _conjuncts(node: ast.Node | None) -> Iterator[ast.Node]:
    if node is None:
        return
    if isinstance(node, ast.BoolExpr) and node.boolop == BoolExprType.AND_EXPR:
        for arg in node.args:
            yield from _conjuncts(arg)
    else:
        yield node


def _sublinks(node: object) -> Iterator[ast.SubLink]:
    """Sub-selects inside an expression (not descending into them)."""
    if isinstance(node, ast.SubLink):
        yield node
        return
    if isinstance(node, tuple | list):
        for item in node:
            yield from _sublinks(item)
        return
    if isinstance(node, ast.Node):
        if isinstance(node, ast.SelectStmt | ast.RangeSubselect | ast.CommonTableExpr):
            return
        for name in node:
            yield from _sublinks(getattr(node, name))


class _Checker:
    def __init__(self, tenants: frozenset[str]) -> None:
        self.tenants = tenants
        self.found: list[Problem] = []
        # CTE name -> whether it exposes a pinned region_id (innermost WITH last)
        self.ctes: list[dict[str, bool]] = []

    def report(self, table: str, reason: str) -> None:
        problem = Problem(table, reason)
        if problem not in self.found:
            self.found.append(problem)

    # statements

    def statement(self, node: ast.Node, outer: _Scope | None = None) -> bool:
        """Check one statement; True when it exposes a pinned ``region_id`` (for CTEs)."""
        if isinstance(node, ast.SelectStmt):
            return self.select(node, outer)
        if isinstance(node, ast.InsertStmt):
            self.insert(node, outer)
        elif isinstance(node, ast.UpdateStmt):
            self.modify(node, outer, node.fromClause, node.targetList)
        elif isinstance(node, ast.DeleteStmt):
            self.modify(node, outer, node.usingClause, None)
        elif isinstance(node, ast.MergeStmt):
            self.merge(node, outer)
        return False

    def with_clause(self, clause: ast.WithClause | None, outer: _Scope | None) -> None:
        frame: dict[str, bool] = {}
        self.ctes.append(frame)
        for cte in (clause.ctes if clause else None) or ():
            frame[cte.ctename] = False  # a recursive CTE meets itself unpinned
            frame[cte.ctename] = self.statement(cte.ctequery, outer)

    def cte_pinned(self, name: str) -> bool | None:
        for frame in reversed(self.ctes):
            if name in frame:
                return frame[name]
        return None

    def select(self, node: ast.SelectStmt, outer: _Scope | None) -> bool:
        self.with_clause(node.withClause, outer)
        try:
            if node.op and node.op.value != 0:  # UNION / INTERSECT / EXCEPT
                left = self.select(node.larg, outer)
                right = self.select(node.rarg, outer)
                return left and right
            scope = _Scope(outer)
            quals: list[ast.Node] = []
            for item in node.fromClause or ():
                self.from_item(item, scope, quals)
            quals.extend(_conjuncts(node.whereClause))
            self.settle(scope, quals)
            for row in node.valuesLists or ():
                self.subqueries(row, scope)
            self.subqueries(
                (
                    node.targetList,
                    node.whereClause,
                    node.havingClause,
                    node.groupClause,
                    node.sortClause,
                ),
                scope,
            )
            return self.exposes_pinned_region(node, scope)
        finally:
            self.ctes.pop()

    def insert(self, node: ast.InsertStmt, outer: _Scope | None) -> None:
        self.with_clause(node.withClause, outer)
        try:
            table = node.relation.relname
            source = node.selectStmt
            if table not in self.tenants:
                if source is not None:
                    self.statement(source, outer)
                return
            columns = [target.name for target in node.cols or ()]
            if columns and DISTRIBUTION_COLUMN not in columns:
                self.report(table, "INSERT without region_id")
            elif isinstance(source, ast.SelectStmt) and source.valuesLists:
                position = columns.index(DISTRIBUTION_COLUMN) if columns else None
                for row in source.valuesLists:
                    if position is not None and not _is_value(row[position]):
                        self.report(table, "INSERT whose region_id is not a single value")
                self.subqueries(source.valuesLists, _Scope(outer))
            elif source is not None:
                # INSERT … SELECT: every tenant table the SELECT reads is pinned.
                self.statement(source, outer)
            self.on_conflict(table, node.onConflictClause, outer)
        finally:
            self.ctes.pop()

    def on_conflict(self, table: str, clause: ast.OnConflictClause | None, outer) -> None:
        if clause is None:
            return
        infer = clause.infer
        if infer is not None and infer.indexElems:
            names = {elem.name for elem in infer.indexElems}
            if DISTRIBUTION_COLUMN not in names:
                self.report(table, "ON CONFLICT on a unique key without region_id")
        scope = _Scope(outer)
        scope.tenants[table] = table
        scope.classes.union((id(scope), table), _PINNED)
        self.subqueries((clause.targetList, clause.whereClause), scope)

    def modify(self, node, outer, from_items, targets) -> None:
        """UPDATE / DELETE: the target and any FROM / USING table pinned by WHERE."""
        self.with_clause(node.withClause, outer)
        try:
            scope = _Scope(outer)
            quals: list[ast.Node] = []
            self.from_item(node.relation, scope, quals)
            for item in from_items or ():
                self.from_item(item, scope, quals)
            quals.extend(_conjuncts(node.whereClause))
            self.settle(scope, quals)
            table = node.relation.relname
            if table in self.tenants:
                for target in targets or ():
                    if target.name == DISTRIBUTION_COLUMN:
                        self.report(table, "UPDATE sets region_id (it cannot change on Citus)")
            self.subqueries((targets, node.whereClause, node.returningClause), scope)
        finally:
            self.ctes.pop()

    def merge(self, node: ast.MergeStmt, outer: _Scope | None) -> None:
        self.with_clause(node.withClause, outer)
        try:
            scope = _Scope(outer)
            quals: list[ast.Node] = []
            self.from_item(node.relation, scope, quals)
            self.from_item(node.sourceRelation, scope, quals)
            quals.extend(_conjuncts(node.joinCondition))
            self.settle(scope, quals)
            self.subqueries((node.joinCondition, node.mergeWhenClauses), scope)
        finally:
            self.ctes.pop()

    # FROM items and qualifications

    def from_item(self, item: ast.Node, scope: _Scope, quals: list[ast.Node]) -> None:
        if isinstance(item, ast.RangeVar):
            alias = _alias_of(item)
            scope.names.add(alias)
            cte = self.cte_pinned(item.relname) if item.schemaname is None else None
            if cte is not None:
                scope.derived[alias] = cte
            elif item.relname in self.tenants:
                scope.tenants[alias] = item.relname
            elif item.relname in _REGION_COLUMNS:
                scope.carriers[alias] = _REGION_COLUMNS[item.relname]
        elif isinstance(item, ast.JoinExpr):
            self.from_item(item.larg, scope, quals)
            self.from_item(item.rarg, scope, quals)
            quals.extend(_conjuncts(item.quals))
            for column in item.usingClause or ():
                if column.sval == DISTRIBUTION_COLUMN:
                    self.report("JOIN", "USING (region_id): name both sides' region_id instead")
        elif isinstance(item, ast.RangeSubselect):
            alias = item.alias.aliasname if item.alias else "?"
            scope.names.add(alias)
            if item.lateral:
                # It sees this level: checked once this level's pins are known (settle).
                scope.derived[alias] = False
                scope.laterals.append(item.subquery)
            else:
                scope.derived[alias] = self.statement(item.subquery, scope.outer)
        elif isinstance(item, ast.RangeFunction):
            if item.alias:
                scope.names.add(item.alias.aliasname)
            self.subqueries(item.functions, scope)

    def settle(self, scope: _Scope, quals: list[ast.Node]) -> None:
        """Union the region terms every equality joins, then report unpinned tenant tables."""
        for qual in quals:
            for left, right in self._equalities(qual):
                terms = []
                for side in (left, right):
                    side = _strip_casts(side)
                    if _is_value(side):
                        terms.append(_PINNED)
                    elif isinstance(side, ast.ColumnRef):
                        terms.append(scope.resolve(side))
                    else:
                        terms.append(None)
                if None not in terms:
                    scope.classes.union(terms[0], terms[1])
        for alias, table in scope.tenants.items():
            if not scope.classes.pinned((id(scope), alias)):
                name = table if alias == table else f"{table} (as {alias})"
                self.report(name, "not filtered on one region_id value")
        for subquery in scope.laterals:
            self.statement(subquery, scope)

    def _equalities(self, qual: ast.Node) -> Iterator[tuple[ast.Node, ast.Node]]:
        if not isinstance(qual, ast.A_Expr):
            return
        operator = [n.sval for n in qual.name] if qual.name else []
        if operator != ["="]:
            return
        if qual.kind == A_Expr_Kind.AEXPR_OP:
            left, right = qual.lexpr, qual.rexpr
            if isinstance(left, ast.RowExpr) and isinstance(right, ast.RowExpr):
                yield from zip(left.args, right.args, strict=False)
            else:
                yield left, right
        elif qual.kind == A_Expr_Kind.AEXPR_IN and len(qual.rexpr) == 1:
            # x IN (v) is x = v; with two or more values it reaches several shards.
            (only,) = qual.rexpr
            if isinstance(qual.lexpr, ast.RowExpr) and isinstance(only, ast.RowExpr):
                yield from zip(qual.lexpr.args, only.args, strict=False)
            else:
                yield qual.lexpr, only

    def subqueries(self, node: object, scope: _Scope) -> None:
        for link in _sublinks(node):
            self.statement(link.subselect, scope)

    def exposes_pinned_region(self, node: ast.SelectStmt, scope: _Scope) -> bool:
        """Whether this SELECT has a ``region_id`` output column holding its one region."""
        for target in node.targetList or ():
            value = _strip_casts(target.val)
            if isinstance(value, ast.ColumnRef):
                names = [f.sval for f in value.fields if isinstance(f, ast.String)]
                output = target.name or (names[-1] if names else None)
                if output == DISTRIBUTION_COLUMN:
                    term = scope.resolve(value)
                    return term is not None and scope.classes.pinned(term)
            elif value is not None and _is_value(value) and target.name == DISTRIBUTION_COLUMN:
                return True
        return False
