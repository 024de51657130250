"""Statements run on the database driver's own cursor, for a hot path where SQLAlchemy's execution
machinery costs more than the statements themselves.

A new youth's enrollment is three statements (the checks' lookup and two inserts) and a commit:
on a SQLite file about 0.3 ms of work, and as much again for SQLAlchemy's connection, transaction
and per-statement bookkeeping around them (issue 8). A :class:`DriverStatement` is compiled once
for an engine's dialect and then handed straight to the driver; its parameters go through the
column types' own bind processors and a query's columns through their result processors, so what
is written and read back is exactly what SQLAlchemy writes and reads. A driver's error is raised
as SQLAlchemy's own (``IntegrityError``, ``OperationalError``: "database is locked"), so callers
handle it as they would any other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, MultipleResultsFound, NoResultFound
from sqlalchemy.sql import Insert, Select

Processor = Callable[[Any], Any] | None


class DriverStatement:
    """``statement`` compiled once for ``dialect``: an INSERT of every column of its table, or a
    SELECT whose columns are read with their types' result processors."""

    def __init__(self, statement: Insert | Select[Any], dialect: Dialect) -> None:
        if isinstance(statement, Insert):
            keys = [column.key for column in statement.table.columns]
            compiled = statement.compile(dialect=dialect, column_keys=keys)
            self.results: list[tuple[str, Processor]] = []
        else:
            compiled = statement.compile(dialect=dialect)
            self.results = [
                (str(column.key), column.type.dialect_impl(dialect).result_processor(dialect, None))
                for column in statement.selected_columns
            ]
        self.dialect = dialect
        self.sql = compiled.string
        # Each placeholder: the name its value is given by (a value bound in the statement itself
        # has none), that value, and the type's bind processor. Positional drivers (SQLite's
        # ``?``) take the values in order, a name once for each place it appears; named ones
        # (psycopg's ``%(name)s``) by name.
        by_name = {name: bind for bind, name in compiled.bind_names.items()}
        self.positional = compiled.positiontup is not None
        names = compiled.positiontup if compiled.positiontup is not None else list(by_name)
        self.binds: list[tuple[str, str | None, Any, Processor]] = []
        for name in names:
            bind = by_name[name]
            given = bind.key if bind.required else None
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            bound = bind.effective_value if given is None else None
            self.binds.append((name, given, bound, process))

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        processed = []
        for name, given, bound, process in self.binds:
            value = bound if given is None else values[given]
            processed.append((name, value if process is None else process(value)))
        if self.positional:
            return [value for _, value in processed]
        return dict(processed)

    def execute(self, cursor: Any, values: Mapping[str, Any]) -> None:
        parameters = self.parameters(values)
        with translated(self.dialect, self.sql, parameters):
            cursor.execute(self.sql, parameters)

    def one(self, cursor: Any, values: Mapping[str, Any]) -> dict[str, Any]:
        """The query's one row (more or none is an error, as SQLAlchemy's ``one()``), its values
        by column key as SQLAlchemy reads them."""
        parameters = self.parameters(values)
        with translated(self.dialect, self.sql, parameters):
            cursor.execute(self.sql, parameters)
            rows = cursor.fetchmany(2)
        if len(rows) != 1:
            raise NoResultFound(self.sql) if not rows else MultipleResultsFound(self.sql)
        return {
            key: value if process is None else process(value)
            for (key, process), value in zip(self.results, rows[0], strict=True)
        }


@contextmanager
def translated(dialect: Dialect, sql: str, parameters: Any) -> Iterator[None]:
    """A driver's error raised as SQLAlchemy's exception for it (the driver's as its cause)."""
    driver_error = dialect.loaded_dbapi.Error
    try:
        yield
    except driver_error as error:
        raise DBAPIError.instance(sql, parameters, error, driver_error, dialect=dialect) from error


@contextmanager
def driver_transaction(engine: Engine) -> Iterator[Any]:
    """A cursor of one of ``engine``'s pooled connections, committed when the block ends and
    rolled back when it fails (the pool rolls back what a returned connection left open)."""
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        try:
            yield cursor
        finally:
            cursor.close()
        with translated(engine.dialect, "COMMIT", None):
            connection.commit()
    finally:
        connection.close()
