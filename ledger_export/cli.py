"""Command line: parses arguments, calls the library, turns LedgerExportError into an exit code.

Exit codes: 0 ok, 1 a problem the user can fix (message on stderr), 2 bad
usage, 3 the books do not reconcile (errors, or warnings under --strict),
4 payouts of the period were exported before (use --only-new or --force),
5 another run is using the same output folder.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger_export.core.version import __version__
from ledger_export.core.errors import LedgerExportError

if TYPE_CHECKING:  # each command imports its modules when it runs; these names only annotate
    from ledger_export.core.period import Period
    from ledger_export.core.progress import Progress
    from ledger_export.jobs.config import Config
    from ledger_export.jobs.fortnox_books import FortnoxBooks
    from ledger_export.jobs.export import GenerationChoice

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_STRICT, EXIT_EXPORTED_BEFORE, EXIT_LOCKED = 0, 1, 2, 3, 4, 5


def _add_output_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quiet", "-q", action="store_true", help="no progress and no summary, only errors")
    p.add_argument("--verbose", "-v", action="store_true",
                   help="log every request made to Amili (never the token)")


def _add_config_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", "-c", metavar="FILE",
                   help="configuration file (default: ledger-export.toml here, if present)")


def _add_source_flags(p: argparse.ArgumentParser) -> None:
    _add_config_flag(p)
    p.add_argument("--creditor", metavar="ID", help="Amili creditor id (overrides [amili] creditor)")
    p.add_argument("--base-url", metavar="URL", help="Amili API base URL (overrides [amili] base_url)")
    p.add_argument("--out", metavar="DIR", help="output root folder (overrides [output] folder)")


def _add_period_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("period (give one)")
    g.add_argument("--period", metavar="YYYY-MM", help="a calendar month, e.g. 2025-06")
    g.add_argument("--quarter", metavar="YYYYQn", help="a calendar quarter, e.g. 2025Q2")
    g.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="first day of a date range")
    g.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="last day of a date range")


def _names(text: str) -> tuple[str, ...]:
    """``sie,workbook`` as names; whether each is an output is the registry's to say (plugins count)."""
    return tuple(name.strip() for name in text.split(","))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ledger-export",
        description="Turn a month of Amili payouts into bookkeeping for Fortnox and Visma.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("demo", help="run the whole job on the bundled sample period (no network, no key)",
                       description="Start the bundled Amili sandbox in-process and run the monthly job "
                                   "for June 2025 against it over HTTP. Needs no network and no API key.")
    p.add_argument("--out", metavar="DIR", default="demo",
                   help="the demo's own folder (default: demo); a folder holding real books is refused")
    p.add_argument("--to", choices=("sie", "fortnox"), default="sie",
                   help="fortnox: also start the bundled Fortnox sandbox, post the month into it (each run "
                        "into a fresh demo/fortnox-N folder) and show what it then holds")
    _add_output_flags(p)
    p.set_defaults(handler=_cmd_demo)

    p = sub.add_parser("export", help="book a period: SIE 4 import file, workbook, self-invoices, manifest",
                       description="Fetch a period from Amili (or read a raw snapshot), book one voucher "
                                   "per payout, reconcile payouts against their specification lines, "
                                   "and write <out>/<period>/ledger-<period>.si, the audit workbook, a "
                                   "text listing of the vouchers and the self-invoice PDFs (--outputs "
                                   "chooses), with the manifest and the raw snapshot beside them. Nothing "
                                   "is written when the books do not reconcile.")
    _add_period_flags(p)
    _add_source_flags(p)
    p.add_argument("--from-raw", metavar="DIR",
                   help="book from a raw snapshot folder instead of fetching (no network)")
    p.add_argument("--detail", choices=("account", "invoice"),
                   help="one line per account (default) or one per specification line with its invoice number")
    p.add_argument("--chart", metavar="FILE",
                   help="the company's SIE export from Fortnox/Visma: refuse accounts it lacks, take names from it")
    p.add_argument("--strict", action="store_true", help="treat reconciliation warnings as failures (exit 3)")
    p.add_argument("--gen-date", metavar="YYYY-MM-DD|today|input", default="input",
                   help="the #GEN date: a fixed date, today's date, or (default) the date of the newest "
                        "record fetched, so the same input gives the same bytes")
    p.add_argument("--dry-run", action="store_true", help="print the summary and the vouchers; write nothing")
    p.add_argument("--outputs", metavar="NAME,...", type=_names,
                   help="the outputs to write, by name: sie, workbook, vouchers (a text listing of the vouchers), "
                        "self-invoices (without it no PDF is downloaded or checked), and any an installed "
                        "plugin adds (default: all); the raw snapshot (raw) and the manifest are always "
                        "written. Without sie, the export register records the payouts against the manifest. "
                        "An unknown name is a usage error (exit 2) that lists the valid ones")
    again = p.add_mutually_exclusive_group()
    again.add_argument("--only-new", action="store_true",
                       help="export only payouts this output folder's register has not seen; skip the rest")
    again.add_argument("--force", action="store_true",
                       help="export again payouts that were exported before; the register keeps both exports")
    p.add_argument("--since-last", action="store_true",
                   help="fetch only payouts created since the last --since-last run of this period "
                        "(minus a day's overlap); implies --only-new unless --force")
    _add_output_flags(p)
    _add_export_target(p)
    p.set_defaults(handler=_cmd_export)

    p = sub.add_parser("init", help="write a commented starter configuration file",
                       description="Write a starter ledger-export.toml with every setting, its default "
                                   "and a comment on what it is for.")
    p.add_argument("path", nargs="?", default="ledger-export.toml", help="where to write it (default: ledger-export.toml)")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(handler=_cmd_init)

    p = sub.add_parser("payments", help="direct creditor payments: report payments debtors made to you",
                       description="Payments a debtor made straight to the creditor, which Amili must hear "
                                   "about so the case is settled.")
    payments = p.add_subparsers(dest="payments_command", metavar="ACTION", required=True)
    p = payments.add_parser("register", help="post the payments of a CSV file to Amili",
                            description="Post each row of FILE.csv to Amili as a creditor payment. Columns: "
                                        "invoice_number or case, amount, bank_transaction_date (YYYY-MM-DD), "
                                        "reference, optional currency (SEK). Amounts are read only when one "
                                        "reading is possible: 1234,50, 1234.50, 1 234,50, 1.234,50 and "
                                        "1,234.50 are read; 1,000 or 2.500 (thousands or decimals?) is "
                                        "refused: write 1000 or 1000,00. Every row is checked before "
                                        "anything is sent; rows whose reference Amili already has are "
                                        "skipped (each is asked again right before it is sent), so running "
                                        "the same file twice registers nothing twice. One run at a time per "
                                        "creditor: a second run is refused (exit 5) while another holds the "
                                        "lock file .ledger-export-payments-<creditor>.lock in the [output] "
                                        "folder. "
                                        "Exit 1 if any row needs attention (not registered for sure, a "
                                        "reference Amili holds for another payment or more than once, or "
                                        "settled with status error).")
    p.add_argument("file", metavar="FILE.csv", help="the payments (comma or semicolon separated, UTF-8)")
    p.add_argument("--dry-run", action="store_true", help="check the file and Amili's references; send nothing (takes no lock)")
    _add_config_flag(p)
    p.add_argument("--creditor", metavar="ID", help="Amili creditor id (overrides [amili] creditor)")
    p.add_argument("--base-url", metavar="URL", help="Amili API base URL (overrides [amili] base_url)")
    _add_output_flags(p)
    p.set_defaults(handler=_cmd_payments_register, out=None)

    p = sub.add_parser("register", help="the export register: show it, or rebuild a lost one",
                       description="The register (ledger-export-register.sqlite in the output folder) is the "
                                   "record of every payout booked, which stops a payout being booked twice.")
    actions = p.add_subparsers(dest="register_command", metavar="ACTION", required=True)
    p = actions.add_parser("show", help="list the runs, their status, files and payouts",
                           description="List every run in the register: period, mode, status (pending, exported, "
                                       "nothing new, abandoned), when it started, its files and payouts.")
    _add_config_flag(p)
    p.add_argument("--out", metavar="DIR", help="output root folder (overrides [output] folder)")
    p.add_argument("--period", metavar="LABEL", help="only this period's runs (e.g. 2025-06)")
    p.add_argument("--payouts", action="store_true", help="list each run's payouts too")
    p.set_defaults(handler=_cmd_register_show, creditor=None, base_url=None)
    p = actions.add_parser("rebuild", help="rebuild a missing or empty register from the periods' manifests",
                           description="Write the register again from the manifest.json files the exports left "
                                       "in the period folders. Refuses a register that still holds anything.")
    _add_config_flag(p)
    p.add_argument("--out", metavar="DIR", help="output root folder (overrides [output] folder)")
    p.set_defaults(handler=_cmd_register_rebuild, creditor=None, base_url=None)

    p = sub.add_parser("fetch", help="fetch a period from Amili into a raw snapshot only",
                       description="Fetch the payouts, specification lines and creditor payments of a "
                                   "period and save them as JSON in <out>/<period>/raw/ (raw-2/, raw-3/ ... "
                                   "when that exists: nothing already there is replaced).")
    _add_period_flags(p)
    _add_source_flags(p)
    _add_output_flags(p)
    p.set_defaults(handler=_cmd_fetch)

    p = sub.add_parser("sandbox", help="serve the bundled Amili (or, with --fortnox, Fortnox) sandbox on 127.0.0.1",
                       description="A real Eve application on an in-memory MongoDB, seeded with the "
                                   "sample period, for trying the tool and for tests. Binds 127.0.0.1 only. "
                                   "With --fortnox: a Fortnox company fitting the sample month instead "
                                   "(OAuth token endpoint, vouchers, inbox, invoices, payments).")
    p.add_argument("--fortnox", action="store_true", help="serve the Fortnox sandbox instead of Amili's")
    p.add_argument("--port", type=int, default=None,
                   help="port to listen on (default: 8765, with --fortnox 8766; 0 picks a free one)")
    p.add_argument("--data", metavar="DIR", help="seed data folder (default: the bundled samples)")
    p.add_argument("--latency", type=float, default=0.0, metavar="SECONDS", help="added latency per request")
    p.add_argument("--rate-limit-every", type=int, default=0, metavar="N",
                   help="answer every Nth request with 429 and Retry-After")
    p.add_argument("--error-every", type=int, default=0, metavar="N", help="answer every Nth request with 503")
    p.add_argument("--drop-every", type=int, default=0, metavar="N", help="drop the connection of every Nth request")
    p.set_defaults(handler=_cmd_sandbox)

    p = sub.add_parser("fortnox", help="the Fortnox connection: log in, check it, compare it with the register",
                       description="Set up and inspect the connection to Fortnox. The app's client id and "
                                   "secret come from the environment variables FORTNOX_CLIENT_ID and "
                                   "FORTNOX_CLIENT_SECRET, never from the configuration file.")
    fortnox = p.add_subparsers(dest="fortnox_command", metavar="ACTION", required=True)
    _add_fortnox_commands(fortnox)
    p = fortnox.add_parser("login", help="authorize ledger-export in Fortnox and store the tokens",
                           description="Print Fortnox's authorization address, wait on [fortnox] redirect_uri "
                                       "(127.0.0.1) for the answer, and store the tokens in [fortnox] token_file "
                                       "(mode 0600). With [fortnox] tenant_id set (a service account), this is "
                                       "only needed once, for the administrator's approval.")
    _add_config_flag(p)
    p.add_argument("--service-account", action="store_true",
                   help="ask for a service account (account_type=service; the company's administrator approves)")
    p.add_argument("--timeout", type=float, default=600.0, metavar="SECONDS",
                   help="how long to wait for the approval (default: 600)")
    p.set_defaults(handler=_cmd_fortnox_login, creditor=None, base_url=None, out=None)

    p = sub.add_parser("validate", help="check SIE files (ours or another program's) for import problems",
                       description="Read SIE 1-4 files and report, with line numbers, what would make an "
                                   "import into Fortnox or Visma fail or go wrong: encoding, missing or "
                                   "misplaced records, malformed fields, unbalanced vouchers, dates "
                                   "outside the fiscal year, undeclared accounts, #KSUMMA. "
                                   "Exit 0 when no file has an error, 1 otherwise.")
    p.add_argument("files", nargs="+", metavar="FILE", help="SIE file(s) to check")
    p.add_argument("--json", action="store_true", help="print the findings as JSON")
    p.set_defaults(handler=_cmd_validate)
    return parser


