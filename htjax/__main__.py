"""``python -m htjax``: the ``htjax`` command (same commands and options, see ``docs/cli.md``)."""

from htjax.cli import main

if __name__ == "__main__":
    main()
