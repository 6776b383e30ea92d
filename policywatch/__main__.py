"""`python -m policywatch`."""

from policywatch.cli import main

main()