def _configure_logging(args: argparse.Namespace) -> None:
    level = logging.DEBUG if getattr(args, "verbose", False) else logging.WARNING
    logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr)


def _progress(args: argparse.Namespace) -> Progress:
    from ledger_export.core.progress import NoProgress, Progress

    return NoProgress() if getattr(args, "quiet", False) else Progress()


def _say(args: argparse.Namespace, text: str) -> None:
    from ledger_export.core.errors import printable

    if not getattr(args, "quiet", False):
        # The summary quotes texts from Amili's data: no escape sequence reaches the terminal.
        print("\n".join(printable(line) for line in text.split("\n")))


def _load_config(args: argparse.Namespace) -> Config:
    from ledger_export.jobs import config

    return config.load(args.config, overrides={
        "amili.creditor": args.creditor,
        "amili.base_url": args.base_url,
        "output.folder": args.out,
    })


def _period(args: argparse.Namespace) -> Period:
    from ledger_export.core import period

    return period.choose(period=args.period, quarter_text=args.quarter,
                         date_from=args.date_from, date_to=args.date_to)


def _cmd_demo(args: argparse.Namespace) -> int:
    from ledger_export.jobs.demo import run_demo, run_fortnox_demo

    if args.to == "fortnox":
        result, held = run_fortnox_demo(Path(args.out), progress=_progress(args))
        _say(args, result.describe())
        _say(args, "\n".join(held))
        return EXIT_OK
    result = run_demo(Path(args.out), progress=_progress(args))
    _say(args, result.describe())
    return EXIT_OK


