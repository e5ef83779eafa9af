#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import sys

from config.bootstrap import bootstrap


def main() -> None:
    # Before Django reads the settings: the embedded servers when DATABASE_URL / REDIS_URL are
    # unset, and the process-wide defaults.
    bootstrap()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
