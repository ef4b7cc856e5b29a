"""Command line: ``python -m nngeom run ...`` executes notebooks; ``python -m nngeom report`` writes the report page;
``python -m nngeom plan`` turns a dry run into a cost plan; ``python -m nngeom fingerprint`` prints a short hash of
the environment facts that invalidate executed notebooks (the key of the GPU workflow's cache)."""
import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    usage = "usage: python -m nngeom {run,report,plan,fingerprint} [options]   (add -h after a command for its options)"
    if not argv or argv[0] in {"-h", "--help"}:
        print(usage)
        return 0
    command, rest = argv[0], argv[1:]
    if command == "run":
        from .book.runner import main as run_main
        return run_main(rest)
    if command == "plan":
        from .book.plan import main as plan_main
        return plan_main(rest)
    if command == "fingerprint":
        import hashlib
        import json

        from .book.environment import fingerprint
        facts = fingerprint()
        if "-v" in rest or "--verbose" in rest:
            print(json.dumps(facts, sort_keys=True))
        print(hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:16])
        return 0
    if command == "report":
        from .book.report import main as report_main
        return report_main(rest)
    print(f"unknown command {command!r}\n{usage}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
