"""Inbox, archive and voucher file connections (scopes inbox, archive, connectfile).

Fortnox API reference: Inbox (upload ``POST /3/inbox?path=inbox_v`` or
``?folderid=inbox_v``, multipart field ``Filedata`` with the file name, as
softwerkab's SDK sends it; answer ``{"File": {Id, Name, Path, Size,
ArchiveFileId, ...}}``; ``GET /3/inbox/{folder}`` or ``?path=`` lists a
folder, ``GET /3/inbox/{file id}`` streams the file), Archive (``GET
/3/archive/{id}`` or ``?fileid=``), Voucher File Connections (``POST
{"VoucherFileConnection": {FileId, VoucherSeries, VoucherNumber}}``,
VoucherYear or ``?financialyear=`` naming the year, else the current one;
list filters ``voucherseries``, ``vouchernumber``, ``voucheryear``).
The scope for voucher file connections is ``connectfile`` ("File
Connection"): the Scopes table's row for it is not in the stored page; the
Apideck connector's scope list and an integrator's report of 403s on
/voucherfileconnections without it say so.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request

from ledger_export.sandbox.fortnox import request_values as rv
from ledger_export.sandbox.fortnox.context import api_url, ctx, lose_answer_if_armed
from ledger_export.sandbox.fortnox.documents import INBOX_FOLDERS, Connection, StoredFile
from ledger_export.sandbox.fortnox.errors import (
    FILE_ALREADY_CONNECTED, FILE_NOT_FOUND, NO_DATA, VOUCHER_NOT_FOUND, bad_request, invalid_parameter,
    not_found, required)

CONNECTION_FIELDS = ("FileId", "VoucherNumber", "VoucherSeries", "VoucherYear")
CONNECTION_READ_ONLY = ("Name", "VoucherDescription")


def _folder_json(folder: str) -> dict[str, Any]:
    files = ctx().company.documents.in_folder(folder)
    name = INBOX_FOLDERS.get(folder, "Inbox")
    tenant = ctx().company.info.database_number
    answer = {"@url": f"{api_url()}/inbox/{folder}", "Email": f"{folder}.{tenant}@arkivplats.example",
              "Files": [f.to_json(api_url()) for f in files], "Folders": [], "Id": folder, "Name": name}
    if folder == "root":
        answer["Folders"] = [{"@url": f"{api_url()}/inbox/{k}", "Id": k, "Name": v} for k, v in INBOX_FOLDERS.items()]
    return {"Folder": answer}


def _file_response(stored: StoredFile) -> Response:
    return Response(stored.content, mimetype="application/pdf" if stored.name.lower().endswith(".pdf")
                    else "application/octet-stream")


def inbox_root() -> dict[str, Any] | Response:
    path = request.args.get("path")
    return inbox_item(path) if path else _folder_json("root")


def inbox_item(item: str) -> dict[str, Any] | Response:
    if item == "root" or item in INBOX_FOLDERS:
        return _folder_json(item)
    stored = ctx().company.documents.file(item)
    if stored is None or stored.folder == "archive":  # a connected file has left the inbox
        raise not_found(FILE_NOT_FOUND, "Kan inte hitta filen.")
    return _file_response(stored)


def upload() -> tuple[dict[str, Any], int]:
    folder = request.args.get("folderid") or request.args.get("path") or "root"
    if folder not in INBOX_FOLDERS and folder != "root":
        raise invalid_parameter("path")
    sent = request.files.get("Filedata")
    if sent is None or not sent.filename:
        raise bad_request(NO_DATA, "Ingen eller felaktig typ av data.")
    content = sent.read()
    if not content:
        raise bad_request(NO_DATA, "Ingen eller felaktig typ av data.")
    stored = ctx().company.documents.upload(sent.filename, content, "inbox" if folder == "root" else folder)
    lose_answer_if_armed("file")
    return {"File": stored.to_json(api_url())}, 201


def archive_file(file_id: str | None = None) -> Response:
    wanted = file_id or request.args.get("fileid")
    stored = ctx().company.documents.file(wanted) if wanted else None
    if stored is None:
        raise not_found(FILE_NOT_FOUND, "Kan inte hitta filen.")
    return _file_response(stored)


def connections() -> dict[str, Any]:
    found = ctx().company.documents.connections
    for name, attribute in (("voucherseries", "voucher_series"), ("vouchernumber", "voucher_number"),
                            ("voucheryear", "voucher_year")):
        wanted = request.args.get(name)
        if wanted:
            found = [c for c in found if str(getattr(c, attribute)) == wanted]
    return rv.page([c.to_json(api_url()) for c in found], "VoucherFileConnections")


def connection(file_id: str) -> dict[str, Any]:
    found = ctx().company.documents.connection(file_id)
    if found is None:
        raise not_found(FILE_NOT_FOUND, "Kan inte hitta kopplingen.")
    return {"VoucherFileConnection": found.to_json(api_url())}


def connect() -> tuple[dict[str, Any], int]:
    given = rv.json_body("VoucherFileConnection")
    rv.check_fields(given, CONNECTION_FIELDS, CONNECTION_READ_ONLY)
    file_id = rv.text(given, "FileId", needed=True)
    series = rv.text(given, "VoucherSeries", needed=True)
    if given.get("VoucherNumber") in (None, ""):
        raise required("VoucherNumber")
    number = rv.integer(given["VoucherNumber"], "VoucherNumber")
    books = ctx().company.books
    if given.get("VoucherYear") not in (None, ""):
        year = rv.integer(given["VoucherYear"], "VoucherYear")
    else:
        year = rv.query_int("financialyear") or books.current_year(ctx().today()).id
    documents = ctx().company.documents
    stored = documents.file(file_id)
    if stored is None:
        raise bad_request(FILE_NOT_FOUND, "Kan inte hitta filen.")
    if stored.folder == "archive":
        raise bad_request(FILE_ALREADY_CONNECTED, "Filen är redan kopplad.")
    voucher = books.find_voucher(series, number, year)
    if voucher is None:
        raise bad_request(VOUCHER_NOT_FOUND, f"Kan inte hitta verifikationen {series}{number}.")
    stored.folder = "archive"  # connected files leave the inbox
    made = Connection(file_id, stored.name, series, number, year, voucher.description)
    documents.connections.append(made)
    lose_answer_if_armed("connection")
    return {"VoucherFileConnection": made.to_json(api_url())}, 201


def register(app: Flask) -> None:
    app.add_url_rule("/3/inbox", view_func=inbox_root)
    app.add_url_rule("/3/inbox", view_func=upload, methods=["POST"], endpoint="upload")
    app.add_url_rule("/3/inbox/<item>", view_func=inbox_item)
    app.add_url_rule("/3/archive", view_func=archive_file)
    app.add_url_rule("/3/archive/<file_id>", view_func=archive_file, endpoint="archive_by_id")
    app.add_url_rule("/3/voucherfileconnections", view_func=connections)
    app.add_url_rule("/3/voucherfileconnections", view_func=connect, methods=["POST"], endpoint="connect")
    app.add_url_rule("/3/voucherfileconnections/<file_id>", view_func=connection)
