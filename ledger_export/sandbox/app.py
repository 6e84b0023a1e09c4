"""The sandbox's Eve application on an in-memory MongoDB (mongomock).

Eve does the paging, ``where``/``sort``/``projection``, validation and error
bodies exactly as Amili's Eve API does; the sandbox adds only what Amili
adds around it: the API-key check, the API-code login and the media route.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mongomock
from eve import Eve
from eve.io.mongo import Mongo
from flask import Response, abort

from ledger_export.sandbox import auth

from ledger_export.sandbox import domain

from ledger_export.sandbox import payments

DB_NAME = "amili_sandbox"


@dataclass(frozen=True)
class _Handle:
    """What Eve's Mongo layer expects from PyMongo: ``.db`` and ``.cx``."""

    db: mongomock.Database[dict[str, Any]]
    cx: mongomock.MongoClient[dict[str, Any]]


class MockMongo(Mongo):
    """Eve's Mongo data layer, served by the app's mongomock database instead of a server."""

    def pymongo(self, resource: str | None = None, prefix: str | None = None) -> _Handle:
        # Eve resets this after each lookup; keep that contract.
        self.mongo_prefix = None
        handle: _Handle = self.app.sandbox_mongo
        return handle


def settings(page_limit: int, extra_fields: dict[str, set[str]] | None = None) -> dict[str, Any]:
    return {
        "DOMAIN": domain.domain(extra_fields),
        "MONGO_DBNAME": DB_NAME,
        "PAGINATION_DEFAULT": min(25, page_limit),
        # Eve caps a larger max_results at this silently, as Amili does at 100.
        "PAGINATION_LIMIT": page_limit,
        "DATE_FORMAT": "%a, %d %b %Y %H:%M:%S GMT",
        # Amili's POST answer carries only the meta fields.
        "BANDWIDTH_SAVER": True,
        "MONGO_QUERY_BLACKLIST": ["$where", "$regex"],
    }


def create_app(db: mongomock.Database[dict[str, Any]], *, tokens: auth.Tokens, api_code: auth.ApiCode,
               media: dict[str, bytes], page_limit: int = 100,
               extra_fields: dict[str, set[str]] | None = None) -> Eve:
    app = Eve(settings=settings(page_limit, extra_fields), data=MockMongo, auth=auth.ApiKeyAuth,
              validator=payments.PaymentValidator)
    app.sandbox_mongo = _Handle(db, db.client)
    app.sandbox_tokens = tokens
    app.sandbox_api_code = api_code
    app.sandbox_media = media
    app.on_insert += payments.on_insert
    app.on_post_POST += payments.on_post_post
    app.add_url_rule("/authenticates/api-code", "api_code", auth.api_code_view, methods=["GET", "POST"])
    app.add_url_rule("/media/<file_id>", "media", media_view, methods=["GET"])
    return app


def media_view(file_id: str) -> Response:
    """Eve's default media endpoint shape: the bytes of one stored file."""
    auth.require_key()
    pdf = auth.sandbox_app().sandbox_media.get(file_id)
    if pdf is None:
        abort(404)
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{file_id}.pdf"'})
