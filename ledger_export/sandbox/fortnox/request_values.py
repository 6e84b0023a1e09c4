"""Reading what a client sends: query parameters, JSON bodies, amounts and dates, refused as Fortnox refuses them."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import simplejson
from flask import request

from ledger_export.core.money import parse_amount
from ledger_export.sandbox.fortnox.errors import (
    BAD_JSON, INVALID_CONTENT_TYPE, INVALID_DATE, NO_DATA, VALUE_NOT_NUMERIC, FortnoxError, bad_request,
    invalid_field, invalid_parameter, required)

MAX_LIMIT = 500  # Fortnox: Parameters > Pagination (limit 1-500, default 100)


def json_body(wrapper: str) -> dict[str, Any]:
    """The object inside ``{"<wrapper>": {...}}``; amounts keep their digits (Decimal)."""
    if request.mimetype != "application/json":
        raise FortnoxError(400, INVALID_CONTENT_TYPE, "Invalid content type")
    try:
        body = simplejson.loads(request.get_data(as_text=True) or "null", use_decimal=True)
    except ValueError:
        raise bad_request(BAD_JSON, "Error deserializing JSON: JSON_ERROR_SYNTAX") from None
    inner = body.get(wrapper) if isinstance(body, dict) else None
    if not isinstance(inner, dict):
        raise bad_request(NO_DATA, "Ingen eller felaktig typ av data.")
    return inner


def check_fields(given: Mapping[str, Any], writable: Iterable[str], read_only: Iterable[str] = ()) -> None:
    """Unknown field names are refused; read-only ones Fortnox sets itself are ignored."""
    known = set(writable) | set(read_only) | {"@url"}
    for name in given:
        if name not in known:
            raise invalid_field(name)


def text(given: Mapping[str, Any], name: str, *, needed: bool = False) -> str:
    value = given.get(name)
    if value is None or value == "":
        if needed:
            raise required(name)
        return ""
    return str(value)


def amount(given: Mapping[str, Any], name: str) -> Decimal:
    value = given.get(name, 0)
    if isinstance(value, str):
        try:
            value = Decimal(value)
        except ArithmeticError:
            raise bad_request(VALUE_NOT_NUMERIC, f"Värdet måste vara numeriskt ({value})") from None
    try:
        return parse_amount(0 if value is None else value)
    except ValueError:
        raise bad_request(VALUE_NOT_NUMERIC, f"Värdet måste vara numeriskt ({value})") from None


def day(value: object, name: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise bad_request(INVALID_DATE, f"Felaktigt datumformat i fältet {name} ({value}).") from None


def integer(value: object, name: str) -> int:
    if isinstance(value, bool):
        raise bad_request(VALUE_NOT_NUMERIC, f"Värdet måste vara numeriskt ({value})")
    try:
        return int(str(value))
    except ValueError:
        raise bad_request(VALUE_NOT_NUMERIC, f"Värdet måste vara numeriskt ({value})") from None


def query_int(name: str) -> int | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if not value.isascii() or not value.isdigit():
        raise invalid_parameter(name)
    return int(value)


def query_day(name: str) -> date | None:
    value = request.args.get(name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise invalid_parameter(name) from None


def page(items: list[Any], plural: str) -> dict[str, Any]:
    """One page of a list answer with Fortnox's MetaInformation (recorded shape)."""
    limit = query_int("limit") or 100
    number = query_int("page") or 1
    offset = query_int("offset") or 0
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid_parameter("limit")
    items = items[offset:]
    pages = math.ceil(len(items) / limit)
    start = (number - 1) * limit
    return {"MetaInformation": {"@TotalResources": len(items), "@TotalPages": pages, "@CurrentPage": number},
            plural: items[start:start + limit]}