def _gen_date(text: str) -> GenerationChoice:
    from ledger_export.core.period import parse_day

    if text == "input":
        return "input"
    if text == "today":
        return "today"
    return parse_day(text, "--gen-date")


def _cmd_export(args: argparse.Namespace) -> int:
    from ledger_export.jobs.export import ExportOptions, ReconciliationFailed, export
    from ledger_export.outputs.registry import choose

    if args.outputs is not None:
        choose(args.outputs)  # a usage error (exit 2) comes before the configuration is read
    to = _export_target(args)
    config = _load_config(args)
    given = any((args.period, args.quarter, args.date_from, args.date_to))
    period = _period(args) if given or not args.from_raw else None
    options = ExportOptions(detail=args.detail, chart=Path(args.chart) if args.chart else None,
                            strict=args.strict, generated=_gen_date(args.gen_date),
                            from_raw=Path(args.from_raw) if args.from_raw else None, dry_run=args.dry_run,
                            only_new=args.only_new, force=args.force, since_last=args.since_last,
                            outputs=args.outputs, to="fortnox" if to == "fortnox" else "sie")
    try:
        result = export(config, period, options, progress=_progress(args),
                        books=_fortnox_books(config) if to == "fortnox" else None)
    except ReconciliationFailed as exc:
        _say(args, exc.summary)
        raise
    _say(args, result.describe())
    return EXIT_OK


