"""Command line: ``python -m nngeom run ...`` executes notebooks; ``python -m nngeom report`` writes the report page."""
import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    usage = "usage: python -m nngeom {run,report,plan} [options]   (add -h after a command for its options)"
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
    if command == "report":
        from .book.report import main as report_main
        return report_main(rest)
    print(f"unknown command {command!r}\n{usage}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
