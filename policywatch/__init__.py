"""policywatch: tariff and regulation changes for cross-border merchants, from official bulletins."""

__version__ = "0.1.0"