def _cmd_payments_register(args: argparse.Namespace) -> int:
    from datetime import date

    from ledger_export.jobs.payments import register_file

    run = register_file(_load_config(args), Path(args.file), today=date.today(), dry_run=args.dry_run)
    _say(args, run.describe())
    return run.exit_code


def _cmd_init(args: argparse.Namespace) -> int:
    from ledger_export.core.files import write_atomic
    from ledger_export.core.errors import OutputError
    from ledger_export.jobs.starter import starter_config

    target = Path(args.path)
    if target.exists() and not args.force:
        raise OutputError(f"{target} exists already; use --force to overwrite it")
    write_atomic(target, starter_config().encode("utf-8"))
    print(f"Wrote {target}: fill in [company] (orgnr is required) and [amili], then run "
          "ledger-export export --period YYYY-MM")
    return EXIT_OK


def _cmd_fetch(args: argparse.Namespace) -> int:
    from ledger_export.jobs.fetch import fetch_snapshot

    config = _load_config(args)
    result = fetch_snapshot(config, _period(args), progress=_progress(args))
    _say(args, result.describe())
    return EXIT_OK


def _cmd_register_show(args: argparse.Namespace) -> int:
    from ledger_export.jobs.register import Register
    from ledger_export.jobs.register_rebuild import show

    root = Path(_load_config(args).output.folder)
    with Register.open(root) as register:
        text = show(register, payouts=args.payouts, period=args.period)
        settled = [s.describe() for s in register.settled]
    print("\n".join([*(f"Note: {line}." for line in settled), text]))
    return EXIT_OK


