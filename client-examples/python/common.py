"""What recorder.py and trading.py share: where the server is, and its schema with money as
`decimal.Decimal`."""

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from gql.utilities import update_schema_scalar
from graphql import GraphQLScalarType, GraphQLSchema, build_schema


def base_url() -> str:
    """`ZEBRAT_URL`, default `http://localhost:8000`."""
    return os.environ.get("ZEBRAT_URL", "http://localhost:8000").rstrip("/")


def http_url() -> str:
    return f"{base_url()}/graphql"


def ws_url() -> str:
    """graphql-ws (the graphql-transport-ws protocol) at `/graphql/ws`."""
    return http_url().replace("http", "ws", 1) + "/ws"


# The schema the documents are checked against before they are sent: `ZEBRAT_SCHEMA`, or the
# repository's schema/schema.graphql (`zebrat export-schema` prints it).
SCHEMA_FILE = Path(
    os.environ.get("ZEBRAT_SCHEMA", Path(__file__).resolve().parent.parent.parent / "schema" / "schema.graphql")
)


def _parse_decimal(value: Any) -> Decimal:
    if not isinstance(value, str):
        raise TypeError(f"Decimal must be a string, got {value!r}")
    return Decimal(value)


def _serialize_decimal(value: Any) -> str:
    return str(Decimal(value))


def load_schema() -> GraphQLSchema:
    """The schema, with `Decimal` (money, e.g. `"189.50"`) parsed into `decimal.Decimal` and
    sent back as a string: no float ever touches an amount."""
    schema = build_schema(SCHEMA_FILE.read_text())
    money = GraphQLScalarType(
        name="Decimal",
        serialize=_serialize_decimal,
        parse_value=_parse_decimal,
    )
    update_schema_scalar(schema, "Decimal", money)
    return schema
