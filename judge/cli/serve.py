"""``judge serve``: an HTTP reward server for a head or a generative judge."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from judge.cli.argtypes import NON_NEGATIVE, POSITIVE, float_at_least
from judge.cli.common import add_judge_args, build_judge
from judge.errors import ConfigError, missing_dependency
from judge.net import is_loopback_host


def register(sub: Any) -> None:
    """Add the subcommand."""
    p = sub.add_parser(
        "serve", help="serve rewards over HTTP (score, OpenRLHF, health)",
        description="Serve a reward head (default: the shipped one) or any judge backend. "
                    "Endpoints: GET /health, POST /score {principle, prompt, responses}, "
                    "POST /group_score {prompt, response, principle, group, group_size} "
                    "(samples of one group judged listwise together), "
                    "POST /openrlhf and /get_reward {query, prompts, labels}.")
    p.add_argument("--head", metavar="DIR", help="serve the head in DIR (same as --backend head:DIR)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=NON_NEGATIVE, default=8000, help="port to listen on (default 8000)")
    p.add_argument("--token", default=None,
                   help="require 'Authorization: Bearer TOKEN' (default: $JUDGE_SERVE_TOKEN)")
    p.add_argument("--allow-insecure-remote", action="store_true",
                   help="serve a non-loopback --host without a token (refused otherwise)")
    p.add_argument("--request-timeout", type=float_at_least(0.0), default=120.0, metavar="S",
                   help="answer 504 when scoring one request takes longer (default 120 s)")
    p.add_argument("--header-timeout", type=float_at_least(0.0), default=10.0, metavar="S",
                   help="close connections whose request headers take longer (default 10 s)")
    p.add_argument("--body-timeout", type=float_at_least(0.0), default=30.0, metavar="S",
                   help="answer 408 when a request body takes longer to arrive (default 30 s)")
    p.add_argument("--max-body-bytes", type=POSITIVE, default=1 << 20,
                   help="reject larger bodies with 413 (default 1 MiB)")
    p.add_argument("--max-items", type=POSITIVE, default=256,
                   help="most responses / samples per request (default 256)")
    p.add_argument("--batch-window-ms", type=float_at_least(0.0), default=5.0,
                   help="wait this long to gather concurrent requests into one batch")
    p.add_argument("--max-batch-items", type=POSITIVE, default=1024,
                   help="most items scored in one batch")
    p.add_argument("--labels-are-principles", action="store_true",
                   help="OpenRLHF: a string label is the sample's principle")
    p.add_argument("--unparsed-reward", type=float, default=0.0,
                   help="reward (flagged judge_failed) for a sample no judgment could score, "
                        "listwise or pointwise (default 0.0)")
    p.add_argument("--group-size", type=POSITIVE, default=None, metavar="N",
                   help="group rewards: judge a group as soon as N samples arrived (default: "
                        "the request's group_size, else when the window passes)")
    p.add_argument("--group-window-ms", type=float_at_least(0.0), default=1000.0, metavar="MS",
                   help="group rewards: judge what arrived this long after a group's first "
                        "sample (default 1000)")
    add_judge_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Build the scorer and run uvicorn until interrupted."""
    try:
        import uvicorn

        from judge.serve.app import ServeSettings, create_app
        from judge.serve.runner import check_bind, server_config
        from judge.serve.scorers import scorer_for
    except ImportError as exc:
        raise missing_dependency("judge serve", exc.name or "fastapi", "serve") from exc
    if args.head:
        if args.backend not in ("head", args.head):
            raise ConfigError("give either --head DIR or --backend SPEC, not both")
        args.backend = f"head:{args.head}"
    if args.group_window_ms / 1000 >= args.request_timeout:
        raise ConfigError(f"--group-window-ms {args.group_window_ms:g} must be shorter than "
                          f"--request-timeout {args.request_timeout:g} s, or every group would "
                          "time out; lower the window or raise the timeout")
    token = args.token or os.environ.get("JUDGE_SERVE_TOKEN") or None
    check_bind(args.host, token, args.allow_insecure_remote)
    settings = ServeSettings(
        principle=args.principle, token=token, max_body_bytes=args.max_body_bytes,
        max_items=args.max_items, batch_window_ms=args.batch_window_ms,
        max_batch_items=args.max_batch_items, labels_are_principles=args.labels_are_principles,
        unparsed_reward=args.unparsed_reward, request_timeout_s=args.request_timeout,
        body_timeout_s=args.body_timeout, group_size=args.group_size,
        group_window_ms=args.group_window_ms)
    judge = build_judge(args)
    scorer = scorer_for(judge)
    app = create_app(scorer, settings)
    if not is_loopback_host(args.host) and not token:
        print(f"warning: serving on {args.host} without a token; anyone who can reach this "
              "port can use it (set --token or JUDGE_SERVE_TOKEN)", file=sys.stderr)
    print(f"serving {scorer.name} on http://{args.host}:{args.port} "
          "(GET /health, POST /score, POST /group_score, POST /openrlhf, POST /get_reward)", file=sys.stderr)
    try:
        uvicorn.Server(server_config(app, host=args.host, port=args.port,
                                     header_timeout_s=args.header_timeout,
                                     log_level="info" if args.verbose else "warning")).run()
    finally:
        scorer.close()
    return 0