def _cmd_register_rebuild(args: argparse.Namespace) -> int:
    from ledger_export.jobs.register import Owner
    from ledger_export.jobs.register_rebuild import rebuild

    config = _load_config(args)
    owner = Owner(config.amili.creditor, config.company.orgnr) if config.amili.creditor else None
    print(rebuild(Path(config.output.folder), owner).describe())
    return EXIT_OK


def _cmd_sandbox(args: argparse.Namespace) -> int:
    if args.fortnox:
        return _cmd_fortnox_sandbox(args)
    try:
        from ledger_export.sandbox.server import serve_forever
        from ledger_export.sandbox.faults import Faults
    except ImportError as exc:  # the sandbox is an optional extra
        from ledger_export.core.errors import ConfigError
        raise ConfigError(f"the sandbox needs the sandbox extra (pip install 'ledger-export[sandbox]'): {exc}") from None

    faults = Faults(latency=args.latency, rate_limit_every=args.rate_limit_every,
                    server_error_every=args.error_every, drop_every=args.drop_every)
    serve_forever(port=8765 if args.port is None else args.port, data_dir=Path(args.data) if args.data else None,
                  faults=faults)
    return EXIT_OK


def _cmd_fortnox_sandbox(args: argparse.Namespace) -> int:
    try:
        from ledger_export.sandbox.fortnox.server import serve_forever
    except ImportError as exc:  # Flask comes with the sandbox extra (Eve)
        from ledger_export.core.errors import ConfigError
        raise ConfigError(f"the sandbox needs the sandbox extra (pip install 'ledger-export[sandbox]'): {exc}") from None

    serve_forever(port=8766 if args.port is None else args.port)
    return EXIT_OK


def _cmd_fortnox_login(args: argparse.Namespace) -> int:
    from ledger_export.fortnox.api import company_information
    from ledger_export.fortnox.auth import RefreshingTokens, credentials_from_env, token_endpoint
    from ledger_export.fortnox.client import FortnoxClient
    from ledger_export.fortnox.login import login
    from ledger_export.fortnox.tokens import TokenStore

    settings = _load_config(args).fortnox
    endpoint = token_endpoint(settings, credentials_from_env())
    store = TokenStore(settings.token_file)
    wanted = settings.needed_scopes()
    tokens = login(endpoint, store, auth_url=settings.auth_url, redirect_uri=settings.redirect_uri, scopes=wanted,
                   say=print, service_account=args.service_account or settings.tenant_id is not None,
                   timeout=args.timeout)
    with FortnoxClient.from_settings(settings, RefreshingTokens(endpoint, store)) as client:
        company = company_information(client)
    _say(args, f"Logged in to Fortnox as {company.name} ({company.organisation_number}), "
               f"tenant id {company.tenant_id or 'unknown'}; tokens stored in {store.path}.")
    missing = sorted(set(wanted) - tokens.scopes) if tokens.scopes else []
    if missing:
        _say(args, f"Fortnox did not grant the scope(s) {', '.join(missing)}: add them to the app in the "
                   f"developer portal and log in again.")
    return EXIT_OK


