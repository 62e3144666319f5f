"""``python -m mlwarden``."""

from mlwarden.cli.main import run

if __name__ == "__main__":
    import sys

    sys.exit(run())
