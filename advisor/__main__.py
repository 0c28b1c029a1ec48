"""``python -m advisor``: the ``advisor`` command, for an environment whose ``bin/`` is not on PATH."""

from advisor.cli.app import main

if __name__ == "__main__":
    main()