def _cmd_validate(args: argparse.Namespace) -> int:
    from ledger_export.sie.validate import run_validate

    return run_validate(args.files, as_json=args.json, out=sys.stdout)


# -- Fortnox: export --to fortnox, fortnox check, fortnox status ------------------------


TARGETS = ("sie", "fortnox")


def _add_export_target(p: argparse.ArgumentParser) -> None:
    # `--to fortnox` as the issue writes it: --to is also a date range's last day, so a target name
    # given there is taken as the target (no date is called sie or fortnox).
    p.add_argument("--target", choices=TARGETS, default=None,
                   help="where the vouchers go (also written --to sie|fortnox): an SIE 4 file (default), or "
                        "straight into Fortnox ([fortnox] series), each self-invoice attached, customer invoices "
                        "settled if configured; with --dry-run, every Fortnox check runs and nothing is posted")


def _export_target(args: argparse.Namespace) -> str:
    from ledger_export.core.errors import PeriodError

    if args.date_to in TARGETS:
        if args.target not in (None, args.date_to):
            raise PeriodError(f"--to {args.date_to} and --target {args.target} contradict each other")
        args.target, args.date_to = args.date_to, None
    target: str = args.target or "sie"
    return target


def _add_fortnox_commands(fortnox: Any) -> None:
    """``fortnox check`` and ``fortnox status`` (beside ``fortnox login``)."""
    c = fortnox.add_parser("check", help="run every check a Fortnox run makes before it posts; post nothing",
                           description="Company (organisation number), financial years, accounts, voucher "
                                       "series, mode of payment and scopes; every problem is listed.")
    c.add_argument("--period", metavar="YYYY-MM", help="also check the financial year of this month")
    _add_source_flags(c)
    _add_output_flags(c)
    c.set_defaults(handler=_cmd_fortnox_check)
    st = fortnox.add_parser("status", help="what the register says was posted beside what Fortnox holds",
                            description="Every voucher, file, connection and payment the register records for "
                                        "the period, checked in Fortnox; differences are listed (exit 1).")
    st.add_argument("--period", metavar="YYYY-MM", required=True, help="the month whose Fortnox runs to compare")
    _add_source_flags(st)
    _add_output_flags(st)
    st.set_defaults(handler=_cmd_fortnox_status)


def _fortnox_books(config: Config) -> FortnoxBooks:
    """The Fortnox company of ``config``, over HTTP (FORTNOX_CLIENT_ID/SECRET from the environment)."""
    import os

    from ledger_export.jobs.fortnox_connect import connect

    return connect(config.fortnox, os.environ)


def _cmd_fortnox_check(args: argparse.Namespace) -> int:
    from ledger_export.core.period import month
    from ledger_export.jobs.fortnox_status import fortnox_check

    config = _load_config(args)
    period = month(args.period) if args.period else None
    _say(args, fortnox_check(config, _fortnox_books(config), period))
    return EXIT_OK


def _cmd_fortnox_status(args: argparse.Namespace) -> int:
    from ledger_export.core.period import month
    from ledger_export.jobs.fortnox_status import fortnox_status

    config = _load_config(args)
    report, differences = fortnox_status(config, _fortnox_books(config), month(args.period))
    print(report)
    return EXIT_OK if not differences else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except LedgerExportError as exc:
        # One line per problem (a payments file reports every bad row at once).
        for line in str(exc).splitlines() or [type(exc).__name__]:
            print(f"ledger-export: error: {line}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        # Unwound by now: staging removed, lock released, requests in flight abandoned
        # (their threads are daemons). A second Ctrl-C from here ends the process at once.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        print("ledger-export: interrupted", file=sys.stderr)
        return 130
