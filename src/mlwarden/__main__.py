"""``python -m mlwarden``."""

from mlwarden.cli.fastpath import entry

if __name__ == "__main__":
    entry()
