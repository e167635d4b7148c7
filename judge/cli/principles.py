"""``judge principles list | show ID | sets``."""

from __future__ import annotations

import argparse
from typing import Any

import yaml

from judge.principles import default_library


def register(sub: Any) -> None:
    """Add the subcommand."""
    p = sub.add_parser("principles", help="browse the principle library")
    ps = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    ls = ps.add_parser("list", help="list principles")
    ls.add_argument("--category", help="only this category (content, logic, tone, style, "
                                       "structure)")
    ls.add_argument("--domain", help="only principles for this domain (chat, code, safety, math)")
    ls.add_argument("--set", dest="set_id", help="only the principles of a named set")
    ls.set_defaults(func=run_list)
    show = ps.add_parser("show", help="show one principle")
    show.add_argument("id", help="a principle id, e.g. correct-then-concise")
    show.set_defaults(func=run_show)
    sets = ps.add_parser("sets", help="list named principle sets")
    sets.set_defaults(func=run_sets)


def run_list(args: argparse.Namespace) -> int:
    """One line per principle: id, category, domains, title."""
    lib = default_library()
    items = lib.get_set(args.set_id) if args.set_id else list(lib.principles.values())
    shown = [p for p in items
             if (not args.category or p.category == args.category)
             and (not args.domain or args.domain in p.domains)]
    width = max((len(p.id) for p in shown), default=10)
    for p in sorted(shown, key=lambda p: (p.category or "", p.id)):
        print(f"{p.id:<{width}}  {p.category:<9}  {','.join(p.domains):<22}  {p.title}")
    print(f"{len(shown)} principles")
    return 0


def run_show(args: argparse.Namespace) -> int:
    """The principle as YAML plus its content hash."""
    p = default_library().get(args.id)
    data = p.model_dump(mode="json", exclude_none=True)
    print(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100).rstrip())
    print(f"# hash: {p.hash}")
    return 0


def run_sets(args: argparse.Namespace) -> int:
    """One line per named set."""
    for s in default_library().sets.values():
        print(f"{s.id:<18} {len(s.principles):>3}  {s.title}")
    return 0
